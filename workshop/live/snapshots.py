"""Read-only snapshots of a workshop for each audience. See docs/protocol.md for the shapes.

The public snapshot goes to phones and the presenter view alike and never carries a tally
before the facilitator reveals it; the facilitator's snapshot adds what only they may see.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import current_app
from flask_babel import get_locale, gettext

from .. import domain, queries, services
from ..domain.enums import ProposalStatus, Role, RoundStatus
from ..models import Goal, Participant, Proposal, VoteRound, Workshop, utcnow

T = TypeVar("T")
PROPOSALS_PHASE = domain.Phase.PROPOSALS.value

# Within one push the same tally, progress and people list serve every audience and language.
_snapshot: contextvars.ContextVar[dict[tuple[Any, ...], Any] | None] = contextvars.ContextVar(
    "snapshot", default=None
)


@contextlib.contextmanager
def one_push() -> Iterator[None]:
    """Compute each count, tally and list once for all snapshots built inside the block.

    A push builds a public and a facilitator snapshot per language; with thousands of phones
    the tally and the people list are most of that work, and they do not depend on the
    language. Outside the block nothing is remembered.
    """
    token = _snapshot.set({})
    try:
        yield
    finally:
        _snapshot.reset(token)


def _once(key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    memo = _snapshot.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


class StateCache:
    """The newest snapshot per (workshop, audience, language), with its seq and its age.

    Filled by every push (``remember``, before the emit) and by ``state:get`` itself. A client
    asking in a loop then costs one build per push or per ``STATE_CACHE_SECONDS``, not one per
    request, and cannot crowd out the others' votes (issue 14: a phone's 18 state:get a second
    pushed another phone's vote acknowledgement to seconds). One per app, so two apps in one
    process (the tests) never share an entry.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[tuple[int, str, str], tuple[int, float, dict[str, Any]]] = {}

    def get(
        self, key: tuple[int, str, str], seq: int, ttl: float, *, older: bool
    ) -> dict[str, Any] | None:
        """The entry if younger than ``ttl`` and of ``seq`` (or, with ``older``, of an earlier
        one)."""
        with self.lock:
            entry = self.entries.get(key)
        if entry is None or time.monotonic() - entry[1] > ttl:
            return None
        if entry[0] > seq or (entry[0] < seq and not older):
            return None
        return entry[2]

    def put(self, key: tuple[int, str, str], seq: int, state: dict[str, Any]) -> None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or entry[0] <= seq:  # never replace a newer snapshot
                self.entries[key] = (seq, time.monotonic(), state)


def _cache() -> StateCache | None:
    if float(current_app.config.get("STATE_CACHE_SECONDS", 1) or 0) <= 0:
        return None
    return current_app.extensions.setdefault("malverkstad.state_cache", StateCache())


def _cache_key(workshop: Workshop, audience: str) -> tuple[int, str, str]:
    return (workshop.id, audience, str(get_locale() or ""))


def remember(workshop: Workshop, audience: str, state: dict[str, Any]) -> None:
    """Keep a snapshot a push is about to send ("public" or "facilitator", this language)."""
    cache = _cache()
    if cache is not None:
        cache.put(_cache_key(workshop, audience), int(state["seq"]), state)


