"""The follow-up: checkpoints per goal, the Kolada look-up, and the follow-up report."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext

from .. import documents, domain, kolada, queries, services
from ..domain import DomainError
from ..models import Workshop
from .common import facilitator, field_errors, login_required, translate, workshop_or_404


def _follow_up_page(
    workshop: Workshop,
    status: int = 200,
    *,
    kolada_result: dict[str, Any] | None = None,
    **context: Any,
) -> tuple[str, int]:
    checkpoints = queries.follow_up_checkpoints(workshop)
    entries = {
        goal.id: {f.checkpoint: f for f in queries.follow_ups(goal)} for goal in workshop.goals
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
            statuses=queries.goal_statuses(workshop),
            status_labels=domain.GOAL_STATUS_LABELS,
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
    return _follow_up_page(workshop_or_404(workshop_id))


@facilitator.post("/<int:workshop_id>/uppfoljning/<int:goal_id>")
@login_required
def save_follow_up(workshop_id: int, goal_id: int) -> Any:
    workshop = workshop_or_404(workshop_id)
    form = request.form
    try:
        entry = services.save_follow_up(workshop.id, goal_id, form)
    except DomainError as exc:
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
    workshop = workshop_or_404(workshop_id)
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
    workshop = workshop_or_404(workshop_id)
    record = queries.workshop_record(workshop, dt.date.today().isoformat(), gettext)
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
