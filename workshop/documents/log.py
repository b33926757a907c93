"""Render the log (``domain.AuditLogDocument``): the audit trail as its own DOCX, PDF and CSV.

The proposal for decision carries no audit entries; the log is a separate record of who did
what in the tool.
"""

from __future__ import annotations

import io

from ..domain import N_, AuditLogDocument, fill
from .common import Gettext, xml_safe
from .docx import LANGUAGE, labelled
from .pdf import html_page, to_pdf
from .sheets import csv_bytes
from .word import header_table, new_document, title


def _columns(_: Gettext) -> list[str]:
    return [_("Tid (UTC)"), _("Vem"), _("Åtgärd")]


def render_log_docx(
    log: AuditLogDocument, gettext: Gettext = N_, language: str = LANGUAGE
) -> bytes:
    """Render the log as DOCX: a header, then one table row per entry."""
    _ = gettext
    out = new_document(_, language, title=log.title, author=log.organisation, identifier=log.dnr)
    if log.organisation:
        out.add_paragraph().add_run(xml_safe(log.organisation)).bold = True
    if log.unit:
        out.add_paragraph(xml_safe(log.unit))
    if log.dnr:
        out.add_paragraph(xml_safe(fill(_("Dnr %(dnr)s"), dnr=log.dnr)))
    if log.date:
        labelled(out.add_paragraph(), _("Datum"), log.date)
    title(out, log.title)
    for text in log.intro:
        out.add_paragraph(xml_safe(text))
    if not log.entries:
        out.add_paragraph(xml_safe(_("Inga åtgärder är loggade än.")))
    else:
        rows = ((e.at, e.actor, e.text) for e in log.entries)
        header_table(out, _columns(_), rows, widths_cm=(5.0, 3.0, 8.0))  # 16 cm: the text width
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()


def render_log_html(log: AuditLogDocument, gettext: Gettext = N_, language: str = "sv") -> str:
    return html_page(
        "log.html",
        gettext,
        language,
        log=log,
        title=log.title,
        author=log.organisation,
        created=log.date,
    )


def render_log_pdf(log: AuditLogDocument, gettext: Gettext = N_, language: str = "sv") -> bytes:
    """Render the log as a tagged PDF/A-2b."""
    return to_pdf(render_log_html(log, gettext, language))


def render_log_csv(log: AuditLogDocument, gettext: Gettext = N_) -> bytes:
    """Render the log as CSV for Swedish Excel, one row per entry."""
    rows = [[entry.at, entry.actor, entry.text] for entry in log.entries]
    return csv_bytes(_columns(gettext), rows)
