"""The one registry of download formats: extension → renderer, mimetype and download name.

The download view looks a format up here instead of branching on the extension; a new format
is one entry (and its renderer).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..domain import AuditLogDocument, DecisionDocument
from . import docx, log, markdown, pdf, sheets
from .common import Gettext, export_filename


@dataclass(frozen=True)
class Source:
    """What a download is made from: the decision document, and the archive when asked for."""

    document: DecisionDocument
    archive: Callable[[], Mapping[str, Any]]  # built only by the format that needs it (JSON)
    gettext: Gettext
    locale: str  # the reader's language, e.g. "sv" or "en"


@dataclass(frozen=True)
class Format:
    mimetype: str
    render: Callable[[Source], bytes]
    stem: str = ""  # replaces the leading "forslag-till-beslut" of the download name

    def filename(self, doc: DecisionDocument, ext: str) -> str:
        """The download name of ``doc`` in this format, in plain ASCII."""
        name = export_filename(doc, ext)
        return self.stem + name.removeprefix("forslag-till-beslut") if self.stem else name


def render_archive(archive: Mapping[str, Any]) -> bytes:
    """The JSON archive (docs/archive-schema.json) as the file a facilitator downloads."""
    return json.dumps(archive, ensure_ascii=False, indent=1).encode("utf-8")


def _docx(source: Source) -> bytes:
    return docx.render_docx(source.document, source.gettext, docx.language_for(source.locale))


def _markdown(source: Source) -> bytes:
    return markdown.render_markdown(source.document, source.gettext).encode("utf-8")


def _pdf(source: Source) -> bytes:
    return pdf.render_pdf(source.document, source.gettext, source.locale)


def _xlsx(source: Source) -> bytes:
    return sheets.render_xlsx(source.document, source.gettext)


def _csv(source: Source) -> bytes:
    return sheets.render_csv(source.document, source.gettext)


def _json(source: Source) -> bytes:
    return render_archive(source.archive())


FORMATS: dict[str, Format] = {
    "docx": Format(docx.MIMETYPE, _docx),
    "md": Format("text/markdown; charset=utf-8", _markdown),
    "pdf": Format("application/pdf", _pdf),
    "xlsx": Format(sheets.XLSX_MIMETYPE, _xlsx),
    "csv": Format("text/csv; charset=utf-8", _csv),
    "json": Format("application/json", _json, stem="arkiv"),
}


@dataclass(frozen=True)
class LogFormat:
    """One format of the log export ("Logg"): its renderer and mimetype."""

    mimetype: str
    render: Callable[[AuditLogDocument, Gettext, str], bytes]  # (log, gettext, locale)

    def filename(self, doc: AuditLogDocument, ext: str) -> str:
        return export_filename(doc, ext)


LOG_FORMATS: dict[str, LogFormat] = {
    "docx": LogFormat(
        docx.MIMETYPE, lambda d, _, loc: log.render_log_docx(d, _, docx.language_for(loc))
    ),
    "pdf": LogFormat("application/pdf", log.render_log_pdf),
    "csv": LogFormat("text/csv; charset=utf-8", lambda d, _, loc: log.render_log_csv(d, _)),
}
