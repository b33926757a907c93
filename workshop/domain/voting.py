"""Voting: one rules object per vote method, in one table, and the functions that use it.

Each :class:`MethodRules` entry in :data:`METHODS` says how its method checks an answer, counts
it, ranks the proposals and puts a result into words. ``validate_ballot``, ``tally``,
``describe_tally`` and ``answer_labels`` only look a method up there, so a new method is one
new entry here (plus its template fragment and catalog strings).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .core import N_, DomainError, fill, format_number, int_in
from .enums import Assessment, RoundStatus, VoteMethod, YesNo
from .proposals import ASSESSMENT_LABELS, CRITERIA, CRITERIA_LABELS

ROUND_STATUS_LABELS: dict[str, str] = {
    RoundStatus.OPEN: N_("pågår"),
    RoundStatus.CLOSED: N_("avslutad"),
    RoundStatus.REPLACED: N_("ersatt av en senare omröstning"),
}
YES_NO_OPTIONS: tuple[str, ...] = tuple(answer.value for answer in YesNo)  # plain str: count keys
YES_NO_LABELS: dict[str, str] = {
    YesNo.YES: N_("Ja"),
    YesNo.NO: N_("Nej"),
    YesNo.ABSTAIN: N_("Avstår"),
}
GRADIENT_LABELS: dict[int, str] = {
    1: N_("Helt för"),
    2: N_("För, med vissa förbehåll"),
    3: N_("Kan leva med det"),
    4: N_("Tveksam, vill diskutera mer"),
    5: N_("Emot — blockerar"),
}
SCALE: tuple[int, ...] = (1, 2, 3, 4, 5)  # the steps of betyg and gradering
BLOCK = "5"  # gradering's "Emot — blockerar", as a count key
CRITERION_POINTS: dict[str, int] = {Assessment.YES: 2, Assessment.PARTLY: 1, Assessment.NO: 0}
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


@dataclass
class ProposalTally:
    proposal_id: int
    responses: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    criteria: dict[str, dict[str, int]] = field(default_factory=dict)
    score: float = 0.0  # the number the ranking uses (see ``MethodRules.rank_key``)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- The rules of each method ---------------------------------------------------------------


class BadAnswer(ValueError):
    """An answer the method does not accept (``validate_ballot`` turns it into a DomainError)."""


def _count_label(item: ProposalTally, value: Any) -> None:
    label = str(value)
    item.counts[label] = item.counts.get(label, 0) + 1


def _zero_counts(keys: Iterable[str]) -> Callable[[ProposalTally], None]:
    def fill_zero(item: ProposalTally) -> None:
        for key in keys:
            item.counts.setdefault(key, 0)

    return fill_zero


def _mean(item: ProposalTally, total: float) -> float:
    return round(total / item.responses, 4) if item.responses else item.score


def _by_score_then_responses(item: ProposalTally) -> tuple[float, int]:
    return (item.score, item.responses)


# ja / nej / avstår: net support (ja minus nej); a proposal needs a ja to lead.


def _yes_no_answer(value: Any) -> Any:
    if value not in YES_NO_OPTIONS:
        raise BadAnswer
    return value


def _yes_no_count(item: ProposalTally, value: Any) -> float:
    _count_label(item, value)
    return 0.0


def _yes_no_describe(item: Mapping[str, Any], label: str, gettext: Any) -> str:
    counts = item["counts"]
    return fill(
        gettext("%(label)s: ja %(ja)s, nej %(nej)s, avstår %(avstar)s."),
        label=label,
        **{k: counts.get(k, 0) for k in YES_NO_OPTIONS},
    )


def _yes_no_labels(item: Mapping[str, Any], gettext: Any) -> list[tuple[str, int]]:
    counts = item.get("counts", {})
    return [(gettext(YES_NO_LABELS[k]), counts.get(k, 0)) for k in YES_NO_OPTIONS]


def _yes_no_text(value: Any, gettext: Any) -> str:
    return gettext(YES_NO_LABELS[value])


# betyg 1–5: the mean.


def _scale_answer(value: Any) -> int:
    number = int_in(value, SCALE[0], SCALE[-1])
    if number is None:
        raise BadAnswer
    return number


def _score_count(item: ProposalTally, value: Any) -> float:
    _count_label(item, value)
    return int(value)


def _score_describe(item: Mapping[str, Any], label: str, gettext: Any) -> str:
    counts = item["counts"]
    spread = ", ".join(f"{n}: {counts.get(str(n), 0)}" for n in SCALE)
    return fill(
        gettext("%(label)s: medelbetyg %(mean)s av 5 (%(spread)s)."),
        label=label,
        mean=format_number(item["score"], gettext),
        spread=spread,
    )


def _score_labels(item: Mapping[str, Any], gettext: Any) -> list[tuple[str, int]]:
    counts = item.get("counts", {})
    return [(str(n), counts.get(str(n), 0)) for n in SCALE]


# prickar: total points within each voter's budget.


def _dots_answer(value: Any) -> int:
    number = int_in(value, 0, MAX_DOT_BUDGET)
    if number is None:
        raise BadAnswer
    return number


def _dots_ballot(ballot: dict[str, Any], dot_budget: int) -> dict[str, Any]:
    ballot = {k: v for k, v in ballot.items() if v > 0}
    spent = sum(ballot.values())
    if spent > dot_budget:
        raise DomainError(
            N_("Du har fördelat %(spent)s poäng men har bara %(budget)s."),
            code="over_budget",
            params={"spent": spent, "budget": dot_budget},
        )
    return ballot


def _dots_score(item: ProposalTally, total: float) -> float:
    return total


def _dots_describe(item: Mapping[str, Any], label: str, gettext: Any) -> str:
    return fill(
        gettext("%(label)s: %(points)s poäng från %(voters)s personer."),
        label=label,
        points=format_number(item["score"], gettext),
        voters=item["responses"],
    )


def _dots_labels(item: Mapping[str, Any], gettext: Any) -> list[tuple[str, int]]:
    # counts hold "points given -> voters", sparse on purpose
    counts = item.get("counts", {})
    return [
        (fill(gettext("%(n)s poäng"), n=points), counts[points])
        for points in sorted(counts, key=int)
    ]


# gradering: mean support where 5 = helt för; any block keeps the proposal out of the lead.


def _gradient_count(item: ProposalTally, value: Any) -> float:
    _count_label(item, value)
    return 6 - int(value)


def _gradient_describe(item: Mapping[str, Any], label: str, gettext: Any) -> str:
    counts = item["counts"]
    spread = "; ".join(f"{gettext(GRADIENT_LABELS[n])} {counts.get(str(n), 0)}" for n in SCALE)
    return fill(gettext("%(label)s: %(spread)s."), label=label, spread=spread)


def _gradient_labels(item: Mapping[str, Any], gettext: Any) -> list[tuple[str, int]]:
    counts = item.get("counts", {})
    return [(gettext(GRADIENT_LABELS[n]), counts.get(str(n), 0)) for n in SCALE]


def _gradient_text(value: Any, gettext: Any) -> str:
    return gettext(GRADIENT_LABELS[int(value)])


# kriterier: ja=2, delvis=1, nej=0 summed over the three criteria, averaged per voter.


def _criteria_answer(value: Any) -> dict[str, str]:
    # Every criterion must be answered for a proposal the voter rates.
    if not isinstance(value, Mapping) or set(value) != set(CRITERIA):
        raise BadAnswer
    if any(
        not isinstance(value[name], str) or value[name] not in ASSESSMENT_LABELS
        for name in CRITERIA
    ):
        raise BadAnswer
    return {name: value[name] for name in CRITERIA}


def _empty_bucket() -> dict[str, int]:
    return {a.value: 0 for a in Assessment}


def _criteria_count(item: ProposalTally, value: Any) -> float:
    points = 0
    for name in CRITERIA:
        item.criteria.setdefault(name, _empty_bucket())[value[name]] += 1
        points += CRITERION_POINTS[value[name]]
    return points


def _criteria_zero(item: ProposalTally) -> None:
    for name in CRITERIA:
        item.criteria.setdefault(name, _empty_bucket())


def _criteria_describe(item: Mapping[str, Any], label: str, gettext: Any) -> str:
    parts = []
    for name in CRITERIA:
        c = item["criteria"].get(name, {})
        parts.append(
            fill(
                gettext("%(criterion)s ja %(ja)s / delvis %(delvis)s / nej %(nej)s"),
                criterion=gettext(CRITERIA_LABELS[name]),
                ja=c.get(Assessment.YES, 0),
                delvis=c.get(Assessment.PARTLY, 0),
                nej=c.get(Assessment.NO, 0),
            )
        )
    return f"{label}: " + "; ".join(parts) + "."


def _criteria_labels(item: Mapping[str, Any], gettext: Any) -> list[tuple[str, int]]:
    pairs = []
    for name in CRITERIA:
        bucket = item.get("criteria", {}).get(name, {})
        for value in ASSESSMENT_LABELS:
            label = f"{gettext(CRITERIA_LABELS[name])}: {gettext(ASSESSMENT_LABELS[value])}"
            pairs.append((label, bucket.get(value, 0)))
    return pairs


def _criteria_text(value: Any, gettext: Any) -> str:
    return ", ".join(
        f"{gettext(CRITERIA_LABELS[name])} {gettext(ASSESSMENT_LABELS[value[name]])}"
        for name in CRITERIA
    )


def _keep(ballot: dict[str, Any], dot_budget: int) -> dict[str, Any]:
    return ballot


def _plain_text(value: Any, gettext: Any) -> str:
    return str(value)


@dataclass(frozen=True)
class MethodRules:
    """Everything that differs between vote methods; the functions below hold the rest.

    - ``answer(value)``: the normalised answer for one proposal, or raise :class:`BadAnswer`.
    - ``ballot(answers, dot_budget)``: a last check over the whole ballot (the dot budget).
    - ``count(item, value)``: record one answer in ``item``; return the points it adds.
    - ``fill_zero(item)``: give every possible answer a count, so tables show zeros.
    - ``score(item, points)``: the number the ranking uses, from the summed points.
    - ``may_lead(item)`` / ``rank_key(item)``: who can lead, and the order among them.
    - ``describe(item, label, gettext)``: one proposal's result in a sentence.
    - ``answer_labels(item, gettext)``: (answer in words, count) pairs for the exports.
    - ``answer_text(value, gettext)``: one voter's answer in words (named votes).
    """

    label: str  # a msgid
    answer: Callable[[Any], Any]
    count: Callable[[ProposalTally, Any], float]
    describe: Callable[[Mapping[str, Any], str, Any], str]
    answer_labels: Callable[[Mapping[str, Any], Any], list[tuple[str, int]]]
    fill_zero: Callable[[ProposalTally], None] = lambda item: None
    score: Callable[[ProposalTally, float], float] = _mean
    may_lead: Callable[[ProposalTally], bool] = lambda item: True
    rank_key: Callable[[ProposalTally], tuple[float, int]] = _by_score_then_responses
    ballot: Callable[[dict[str, Any], int], dict[str, Any]] = _keep
    answer_text: Callable[[Any, Any], str] = _plain_text
    uses_budget: bool = False  # the facilitator sets a dot budget when opening the round


METHODS: dict[VoteMethod, MethodRules] = {
    VoteMethod.YES_NO: MethodRules(
        label=N_("Ja / nej / avstår per förslag"),
        answer=_yes_no_answer,
        count=_yes_no_count,
        fill_zero=_zero_counts(YES_NO_OPTIONS),
        score=lambda item, points: float(item.counts[YesNo.YES] - item.counts[YesNo.NO]),
        may_lead=lambda item: item.counts[YesNo.YES] > 0,
        rank_key=lambda item: (item.score, item.counts[YesNo.YES]),
        describe=_yes_no_describe,
        answer_labels=_yes_no_labels,
        answer_text=_yes_no_text,
    ),
    VoteMethod.SCORE: MethodRules(
        label=N_("Betyg 1–5 per förslag"),
        answer=_scale_answer,
        count=_score_count,
        fill_zero=_zero_counts([str(n) for n in SCALE]),
        describe=_score_describe,
        answer_labels=_score_labels,
    ),
    VoteMethod.DOTS: MethodRules(
        label=N_("Prickröstning: fördela poäng"),
        answer=_dots_answer,
        ballot=_dots_ballot,
        count=_score_count,
        score=_dots_score,
        describe=_dots_describe,
        answer_labels=_dots_labels,
        uses_budget=True,
    ),
    VoteMethod.GRADIENTS: MethodRules(
        label=N_("Grader av medhåll (5 steg)"),
        answer=_scale_answer,
        count=_gradient_count,
        fill_zero=_zero_counts([str(n) for n in SCALE]),
        may_lead=lambda item: item.counts.get(BLOCK, 0) == 0,
        describe=_gradient_describe,
        answer_labels=_gradient_labels,
        answer_text=_gradient_text,
    ),
    VoteMethod.CRITERIA: MethodRules(
        label=N_("Kriteriebedömning per förslag"),
        answer=_criteria_answer,
        count=_criteria_count,
        fill_zero=_criteria_zero,
        describe=_criteria_describe,
        answer_labels=_criteria_labels,
        answer_text=_criteria_text,
    ),
}


# The methods as the console's menu and the documents name them, in the table's order.
VOTE_METHOD_LABELS: dict[VoteMethod, str] = {method: r.label for method, r in METHODS.items()}


def rules(method: VoteMethod | str) -> MethodRules:
    """Return the rules of a vote method (a VoteMethod or its stored value)."""
    return METHODS[VoteMethod(method)]


# --- Ballots and tallies --------------------------------------------------------------------


def validate_ballot(
    method: VoteMethod, proposal_ids: Sequence[int], raw: Any, dot_budget: int = 3
) -> dict[str, Any]:
    """Normalise a ballot to ``{"<proposal id>": value}``; raise DomainError if it breaks a rule.

    A ballot may leave proposals out (no opinion), but must say something about at least one.
    """
    if not isinstance(raw, Mapping):
        raise DomainError(N_("Rösten kunde inte läsas."), code="bad_ballot")
    method_rules = rules(method)
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
        try:
            ballot[key] = method_rules.answer(value)
        except BadAnswer:
            raise DomainError(
                N_("Rösten innehåller ett ogiltigt svar."), code="bad_ballot"
            ) from None
    ballot = method_rules.ballot(ballot, dot_budget)
    if not ballot:
        raise DomainError(N_("Rösten är tom. Svara på minst ett förslag."), code="empty_ballot")
    return ballot


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

    The score of each proposal comes from its method's rules (see :data:`METHODS`).
    """
    method_rules = rules(method)
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
            sums[pid] += method_rules.count(item, value)
    for pid, item in items.items():
        method_rules.fill_zero(item)
        item.score = method_rules.score(item, sums[pid])
    return Tally(
        method=method,
        ballots=count,
        proposals=[items[pid] for pid in proposal_ids],
        leaders=leaders(method, list(items.values())),
        dot_budget=dot_budget,
    )


