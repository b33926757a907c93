"""HTTP views, one blueprint per audience. Thin: parse, authorize, call a service, render."""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, gettext
from flask_wtf.csrf import CSRFError

from . import documents, domain, kolada, services
from .domain import DomainError
from .extensions import db
from .live import disconnect_facilitator, disconnect_participants, push_state
from .models import Facilitator, Workshop

main = Blueprint("main", __name__)
auth = Blueprint("auth", __name__)
facilitator = Blueprint("facilitator", __name__, url_prefix="/f")
presenter = Blueprint("presenter", __name__)
participant = Blueprint("participant", __name__)


def register_blueprints(app: Flask) -> None:
    for blueprint in (main, auth, facilitator, presenter, participant):
        app.register_blueprint(blueprint)

    @app.before_request
    def load_facilitator() -> None:
        facilitator_id = session.get("facilitator_id")
        g.facilitator = db.session.get(Facilitator, facilitator_id) if facilitator_id else None
        if g.facilitator is not None and session.get("fv") != g.facilitator.session_version:
            # Logged out elsewhere (or the account's sessions were ended): this one ends too.
            session.pop("facilitator_id", None)
            session.pop("fv", None)
            g.facilitator = None

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"lang": str(get_locale() or "sv"), "phase_labels": domain.PHASE_LABELS}

    @app.errorhandler(404)
    def not_found(_error: Exception) -> tuple[str, int]:
        return render_template("error.html", message=gettext("Sidan finns inte.")), 404

    @app.errorhandler(CSRFError)
    def csrf_failed(_error: CSRFError) -> tuple[str, int]:
        message = gettext(
            "Formuläret kunde inte skickas eftersom sidan var för gammal eller öppnades i en "
            "annan webbläsare. Ladda om sidan och försök igen."
        )
        return render_template("error.html", message=message), 400

    @app.errorhandler(413)
    def too_large(_error: Exception) -> tuple[str, int]:
        return render_template("error.html", message=gettext("Filen är för stor.")), 413


def translate(exc: DomainError) -> str:
    return gettext(exc.message, **exc.params)


def field_errors(exc: DomainError) -> dict[str, str]:
    return exc.field_messages(gettext)


def join_url(workshop: Workshop) -> str:
    return f"{current_app.config['PUBLIC_URL']}/j/{workshop.join_code}"


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.facilitator is None:
            return redirect(url_for("auth.login", next=request.path))
        with services.acting_as(actor()):
            return view(*args, **kwargs)

    return wrapped


def actor() -> services.Actor:
    """The logged-in facilitator, as the audit trail names them."""
    return services.Actor(g.facilitator.username, g.facilitator.id)


def _safe_next(target: str | None) -> str:
    """Accept only a local path as the place to go after logging in."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("facilitator.workshops")


def _workshop_or_404(workshop_id: int) -> Workshop:
    if not domain.in_id_range(workshop_id):
        abort(404)
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None:
        abort(404)
    return workshop


# --- main -----------------------------------------------------------------------------------


@main.get("/")
def index() -> str:
    return render_template("index.html")


@main.post("/")
def index_join() -> Any:
    code = domain.normalise_join_code(request.form.get("code", ""))
    try:
        services.find_by_code(code)
    except DomainError as exc:
        status = 404 if exc.code == "not_found" else 410
        return render_template("index.html", error=translate(exc), code=code), status
    return redirect(url_for("participant.join", code=code))


@main.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200


@main.get("/sprak/<code>")
def set_language(code: str) -> Any:
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        session.permanent = True
    return redirect(_safe_next(request.args.get("next")) if request.args.get("next") else "/")


@main.get("/tillganglighet")
def accessibility() -> str:
    return render_template("accessibility.html")


@main.get("/integritet")
def privacy() -> str:
    return render_template("privacy.html")


# --- auth -----------------------------------------------------------------------------------


@auth.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error, status = None, 200
    if request.method == "POST":
        try:
            account = services.login(
                request.form.get("username", ""),
                request.form.get("password", ""),
                request.remote_addr or "",
            )
        except services.LoginLocked as exc:
            error, status = translate(exc), 429
        except DomainError as exc:
            error, status = translate(exc), 401
        else:
            _fresh_session()
            session["facilitator_id"] = account.id
            session["fv"] = account.session_version
            session.permanent = True
            return redirect(_safe_next(request.form.get("next")))
    next_page = request.form.get("next", "") if request.method == "POST" else ""
    next_page = next_page or request.args.get("next", "")
    return render_template("login.html", error=error, next=next_page), status


def _fresh_session() -> None:
    """Start a new session (new form token, nothing left from before), keeping the language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@auth.post("/logout")
