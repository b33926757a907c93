"""Pure rules of the dialogue: phases, validation, tallies and the consolidated proposal.

Nothing here imports Flask, SQLAlchemy or Socket.IO. Messages are Swedish msgids marked with
``N_`` so the edge can translate them; ``DomainError.params`` fills their placeholders.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .enums import (
    Assessment,
    Forecast,
    Phase,
    ProposalKind,
    ProposalStatus,
    Role,
    RoundStatus,
    VoteMethod,
    WorkshopStatus,
)


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


# --- Phases ---------------------------------------------------------------------------------


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


# --- Proposals ------------------------------------------------------------------------------


ASSESSMENT_LABELS: dict[str, str] = {"ja": N_("Ja"), "delvis": N_("Delvis"), "nej": N_("Nej")}

CRITERIA: tuple[str, ...] = ("paverkbart", "matbart", "resurser")
CRITERIA_LABELS: dict[str, str] = {
    "paverkbart": N_("Påverkbart inom KS ansvar"),
    "matbart": N_("Mätbart"),
    "resurser": N_("Resurser finns"),
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
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
DIRECTION_DROPS = frozenset(
    {"indicator", "baseline_value", "baseline_year", "target_value", "target_date"}
)


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


def valid_date(text: str) -> bool:
    if not DATE_RE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


# --- Voting ---------------------------------------------------------------------------------


VOTE_METHOD_LABELS: dict[VoteMethod, str] = {
    VoteMethod.YES_NO: N_("Ja / nej / avstår per förslag"),
    VoteMethod.SCORE: N_("Betyg 1–5 per förslag"),
    VoteMethod.DOTS: N_("Prickröstning: fördela poäng"),
    VoteMethod.GRADIENTS: N_("Grader av medhåll (5 steg)"),
    VoteMethod.CRITERIA: N_("Kriteriebedömning per förslag"),
}
YES_NO_OPTIONS: tuple[str, ...] = ("ja", "nej", "avstar")
YES_NO_LABELS: dict[str, str] = {"ja": N_("Ja"), "nej": N_("Nej"), "avstar": N_("Avstår")}
GRADIENT_LABELS: dict[int, str] = {
    1: N_("Helt för"),
    2: N_("För, med vissa förbehåll"),
    3: N_("Kan leva med det"),
    4: N_("Tveksam, vill diskutera mer"),
    5: N_("Emot — blockerar"),
}
DEFAULT_DOT_BUDGET = 3
MAX_DOT_BUDGET = 20


def check_dot_budget(value: Any) -> int:
    """Return a valid dot budget or raise."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise DomainError(N_("Antalet poäng måste vara ett heltal."), code="bad_budget")
    try:
        budget = int(value)
    except ValueError:
        raise DomainError(N_("Antalet poäng måste vara ett heltal."), code="bad_budget") from None
    if not 1 <= budget <= MAX_DOT_BUDGET:
        raise DomainError(
            N_("Antalet poäng ska vara mellan 1 och %(max)s."),
            code="bad_budget",
            params={"max": MAX_DOT_BUDGET},
        )
    return budget


