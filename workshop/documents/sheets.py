"""Render the proposal for decision's tables as XLSX (goals, proposals, raw counts) and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..domain import N_, DecisionDocument, ProposalRow, pgettext_via
from .common import Gettext, xml_safe

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Cells a spreadsheet would read as a formula; the CSV prefixes them with "'" (see render_csv).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
        _("Målets status"),
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
            row.goal_status,
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
    return pgettext_via("before a proposal's label, e.g. Förslag F3", "Förslag", gettext)


def _goal_table(doc: DecisionDocument, gettext: Gettext) -> tuple[list[str], list[list[str]]]:
    """Every goal with its status, as the document states it: the overview sheet."""
    _ = gettext
    header = [_("Mål"), _("Målområde"), _("Lydelse"), _("Status")]
    return header, [[g.number, g.area, g.text, g.status_text] for g in doc.goals]


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
    """Render every goal's status (sheet "Mål"), every proposal (sheet "Förslag") and every raw
    count (sheet "Röstresultat")."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    _ = gettext
    book = Workbook()
    book.properties.title = xml_safe(doc.title)[:255]
    book.properties.creator = xml_safe(doc.organisation)[:255] or "Målverkstad"
    book.properties.identifier = xml_safe(doc.dnr)[:255]
    sheets = (
        (book.active, _("Mål"), _goal_table(doc, _)),
        (book.create_sheet(), _("Förslag"), _proposal_table(doc, _)),
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
    """Render every proposal, with its goal's status, as CSV for Swedish Excel: UTF-8 with BOM,
    ";" between fields.

    A value that starts with = + - @ (which a spreadsheet would run as a formula) gets a
    leading apostrophe, as spreadsheets themselves show text.
    """
    return csv_bytes(*_proposal_table(doc, gettext))


def csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    """A table as CSV for Swedish Excel (UTF-8 with BOM, ";"), formula-like cells made text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([_csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
