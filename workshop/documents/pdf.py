"""Render the proposal for decision as HTML and as a tagged PDF/A-2b (WeasyPrint).

The HTML comes from a Jinja template (``templates/export``, autoescaped) and is set by
WeasyPrint with DejaVu embedded. The follow-up report uses the same page (``html_page``,
``to_pdf``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..domain import N_, DecisionDocument, fill
from .common import Gettext, xml_safe

# The repository's templates/export (this file is workshop/documents/pdf.py).
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "export"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = (
    ("DejaVuSans.ttf", "normal", "normal"),
    ("DejaVuSans-Bold.ttf", "bold", "normal"),
    ("DejaVuSans-Oblique.ttf", "normal", "italic"),
    ("DejaVuSans-BoldOblique.ttf", "bold", "italic"),
)
PDF_VARIANT = "pdf/a-2b"


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


def html_page(template: str, gettext: Gettext, language: str, **context: Any) -> str:
    env = _environment(gettext)
    return env.get_template(template).render(
        lang=language.split("-")[0],
        fonts=_fonts(),
        # TRANSLATORS: before the page number in a document's footer, e.g. "Sida 3 (12)".
        page_label=gettext("Sida"),
        **context,
    )


def to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=xml_safe(html), base_url=str(TEMPLATES)).write_pdf(
        pdf_variant=PDF_VARIANT, pdf_tags=True
    )


def render_html(doc: DecisionDocument, gettext: Gettext = N_, language: str = "sv") -> str:
    """Render the proposal for decision as the HTML the PDF is made from."""
    return html_page(
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
    return to_pdf(render_html(doc, gettext, language))
