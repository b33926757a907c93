"""HTTP views, one blueprint per audience. Thin: parse, authorize, call a service, render."""

from __future__ import annotations

import datetime as dt
import functools
import io
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

from . import domain, export, services
from .domain import DomainError
from .extensions import db
from .live import push_state
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

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"lang": str(get_locale() or "sv"), "phase_labels": domain.PHASE_LABELS}

    @app.errorhandler(404)
    def not_found(_error: Exception) -> tuple[str, int]:
        return render_template("error.html", message=gettext("Sidan finns inte.")), 404

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
        return view(*args, **kwargs)

    return wrapped


def _safe_next(target: str | None) -> str:
    """Accept only a local path as the place to go after logging in."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("facilitator.workshops")


def _workshop_or_404(workshop_id: int) -> Workshop:
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
    error = None
    if request.method == "POST":
        account = services.authenticate(
            request.form.get("username", ""), request.form.get("password", "")
        )
        if account is not None:
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            session["facilitator_id"] = account.id
            session.permanent = True
            return redirect(_safe_next(request.form.get("next")))
        error = gettext("Fel användarnamn eller lösenord.")
    status = 401 if error else 200
    return render_template("login.html", error=error, next=request.args.get("next", "")), status


@auth.post("/logout")
def logout() -> Any:
    session.pop("facilitator_id", None)
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
    if ext == "docx":
        language = "en-GB" if str(get_locale()) == "en" else export.LANGUAGE
        body: bytes = export.render_docx(document, gettext, language)
        mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    elif ext == "md":
        body = export.render_markdown(document, gettext).encode("utf-8")
        mimetype = "text/markdown; charset=utf-8"
    else:
        abort(404)
    filename = export.export_filename(document, ext)
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


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
