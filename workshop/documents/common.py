"""What every renderer of the decision document shares: the gettext type, XML-safe text, the
download name, and a proposal's heading.

The renderers only lay out what ``domain.consolidate`` decided; they add fixed headings (Swedish
msgids passed through ``gettext``) and treat every value from the model as plain text. Nothing
in this package imports Flask.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from ..domain import Line, pgettext_via

Gettext = Callable[[str], str]

# Characters XML 1.0 does not allow (lxml refuses them, so python-docx raises on them).
_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """Return ``text`` without the characters XML 1.0 cannot hold (VT and FF become newlines)."""
    return _XML_ILLEGAL.sub("", str(text).replace("\v", "\n").replace("\f", "\n"))


class Named(Protocol):
    """A document with a download name: the decision, the follow-up report, the log."""

    filename_stem: str


def export_filename(doc: Named, ext: str) -> str:
    """Return the download name for ``doc`` with extension ``ext``, in plain ASCII."""
    stem = re.sub(r"[^0-9A-Za-z._-]+", "-", doc.filename_stem).strip("-.") or "forslag-till-beslut"
    suffix = re.sub(r"[^0-9A-Za-z]+", "", ext.lstrip(".")) or "txt"
    return f"{stem}.{suffix}"


def proposal_heading(lines: list[Line], _: Gettext) -> tuple[str, list[Line]]:
    """Split a proposal's lines into a heading ("Förslag F3") and the rest."""
    if lines:
        return f"{lines[0].label} {lines[0].value}", lines[1:]
    return pgettext_via("before a proposal's label, e.g. Förslag F3", "Förslag", _), []
