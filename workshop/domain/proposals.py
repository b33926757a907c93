"""Proposals: validation of a submitted proposal, the three criteria, and their labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    ProposalStatus.PARKED: N_("tas vidare"),
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


# --- Caps: one phone must not flood a goal, the console or the export ----------------------


@dataclass(frozen=True)
class ProposalCaps:
    """How many proposals are taken: per phone per goal and in all, per goal, per workshop.

    A limit of 0 or less means no limit. The facilitator's own proposals and merges are not
    capped (they are the moderator's), but they count towards the goal's and workshop's totals.
    """

    per_phone_goal: int = 5
    per_phone: int = 30
    per_goal: int = 100
    per_workshop: int = 400


@dataclass(frozen=True)
class ProposalCounts:
    """The proposals already stored: this phone's for the goal and in all, the goal's, the
    workshop's."""

    phone_goal: int
    phone: int
    goal: int
    workshop: int


# (count, limit, message, code), in the order a refusal names them: the phone's own first, so
# the person learns what they can change.
CAP_MESSAGES: tuple[tuple[str, str, str, str], ...] = (
    (
        "phone_goal",
        "per_phone_goal",
        N_("Du har redan lämnat %(limit)s förslag för det här målet, mer än så tas inte emot."),
        "too_many_mine_goal",
    ),
    (
        "phone",
        "per_phone",
        N_("Du har redan lämnat %(limit)s förslag i dialogen, mer än så tas inte emot."),
        "too_many_mine",
    ),
    (
        "goal",
        "per_goal",
        N_("Målet har redan %(limit)s förslag. Fler tas inte emot, tala med samtalsledaren."),
        "too_many_goal",
    ),
    (
        "workshop",
        "per_workshop",
        N_("Dialogen har redan %(limit)s förslag. Fler tas inte emot, tala med samtalsledaren."),
        "too_many_workshop",
    ),
)


def check_proposal_caps(counts: ProposalCounts, caps: ProposalCaps) -> None:
    """Refuse one more proposal when any count has reached its limit (DomainError)."""
    for count_name, limit_name, message, code in CAP_MESSAGES:
        limit = getattr(caps, limit_name)
        if limit > 0 and getattr(counts, count_name) >= limit:
            raise DomainError(message, code=code, params={"limit": limit})


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


# --- Merging: where the sources differ ------------------------------------------------------

# The fields a merge decides one by one, in the order the merge form shows them, with the
# labels the proposal form uses for them.
MERGE_FIELD_LABELS: dict[str, str] = {
    "kind": N_("Vilken sorts förslag?"),
    "what": N_("Vad ska uppnås?"),
    "indicator": N_("Indikator – hur det mäts"),
    "baseline_value": N_("Utgångsvärde"),
    "baseline_year": N_("År för utgångsvärdet"),
    "target_value": N_("Målvärde"),
    "target_date": N_("Målvärdet ska nås senast"),
    "resources": N_("Resurser som behövs"),
    "responsible": N_("Ansvarig"),
    "rationale": N_("Motivering"),
    **{f"criteria.{name}": label for name, label in CRITERIA_LABELS.items()},
}


@dataclass(frozen=True)
class MergeOption:
    """One value some of the sources hold, and which (labels, in the sources' order)."""

    value: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class FieldDifference:
    """One field of a merge: the distinct values of the sources, and whether they agree.

    ``name`` is the name the proposal payload uses ("what", "criteria.matbart", "kind");
    ``value`` is the common value when they agree, else "" (the facilitator picks or writes).
    ``ambition_only`` marks the fields an inriktningsmål drops.
    """

    name: str
    agree: bool
    value: str
    options: tuple[MergeOption, ...]
    ambition_only: bool = False


def _merge_value(source: Mapping[str, Any], name: str) -> str:
    if name == "kind":
        return str(source.get("kind") or ProposalKind.AMBITION)
    if name.startswith("criteria."):
        return str((source.get("criteria") or {}).get(name.removeprefix("criteria.")) or "")
    return str((source.get("fields") or {}).get(name) or "").strip()


def merge_differences(sources: Sequence[Mapping[str, Any]]) -> list[FieldDifference]:
    """Compare the sources of a merge field by field (kind, the texts, each criterion).

    Each source is ``{"label", "kind", "fields", "criteria"}`` as stored. Values are compared
    after trimming; an empty value is a value too (one source left the target out), so it
    counts as a difference, never as agreement by default.
    """
    differences = []
    for name in MERGE_FIELD_LABELS:
        options: dict[str, list[str]] = {}
        for source in sources:
            options.setdefault(_merge_value(source, name), []).append(str(source["label"]))
        agree = len(options) == 1
        differences.append(
            FieldDifference(
                name=name,
                agree=agree,
                value=next(iter(options)) if agree else "",
                options=tuple(MergeOption(v, tuple(labels)) for v, labels in options.items()),
                ambition_only=name in DIRECTION_DROPS,
            )
        )
    return differences
