"""Proposals: validation of a submitted proposal, the three criteria, and their labels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .core import N_, DomainError, Line, clean_fields, fill, valid_date
from .enums import Assessment, ProposalKind, ProposalStatus

ASSESSMENT_LABELS: dict[str, str] = {
    Assessment.YES: N_("Ja"),
    Assessment.PARTLY: N_("Delvis"),
    Assessment.NO: N_("Nej"),
}

# The three criteria an ambition level must meet (the source document's wording).
CRITERIA: tuple[str, ...] = ("paverkbart", "matbart", "resurser")
CRITERIA_LABELS: dict[str, str] = {
    "paverkbart": N_("Påverkbart inom KS ansvar"),
    "matbart": N_("Mätbart"),
    "resurser": N_("Resurser finns"),
}

PROPOSAL_STATUS_LABELS: dict[str, str] = {
    ProposalStatus.ACTIVE: N_("aktivt"),
    ProposalStatus.HIDDEN: N_("dolt"),
    ProposalStatus.MERGED: N_("sammanslaget"),
    ProposalStatus.PARKED: N_("parkerat"),
}

# Field name -> maximum length. Kept generous for the officials' prepared drafts.
PROPOSAL_LIMITS: dict[str, int] = {
    "what": 600,
    "indicator": 300,
    "baseline_value": 60,
    "baseline_year": 4,
    "target_value": 60,
    "target_date": 10,
    "resources": 400,
    "responsible": 120,
    "rationale": 600,
}
TEXT_FIELDS: tuple[str, ...] = tuple(PROPOSAL_LIMITS)

# How the documents label the stored fields (baseline and target join value and year/date).
PROPOSAL_FIELD_LABELS: dict[str, str] = {
    "what": N_("Vad ska uppnås"),
    "indicator": N_("Indikator (hur det mäts)"),
    "baseline": N_("Utgångsvärde"),
    "target": N_("Målvärde"),
    "resources": N_("Resurser"),
    "responsible": N_("Ansvarig"),
    "rationale": N_("Motivering"),
}


@dataclass(frozen=True)
class ProposalInput:
    kind: ProposalKind
    what: str = ""
    indicator: str = ""
    baseline_value: str = ""
    baseline_year: str = ""
    target_value: str = ""
    target_date: str = ""
    resources: str = ""
    responsible: str = ""
    rationale: str = ""
    criteria: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data


DIRECTION_DROPS = frozenset(
    {"indicator", "baseline_value", "baseline_year", "target_value", "target_date"}
)


def validate_proposal(raw: Mapping[str, Any]) -> ProposalInput:
    """Check a submitted proposal; raise DomainError with one message per bad field."""
    if not isinstance(raw, Mapping):
        raise DomainError(N_("Förslaget kunde inte läsas."), code="bad_payload")
    errors: dict[str, str] = {}
    try:
        kind = ProposalKind(raw.get("kind", ProposalKind.AMBITION))
    except ValueError:
        kind = ProposalKind.AMBITION
        errors["kind"] = N_("Välj ambitionsnivå eller inriktningsmål.")
    if kind is ProposalKind.DIRECTION:
        # An inriktningsmål carries no target: ignore target fields rather than judge them.
        raw = {k: v for k, v in raw.items() if k not in DIRECTION_DROPS}
    values, text_errors, limits = clean_fields(raw, PROPOSAL_LIMITS)
    errors.update(text_errors)
    if kind is ProposalKind.AMBITION and not values["what"] and "what" not in errors:
        errors["what"] = N_("Beskriv vad som ska uppnås.")
    if kind is ProposalKind.DIRECTION and not values["rationale"] and "rationale" not in errors:
        errors["rationale"] = N_("Motivera kort varför målet ska vara ett inriktningsmål.")
    year = values["baseline_year"]
    if year and "baseline_year" not in errors and not (year.isdigit() and len(year) == 4):
        errors["baseline_year"] = N_("Ange år med fyra siffror, t.ex. 2018.")
    if values["target_date"] and "target_date" not in errors:
        if not valid_date(values["target_date"]):
            errors["target_date"] = N_("Ange datum som ÅÅÅÅ-MM-DD.")
    criteria_raw = raw.get("criteria") or {}
    criteria: dict[str, str] = {}
    if not isinstance(criteria_raw, Mapping):
        errors["criteria"] = N_("Bedömningen av kriterierna kunde inte läsas.")
    else:
        for name in CRITERIA:
            value = criteria_raw.get(name)
            if value in (None, ""):
                continue
            if not isinstance(value, str) or value not in ASSESSMENT_LABELS:
                errors[f"criteria.{name}"] = N_("Välj ja, delvis eller nej.")
            else:
                criteria[name] = str(value)
    if errors:
        raise DomainError(
            N_("Förslaget har fel som behöver rättas."),
            code="invalid_fields",
            fields=errors,
            field_params=limits,
        )
    return ProposalInput(kind=kind, criteria=criteria, **values)


# --- A proposal in documents ---------------------------------------------------------------


def proposal_lines(fields_: Mapping[str, str], gettext: Any = N_) -> list[Line]:
    """Turn stored proposal fields into labelled lines, skipping empty ones."""
    baseline = " ".join(
        part
        for part in (fields_.get("baseline_value", ""), _paren(fields_.get("baseline_year")))
        if part
    )
    target = fields_.get("target_value", "")
    if fields_.get("target_date"):
        target = fill(
            gettext("%(value)s senast %(date)s"), value=target or "–", date=fields_["target_date"]
        )
    pairs = [
        ("what", fields_.get("what", "")),
        ("indicator", fields_.get("indicator", "")),
        ("baseline", baseline),
        ("target", target),
        ("resources", fields_.get("resources", "")),
        ("responsible", fields_.get("responsible", "")),
        ("rationale", fields_.get("rationale", "")),
    ]
    return [Line(gettext(PROPOSAL_FIELD_LABELS[k]), v) for k, v in pairs if v]


def _paren(text: str | None) -> str:
    return f"({text})" if text else ""


def criteria_lines(criteria: Mapping[str, str], gettext: Any = N_) -> list[Line]:
    """Turn a proposal's assessment of the three criteria into lines, "ej bedömt" when unset."""
    return [
        Line(
            gettext(CRITERIA_LABELS[name]),
            gettext(ASSESSMENT_LABELS[criteria[name]])
            if criteria.get(name)
            else gettext("ej bedömt"),
        )
        for name in CRITERIA
    ]