def logout() -> Any:
    """End the facilitator's sessions everywhere: this one, other browsers, and live sockets."""
    if g.facilitator is not None:
        services.logout(g.facilitator.id)
        disconnect_facilitator(g.facilitator.id)
        _fresh_session()
    return redirect(url_for("main.index"))


# --- facilitator ----------------------------------------------------------------------------


@facilitator.get("/")
@login_required
def workshops() -> str:
    return render_template("workshops.html", workshops=services.list_workshops())


@facilitator.post("/ny-mall")
@login_required
def create_from_template() -> Any:
    workshop = services.create_from_template(g.facilitator.id)
    flash(gettext("Dialogen skapades från mallen KS mål 2019."))
    return redirect(url_for("facilitator.edit", workshop_id=workshop.id))


@facilitator.post("/ny")
@login_required
def create() -> Any:
    text = request.form.get("goals", "")
    upload = request.files.get("file")
    if upload and upload.filename:
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            return _workshops_error(gettext("Filen måste vara en CSV-fil i UTF-8."))
    try:
        goals = domain.parse_goal_lines(text) if text.strip() else []
        workshop = services.create_workshop(
            request.form.get("title", ""),
            goals,
            facilitator_id=g.facilitator.id,
            anonymous=True,
        )
    except DomainError as exc:
        return _workshops_error(translate(exc), field_errors(exc))
    flash(gettext("Dialogen skapades."))
    return redirect(url_for("facilitator.edit", workshop_id=workshop.id))


def _workshops_error(message: str, fields: dict[str, str] | None = None) -> tuple[str, int]:
    return (
        render_template(
            "workshops.html",
            workshops=services.list_workshops(),
            error=message,
            fields=fields or {},
            form=request.form,
        ),
        400,
    )


def _edit_page(workshop: Workshop, status: int = 200, **context: Any) -> tuple[str, int]:
    context.setdefault("form", {})
    context.setdefault("fields", {})
    return (
        render_template(
            "edit.html",
            workshop=workshop,
            goal_limits=domain.GOAL_LIMITS,
            detail_limits=services.DETAIL_LIMITS,
            **context,
        ),
        status,
    )


@facilitator.route("/<int:workshop_id>/redigera", methods=["GET", "POST"])
@login_required
def edit(workshop_id: int) -> Any:
    workshop = _workshop_or_404(workshop_id)
    if request.method == "GET":
        return _edit_page(workshop)
    form = request.form
    try:
        services.update_workshop(
            workshop.id,
            form.get("title", ""),
            **{name: form.get(name, "") for name in services.DETAIL_LIMITS},
            meeting_date=form.get("meeting_date", ""),
            follow_up_dates=form.get("follow_up_dates", ""),
            # The mode is fixed at the start; a started workshop's form does not send it.
            **({"anonymous": form.get("mode", "anonym") == "anonym"} if "mode" in form else {}),
        )
    except DomainError as exc:
        db.session.rollback()
        return _edit_page(workshop, 400, error=translate(exc), fields=field_errors(exc), form=form)
    push_state(workshop.id)
    flash(gettext("Uppgifterna är sparade."))
    return redirect(url_for("facilitator.edit", workshop_id=workshop.id))


def _goal_form() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in domain.GOAL_LIMITS}


@facilitator.post("/<int:workshop_id>/mal")
@login_required
def add_goal(workshop_id: int) -> Any:
    workshop = _workshop_or_404(workshop_id)
    try:
        if request.form.get("lines"):
            goals = domain.parse_goal_lines(request.form["lines"])
        else:
            goals = [domain.validate_goal(_goal_form())]
        services.add_goals(workshop.id, goals)
    except DomainError as exc:
        return _edit_page(
            workshop, 400, error=translate(exc), fields=field_errors(exc), new_goal=request.form
        )
    flash(gettext("Målet är tillagt."))
    return redirect(url_for("facilitator.edit", workshop_id=workshop.id) + "#mal")


