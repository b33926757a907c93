"""The documents a facilitator downloads, each rendered from what ``domain`` consolidated.

``FORMATS`` (formats.py) maps each export extension to its renderer, mimetype and download
name. The renderers: ``docx``, ``markdown``, ``pdf`` (HTML + PDF/A-2b), ``sheets`` (XLSX, CSV),
``follow_up`` (the follow-up report as DOCX and PDF) and ``log`` (the audit trail as its own
DOCX, PDF and CSV; ``LOG_FORMATS``). Nothing here imports Flask.
"""

from .common import Gettext, export_filename, xml_safe
from .docx import LANGUAGE, language_for, render_docx
from .follow_up import (
    follow_up_filename,
    render_follow_up_docx,
    render_follow_up_html,
    render_follow_up_pdf,
)
from .formats import FORMATS, LOG_FORMATS, Format, LogFormat, Source, render_archive
from .log import render_log_csv, render_log_docx, render_log_html, render_log_pdf
from .markdown import md_escape, render_markdown
from .pdf import render_html, render_pdf
from .sheets import XLSX_MIMETYPE, render_csv, render_xlsx

__all__ = [
    "FORMATS",
    "LANGUAGE",
    "LOG_FORMATS",
    "XLSX_MIMETYPE",
    "Format",
    "LogFormat",
    "Gettext",
    "Source",
    "export_filename",
    "follow_up_filename",
    "language_for",
    "md_escape",
    "render_archive",
    "render_csv",
    "render_docx",
    "render_follow_up_docx",
    "render_follow_up_html",
    "render_follow_up_pdf",
    "render_html",
    "render_log_csv",
    "render_log_docx",
    "render_log_html",
    "render_log_pdf",
    "render_markdown",
    "render_pdf",
    "render_xlsx",
    "xml_safe",
]