def cached_state(
    workshop: Workshop, audience: str, build: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """The snapshot ``build`` returns for an audience, from the cache when it is current.

    Current: younger than STATE_CACHE_SECONDS (what moves without a new seq, the plan's time
    left, stays that fresh) and of the workshop's seq. For phones and the presenter, with one
    process (no REDIS_URL), also the last pushed snapshot while a newer change waits for its
    coalesced push: that push is still to come and reaches this client too, and until then it
    is what every other client shows. (With several workers another worker may have pushed
    the newer state already; the console, which acts and then may ask, always gets its seq.)

    The caller gets its own copy of the top level and of ``people`` (which it fills in with
    the live counts) and a fresh ``server_now``; the rest is shared and must not be changed.
    """
    cache = _cache()
    if cache is None:
        return build()
    ttl = float(current_app.config["STATE_CACHE_SECONDS"])
    key = _cache_key(workshop, audience)
    older = audience == "public" and not current_app.config.get("REDIS_URL")
    state = cache.get(key, workshop.seq, ttl, older=older)
    if state is None:
        seq = workshop.seq  # read with the rows the build uses; a change meanwhile only ages it
        state = build()
        cache.put(key, seq, state)
    copy = dict(state)
    copy.pop("prev_seq", None)  # a push's; an answer to state:get has none
    copy["people"] = dict(state["people"])
    copy["server_now"] = _ms(utcnow())
    return copy


def _ms(value: dt.datetime | None) -> int | None:
    return int(value.replace(tzinfo=dt.UTC).timestamp() * 1000) if value else None


def proposal_data(proposal: Proposal, *, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": proposal.id,
        "label": proposal.label,
        "kind": proposal.kind,
        "fields": proposal.fields,
        "criteria": proposal.criteria,
        "edited": proposal.original is not None,
        "merged_from": [p.label for p in proposal.merged_from],
        "author": queries.author_text(proposal, gettext),
    }
    if full:
        data.update(
            status=proposal.status,
            hidden_reason=proposal.hidden_reason,
            merged_into=proposal.merged_into.label if proposal.merged_into else "",
            published=proposal.published,
            original=proposal.original,
        )
    return data


def _goal_data(goal: Goal, total: int) -> dict[str, Any]:
    return {
        "id": goal.id,
        "position": goal.position + 1,
        "of": total,
        "area": goal.area,
        "number": goal.number,
        "text": goal.text,
        "strategies": goal.strategies,
        "measurability": goal.measurability,
        "phase": goal.phase,
        "phase_label": gettext(domain.PHASE_LABELS[domain.Phase(goal.phase)]),
    }


def _vote_data(vote_round: VoteRound, goal: Goal) -> dict[str, Any]:
    by_id = {p.id: p for p in goal.proposals}
    answered, total = _once(("progress", vote_round.id), lambda: queries.round_progress(vote_round))
    method = domain.VoteMethod(vote_round.method)
    return {
        "round_id": vote_round.id,
        "number": vote_round.number,
        "method": method.value,
        "method_label": gettext(domain.VOTE_METHOD_LABELS[method]),
        "dot_budget": vote_round.dot_budget,
        "open": vote_round.status == RoundStatus.OPEN,
        # A proposal hidden after the vote (moderation reopens in Resultat) leaves what the room
        # is shown; its counts stay in the result, under its label only.
        "proposals": [
            proposal_data(by_id[pid])
            for pid in vote_round.proposal_ids
            if pid in by_id and by_id[pid].status != ProposalStatus.HIDDEN
        ],
        "answered": answered,
        "total": total,
    }


def results_data(vote_round: VoteRound, goal: Goal) -> dict[str, Any]:
    tally = _once(("tally", vote_round.id), lambda: queries.round_tally(vote_round))
    labels = {p.id: p.label for p in goal.proposals}
    data = tally.to_dict()
    data["text"] = domain.describe_tally(data, labels, gettext)
    data["labels"] = {str(k): v for k, v in labels.items()}
    return data


def _decision_data(goal: Goal) -> dict[str, Any] | None:
    decision = goal.decision
    if decision is None:
        return None
    return {
        "kind": decision.kind,
        "proposal": decision.proposal.label if decision.proposal else "",
        "fields": decision.fields,
        "criteria": decision.criteria,
        "dissent": decision.dissent,
    }


def public_state(workshop: Workshop) -> dict[str, Any]:
    """Return what phones and the presenter view may see now."""
    goals = workshop.goals
    goal = next((g for g in goals if g.id == workshop.current_goal_id), None)
    state: dict[str, Any] = {
        "seq": workshop.seq,
        "server_now": _ms(utcnow()),
        "workshop": {
            "id": workshop.id,
            "title": workshop.title,
            "dnr": workshop.dnr,
            "status": workshop.status,
            "anonymous": workshop.anonymous,
            "join_code": workshop.join_code,
            "goal_count": len(goals),
        },
        "timer": {"ends_at": _ms(workshop.timer_ends_at)},
        "plan": public_plan(workshop),
        # The presenter clamps the page to what fits; focus is a proposal id or None.
        "screen": {
            "page": workshop.screen_page,
            "focus": workshop.screen_focus_id,
            "auto": workshop.screen_auto,
        },
        "people": {
            "count": _once(("eligible", workshop.id), lambda: len(queries.eligible_ids(workshop)))
        },
        "goal": None,
        "proposals": [],
        "vote": None,
        "results": None,
        "decision": None,
    }
    if goal is None:
        return state
    state["goal"] = _goal_data(goal, len(goals))
    phase = domain.Phase(goal.phase)
    state["proposals"] = [
        proposal_data(p)
        for p in goal.proposals
        if p.published and p.status == ProposalStatus.ACTIVE
    ]
    vote_round = goal.current_round
    if vote_round is not None and phase in (domain.Phase.VOTING, domain.Phase.RESULTS):
        state["vote"] = _vote_data(vote_round, goal)
        if vote_round.revealed:
            state["results"] = results_data(vote_round, goal)
    if phase is domain.Phase.DECIDED:
        state["decision"] = _decision_data(goal)
        revealed = next((r for r in reversed(goal.rounds) if r.revealed), None)
        if revealed is not None:
            state["results"] = results_data(revealed, goal)
    return state


# What changes while a vote runs without changing anything else: the compact ``count`` push
# carries these, and the shape (a hash of the rest) tells a client its snapshot is still current.
COUNT_KEYS = ("seq", "prev_seq", "server_now", "plan", "people")


def shape(public: dict[str, Any]) -> str:
    """A short hash of a public snapshot without what a ``count`` push carries."""
    rest = {k: v for k, v in public.items() if k not in COUNT_KEYS and k != "shape"}
    if rest.get("vote"):
        rest["vote"] = {k: v for k, v in rest["vote"].items() if k not in ("answered", "total")}
    encoded = json.dumps(rest, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha1(encoded.encode(), usedforsecurity=False).hexdigest()[:16]


def count_of(public: dict[str, Any]) -> dict[str, Any]:
    """The compact push for phones and the presenter when only counts changed."""
    count = {k: public.get(k) for k in COUNT_KEYS}
    count["shape"] = public["shape"]
    vote = public.get("vote")
    count["vote"] = {"answered": vote["answered"], "total": vote["total"]} if vote else None
    return count


def public_plan(workshop: Workshop) -> dict[str, Any] | None:
    """The current goal's time left by the plan (negative: over), or None without a plan."""
    plan = _once(("plan", workshop.id), lambda: queries.plan_of(workshop))
    current = plan.goal(workshop.current_goal_id) if plan is not None else None
    if current is None:
        return None
    return {"goal_left_s": current.planned_s - current.used_s, "ticking": current.ticking}


def facilitator_state(workshop: Workshop, public: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the public snapshot plus the console's extras: all proposals, live tally, people.

    ``public`` is the public snapshot when the caller has just built it (it is not changed).
    """
    state = dict(public) if public is not None else public_state(workshop)
    state["people"] = dict(state["people"])
    goal = next((g for g in workshop.goals if g.id == workshop.current_goal_id), None)
    people = _once(("people", workshop.id), lambda: queries.participant_rows(workshop.id))
    state["agenda"] = [
        {
            "id": g.id,
            "number": g.number,
            "text": g.text,
            "area": g.area,
            "phase": g.phase,
            "phase_label": gettext(domain.PHASE_LABELS[domain.Phase(g.phase)]),
            "decided": g.decision is not None,
        }
        for g in workshop.goals
    ]
    state["all_proposals"] = [proposal_data(p, full=True) for p in goal.proposals] if goal else []
    state["participants"] = _once(
        ("people_data", workshop.id), lambda: [_person(p, workshop.anonymous) for p in people]
    )
    state["people"]["observers"] = sum(1 for p in people if p.role == Role.OBSERVER and not p.left)
    state["people"]["typing"] = 0  # filled in by live.rooms, which knows the connections
    state["parking"] = [
        {"id": item.id, "text": item.text, "goal_id": item.goal_id} for item in workshop.parking
    ]
    plan = _once(("plan", workshop.id), lambda: queries.plan_of(workshop))
    state["plan"] = plan.to_dict() if plan is not None else None
    state["live_tally"] = None
    state["named_votes"] = []
    if goal is not None and goal.current_round is not None:
        state["live_tally"] = results_data(goal.current_round, goal)
        if not workshop.anonymous:
            state["named_votes"] = named_votes(goal.current_round, goal)
    return state


def named_votes(vote_round: VoteRound, goal: Goal) -> list[dict[str, str]]:
    """Return who answered what, for the facilitator in named mode (everyone was told)."""
    method = domain.VoteMethod(vote_round.method)
    labels = {str(p.id): p.label for p in goal.proposals}
    rows = []
    for name, answers in queries.named_ballots(vote_round):
        text = "; ".join(
            f"{labels.get(pid, pid)}: {domain.answer_text(method, value, gettext)}"
            for pid, value in sorted(answers.items(), key=lambda item: int(item[0]))
        )
        rows.append({"name": name, "text": text})
    return rows


def _person(participant: queries.PersonRow, anonymous: bool) -> dict[str, Any]:
    return {
        "id": participant.id,
        "name": "" if anonymous else (participant.display_name or ""),
        "role": participant.role,
        "left": participant.left,
    }


def own_state(workshop: Workshop, participant: Participant, secret: Any) -> dict[str, Any]:
    """Return what belongs to one phone: its role, its proposals and its ballot."""
    goal = next((g for g in workshop.goals if g.id == workshop.current_goal_id), None)
    mine: list[Proposal] = []
    if goal is not None:
        if workshop.anonymous:
            if services.is_secret(secret):
                key = services.hash_parts("proposal", workshop.id, secret)
                mine = queries.own_proposals(goal.id, author_key=key)
        else:
            mine = queries.own_proposals(goal.id, participant_id=participant.id)
    ballot, ballot_rev = None, 0
    if goal is not None and goal.current_round is not None:
        ballot, ballot_rev = queries.own_ballot(goal.current_round, secret)
    return {
        "participant": {
            "name": participant.display_name or "",
            "role": participant.role,
            "can_vote": participant.can_vote,
        },
        "my_proposals": [
            {**proposal_data(p), "status": p.status, "client_id": p.client_id} for p in mine
        ],
        "my_ballot": ballot,
        "my_ballot_rev": ballot_rev,
    }
