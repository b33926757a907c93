"""The results: the summary page (the draft decision) and its downloads in every format."""

from __future__ import annotations

import datetime as dt
import json

from flask import Response, abort, render_template
from flask_babel import get_locale, gettext

from .. import domain, export, renderers, services
from ..models import Workshop
from .common import facilitator, login_required, workshop_or_404


@facilitator.get("/<int:workshop_id>/sammanstallning")
@login_required
def summary(workshop_id: int) -> str:
    workshop = workshop_or_404(workshop_id)
    document = _document(workshop)
    return render_template("summary.html", workshop=workshop, doc=document)


def _document(workshop: Workshop) -> domain.DecisionDocument:
    record = services.workshop_record(workshop, dt.date.today().isoformat(), gettext)
    return domain.consolidate(record, gettext)


@facilitator.get("/<int:workshop_id>/export.<ext>")
@login_required
def download(workshop_id: int, ext: str) -> Response:
    workshop = workshop_or_404(workshop_id)
    document = _document(workshop)
    if ext == "docx":
        language = "en-GB" if str(get_locale()) == "en" else export.LANGUAGE
        body: bytes = export.render_docx(document, gettext, language)
        mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    elif ext == "md":
        body = export.render_markdown(document, gettext).encode("utf-8")
        mimetype = "text/markdown; charset=utf-8"
    elif ext == "pdf":
        body = renderers.render_pdf(document, gettext, str(get_locale() or "sv"))
        mimetype = "application/pdf"
    elif ext == "xlsx":
        body = renderers.render_xlsx(document, gettext)
        mimetype = renderers.XLSX_MIMETYPE
    elif ext == "csv":
        body = renderers.render_csv(document, gettext)
        mimetype = "text/csv; charset=utf-8"
    elif ext == "json":
        archive = services.export_archive(workshop)
        body = json.dumps(archive, ensure_ascii=False, indent=1).encode("utf-8")
        mimetype = "application/json"
    else:
        abort(404)
    filename = export.export_filename(document, ext)
    if ext == "json":
        filename = "arkiv" + filename.removeprefix("forslag-till-beslut")
    services.audit_now(workshop.id, "export", {"format": ext})
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