@facilitator.post("/<int:workshop_id>/mal/<int:goal_id>")
@login_required
def update_goal(workshop_id: int, goal_id: int) -> Any:
    workshop = _workshop_or_404(workshop_id)
    action = request.form.get("action", "save")
    try:
        if action == "up":
            services.move_goal(workshop.id, goal_id, -1)
        elif action == "down":
            services.move_goal(workshop.id, goal_id, 1)
        elif action == "delete":
            services.delete_goal(workshop.id, goal_id)
        else:
            services.update_goal(workshop.id, goal_id, domain.validate_goal(_goal_form()))
    except DomainError as exc:
        db.session.rollback()
        return _edit_page(
            workshop,
            400,
            error=translate(exc),
            fields=field_errors(exc),
            goal_form={**request.form, "id": goal_id},
        )
    flash(gettext("Målen är sparade."))
    return redirect(url_for("facilitator.edit", workshop_id=workshop.id) + f"#mal-{goal_id}")


@facilitator.post("/<int:workshop_id>/status")
@login_required
def set_status(workshop_id: int) -> Any:
    workshop = _workshop_or_404(workshop_id)
    action = request.form.get("action")
    try:
        if action == "start":
            services.start_workshop(workshop.id)
        elif action == "close":
            services.close_workshop(workshop.id)
        elif action == "reopen":
            services.reopen_workshop(workshop.id)
        else:
            abort(400)
    except DomainError as exc:
        return _edit_page(workshop, 400, error=translate(exc))
    push_state(workshop.id)
    return redirect(url_for("facilitator.console", workshop_id=workshop.id))


@facilitator.get("/<int:workshop_id>")
@login_required
def console(workshop_id: int) -> str:
    workshop = _workshop_or_404(workshop_id)
    return render_template(
        "console.html",
        workshop=workshop,
        join_url=join_url(workshop),
        methods=domain.VOTE_METHOD_LABELS,
        criteria=domain.CRITERIA_LABELS,
        limits=domain.PROPOSAL_LIMITS,
    )


@facilitator.get("/<int:workshop_id>/sammanstallning")
@login_required
def summary(workshop_id: int) -> str:
    workshop = _workshop_or_404(workshop_id)
    document = _document(workshop)
    return render_template("summary.html", workshop=workshop, doc=document)


def _document(workshop: Workshop) -> domain.DecisionDocument:
    record = services.workshop_record(workshop, dt.date.today().isoformat(), gettext)
    return domain.consolidate(record, gettext)


@facilitator.get("/<int:workshop_id>/export.<ext>")
@login_required
def download(workshop_id: int, ext: str) -> Response:
    workshop = _workshop_or_404(workshop_id)
    document = _document(workshop)
    found = documents.FORMATS.get(ext)
    if found is None:
        abort(404)
    source = documents.Source(
        document,
        archive=lambda: services.export_archive(workshop),
        gettext=gettext,
        locale=str(get_locale() or "sv"),
    )
    body = found.render(source)
    mimetype = found.mimetype
    filename = found.filename(document, ext)
    services.audit_now(workshop.id, "export", {"format": ext})
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@facilitator.get("/<int:workshop_id>/logg")
@login_required
def audit_log(workshop_id: int) -> str:
    workshop = _workshop_or_404(workshop_id)
    entries = [
        (entry, services.describe_audit(entry, gettext))
        for entry in services.audit_log(workshop.id)
    ]
    return render_template("audit.html", workshop=workshop, entries=entries)


@facilitator.post("/<int:workshop_id>/radera-personuppgifter")
@login_required
def erase_personal_data(workshop_id: int) -> Any:
    workshop = _workshop_or_404(workshop_id)
    if request.form.get("confirm") != "ja":
        flash(gettext("Kryssa i rutan för att bekräfta att personuppgifterna ska raderas."))
        return redirect(url_for("facilitator.summary", workshop_id=workshop.id) + "#radera")
    try:
        count = services.erase_personal_data(workshop.id)
    except DomainError as exc:
        flash(translate(exc))
        return redirect(url_for("facilitator.summary", workshop_id=workshop.id) + "#radera")
    disconnect_participants(workshop.id)
    push_state(workshop.id)
    flash(gettext("Personuppgifterna för %(n)s deltagare är raderade.", n=count))
    return redirect(url_for("facilitator.summary", workshop_id=workshop.id))


@facilitator.post("/<int:workshop_id>/radera")
@login_required
def delete_workshop(workshop_id: int) -> Any:
    workshop = _workshop_or_404(workshop_id)
    if request.form.get("confirm") != "ja":
        flash(gettext("Kryssa i rutan för att bekräfta att dialogen ska raderas."))
        return redirect(url_for("facilitator.summary", workshop_id=workshop.id) + "#radera")
    disconnect_participants(workshop.id, everyone=True)
    services.delete_workshop(workshop.id)
    flash(gettext("Dialogen är raderad."))
    return redirect(url_for("facilitator.workshops"))


