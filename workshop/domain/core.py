"""Shared pure helpers: the catalog marker, DomainError, ids, text, dates, phases and Line.

Every feature module of ``workshop.domain`` builds on these; nothing here imports a sibling
other than ``enums``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .enums import Phase


def N_(message: str) -> str:
    """Mark a message for the catalog without translating it here."""
    return message


class DomainError(Exception):
    """A rule was broken; ``message`` is a msgid, ``params`` fill its placeholders."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        params: Mapping[str, Any] | None = None,
        fields: Mapping[str, str] | None = None,
        field_params: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.params = dict(params or {})
        self.fields = dict(fields or {})
        self.field_params = {k: dict(v) for k, v in (field_params or {}).items()}

    def field_messages(self, gettext: Any = N_) -> dict[str, str]:
        """Return each field's message, translated by ``gettext`` and filled in."""
        return {
            name: gettext(message) % self.field_params[name]
            if name in self.field_params
            else gettext(message)
            for name, message in self.fields.items()
        }


class NotFound(DomainError):
    def __init__(self, message: str = N_("Hittades inte.")) -> None:
        super().__init__(message, code="not_found")


class Forbidden(DomainError):
    def __init__(self, message: str = N_("Endast samtalsledaren får göra detta.")) -> None:
        super().__init__(message, code="forbidden")


# --- Ids ------------------------------------------------------------------------------------

# An id column's range on every database (PostgreSQL's integer is 32 bits). Beyond it there is
# no such row, and asking PostgreSQL for one would fail the statement (and the transaction).
MAX_ID = 2**31 - 1


def in_id_range(number: int) -> bool:
    """Tell whether an int can name a row at all."""
    return 0 <= number <= MAX_ID


def parse_id(value: Any) -> int:
    """Return the id a client sent (an int or a string of digits), or raise ``bad_payload``."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise DomainError(N_("Ogiltigt id."), code="bad_payload")
    try:
        number = int(value)
    except ValueError:
        raise DomainError(N_("Ogiltigt id."), code="bad_payload") from None
    if not in_id_range(number):
        raise DomainError(N_("Ogiltigt id."), code="bad_payload")
    return number


def int_in(value: Any, low: int, high: int) -> int | None:
    """Return ``value`` as an int when it is one (or its digits) within [low, high], else None."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if low <= number <= high else None


# --- Phases ---------------------------------------------------------------------------------
# Every feature asks which phase the workshop is in, so the order lives here.


PHASE_ORDER: tuple[Phase, ...] = tuple(Phase)
PHASE_LABELS: dict[Phase, str] = {
    Phase.NOT_STARTED: N_("Ej påbörjad"),
    Phase.PROPOSALS: N_("Förslag"),
    Phase.VOTING: N_("Röstning"),
    Phase.RESULTS: N_("Resultat"),
    Phase.DECIDED: N_("Beslut"),
}


def check_transition(current: Phase, target: Phase) -> None:
    """Allow one step forward or any step back to a started phase; raise otherwise."""
    i, j = PHASE_ORDER.index(current), PHASE_ORDER.index(target)
    if target is Phase.NOT_STARTED or not (j == i + 1 or j < i):
        raise DomainError(
            N_("Det går inte att gå från fasen %(from)s till %(to)s."),
            code="bad_phase",
            params={"from": current.value, "to": target.value},
        )


# --- Text -----------------------------------------------------------------------------------


def _printable(code: int) -> bool:
    """Refuse C0/C1 controls, DEL, lone surrogates and U+FFFE/U+FFFF (not storable in XML)."""
    return not (
        code < 32 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF)
    )


def clean_text(value: Any) -> str:
    """Turn a submitted value into trimmed text with normalised line endings."""
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise TypeError
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    # Control characters other than newline and tab have no place in a proposal.
    text = "".join(ch for ch in text if ch in "\n\t" or _printable(ord(ch)))
    return text.strip()


TOO_LONG = N_("Högst %(limit)s tecken.")


def clean_fields(
    raw: Mapping[str, Any], limits: Mapping[str, int]
) -> tuple[dict[str, str], dict[str, str], dict[str, dict[str, int]]]:
    """Clean each text field; return values, field messages and the limits they name."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    params: dict[str, dict[str, int]] = {}
    for name, limit in limits.items():
        try:
            values[name] = clean_text(raw.get(name))
        except TypeError:
            values[name] = ""
            errors[name] = N_("Fältet har fel format.")
            continue
        if len(values[name]) > limit:
            errors[name] = TOO_LONG
            params[name] = {"limit": limit}
    return values, errors, params


# --- Translation helpers --------------------------------------------------------------------


def fill(message: str, /, **params: Any) -> str:
    """Fill a translated message's ``%(name)s`` placeholders; without params, leave it as is.

    Call it as ``fill(gettext("... %(x)s"), x=...)``: the msgid stays a literal argument of
    ``gettext`` (or ``_``), where ``pybabel extract`` finds it.
    """
    return message % params if params else message


def pgettext_via(context: str, message: str, gettext: Any = N_) -> str:
    """Translate ``message`` in ``context`` with a one-argument ``gettext``.

    Catalogs keep such an entry under "context\\x04message", the key ``pgettext`` looks up, so
    a plain gettext finds it too; without a translation the message itself comes back. The
    msgid must be a literal here: ``pybabel extract -k pgettext_via:1c,2`` finds it.
    """
    key = f"{context}\x04{message}"
    text = gettext(key)
    return message if "\x04" in text else text


def format_number(value: float, gettext: Any = N_) -> str:
    """Write a number as the language does: 4 stays "4", 4.5 is "4,5" in Swedish."""
    if value == int(value):
        return str(int(value))
    whole, fraction = f"{value:.1f}".split(".")
    # TRANSLATORS: a decimal number such as 3,5; English writes 3.5.
    return fill(gettext("%(int)s,%(dec)s"), int=whole, dec=fraction)


# --- Documents ----------------------------------------------------------------------------


@dataclass
class Line:
    """A labelled line in a document: "Indikator: Andel ..." (proposals, decisions, follow-up)."""

    label: str
    value: str


# --- Dates ----------------------------------------------------------------------------------

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def valid_date(text: str) -> bool:
    """Tell whether ``text`` is a real date written ÅÅÅÅ-MM-DD."""
    if not DATE_RE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


MONTHS_SV = (
    N_("januari"),
    N_("februari"),
    N_("mars"),
    N_("april"),
    N_("maj"),
    N_("juni"),
    N_("juli"),
    N_("augusti"),
    N_("september"),
    N_("oktober"),
    N_("november"),
    N_("december"),
)


def format_date(date: dt.date, gettext: Any = N_) -> str:
    """Write a date in words: "30 april 2019"."""
    month = gettext(MONTHS_SV[date.month - 1])
    # TRANSLATORS: a date such as "30 april 2019"; month is the translated month name.
    return fill(gettext("%(day)s %(month)s %(year)s"), day=date.day, month=month, year=date.year)


def format_date_text(text: str, gettext: Any = N_) -> str:
    """Write an ISO date string in words; leave any other text as it is."""
    try:
        return format_date(dt.date.fromisoformat(text), gettext)
    except (TypeError, ValueError):
        return text
