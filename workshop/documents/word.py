"""The house style every DOCX shares (the decision, the follow-up report, the log): A4 pages, a
sans-serif body, our own black headings kept with the next paragraph, "Sida x (y)" in the
footer, and tables whose header row repeats on every page.

python-docx has no API for fields, repeating header rows or the East Asian and complex-script
fonts, so those are written as OOXML here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import Table
from docx.text.paragraph import Paragraph

from .common import Gettext, xml_safe

# Arial: on every Windows and Mac that opens the draft, and LibreOffice maps it to the
# metric-compatible Liberation Sans, so line and page breaks match across the two. The complex
# script slot gets Arial too (it covers Arabic and Hebrew); East Asian text falls back to the
# reader's own font, as Word does for a font without those glyphs.
BODY_FONT = "Arial"
TEXT_COLOR = RGBColor(0, 0, 0)
TITLE_STYLE = "Dokumenttitel"  # our own, instead of Word's blue "Title"
# (style, size in pt, space before, space after): our heading styles replace Word's blue ones.
HEADINGS = (
    (TITLE_STYLE, 18, 12, 12),
    ("Heading 1", 14, 18, 6),
    ("Heading 2", 12, 14, 4),
    ("Heading 3", 11, 10, 2),
)


def new_document(
    gettext: Gettext,
    language: str,
    *,
    title: str,
    author: str,
    identifier: str = "",
    header: str = "",
) -> DocxDocument:
    """Start a DOCX in the house style: A4, styles, language, properties, header and footer."""
    out = Document()
    set_language(out, language)
    _properties(out, title, author, identifier, language)
    _styles(out)
    section = out.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4, not the template's Letter
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.5)
    if header:
        section.header.paragraphs[0].text = xml_safe(header)
        # Page 1 opens with the organisation itself: no running header there, only the footer.
        section.different_first_page_header_footer = True
        page_footer(section.first_page_footer.paragraphs[0], gettext)
    page_footer(section.footer.paragraphs[0], gettext)
    return out


def set_language(out: DocxDocument, language: str) -> None:
    """Set the proofing language of every style that does not set its own (Swedish default)."""
    langs = out.styles.element.xpath("w:docDefaults/w:rPrDefault/w:rPr/w:lang")
    if langs:
        langs[0].set(qn("w:val"), language)


def _properties(out: DocxDocument, title: str, author: str, identifier: str, language: str) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    props = out.core_properties
    props.title = xml_safe(title)[:255]
    props.author = xml_safe(author)[:255]
    props.last_modified_by = xml_safe(author)[:255]
    props.identifier = xml_safe(identifier)[:255]
    props.language = language
    props.created = now
    props.modified = now
    props.revision = 1
    props.comments = ""


def _fonts(style: ParagraphStyle) -> None:
    """Name the body font for every script slot and drop the theme's (which would win)."""
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), BODY_FONT)


def _styles(out: DocxDocument) -> None:
    styles = out.styles
    normal = styles["Normal"]
    _fonts(normal)
    normal.font.size = Pt(11)
    normal.font.color.rgb = TEXT_COLOR
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    if TITLE_STYLE not in [s.name for s in styles]:
        styles.add_style(TITLE_STYLE, WD_STYLE_TYPE.PARAGRAPH).base_style = normal
    for name, size, before, after in HEADINGS:
        style = styles[name]
        _fonts(style)
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.italic = False
        style.font.color.rgb = TEXT_COLOR
        fmt = style.paragraph_format
        fmt.space_before, fmt.space_after = Pt(before), Pt(after)
        fmt.keep_with_next = True  # never the last line of a page
        fmt.keep_together = True
        style.next_paragraph_style = normal
    for name in ("Heading 1 Char", "Heading 2 Char", "Heading 3 Char"):
        if name in [s.name for s in styles]:  # Word shows the linked character style's colour
            styles[name].font.color.rgb = TEXT_COLOR


def _field(paragraph: Paragraph, instruction: str, placeholder: str) -> None:
    """Append a field (PAGE, NUMPAGES) as begin / instruction / separate / result / end runs."""

    def run_with(child: OxmlElement) -> None:
        run = paragraph.add_run()._r
        run.append(child)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    run_with(text)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run_with(separate)
    paragraph.add_run(placeholder)  # shown until the reader updates the fields
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def page_footer(paragraph: Paragraph, gettext: Gettext) -> None:
    """Write "Sida x (y)" with real PAGE and NUMPAGES fields, right-aligned."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    # TRANSLATORS: before the page number in a document's footer, e.g. "Sida 3 (12)".
    paragraph.add_run(xml_safe(gettext("Sida")) + " ")
    _field(paragraph, "PAGE", "1")
    paragraph.add_run(" (")
    _field(paragraph, "NUMPAGES", "1")
    paragraph.add_run(")")
    for run in paragraph.runs:
        run.font.size = Pt(9)


def title(out: DocxDocument, text: str) -> Paragraph:
    """The document's title, in our title style (never Word's "Title")."""
    return out.add_paragraph(xml_safe(text), style=TITLE_STYLE)


def repeat_header(table: Table) -> None:
    """Mark the table's first row as its header: Word and LibreOffice repeat it on each page."""
    trpr = table.rows[0]._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    trpr.append(flag)


def keep_rows_together(table: Table) -> None:
    """Keep a short table on one page: no row splits and each row keeps with the next."""
    rows = list(table.rows)
    for index, row in enumerate(rows):
        trpr = row._tr.get_or_add_trPr()
        trpr.append(OxmlElement("w:cantSplit"))
        if index < len(rows) - 1:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True


def header_table(
    out: DocxDocument,
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    widths_cm: Sequence[float] = (),
) -> Table:
    """A grid table with a bold header row that repeats on every page (``widths_cm``: the
    columns' widths, written to the grid for LibreOffice and to every cell for Word)."""
    table = out.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.autofit = not widths_cm
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.paragraphs[0].add_run(xml_safe(text)).bold = True
    repeat_header(table)
    for values in rows:
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.paragraphs[0].add_run(xml_safe(text))
    for column, width in zip(table.columns, widths_cm, strict=False):
        column.width = Cm(width)  # the grid, which LibreOffice lays out by
    for row in table.rows:
        for index, cell in enumerate(row.cells):
            cell.paragraphs[0].paragraph_format.space_after = Pt(0)
            if widths_cm:
                cell.width = Cm(widths_cm[index])
    return table
