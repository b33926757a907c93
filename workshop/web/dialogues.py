"""The facilitator's dialogues: list, create, import, edit details and goals, start and close,
the console, the audit log, erasing personal data and deleting."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from .. import domain, queries, services
from ..domain import DomainError
from ..domain.archive import MAX_ARCHIVE_BYTES, parse_archive
from ..live import disconnect_participants, push_state
from ..models import Workshop
from .common import (
    facilitator,
    field_errors,
    join_url,
    login_required,
    translate,
    workshop_or_404,
)

# --- the list, creating and importing -------------------------------------------------------


@facilitator.get("/")
@login_required
def workshops() -> str:
    return render_template("workshops.html", workshops=queries.list_workshops())


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
            workshops=queries.list_workshops(),
            error=message,
            fields=fields or {},
            form=request.form,
        ),
        400,
    )


@facilitator.post("/importera")
@login_required
def import_archive() -> Any:
    """Recreate a workshop from an archive file made by ``export.json``."""
    upload = request.files.get("archive")
    if upload is None or not upload.filename:
        return _import_error(gettext("Välj en arkivfil (JSON) att läsa in."))
    try:
        # Bounded read: one byte past the limit is enough to refuse it.
        data = parse_archive(upload.read(MAX_ARCHIVE_BYTES + 1))
        workshop = services.import_archive(data, g.facilitator.id)
    except DomainError as exc:
        return _import_error(translate(exc))
    flash(gettext("Dialogen lästes in från arkivet."))
    return redirect(url_for("facilitator.summary", workshop_id=workshop.id))


def _import_error(message: str) -> tuple[str, int]:
    page = render_template(
        "workshops.html", workshops=queries.list_workshops(), import_error=message
    )
    return page, 400


# --- details and goals ----------------------------------------------------------------------


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
    workshop = workshop_or_404(workshop_id)
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
        return _edit_page(workshop, 400, error=translate(exc), fields=field_errors(exc), form=form)
    push_state(workshop.id)
    flash(gettext("Uppgifterna är sparade."))
    return redirect(url_for("facilitator.edit", workshop_id=workshop.id))


def _goal_form() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in domain.GOAL_LIMITS}


@facilitator.post("/<int:workshop_id>/mal")
@login_required
def add_goal(workshop_id: int) -> Any:
    workshop = workshop_or_404(workshop_id)
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
    workshop = workshop_or_404(workshop_id)
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
        return _edit_page(
            workshop,
            400,
            error=translate(exc),
            fields=field_errors(exc),
            goal_form={**request.form, "id": goal_id},
        )
    flash(gettext("Målen är sparade."))
    return redirect(url_for("facilitator.edit", workshop_id=workshop.id) + f"#mal-{goal_id}")


# --- running it -----------------------------------------------------------------------------


@facilitator.post("/<int:workshop_id>/status")
@login_required
def set_status(workshop_id: int) -> Any:
    workshop = workshop_or_404(workshop_id)
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
    workshop = workshop_or_404(workshop_id)
    return render_template(
        "console.html",
        workshop=workshop,
        join_url=join_url(workshop),
        methods=domain.VOTE_METHOD_LABELS,
        criteria=domain.CRITERIA_LABELS,
        limits=domain.PROPOSAL_LIMITS,
    )


@facilitator.get("/<int:workshop_id>/logg")
@login_required
def audit_log(workshop_id: int) -> str:
    workshop = workshop_or_404(workshop_id)
    entries = [
        (entry, queries.describe_audit(entry, gettext)) for entry in queries.audit_log(workshop.id)
    ]
    return render_template("audit.html", workshop=workshop, entries=entries)


# --- erasing and deleting -------------------------------------------------------------------


@facilitator.post("/<int:workshop_id>/radera-personuppgifter")
@login_required
def erase_personal_data(workshop_id: int) -> Any:
    workshop = workshop_or_404(workshop_id)
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
    workshop = workshop_or_404(workshop_id)
    if request.form.get("confirm") != "ja":
        flash(gettext("Kryssa i rutan för att bekräfta att dialogen ska raderas."))
        return redirect(url_for("facilitator.summary", workshop_id=workshop.id) + "#radera")
    disconnect_participants(workshop.id, everyone=True)
    services.delete_workshop(workshop.id)
    flash(gettext("Dialogen är raderad."))
    return redirect(url_for("facilitator.workshops"))