# --- presenter ------------------------------------------------------------------------------


@presenter.get("/f/<int:workshop_id>/skarm")
@login_required
def screen(workshop_id: int) -> str:
    workshop = _workshop_or_404(workshop_id)
    return _presenter_page(workshop, screen_key="")


@presenter.get("/skarm/<key>")
def screen_by_key(key: str) -> str:
    workshop = db.session.scalar(sa.select(Workshop).filter_by(screen_key=key))
    if workshop is None:
        abort(404)
    return _presenter_page(workshop, screen_key=key)


def _presenter_page(workshop: Workshop, screen_key: str) -> str:
    return render_template(
        "presenter.html",
        workshop=workshop,
        join_url=join_url(workshop),
        screen_key=screen_key,
        criteria=domain.CRITERIA_LABELS,
        gradients=domain.GRADIENT_LABELS,
    )


@presenter.get("/qr/<code>.svg")
def qr(code: str) -> Response:
    """Serve the join QR code as SVG; it only encodes the public join URL."""
    workshop = db.session.scalar(sa.select(Workshop).filter_by(join_code=code))
    if workshop is None:
        abort(404)
    image = qrcode.make(
        join_url(workshop),
        image_factory=qrcode.image.svg.SvgPathFillImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=4,
    )
    buffer = io.BytesIO()
    image.save(buffer)
    return Response(
        buffer.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "no-cache"}
    )


# --- participant ----------------------------------------------------------------------------


def _token(workshop: Workshop) -> str | None:
    return (session.get("p") or {}).get(str(workshop.id))


def _closed_page(exc: DomainError) -> tuple[str, int]:
    status = 404 if exc.code == "not_found" else 410 if exc.code == "closed" else 403
    return render_template("error.html", message=translate(exc), join_again=True), status


@participant.route("/j/<code>", methods=["GET", "POST"])
def join(code: str) -> Any:
    try:
        workshop = services.find_by_code(code)
    except DomainError as exc:
        return _closed_page(exc)
    if workshop.join_code != code:
        return redirect(url_for("participant.join", code=workshop.join_code))
    existing = services.participant_for(workshop.id, _token(workshop))
    if request.method == "GET":
        if existing is not None and not existing.left:
            return redirect(url_for("participant.room", code=code))
        return render_template("join.html", workshop=workshop, form={}, fields={})
    try:
        person = services.join(workshop, _token(workshop), request.form.get("name"))
    except DomainError as exc:
        if exc.code == "forbidden":
            return _closed_page(exc)
        return (
            render_template(
                "join.html",
                workshop=workshop,
                error=translate(exc),
                fields={"name": translate(exc)},
                form=request.form,
            ),
            400,
        )
    tokens = dict(session.get("p") or {})
    tokens[str(workshop.id)] = person.token
    session["p"] = tokens
    session.permanent = True
    push_state(workshop.id)
    return redirect(url_for("participant.room", code=code))


@participant.get("/w/<code>")
def room(code: str) -> Any:
    try:
        workshop = services.find_by_code(code)
    except DomainError as exc:
        return _closed_page(exc)
    person = services.participant_for(workshop.id, _token(workshop))
    if person is None or person.left:
        return redirect(url_for("participant.join", code=code))
    return render_template(
        "participant.html",
        workshop=workshop,
        person=person,
        methods=domain.VOTE_METHOD_LABELS,
        criteria=domain.CRITERIA_LABELS,
        gradients=domain.GRADIENT_LABELS,
        limits=domain.PROPOSAL_LIMITS,
    )


# --- facilitator: archive import ------------------------------------------------------------


