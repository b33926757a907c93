"""Setting a workshop up: goal validation, pasted lines or CSV, join codes, follow-up dates, and
the built-in KS mål 2019 template."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .core import N_, DomainError, clean_fields, valid_date

# --- Goals ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalInput:
    area: str
    number: str
    text: str
    strategies: str = ""
    measurability: str = ""


GOAL_LIMITS = {"area": 200, "number": 10, "text": 500, "strategies": 2000, "measurability": 2000}


def validate_goal(raw: Mapping[str, Any]) -> GoalInput:
    """Check one goal; raise DomainError with field messages."""
    values, errors, limits = clean_fields(raw, GOAL_LIMITS)
    if not values["text"] and "text" not in errors:
        errors["text"] = N_("Målet behöver en text.")
    if not values["area"] and "area" not in errors:
        errors["area"] = N_("Ange målområde.")
    if errors:
        raise DomainError(
            N_("Målet har fel som behöver rättas."),
            code="invalid_fields",
            fields=errors,
            field_params=limits,
        )
    return GoalInput(**values)


def parse_goal_lines(text: str) -> list[GoalInput]:
    """Parse pasted lines or CSV rows "område; nr; mål; strategier; mätbarhet".

    Separators ``;`` or tab (or ``,`` when a line has neither). A header row whose third
    column says "mål"/"goal" is skipped. Raises DomainError naming the first bad line.
    """
    goals: list[GoalInput] = []
    # Blank lines are skipped, but errors name the line number as pasted.
    numbered = [(n, line) for n, line in enumerate((text or "").splitlines(), 1) if line.strip()]
    lines = [line for _, line in numbered]
    if not lines:
        raise DomainError(N_("Det finns inga mål att importera."), code="empty_import")
    sample = lines[0]
    delimiter = ";" if ";" in sample else "\t" if "\t" in sample else ","
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    consumed = 0
    for row in reader:
        first, consumed = consumed, reader.line_num
        lineno = numbered[first][0]
        cells = [c.strip() for c in row] + [""] * 5
        if first == 0 and cells[2].lower() in {"mål", "mal", "goal", "text"}:
            continue
        try:
            goals.append(
                validate_goal(
                    {
                        "area": cells[0],
                        "number": cells[1],
                        "text": cells[2],
                        "strategies": cells[3],
                        "measurability": cells[4],
                    }
                )
            )
        except DomainError as exc:
            raise DomainError(
                N_("Rad %(line)s kunde inte importeras: ange område; nr; mål."),
                code="bad_import",
                params={"line": lineno},
                fields=exc.fields,
                field_params=exc.field_params,
            ) from None
    if not goals:
        raise DomainError(N_("Det finns inga mål att importera."), code="empty_import")
    return goals


# --- Join codes -----------------------------------------------------------------------------

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: codes are read off a projector and typed on phones.
JOIN_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
JOIN_CODE_LENGTH = 6


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_join_code(text: str) -> str:
    """Uppercase and drop spaces and dashes, so "ab3 k7x" matches "AB3K7X"."""
    return re.sub(r"[\s\-]", "", text or "").upper()


def is_join_code(text: str) -> bool:
    return len(text) == JOIN_CODE_LENGTH and all(ch in JOIN_ALPHABET for ch in text)


# --- Follow-up dates (a workshop setting; the follow-up itself is in follow_up.py) ------------

DIRECTION_FOLLOW_UP = N_("Ingen prognos — uppföljning genom verksamhetens aktiviteter.")


def follow_up_dates(year: int) -> list[dt.date]:
    """Return the checkpoints for the forecast of goal fulfilment: 30 April and 31 August.

    The source document says "31 april", which does not exist; 30 April is meant.
    """
    return [dt.date(year, 4, 30), dt.date(year, 8, 31)]


def parse_follow_up_dates(text: str) -> list[dt.date]:
    """Parse "2019-04-30, 2019-08-31" into dates; raise DomainError on a bad or empty list."""
    parts = [p.strip() for p in re.split(r"[,;\s]+", text or "") if p.strip()]
    if not parts:
        raise DomainError(N_("Ange minst ett uppföljningsdatum."), code="bad_dates")
    dates = []
    for part in parts:
        if not valid_date(part):
            raise DomainError(
                N_("Ogiltigt datum: %(value)s. Använd ÅÅÅÅ-MM-DD."),
                code="bad_dates",
                params={"value": part},
            )
        dates.append(dt.date.fromisoformat(part))
    return sorted(set(dates))


# --- The built-in template ------------------------------------------------------------------

KS_2019_TEMPLATE: dict[str, Any] = {
    "title": "Kommunstyrelsens mål 2019 fortsatt arbete",
    "dnr": "KS 2018/109",
    "organisation": "Vaggeryds kommun",
    "unit": "Kommunledningskontoret",
    "meeting_date": "2019-02-20",
    "recipient": "Kommunstyrelsen",
    "send_to": "Kommunledningskontoret",
    "officer": "Camilla Wallin Kupferberg, verksamhetsutvecklare",
    "follow_up_dates": "2019-04-30, 2019-08-31",
    "goals": [
        (
            "Tillväxt, hållbarhet och fysisk planering",
            "1",
            "Hållbar tillväxt och utvecklad infrastruktur för de som bor, lever och verkar i "
            "Vaggeryds kommun",
        ),
        (
            "Arbete och fritid",
            "2",
            "Möjligheten till egen försörjning skall öka för alla målgrupper",
        ),
        ("Arbete och fritid", "3", "Ökad mångfald av nya företag och näringar"),
        (
            "Arbete och fritid",
            "4",
            "Ökad samverkan med civilsamhället för en högre servicekvalitet",
        ),
        ("Kunskap och hälsa", "5", "Vi skall bli en friskare kommun"),
        ("Demokrati, delaktighet/tillgänglighet och service", "6", "Ökat medborgarinflytande"),
        (
            "Samverkan regionalt/nationellt/internationellt",
            "7",
            "Vi skall utveckla vår internationella omvärldsbevakning till ett lärande och en "
            "tydlig nytta för våra invånare",
        ),
        ("Internt perspektiv", "8", "Vi skall bli en effektivare kommun i mål, medel och kvalitet"),
    ],
}
