"""Render the proposal for decision (``domain.DecisionDocument``) as a DOCX tjänsteskrivelse."""

from __future__ import annotations

import io
from collections.abc import Iterable

from docx.document import Document as DocxDocument
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from ..domain import N_, AppendixGoal, DecisionDocument, GoalSection, Line
from .common import Gettext, proposal_heading, xml_safe
from .word import keep_rows_together, new_document, title

LANGUAGE = "sv-SE"
MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def language_for(locale: str) -> str:
    """The proofing language of a document for a reader of ``locale`` (Swedish unless "en")."""
    return "en-GB" if locale == "en" else LANGUAGE


def render_docx(doc: DecisionDocument, gettext: Gettext = N_, language: str = LANGUAGE) -> bytes:
    """Render ``doc`` as a tjänsteskrivelse in DOCX and return the file's bytes.

    ``language`` (e.g. "sv-SE", "en-GB") is the document's proofing language.
    """
    _ = gettext
    out = new_document(
        _,
        language,
        title=doc.title,
        author=doc.organisation,
        identifier=doc.dnr,
        header=" · ".join(p for p in (doc.organisation, doc.unit) if p),
    )

    if doc.organisation:
        out.add_paragraph().add_run(xml_safe(doc.organisation)).bold = True
    if doc.unit:
        out.add_paragraph(xml_safe(doc.unit))
    if doc.dnr:
        out.add_paragraph(xml_safe(_("Dnr %(dnr)s") % {"dnr": doc.dnr}))
    if doc.date:
        labelled(out.add_paragraph(), _("Datum"), doc.date)
    if doc.recipient:
        out.add_paragraph(xml_safe(_("Till %(recipient)s") % {"recipient": doc.recipient}))

    title(out, doc.title)

    out.add_heading(xml_safe(_("Förslag till beslut")), 1)
    for point in doc.decision_points:
        out.add_paragraph(xml_safe(point), style="List Number")

    _section(out, _("Sammanfattning"), doc.summary)
    _section(out, _("Ärendet"), doc.background)
    for goal in doc.goals:
        _docx_goal(out, goal, _)
    _section(out, _("Bedömning"), doc.assessment)

    out.add_heading(xml_safe(_("Frågor att ta vidare")), 1)
    _bullets(out, doc.parking)
    if not doc.parking:
        out.add_paragraph(xml_safe(_("Inga frågor att ta vidare.")))

    _section(out, _("Beslutet ska skickas till"), [doc.send_to])
    _section(out, _("Handläggare"), [doc.officer])

    appendix = out.add_heading(xml_safe(_("Bilaga: Alla förslag och röstresultat")), 1)
    appendix.paragraph_format.page_break_before = True
    if doc.time_plan:
        out.add_paragraph(xml_safe(doc.time_plan))
    for goal in doc.appendix:
        _docx_appendix_goal(out, goal, _)

    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()


def _section(out: DocxDocument, heading: str, paragraphs: Iterable[str]) -> None:
    out.add_heading(xml_safe(heading), 1)
    for text in paragraphs:
        if text:
            out.add_paragraph(xml_safe(text))


def _bullets(out: DocxDocument, items: Iterable[str]) -> None:
    for item in items:
        out.add_paragraph(xml_safe(item), style="List Bullet")


def labelled(paragraph: Paragraph, label: str, value: str) -> Paragraph:
    paragraph.add_run(xml_safe(f"{label}: ")).bold = True
    paragraph.add_run(xml_safe(value))
    return paragraph


def status_lines(
    out: DocxDocument, _: Gettext, area: str | None, status: str, *, more: bool
) -> None:
    """A goal's area and bold status under its heading, kept on the heading's page (and with
    the goal's first line when ``more`` follows, never chaining into the next goal)."""
    if area is not None:
        labelled(out.add_paragraph(), _("Målområde"), area).paragraph_format.keep_with_next = True
    paragraph = out.add_paragraph()
    paragraph.add_run(xml_safe(status)).bold = True
    paragraph.paragraph_format.keep_with_next = more


def _sub_heading(out: DocxDocument, text: str) -> None:
    out.add_heading(xml_safe(text), 3)


def _docx_goal(out: DocxDocument, goal: GoalSection, _: Gettext) -> None:
    out.add_heading(xml_safe(goal.heading), 2)
    status_lines(out, _, goal.area, goal.status_text, more=bool(goal.lines))
    for line in goal.lines:
        labelled(out.add_paragraph(), line.label, line.value)
    if goal.criteria:
        _sub_heading(out, _("Bedömning mot kriterierna"))
        for line in goal.criteria:
            labelled(out.add_paragraph(style="List Bullet"), line.label, line.value)
    if goal.support:
        _sub_heading(out, _("Stöd i dialogen"))
        _bullets(out, goal.support)
    if goal.dissent:
        _sub_heading(out, _("Reservationer/avvikande meningar"))
        _bullets(out, goal.dissent)
    if goal.follow_up:
        _sub_heading(out, _("Uppföljning"))
        _bullets(out, goal.follow_up)


def _docx_appendix_goal(out: DocxDocument, goal: AppendixGoal, _: Gettext) -> None:
    out.add_heading(xml_safe(goal.heading), 2)
    status_lines(out, _, None, goal.status_text, more=True)
    if goal.time:
        out.add_paragraph(xml_safe(goal.time))
    if not goal.proposals:
        out.add_paragraph(xml_safe(_("Inga förslag lämnades.")))
    for lines in goal.proposals:
        heading, rest = proposal_heading(lines, _)
        out.add_heading(xml_safe(heading), 3)
        if rest:
            _table(out, rest)
    if not goal.rounds:
        out.add_paragraph(xml_safe(_("Ingen omröstning genomfördes.")))
    for round_lines in goal.rounds:
        if not round_lines:
            continue
        out.add_heading(xml_safe(round_lines[0]), 3)
        _bullets(out, round_lines[1:])


def _table(out: DocxDocument, lines: list[Line]) -> Table:
    table = out.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.autofit = False
    widths = (Cm(5), Cm(11))  # labels are short, values long; 16 cm is the text width
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for line in lines:
        label_cell, value_cell = table.add_row().cells
        label_cell.paragraphs[0].add_run(xml_safe(line.label)).bold = True
        value_cell.paragraphs[0].add_run(xml_safe(line.value))
        for cell, width in zip((label_cell, value_cell), widths, strict=True):
            cell.paragraphs[0].paragraph_format.space_after = Pt(0)
            cell.width = width
    keep_rows_together(table)  # a proposal's few rows stay on one page, after its heading
    return table