@facilitator.post("/importera")
@login_required
def import_archive() -> Any:
    """Recreate a workshop from an archive file made by ``export.json``."""
    upload = request.files.get("archive")
    if upload is None or not upload.filename:
        return _import_error(gettext("Välj en arkivfil (JSON) att läsa in."))
    try:
        data = json.loads(upload.read().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return _import_error(gettext("Filen är inte en JSON-fil från Målverkstad."))
    try:
        workshop = services.import_archive(data, g.facilitator.id)
    except DomainError as exc:
        db.session.rollback()
        return _import_error(translate(exc))
    flash(gettext("Dialogen lästes in från arkivet."))
    return redirect(url_for("facilitator.summary", workshop_id=workshop.id))


def _import_error(message: str) -> tuple[str, int]:
    page = render_template(
        "workshops.html", workshops=services.list_workshops(), import_error=message
    )
    return page, 400


# --- facilitator: follow-up -----------------------------------------------------------------


def _follow_up_page(
    workshop: Workshop,
    status: int = 200,
    *,
    kolada_result: dict[str, Any] | None = None,
    **context: Any,
) -> tuple[str, int]:
    checkpoints = services.follow_up_checkpoints(workshop)
    entries = {
        goal.id: {f.checkpoint: f for f in services.follow_ups(goal)} for goal in workshop.goals
    }
    context.setdefault("fields", {})
    context.setdefault("form", {})
    context.setdefault("form_key", "")
    return (
        render_template(
            "follow_up.html",
            workshop=workshop,
            checkpoints=checkpoints,
            entries=entries,
            forecasts=domain.FORECAST_LABELS,
            limits=domain.FOLLOW_UP_LIMITS,
            kolada_enabled=bool(current_app.config.get("KOLADA_ENABLED")),
            kolada_result=kolada_result,
            format_date=lambda d: domain.format_date(d, gettext),
            **context,
        ),
        status,
    )


@facilitator.get("/<int:workshop_id>/uppfoljning")
@login_required
def follow_up(workshop_id: int) -> Any:
    return _follow_up_page(_workshop_or_404(workshop_id))


@facilitator.post("/<int:workshop_id>/uppfoljning/<int:goal_id>")
@login_required
def save_follow_up(workshop_id: int, goal_id: int) -> Any:
    workshop = _workshop_or_404(workshop_id)
    form = request.form
    try:
        entry = services.save_follow_up(workshop.id, goal_id, form)
    except DomainError as exc:
        db.session.rollback()
        return _follow_up_page(
            workshop,
            404 if exc.code == "not_found" else 400,
            error=translate(exc),
            fields=field_errors(exc),
            form=form,
            form_key=f"{goal_id}-{form.get('checkpoint', '')}",
        )
    flash(gettext("Uppföljningen är sparad."))
    anchor = f"#uppfoljning-{goal_id}-{entry.checkpoint.isoformat()}"
    return redirect(url_for("facilitator.follow_up", workshop_id=workshop.id) + anchor)


@facilitator.get("/<int:workshop_id>/uppfoljning/<int:goal_id>/kolada")
@login_required
def kolada_value(workshop_id: int, goal_id: int) -> Any:
    """Show the latest value of a KPI from Kolada next to the goal; never blocks for long."""
    workshop = _workshop_or_404(workshop_id)
    if not any(goal.id == goal_id for goal in workshop.goals):
        abort(404)
    config = current_app.config
    if not config.get("KOLADA_ENABLED"):
        result: dict[str, Any] = {
            "goal_id": goal_id,
            "error": gettext("Hämtning från Kolada är avstängd."),
        }
        return _follow_up_page(workshop, kolada_result=result)
    kpi = request.args.get("kpi", "").strip().upper()
    found = kolada.lookup(
        kpi,
        config.get("KOLADA_MUNICIPALITY", kolada.DEFAULT_MUNICIPALITY),
        fetch=config.get("KOLADA_FETCH") or kolada.fetch_url,
        timeout=float(config.get("KOLADA_TIMEOUT", kolada.DEFAULT_TIMEOUT)),
        base_url=config.get("KOLADA_URL", kolada.BASE_URL),
    )
    result = {"goal_id": goal_id, "kpi": kpi}
    if found.value is None:
        result["error"] = gettext(found.error, **(found.params or {}))
    else:
        decimal = "." if str(get_locale()) == "en" else ","
        result.update(
            value=kolada.format_value(found.value.value, decimal),
            year=found.value.year,
            municipality=found.value.municipality,
        )
    return _follow_up_page(workshop, kolada_result=result)


@facilitator.get("/<int:workshop_id>/uppfoljning.<ext>")
@login_required
def follow_up_download(workshop_id: int, ext: str) -> Response:
    workshop = _workshop_or_404(workshop_id)
    record = services.workshop_record(workshop, dt.date.today().isoformat(), gettext)
    report = domain.follow_up_report(record, gettext)
    if ext == "docx":
        language = "en-GB" if str(get_locale()) == "en" else documents.LANGUAGE
        body = documents.render_follow_up_docx(report, gettext, language)
        mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    elif ext == "pdf":
        body = documents.render_follow_up_pdf(report, gettext, str(get_locale() or "sv"))
        mimetype = "application/pdf"
    else:
        abort(404)
    filename = documents.follow_up_filename(report, ext)
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
