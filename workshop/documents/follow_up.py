"""Render the follow-up report (``domain.FollowUpReport``) as DOCX and as PDF/A-2b."""

from __future__ import annotations

import io

from ..domain import N_, FollowUpReport, fill
from .common import Gettext, export_filename, xml_safe
from .docx import LANGUAGE, labelled, status_lines
from .pdf import html_page, to_pdf
from .word import new_document, title


def follow_up_filename(report: FollowUpReport, ext: str) -> str:
    return export_filename(report, ext)


def render_follow_up_html(
    report: FollowUpReport, gettext: Gettext = N_, language: str = "sv"
) -> str:
    return html_page(
        "follow_up.html",
        gettext,
        language,
        report=report,
        title=report.title,
        author=report.organisation,
        created=report.date,
    )


def render_follow_up_pdf(
    report: FollowUpReport, gettext: Gettext = N_, language: str = "sv"
) -> bytes:
    """Render the follow-up report as a tagged PDF/A-2b."""
    return to_pdf(render_follow_up_html(report, gettext, language))


def render_follow_up_docx(
    report: FollowUpReport, gettext: Gettext = N_, language: str = LANGUAGE
) -> bytes:
    """Render the follow-up report as DOCX: every goal at every checkpoint."""
    _ = gettext
    out = new_document(
        _, language, title=report.title, author=report.organisation, identifier=report.dnr
    )
    if report.organisation:
        out.add_paragraph().add_run(xml_safe(report.organisation)).bold = True
    if report.unit:
        out.add_paragraph(xml_safe(report.unit))
    if report.dnr:
        out.add_paragraph(xml_safe(fill(_("Dnr %(dnr)s"), dnr=report.dnr)))
    if report.date:
        labelled(out.add_paragraph(), _("Datum"), report.date)
    title(out, report.title)
    for text in report.intro:
        out.add_paragraph(xml_safe(text))
    for checkpoint in report.checkpoints:
        out.add_heading(xml_safe(checkpoint.heading), 1)
        for item in checkpoint.items:
            out.add_heading(xml_safe(item.heading), 2)
            more = item.status == "ambitionsniva" or bool(item.lines)
            status_lines(out, _, item.area, item.status_text, more=more)
            if item.status == "ambitionsniva":
                labelled(out.add_paragraph(), _("Prognos"), item.forecast_text)
            for line in item.lines:
                labelled(out.add_paragraph(), line.label, line.value)
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()