def _int_in(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if low <= number <= high else None


def validate_ballot(
    method: VoteMethod, proposal_ids: Sequence[int], raw: Any, dot_budget: int = 3
) -> dict[str, Any]:
    """Normalise a ballot to ``{"<proposal id>": value}``; raise DomainError if it breaks a rule.

    A ballot may leave proposals out (no opinion), but must say something about at least one.
    """
    if not isinstance(raw, Mapping):
        raise DomainError(N_("Rösten kunde inte läsas."), code="bad_ballot")
    allowed = {str(pid) for pid in proposal_ids}
    ballot: dict[str, Any] = {}
    for key, value in raw.items():
        key = str(key)
        if key not in allowed:
            raise DomainError(
                N_("Rösten gäller ett förslag som inte finns i omröstningen."), code="bad_ballot"
            )
        if value in (None, ""):
            continue
        ballot[key] = _validate_answer(method, value)
    if method is VoteMethod.DOTS:
        ballot = {k: v for k, v in ballot.items() if v > 0}
        spent = sum(ballot.values())
        if spent > dot_budget:
            raise DomainError(
                N_("Du har fördelat %(spent)s poäng men har bara %(budget)s."),
                code="over_budget",
                params={"spent": spent, "budget": dot_budget},
            )
    if not ballot:
        raise DomainError(N_("Rösten är tom. Svara på minst ett förslag."), code="empty_ballot")
    return ballot


def _validate_answer(method: VoteMethod, value: Any) -> Any:
    bad = DomainError(N_("Rösten innehåller ett ogiltigt svar."), code="bad_ballot")
    if method is VoteMethod.YES_NO:
        if value not in YES_NO_OPTIONS:
            raise bad
        return value
    if method in (VoteMethod.SCORE, VoteMethod.GRADIENTS):
        number = _int_in(value, 1, 5)
        if number is None:
            raise bad
        return number
    if method is VoteMethod.DOTS:
        number = _int_in(value, 0, MAX_DOT_BUDGET)
        if number is None:
            raise bad
        return number
    # CRITERIA: every criterion must be answered for a proposal the voter rates.
    if not isinstance(value, Mapping) or set(value) != set(CRITERIA):
        raise bad
    if any(
        not isinstance(value[name], str) or value[name] not in ASSESSMENT_LABELS
        for name in CRITERIA
    ):
        raise bad
    return {name: value[name] for name in CRITERIA}


@dataclass
class ProposalTally:
    proposal_id: int
    responses: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    criteria: dict[str, dict[str, int]] = field(default_factory=dict)
    score: float = 0.0  # the number the ranking uses (see ``rank_key``)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Tally:
    method: VoteMethod
    ballots: int
    proposals: list[ProposalTally]
    leaders: list[int]
    dot_budget: int = DEFAULT_DOT_BUDGET

    @property
    def tie(self) -> bool:
        return len(self.leaders) > 1

    def for_proposal(self, proposal_id: int) -> ProposalTally:
        for item in self.proposals:
            if item.proposal_id == proposal_id:
                return item
        raise KeyError(proposal_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method.value,
            "ballots": self.ballots,
            "dot_budget": self.dot_budget,
            "leaders": list(self.leaders),
            "tie": self.tie,
            "proposals": [p.to_dict() for p in self.proposals],
        }


def tally(
    method: VoteMethod,
    proposal_ids: Sequence[int],
    ballots: Iterable[Mapping[str, Any]],
    dot_budget: int = DEFAULT_DOT_BUDGET,
) -> Tally:
    """Count normalised ballots (one per voter, the last one a voter cast) for a round.

    score per method: ja/nej → net support, ja minus nej (avstår counts neither way), and a
    proposal needs at least one ja to lead;
    betyg → mean; prickar → total points; gradering → mean support where 5 = helt för, with
    any block leaving the proposal out of the lead; kriterier → points ja=2, delvis=1, nej=0
    summed over the three criteria, averaged per voter.
    """
    items = {pid: ProposalTally(proposal_id=pid) for pid in proposal_ids}
    count = 0
    sums: dict[int, float] = dict.fromkeys(proposal_ids, 0.0)
    for ballot in ballots:
        count += 1
        for key, value in ballot.items():
            pid = int(key)
            if pid not in items:
                continue  # a proposal withdrawn from the round after this ballot
            item = items[pid]
            item.responses += 1
            if method is VoteMethod.CRITERIA:
                for name in CRITERIA:
                    bucket = item.criteria.setdefault(name, dict.fromkeys(ASSESSMENT_LABELS, 0))
                    bucket[value[name]] += 1
                    sums[pid] += {"ja": 2, "delvis": 1, "nej": 0}[value[name]]
                continue
            label = str(value)
            item.counts[label] = item.counts.get(label, 0) + 1
            if method in (VoteMethod.SCORE, VoteMethod.DOTS):
                sums[pid] += int(value)
            elif method is VoteMethod.GRADIENTS:
                sums[pid] += 6 - int(value)
    for pid, item in items.items():
        _fill_zero_counts(method, item)
        if method is VoteMethod.YES_NO:
            item.score = float(item.counts["ja"] - item.counts["nej"])
        elif method is VoteMethod.DOTS:
            item.score = sums[pid]
        elif item.responses:
            item.score = round(sums[pid] / item.responses, 4)
    return Tally(
        method=method,
        ballots=count,
        proposals=[items[pid] for pid in proposal_ids],
        leaders=_leaders(method, list(items.values())),
        dot_budget=dot_budget,
    )


def _fill_zero_counts(method: VoteMethod, item: ProposalTally) -> None:
    if method is VoteMethod.YES_NO:
        keys: Iterable[str] = YES_NO_OPTIONS
    elif method in (VoteMethod.SCORE, VoteMethod.GRADIENTS):
        keys = [str(n) for n in range(1, 6)]
    elif method is VoteMethod.CRITERIA:
        for name in CRITERIA:
            item.criteria.setdefault(name, dict.fromkeys(ASSESSMENT_LABELS, 0))
        return
    else:
        return  # dots: counts hold "points given -> voters", sparse on purpose
    for key in keys:
        item.counts.setdefault(key, 0)


def _leaders(method: VoteMethod, items: list[ProposalTally]) -> list[int]:
    """Return the proposal ids that share the best result; empty when nobody answered."""
    candidates = [item for item in items if item.responses]
    if method is VoteMethod.GRADIENTS:
        candidates = [item for item in candidates if item.counts.get("5", 0) == 0]
    elif method is VoteMethod.YES_NO:
        candidates = [item for item in candidates if item.counts["ja"] > 0]
    if not candidates:
        return []

    def key(item: ProposalTally) -> tuple[float, int]:
        if method is VoteMethod.YES_NO:
            return (item.score, item.counts["ja"])
        return (item.score, item.responses)

    best = max(key(item) for item in candidates)
    return [item.proposal_id for item in candidates if key(item) == best]


def progress(eligible: Iterable[Any], answered: Iterable[Any]) -> tuple[int, int]:
    """Return (answered, of) for "X av Y har svarat".

    Y counts everyone entitled to vote now, plus anyone who answered and then left: a ballot
    cast while entitled still counts, so X never exceeds Y.
    """
    eligible_set, answered_set = set(eligible), set(answered)
    return len(answered_set), len(eligible_set | answered_set)


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


# --- Follow-up ------------------------------------------------------------------------------

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


# --- Goals import ---------------------------------------------------------------------------


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
    import csv
    import io

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


# --- Consolidation into the proposal for decision -------------------------------------------

PROPOSAL_STATUS_LABELS: dict[str, str] = {
    "aktiv": N_("aktivt"),
    "dold": N_("dolt"),
    "sammanslagen": N_("sammanslaget"),
    "parkerad": N_("parkerat"),
}
ROUND_STATUS_LABELS: dict[str, str] = {
    "oppen": N_("pågår"),
    "stangd": N_("avslutad"),
    "ersatt": N_("ersatt av en senare omröstning"),
}


@dataclass
class ProposalRecord:
    id: int
    label: str  # "F3": how the room refers to it
    kind: str
    fields: dict[str, str]
    criteria: dict[str, str]
    author: str = ""
    status: str = "aktiv"
    hidden_reason: str = ""
    merged_into: str = ""  # label of the proposal it was merged into
    merged_from: list[str] = field(default_factory=list)
    original: dict[str, str] | None = None  # text before the facilitator edited it


@dataclass
class RoundRecord:
    number: int
    method: str
    status: str
    tally: dict[str, Any]
    labels: dict[int, str]  # proposal id -> label


@dataclass
class DissentRecord:
    text: str
    name: str = ""


@dataclass
class DecisionRecord:
    kind: str
    proposal_label: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    criteria: dict[str, str] = field(default_factory=dict)
    tally: dict[str, Any] | None = None
    tally_labels: dict[int, str] = field(default_factory=dict)
    dissent: list[DissentRecord] = field(default_factory=list)


@dataclass
class GoalRecord:
    area: str
    number: str
    text: str
    strategies: str = ""
    measurability: str = ""
    decision: DecisionRecord | None = None
    proposals: list[ProposalRecord] = field(default_factory=list)
    rounds: list[RoundRecord] = field(default_factory=list)
    follow_ups: list[FollowUpRecord] = field(default_factory=list)


@dataclass
class FollowUpRecord:
    """What was recorded for a goal at one checkpoint (see ``validate_follow_up``)."""

    checkpoint: dt.date
    value: str = ""
    forecast: str = ""
    comment: str = ""
    activities: str = ""
    kolada_kpi: str = ""


@dataclass
class ParkingRecord:
    text: str
    goal: str = ""  # "Mål 3", or empty for the whole workshop


@dataclass
class AuditRecord:
    """One line of the facilitator's audit trail: when (UTC), who, and what."""

    at: str
    actor: str
    text: str


@dataclass
class WorkshopRecord:
    title: str
    dnr: str
    organisation: str
    unit: str
    meeting_date: str
    recipient: str
    send_to: str
    officer: str
    follow_up_dates: list[dt.date]
    anonymous: bool
    goals: list[GoalRecord]
    parking: list[ParkingRecord] = field(default_factory=list)
    export_date: str = ""
    audit: list[AuditRecord] = field(default_factory=list)


@dataclass
class Line:
    """A labelled line in a goal section: "Indikator: Andel ..."."""

    label: str
    value: str


@dataclass
class GoalSection:
    heading: str
    area: str
    text: str
    status: str  # "ambitionsniva", "inriktningsmal" or "ej_behandlad"
    status_text: str
    lines: list[Line]
    criteria: list[Line]
    support: list[str]
    dissent: list[str]
    follow_up: list[str]


@dataclass
class AppendixGoal:
    heading: str
    proposals: list[list[Line]]
    rounds: list[list[str]]


@dataclass
class ProposalRow:
    """One proposal as a spreadsheet row; texts translated, fields as entered."""

    goal: str
    label: str
    kind: str
    status: str
    fields: dict[str, str]
    criteria: dict[str, str]  # criterion label -> assessment label ("" when not assessed)
    author: str
    merged_into: str
    merged_from: str
    hidden_reason: str


@dataclass
class TallyRow:
    """One count of a round's raw tally: how many answered ``answer`` for ``proposal``."""

    goal: str
    round: int
    method: str
    status: str
    ballots: int
    proposal: str
    answer: str
    count: int


@dataclass
class DecisionDocument:
    organisation: str
    unit: str
    dnr: str
    date: str
    recipient: str
    title: str
    decision_points: list[str]
    summary: list[str]
    background: list[str]
    goals: list[GoalSection]
    assessment: list[str]
    parking: list[str]
    send_to: str
    officer: str
    appendix: list[AppendixGoal]
    filename_stem: str
    audit: list[AuditRecord] = field(default_factory=list)
    proposal_rows: list[ProposalRow] = field(default_factory=list)
    tally_rows: list[TallyRow] = field(default_factory=list)


def fill(message: str, /, **params: Any) -> str:
    """Fill a translated message's ``%(name)s`` placeholders; without params, leave it as is.

    Call it as ``fill(gettext("... %(x)s"), x=...)``: the msgid stays a literal argument of
    ``gettext`` (or ``_``), where ``pybabel extract`` finds it.
    """
    return message % params if params else message


_fill = fill


def pgettext_via(context: str, message: str, gettext: Any = N_) -> str:
    """Translate ``message`` in ``context`` with a one-argument ``gettext``.

    Catalogs keep such an entry under "context\\x04message", the key ``pgettext`` looks up, so
    a plain gettext finds it too; without a translation the message itself comes back. The
    msgid must be a literal here: ``pybabel extract -k pgettext_via:1c,2`` finds it.
    """
    key = f"{context}\x04{message}"
    text = gettext(key)
    return message if "\x04" in text else text


def describe_tally(
    tally_data: Mapping[str, Any], labels: Mapping[int, str], gettext: Any = N_
) -> list[str]:
    """Render a tally as plain sentences, one per proposal, for the export and screen readers."""
    method = VoteMethod(tally_data["method"])
    lines = [_fill(gettext("%(n)s röster lämnades."), n=tally_data["ballots"])]
    for item in tally_data["proposals"]:
        label = labels.get(item["proposal_id"], str(item["proposal_id"]))
        counts = item["counts"]
        if method is VoteMethod.YES_NO:
            text = _fill(
                gettext("%(label)s: ja %(ja)s, nej %(nej)s, avstår %(avstar)s."),
                label=label,
                **{k: counts.get(k, 0) for k in YES_NO_OPTIONS},
            )
        elif method is VoteMethod.SCORE:
            spread = ", ".join(f"{n}: {counts.get(str(n), 0)}" for n in range(1, 6))
            text = _fill(
                gettext("%(label)s: medelbetyg %(mean)s av 5 (%(spread)s)."),
                label=label,
                mean=_num(item["score"], gettext),
                spread=spread,
            )
        elif method is VoteMethod.DOTS:
            text = _fill(
                gettext("%(label)s: %(points)s poäng från %(voters)s personer."),
                label=label,
                points=_num(item["score"], gettext),
                voters=item["responses"],
            )
        elif method is VoteMethod.GRADIENTS:
            spread = "; ".join(
                f"{gettext(GRADIENT_LABELS[n])} {counts.get(str(n), 0)}" for n in range(1, 6)
            )
            text = _fill(gettext("%(label)s: %(spread)s."), label=label, spread=spread)
        else:
            parts = []
            for name in CRITERIA:
                c = item["criteria"].get(name, {})
                parts.append(
                    _fill(
                        gettext("%(criterion)s ja %(ja)s / delvis %(delvis)s / nej %(nej)s"),
                        criterion=gettext(CRITERIA_LABELS[name]),
                        ja=c.get("ja", 0),
                        delvis=c.get("delvis", 0),
                        nej=c.get("nej", 0),
                    )
                )
            text = f"{label}: " + "; ".join(parts) + "."
        lines.append(text)
    leaders = [labels.get(pid, str(pid)) for pid in tally_data.get("leaders", [])]
    if len(leaders) > 1:
        lines.append(_fill(gettext("Delad förstaplats: %(labels)s."), labels=", ".join(leaders)))
    elif leaders:
        lines.append(_fill(gettext("Starkast stöd: %(label)s."), label=leaders[0]))
    return lines


def _num(value: float, gettext: Any = N_) -> str:
    if value == int(value):
        return str(int(value))
    whole, fraction = f"{value:.1f}".split(".")
    # TRANSLATORS: a decimal number such as 3,5; English writes 3.5.
    return _fill(gettext("%(int)s,%(dec)s"), int=whole, dec=fraction)


PROPOSAL_FIELD_LABELS: dict[str, str] = {
    "what": N_("Vad ska uppnås"),
    "indicator": N_("Indikator (hur det mäts)"),
    "baseline": N_("Utgångsvärde"),
    "target": N_("Målvärde"),
    "resources": N_("Resurser"),
    "responsible": N_("Ansvarig"),
    "rationale": N_("Motivering"),
}


def proposal_lines(fields_: Mapping[str, str], gettext: Any = N_) -> list[Line]:
    """Turn stored proposal fields into labelled lines, skipping empty ones."""
    baseline = " ".join(
        part
        for part in (fields_.get("baseline_value", ""), _paren(fields_.get("baseline_year")))
        if part
    )
    target = fields_.get("target_value", "")
    if fields_.get("target_date"):
        target = _fill(
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
    return [
        Line(
            gettext(CRITERIA_LABELS[name]),
            gettext(ASSESSMENT_LABELS[criteria[name]])
            if criteria.get(name)
            else gettext("ej bedömt"),
        )
        for name in CRITERIA
    ]


def file_stem(prefix: str, dnr: str, date: str) -> str:
    """Name an export file after its kind, Dnr (made file-safe) and date."""
    stem = prefix
    if dnr:
        stem += "-" + re.sub(r"[^0-9A-Za-z]+", "-", dnr).strip("-")
    if date:
        stem += "-" + date
    return stem


def consolidate(record: WorkshopRecord, gettext: Any = N_) -> DecisionDocument:
    """Build the proposal for decision (förslag till beslut) from the workshop's state.

    Every goal appears: decided ones with their ambition level or as inriktningsmål, the rest
    as "ej behandlad". Every proposal, round and parked point goes to the appendix.
    """
    _ = gettext
    dates = ", ".join(format_date(d, _) for d in record.follow_up_dates)
    decided = [g for g in record.goals if g.decision]
    ambition = [g for g in decided if g.decision and g.decision.kind == ProposalKind.AMBITION]
    direction = [g for g in decided if g.decision and g.decision.kind == ProposalKind.DIRECTION]
    undecided = [g for g in record.goals if not g.decision]

    points = [
        _fill(
            _(
                "Kommunstyrelsens arbetsutskott föreslår kommunstyrelsen att godkänna "
                "ambitionsnivån för kommunstyrelsens mål enligt detta förslag."
            ),
        )
    ]
    if ambition:
        points.append(
            _fill(_("Ambitionsnivå fastställs för mål %(goals)s."), goals=_goal_list(ambition, _))
        )
    if direction:
        points.append(
            _fill(
                _("Mål %(goals)s behålls som inriktningsmål, utan prognos."),
                goals=_goal_list(direction, _),
            )
        )
    if undecided:
        points.append(
            _fill(
                _("Mål %(goals)s är ej behandlade i dialogen och behöver beredas vidare."),
                goals=_goal_list(undecided, _),
            )
        )

    summary = [
        _fill(
            _(
                "Kommunstyrelsens arbetsutskott förde en dialog den %(date)s i syfte att ta "
                "fram förslag till ambitionsnivå för kommunstyrelsens %(n)s mål."
            ),
            date=_format_date_text(record.meeting_date, _),
            n=len(record.goals),
        ),
        _fill(
            _(
                "%(decided)s av %(n)s mål fick ett förslag i dialogen: %(amb)s med "
                "ambitionsnivå och %(dir)s som inriktningsmål. %(undecided)s mål är ej "
                "behandlade."
            ),
            decided=len(decided),
            n=len(record.goals),
            amb=len(ambition),
            dir=len(direction),
            undecided=len(undecided),
        ),
        _fill(
            _("Prognos för måluppfyllelse redovisas i delårsrapporterna per %(dates)s."),
            dates=dates,
        ),
    ]
    background = [
        _(
            "En ambitionsnivå ska tydligt beskriva vad som ska uppnås och uppfylla tre kriterier: "
            "det ska gå att påverka och vara inom kommunstyrelsens ansvarsområde, det ska kunna "
            "mätas och det ska finnas resurser till att uppfylla målet."
        ),
        _(
            "Kommunstyrelsen kan också välja att låta ett mål vara inriktningsmål för "
            "verksamheten att förhålla sig till. Ett sådant mål blir inte styrande och ingen "
            "prognos redovisas; uppföljningen sker genom att efterfråga verksamhetens aktiviteter."
        ),
        _fill(
            _(
                "Åsiktsmätningen i dialogen var %(mode)s. Resultaten är underlag för beslut, "
                "inte beslut."
            ),
            mode=_("anonym") if record.anonymous else _("öppen, med namn"),
        ),
    ]
    sections = [_goal_section(goal, record, _) for goal in record.goals]
    assessment = [
        _fill(
            _(
                "Kommunledningskontoret bedömer att förslagen med ambitionsnivå ska stämmas av "
                "mot de tre kriterierna innan beslut. Bedömningen per mål framgår ovan."
            ),
        ),
    ]
    if undecided:
        assessment.append(
            _fill(
                _(
                    "Mål som inte behandlades (%(goals)s) redovisas som ej "
                    "behandlade och bör beredas vidare."
                ),
                goals=_goal_list(undecided, _),
            )
        )
    parking = [f"{p.goal}: {p.text}" if p.goal else p.text for p in record.parking]
    appendix = [_appendix_goal(goal, _) for goal in record.goals]
    stem = file_stem("forslag-till-beslut", record.dnr, record.export_date)
    return DecisionDocument(
        organisation=record.organisation,
        unit=record.unit,
        dnr=record.dnr,
        date=record.export_date,
        recipient=record.recipient,
        title=record.title,
        decision_points=points,
        summary=summary,
        background=background,
        goals=sections,
        assessment=assessment,
        parking=parking,
        send_to=record.send_to,
        officer=record.officer,
        appendix=appendix,
        filename_stem=stem,
        audit=list(record.audit),
        proposal_rows=proposal_rows(record, _),
        tally_rows=tally_rows(record, _),
    )


def _goal_list(goals: Sequence[GoalRecord], gettext: Any = N_) -> str:
    numbers = [g.number for g in goals]
    if len(numbers) == 1:
        return numbers[0]
    # TRANSLATORS: the end of a list of goal numbers, e.g. "1, 2 och 3".
    return _fill(gettext("%(first)s och %(last)s"), first=", ".join(numbers[:-1]), last=numbers[-1])


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
    month = gettext(MONTHS_SV[date.month - 1])
    # TRANSLATORS: a date such as "30 april 2019"; month is the translated month name.
    return _fill(gettext("%(day)s %(month)s %(year)s"), day=date.day, month=month, year=date.year)


def _format_date_text(text: str, gettext: Any = N_) -> str:
    try:
        return format_date(dt.date.fromisoformat(text), gettext)
    except (TypeError, ValueError):
        return text


def _goal_section(goal: GoalRecord, record: WorkshopRecord, _: Any) -> GoalSection:
    heading = _fill(_("Mål %(number)s. %(text)s"), number=goal.number, text=goal.text)
    decision = goal.decision
    if decision is None:
        return GoalSection(
            heading=heading,
            area=goal.area,
            text=goal.text,
            status="ej_behandlad",
            status_text=_("Ej behandlad i dialogen."),
            lines=[],
            criteria=[],
            support=[],
            dissent=[],
            follow_up=[],
        )
    support = (
        describe_tally(decision.tally, decision.tally_labels, _)
        if decision.tally
        else [_("Ingen omröstning genomfördes för detta mål.")]
    )
    dissent = [f"{d.text} — {d.name}" if d.name else d.text for d in decision.dissent]
    if decision.kind == ProposalKind.DIRECTION:
        status_text = _("Inriktningsmål — ingen prognos.")
        follow_up = [_(DIRECTION_FOLLOW_UP)]
    else:
        status_text = _("Ambitionsnivå")
        follow_up = [
            _fill(
                _("Prognos för måluppfyllelse per %(date)s (delårsrapport)."),
                date=format_date(d, _),
            )
            for d in record.follow_up_dates
        ]
    lines = proposal_lines(decision.fields, _)
    if decision.proposal_label:
        lines.append(Line(_("Bygger på förslag"), decision.proposal_label))
    return GoalSection(
        heading=heading,
        area=goal.area,
        text=goal.text,
        status=decision.kind,
        status_text=status_text,
        lines=lines,
        criteria=criteria_lines(decision.criteria, _),
        support=support,
        dissent=dissent,
        follow_up=follow_up,
    )


def _appendix_goal(goal: GoalRecord, _: Any) -> AppendixGoal:
    proposals = []
    for p in goal.proposals:
        lines = [
            Line(pgettext_via("before a proposal's label, e.g. Förslag F3", "Förslag", _), p.label),
            Line(
                _("Typ"),
                _("Inriktningsmål") if p.kind == ProposalKind.DIRECTION else _("Ambitionsnivå"),
            ),
            Line(_("Status"), _(PROPOSAL_STATUS_LABELS.get(p.status, p.status))),
        ]
        if p.author:
            lines.append(Line(_("Förslagsställare"), p.author))
        if p.hidden_reason:
            lines.append(Line(_("Skäl"), p.hidden_reason))
        if p.merged_into:
            lines.append(Line(_("Sammanslaget i"), p.merged_into))
        if p.merged_from:
            lines.append(Line(_("Sammanslaget av"), ", ".join(p.merged_from)))
        lines.extend(proposal_lines(p.fields, _))
        lines.extend(criteria_lines(p.criteria, _))
        if p.original is not None:
            original = "; ".join(f"{ln.label}: {ln.value}" for ln in proposal_lines(p.original, _))
            lines.append(Line(_("Ursprunglig lydelse före redigering"), original))
        proposals.append(lines)
    rounds = []
    for r in goal.rounds:
        head = _fill(
            _("Omröstning %(n)s (%(method)s, %(status)s)"),
            n=r.number,
            method=_(VOTE_METHOD_LABELS[VoteMethod(r.method)]),
            status=_(ROUND_STATUS_LABELS.get(r.status, r.status)),
        )
        rounds.append([head, *describe_tally(r.tally, r.labels, _)])
    return AppendixGoal(
        heading=_fill(_("Mål %(number)s. %(text)s"), number=goal.number, text=goal.text),
        proposals=proposals,
        rounds=rounds,
    )


# --- Spreadsheet tables: every proposal and every raw count ----------------------------------


def proposal_rows(record: WorkshopRecord, gettext: Any = N_) -> list[ProposalRow]:
    """Return every proposal of every goal as a row, for the XLSX and CSV exports."""
    _ = gettext
    rows = []
    for goal in record.goals:
        for p in goal.proposals:
            rows.append(
                ProposalRow(
                    goal=goal.number,
                    label=p.label,
                    kind=_("Inriktningsmål")
                    if p.kind == ProposalKind.DIRECTION
                    else _("Ambitionsnivå"),
                    status=_(PROPOSAL_STATUS_LABELS.get(p.status, p.status)),
                    fields={name: p.fields.get(name, "") for name in TEXT_FIELDS},
                    criteria={
                        _(CRITERIA_LABELS[name]): _(ASSESSMENT_LABELS[p.criteria[name]])
                        if p.criteria.get(name) in ASSESSMENT_LABELS
                        else ""
                        for name in CRITERIA
                    },
                    author=p.author,
                    merged_into=p.merged_into,
                    merged_from=", ".join(p.merged_from),
                    hidden_reason=p.hidden_reason,
                )
            )
    return rows


def _answer_labels(method: VoteMethod, item: Mapping[str, Any], _: Any) -> list[tuple[str, int]]:
    counts = item.get("counts", {})
    if method is VoteMethod.YES_NO:
        return [(_(YES_NO_LABELS[k]), counts.get(k, 0)) for k in YES_NO_OPTIONS]
    if method is VoteMethod.SCORE:
        return [(str(n), counts.get(str(n), 0)) for n in range(1, 6)]
    if method is VoteMethod.GRADIENTS:
        return [(_(GRADIENT_LABELS[n]), counts.get(str(n), 0)) for n in range(1, 6)]
    if method is VoteMethod.DOTS:
        return [
            (_fill(_("%(n)s poäng"), n=points), counts[points])
            for points in sorted(counts, key=int)
        ]
    pairs = []
    for name in CRITERIA:
        bucket = item.get("criteria", {}).get(name, {})
        for value in ASSESSMENT_LABELS:
            label = f"{_(CRITERIA_LABELS[name])}: {_(ASSESSMENT_LABELS[value])}"
            pairs.append((label, bucket.get(value, 0)))
    return pairs


def tally_rows(record: WorkshopRecord, gettext: Any = N_) -> list[TallyRow]:
    """Return every round's raw counts, one row per proposal and answer."""
    _ = gettext
    rows = []
    for goal in record.goals:
        for r in goal.rounds:
            method = VoteMethod(r.method)
            for item in r.tally["proposals"]:
                for answer, count in _answer_labels(method, item, _):
                    rows.append(
                        TallyRow(
                            goal=goal.number,
                            round=r.number,
                            method=_(VOTE_METHOD_LABELS[method]),
                            status=_(ROUND_STATUS_LABELS.get(r.status, r.status)),
                            ballots=r.tally["ballots"],
                            proposal=r.labels.get(item["proposal_id"], str(item["proposal_id"])),
                            answer=answer,
                            count=int(count),
                        )
                    )
    return rows


# --- Follow-up after the decision -------------------------------------------------------------


FORECAST_LABELS: dict[str, str] = {
    "uppfylls": N_("Uppfylls"),
    "delvis": N_("Uppfylls delvis"),
    "uppfylls_inte": N_("Uppfylls inte"),
}
FOLLOW_UP_LIMITS: dict[str, int] = {
    "value": 100,
    "comment": 1000,
    "activities": 2000,
    "kolada_kpi": 12,
}
KOLADA_KPI_RE = re.compile(r"^[A-Z]\d{5}$")


def checkpoints(follow_up_dates: Sequence[dt.date], year: int | None = None) -> list[dt.date]:
    """Return the follow-up checkpoints: the workshop's dates plus the year end (31 December).

    The year is the latest follow-up date's, else ``year``.
    """
    dates = set(follow_up_dates)
    last = max((d.year for d in dates), default=year)
    if last is not None:
        dates.add(dt.date(last, 12, 31))
    return sorted(dates)


@dataclass(frozen=True)
class FollowUpInput:
    checkpoint: dt.date
    value: str = ""
    forecast: str = ""
    comment: str = ""
    activities: str = ""
    kolada_kpi: str = ""


def validate_follow_up(
    raw: Mapping[str, Any], goal_kind: str | None, allowed: Sequence[dt.date]
) -> FollowUpInput:
    """Check a follow-up for a goal decided as ``goal_kind`` at one of the ``allowed`` dates.

    An ambition level needs a forecast (uppfylls / delvis / uppfylls_inte); an inriktningsmål
    has no forecast and no measured value, only the activities carried out.
    """
    if goal_kind is None:
        raise DomainError(N_("Målet är ej behandlat och kan inte följas upp än."), code="undecided")
    if not isinstance(raw, Mapping):
        raise DomainError(N_("Uppföljningen kunde inte läsas."), code="bad_payload")
    values, errors, params = clean_fields(raw, FOLLOW_UP_LIMITS)
    checkpoint = None
    try:
        text = clean_text(raw.get("checkpoint"))
    except TypeError:
        text = ""
    if valid_date(text) and dt.date.fromisoformat(text) in allowed:
        checkpoint = dt.date.fromisoformat(text)
    else:
        errors["checkpoint"] = N_("Välj en av dialogens uppföljningstidpunkter.")
    forecast = raw.get("forecast") or ""
    forecast = forecast.strip() if isinstance(forecast, str) else "?"
    if goal_kind == ProposalKind.DIRECTION:
        if forecast:
            errors["forecast"] = N_("Ett inriktningsmål har ingen prognos.")
        if not values["activities"] and "activities" not in errors:
            errors["activities"] = N_("Beskriv vilka aktiviteter verksamheten har genomfört.")
        values["value"] = values["kolada_kpi"] = ""
    else:
        if forecast not in FORECAST_LABELS:
            errors["forecast"] = N_(
                "Välj en prognos: uppfylls, uppfylls delvis eller uppfylls inte."
            )
        values["activities"] = ""
        kpi = values["kolada_kpi"].upper()
        if kpi and "kolada_kpi" not in errors and not KOLADA_KPI_RE.match(kpi):
            errors["kolada_kpi"] = N_("Ange nyckeltalets id i Kolada, t.ex. N00090.")
        values["kolada_kpi"] = kpi
    if errors:
        raise DomainError(
            N_("Uppföljningen har fel som behöver rättas."),
            code="invalid_fields",
            fields=errors,
            field_params=params,
        )
    assert checkpoint is not None
    return FollowUpInput(checkpoint=checkpoint, forecast=forecast, **values)


@dataclass
class FollowUpItem:
    heading: str
    area: str
    status: str  # "ambitionsniva", "inriktningsmal" or "ej_behandlad"
    status_text: str
    forecast: str  # a ``Forecast`` value or ""
    forecast_text: str
    lines: list[Line]


@dataclass
class FollowUpCheckpoint:
    date: str  # ISO date
    heading: str
    items: list[FollowUpItem]


@dataclass
class FollowUpReport:
    organisation: str
    unit: str
    dnr: str
    date: str
    title: str
    intro: list[str]
    checkpoints: list[FollowUpCheckpoint]
    filename_stem: str


def follow_up_report(record: WorkshopRecord, gettext: Any = N_) -> FollowUpReport:
    """Build the follow-up report: every goal at every checkpoint, undecided ones included."""
    _ = gettext
    dates = checkpoints(record.follow_up_dates, _year(record.meeting_date))
    sections = []
    for date in dates:
        items = []
        for goal in record.goals:
            heading = _fill(_("Mål %(number)s. %(text)s"), number=goal.number, text=goal.text)
            entry = next((f for f in goal.follow_ups if f.checkpoint == date), None)
            items.append(_follow_up_item(goal, heading, entry, _))
        if date.month == 12 and date.day == 31:
            title = _fill(_("Uppföljning per %(date)s (helår)"), date=format_date(date, _))
        else:
            title = _fill(_("Uppföljning per %(date)s (delårsrapport)"), date=format_date(date, _))
        sections.append(FollowUpCheckpoint(date=date.isoformat(), heading=title, items=items))
    intro = [
        _(
            "Prognosen för måluppfyllelse redovisas för mål med ambitionsnivå. För "
            "inriktningsmål redovisas ingen prognos; uppföljningen sker genom verksamhetens "
            "aktiviteter."
        ),
    ]
    stem = file_stem("uppfoljning", record.dnr, record.export_date)
    return FollowUpReport(
        organisation=record.organisation,
        unit=record.unit,
        dnr=record.dnr,
        date=record.export_date,
        title=_fill(_("Uppföljning: %(title)s"), title=record.title),
        intro=intro,
        checkpoints=sections,
        filename_stem=stem,
    )


def _year(text: str) -> int | None:
    return int(text[:4]) if text[:4].isdigit() else None


def _follow_up_item(
    goal: GoalRecord, heading: str, entry: FollowUpRecord | None, _: Any
) -> FollowUpItem:
    decision = goal.decision
    if decision is None:
        return FollowUpItem(
            heading=heading,
            area=goal.area,
            status="ej_behandlad",
            status_text=_("Ej behandlad i dialogen."),
            forecast="",
            forecast_text="",
            lines=[],
        )
    if decision.kind == ProposalKind.DIRECTION:
        activities = entry.activities if entry else ""
        lines = [
            Line(_("Genomförda aktiviteter"), activities or _("Inga aktiviteter registrerade.")),
        ]
        if entry and entry.comment:
            lines.append(Line(_("Kommentar"), entry.comment))
        return FollowUpItem(
            heading=heading,
            area=goal.area,
            status=ProposalKind.DIRECTION.value,
            status_text=_("Inriktningsmål — ingen prognos."),
            forecast="",
            forecast_text="",
            lines=lines,
        )
    fields_ = decision.fields
    shown = {_(PROPOSAL_FIELD_LABELS[name]) for name in ("what", "target")}
    lines = [line for line in proposal_lines(fields_, _) if line.label in shown]
    forecast = entry.forecast if entry and entry.forecast in FORECAST_LABELS else ""
    if entry and entry.value:
        value = entry.value
        if entry.kolada_kpi:
            value = _fill(
                _("%(value)s (Källa: Kolada, %(kpi)s)"), value=value, kpi=entry.kolada_kpi
            )
        lines.append(Line(_("Uppmätt värde"), value))
    if entry and entry.comment:
        lines.append(Line(_("Kommentar"), entry.comment))
    return FollowUpItem(
        heading=heading,
        area=goal.area,
        status=ProposalKind.AMBITION.value,
        status_text=_("Ambitionsnivå"),
        forecast=forecast,
        forecast_text=_(FORECAST_LABELS[forecast]) if forecast else _("Ingen prognos registrerad."),
        lines=lines,
    )
