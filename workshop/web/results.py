"""The results: the summary page (the draft decision), its downloads in every format, and the
log ("Logg") as its own download."""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, render_template
from flask_babel import get_locale, gettext

from .. import documents, domain, queries, services
from ..models import Workshop
from .common import facilitator, login_required, workshop_or_404


@facilitator.get("/<int:workshop_id>/sammanstallning")
@login_required
def summary(workshop_id: int) -> str:
    workshop = workshop_or_404(workshop_id)
    document = _document(workshop)
    return render_template("summary.html", workshop=workshop, doc=document)


def _document(workshop: Workshop) -> domain.DecisionDocument:
    record = queries.workshop_record(workshop, dt.date.today().isoformat(), gettext)
    return domain.consolidate(record, gettext)


@facilitator.get("/<int:workshop_id>/export.<ext>")
@login_required
def download(workshop_id: int, ext: str) -> Response:
    workshop = workshop_or_404(workshop_id)
    document = _document(workshop)
    found = documents.FORMATS.get(ext)
    if found is None:
        abort(404)
    source = documents.Source(
        document,
        archive=lambda: queries.export_archive(workshop),
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


@facilitator.get("/<int:workshop_id>/logg.<ext>")
@login_required
def log_download(workshop_id: int, ext: str) -> Response:
    """The audit trail as its own document (DOCX, PDF or CSV), never inside the decision."""
    workshop = workshop_or_404(workshop_id)
    found = documents.LOG_FORMATS.get(ext)
    if found is None:
        abort(404)
    record = queries.workshop_record(workshop, dt.date.today().isoformat(), gettext)
    log = domain.audit_log_document(record, gettext)
    body = found.render(log, gettext, str(get_locale() or "sv"))
    services.audit_now(workshop.id, "log_export", {"format": ext})
    return Response(
        body,
        mimetype=found.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{found.filename(log, ext)}"'},
    )
