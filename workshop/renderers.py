"""More renderers of the consolidated data: PDF (PDF/A-2b, tagged), XLSX, CSV and the follow-up
report (DOCX and PDF).

Like ``export``, they only lay out what ``domain.consolidate`` / ``domain.follow_up_report``
decided, treat every value from the model as plain text, and import nothing from Flask. The PDF
is HTML from a Jinja template (``templates/export``, autoescaped) set by WeasyPrint with DejaVu
embedded.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from docx import Document
from docx.shared import Cm

from . import export
from .domain import N_, DecisionDocument, FollowUpReport, ProposalRow, fill
from .export import Gettext, xml_safe

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "export"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = (
    ("DejaVuSans.ttf", "normal", "normal"),
    ("DejaVuSans-Bold.ttf", "bold", "normal"),
    ("DejaVuSans-Oblique.ttf", "normal", "italic"),
    ("DejaVuSans-BoldOblique.ttf", "bold", "italic"),
)
PDF_VARIANT = "pdf/a-2b"

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Cells a spreadsheet would read as a formula; the CSV prefixes them with "'" (see render_csv).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _environment(gettext: Gettext) -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def translate(message: str, **params: Any) -> str:
        return fill(gettext(message), **params)

    env.globals["_"] = translate
    return env


def _fonts() -> list[dict[str, str]]:
    """Return the DejaVu faces found on this machine (fonts-dejavu-core), as file URLs."""
    return [
        {"url": (FONT_DIR / name).as_uri(), "weight": weight, "style": style}
        for name, weight, style in FONT_FILES
        if (FONT_DIR / name).exists()
    ]


def _html(template: str, gettext: Gettext, language: str, **context: Any) -> str:
    env = _environment(gettext)
    return env.get_template(template).render(
        lang=language.split("-")[0],
        fonts=_fonts(),
        # TRANSLATORS: before the page number in a PDF's footer, e.g. "Sida 3 / 12".
        page_label=gettext("Sida"),
        **context,
    )


def _pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=xml_safe(html), base_url=str(TEMPLATES)).write_pdf(
        pdf_variant=PDF_VARIANT, pdf_tags=True
    )


def render_html(doc: DecisionDocument, gettext: Gettext = N_, language: str = "sv") -> str:
    """Render the proposal for decision as the HTML the PDF is made from."""
    return _html(
        "document.html",
        gettext,
        language,
        doc=doc,
        title=doc.title,
        author=doc.organisation,
        created=doc.date,
    )


def render_pdf(doc: DecisionDocument, gettext: Gettext = N_, language: str = "sv") -> bytes:
    """Render the proposal for decision as a tagged PDF/A-2b with its fonts embedded."""
    return _pdf(render_html(doc, gettext, language))


# --- Spreadsheets -----------------------------------------------------------------------------


def _proposal_table(doc: DecisionDocument, gettext: Gettext) -> tuple[list[str], list[list[str]]]:
    _ = gettext
    field_labels = {
        "what": _("Vad ska uppnås"),
        "indicator": _("Indikator (hur det mäts)"),
        "baseline_value": _("Utgångsvärde"),
        "baseline_year": _("Utgångsår"),
        "target_value": _("Målvärde"),
        "target_date": _("Måldatum"),
        "resources": _("Resurser"),
        "responsible": _("Ansvarig"),
        "rationale": _("Motivering"),
    }
    first: ProposalRow | None = doc.proposal_rows[0] if doc.proposal_rows else None
    criteria = list(first.criteria) if first else []
    header = [
        _("Mål"),
        pgettext_label(_),
        _("Typ"),
        _("Status"),
        *field_labels.values(),
        *criteria,
        _("Förslagsställare"),
        _("Sammanslaget i"),
        _("Sammanslaget av"),
        _("Skäl"),
    ]
    rows = [
        [
            row.goal,
            row.label,
            row.kind,
            row.status,
            *(row.fields.get(name, "") for name in field_labels),
            *(row.criteria.get(name, "") for name in criteria),
            row.author,
            row.merged_into,
            row.merged_from,
            row.hidden_reason,
        ]
        for row in doc.proposal_rows
    ]
    return header, rows


def pgettext_label(gettext: Gettext) -> str:
    from .domain import pgettext_via

    return pgettext_via("before a proposal's label, e.g. Förslag F3", "Förslag", gettext)


def _tally_table(doc: DecisionDocument, gettext: Gettext) -> tuple[list[str], list[list[Any]]]:
    _ = gettext
    header = [
        _("Mål"),
        _("Omröstning"),
        _("Metod"),
        _("Status"),
        _("Antal röster i omröstningen"),
        pgettext_label(_),
        _("Svar"),
        _("Antal"),
    ]
    rows = [
        [r.goal, r.round, r.method, r.status, r.ballots, r.proposal, r.answer, r.count]
        for r in doc.tally_rows
    ]
    return header, rows


def render_xlsx(doc: DecisionDocument, gettext: Gettext = N_) -> bytes:
    """Render every proposal (sheet "Förslag") and every raw count (sheet "Röstresultat")."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    _ = gettext
    book = Workbook()
    book.properties.title = xml_safe(doc.title)[:255]
    book.properties.creator = xml_safe(doc.organisation)[:255] or "Målverkstad"
    book.properties.identifier = xml_safe(doc.dnr)[:255]
    sheets = (
        (book.active, _("Förslag"), _proposal_table(doc, _)),
        (book.create_sheet(), _("Röstresultat"), _tally_table(doc, _)),
    )
    for sheet, title, (header, rows) in sheets:
        sheet.title = _sheet_title(title)
        sheet.append([xml_safe(h) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([xml_safe(v) if isinstance(v, str) else v for v in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text stays text, never a formula
        sheet.freeze_panes = "A2"
        for column in sheet.columns:
            width = max((len(str(c.value or "")) for c in column), default=8)
            sheet.column_dimensions[column[0].column_letter].width = min(max(width, 8), 60) + 2
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet_title(text: str) -> str:
    cleaned = "".join("-" if ch in "[]:*?/\\" else ch for ch in text)
    return cleaned[:31] or "Blad"


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(doc: DecisionDocument, gettext: Gettext = N_) -> bytes:
    """Render every proposal as CSV for Swedish Excel: UTF-8 with BOM, ";" between fields.

    A value that starts with = + - @ (which a spreadsheet would run as a formula) gets a
    leading apostrophe, as spreadsheets themselves show text.
    """
    header, rows = _proposal_table(doc, gettext)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([_csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- Follow-up report -------------------------------------------------------------------------


def follow_up_filename(report: FollowUpReport, ext: str) -> str:
    return export.export_filename(report, ext)  # type: ignore[arg-type]


def render_follow_up_html(
    report: FollowUpReport, gettext: Gettext = N_, language: str = "sv"
) -> str:
    return _html(
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
    return _pdf(render_follow_up_html(report, gettext, language))


def render_follow_up_docx(
    report: FollowUpReport, gettext: Gettext = N_, language: str = export.LANGUAGE
) -> bytes:
    """Render the follow-up report as DOCX: every goal at every checkpoint."""
    _ = gettext
    out = Document()
    export.set_language(out, language)
    props = out.core_properties
    props.title = xml_safe(report.title)[:255]
    props.author = xml_safe(report.organisation)[:255]
    props.identifier = xml_safe(report.dnr)[:255]
    props.language = language
    section = out.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    if report.organisation:
        out.add_paragraph().add_run(xml_safe(report.organisation)).bold = True
    if report.unit:
        out.add_paragraph(xml_safe(report.unit))
    if report.dnr:
        out.add_paragraph(xml_safe(fill(_("Dnr %(dnr)s"), dnr=report.dnr)))
    if report.date:
        export.labelled(out.add_paragraph(), _("Datum"), report.date)
    out.add_heading(xml_safe(report.title), 0)
    for text in report.intro:
        out.add_paragraph(xml_safe(text))
    for checkpoint in report.checkpoints:
        out.add_heading(xml_safe(checkpoint.heading), 1)
        for item in checkpoint.items:
            out.add_heading(xml_safe(item.heading), 2)
            export.labelled(out.add_paragraph(), _("Målområde"), item.area)
            out.add_paragraph().add_run(xml_safe(item.status_text)).bold = True
            if item.status == "ambitionsniva":
                export.labelled(out.add_paragraph(), _("Prognos"), item.forecast_text)
            for line in item.lines:
                export.labelled(out.add_paragraph(), line.label, line.value)
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()