def leaders(method: VoteMethod, items: list[ProposalTally]) -> list[int]:
    """Return the proposal ids that share the best result; empty when nobody answered."""
    method_rules = rules(method)
    candidates = [item for item in items if item.responses and method_rules.may_lead(item)]
    if not candidates:
        return []
    best = max(method_rules.rank_key(item) for item in candidates)
    return [item.proposal_id for item in candidates if method_rules.rank_key(item) == best]


def progress(eligible: int, ballots: int) -> tuple[int, int]:
    """Return (answered, of) for "X av Y har svarat".

    X counts the round's ballots, Y everyone entitled to vote now. Nothing records who answered
    (that would link people to ballots), so a ballot cast by someone who then left still counts
    in X, and Y is never less than X.
    """
    return ballots, max(eligible, ballots)


# --- A result in words ----------------------------------------------------------------------


def describe_tally(
    tally_data: Mapping[str, Any], labels: Mapping[int, str], gettext: Any = N_
) -> list[str]:
    """Render a tally as plain sentences, one per proposal, for the export and screen readers."""
    method_rules = rules(tally_data["method"])
    lines = [fill(gettext("%(n)s röster lämnades."), n=tally_data["ballots"])]
    for item in tally_data["proposals"]:
        label = labels.get(item["proposal_id"], str(item["proposal_id"]))
        lines.append(method_rules.describe(item, label, gettext))
    names = [labels.get(pid, str(pid)) for pid in tally_data.get("leaders", [])]
    if len(names) > 1:
        lines.append(fill(gettext("Delad förstaplats: %(labels)s."), labels=", ".join(names)))
    elif names:
        lines.append(fill(gettext("Starkast stöd: %(label)s."), label=names[0]))
    return lines


def answer_labels(
    method: VoteMethod, item: Mapping[str, Any], gettext: Any = N_
) -> list[tuple[str, int]]:
    """Return one proposal's raw counts as (answer in words, count), for the spreadsheets."""
    return rules(method).answer_labels(item, gettext)


def answer_text(method: VoteMethod, value: Any, gettext: Any = N_) -> str:
    """Return one voter's normalised answer in words, for the named votes of an open round."""
    return rules(method).answer_text(value, gettext)
