"""Every status and kind the dialogue stores, as StrEnums: the one place their values are written.

The values are the stored strings (and the archive's), so they never change; the JavaScript gets
them from the page data (``enum_values()``) instead of copying them.
"""

from __future__ import annotations

from enum import StrEnum


class WorkshopStatus(StrEnum):
    DRAFT = "utkast"
    RUNNING = "pagar"
    CLOSED = "stangd"


class Phase(StrEnum):
    NOT_STARTED = "ej_startad"
    PROPOSALS = "forslag"
    VOTING = "rostning"
    RESULTS = "resultat"
    DECIDED = "beslut"


class RoundStatus(StrEnum):
    OPEN = "oppen"
    CLOSED = "stangd"
    REPLACED = "ersatt"  # a re-opened vote replaces the goal's earlier round


class ProposalKind(StrEnum):
    AMBITION = "ambitionsniva"
    DIRECTION = "inriktningsmal"


class GoalStatus(StrEnum):
    """A goal's outcome in every document; ``domain.goal_status`` is the one rule that decides it.

    Derived, never stored: decided as one of the two kinds, discussed without a decision (it had
    proposals or rounds), or not discussed at all.
    """

    AMBITION = "ambitionsniva"  # = ProposalKind.AMBITION
    DIRECTION = "inriktningsmal"  # = ProposalKind.DIRECTION
    DISCUSSED = "behandlad_utan_beslut"
    NOT_DISCUSSED = "ej_behandlad"


class ProposalStatus(StrEnum):
    ACTIVE = "aktiv"
    HIDDEN = "dold"
    PARKED = "parkerad"
    MERGED = "sammanslagen"


class Assessment(StrEnum):
    YES = "ja"
    PARTLY = "delvis"
    NO = "nej"


class Role(StrEnum):
    PARTICIPANT = "deltagare"
    OBSERVER = "observator"


class VoteMethod(StrEnum):
    YES_NO = "ja_nej"
    SCORE = "betyg"
    DOTS = "prickar"
    GRADIENTS = "gradering"
    CRITERIA = "kriterier"


class YesNo(StrEnum):
    """The answers of the ja / nej / avstår vote method."""

    YES = "ja"
    NO = "nej"
    ABSTAIN = "avstar"


class Forecast(StrEnum):
    MET = "uppfylls"
    PARTLY = "delvis"
    NOT_MET = "uppfylls_inte"


ENUMS: dict[str, type[StrEnum]] = {
    "WorkshopStatus": WorkshopStatus,
    "Phase": Phase,
    "RoundStatus": RoundStatus,
    "ProposalKind": ProposalKind,
    "GoalStatus": GoalStatus,
    "ProposalStatus": ProposalStatus,
    "Assessment": Assessment,
    "Role": Role,
    "VoteMethod": VoteMethod,
    "YesNo": YesNo,
    "Forecast": Forecast,
}


def enum_values() -> dict[str, dict[str, str]]:
    """Return every enum as ``{"Phase": {"PROPOSALS": "forslag", ...}, ...}`` for the page data."""
    return {name: {m.name: m.value for m in enum} for name, enum in ENUMS.items()}
