"""Recording the room's proposal for a goal: an ambition level or an inriktningsmål."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import domain
from ..domain import N_, DomainError, Phase
from ..models import (
    Decision,
    Goal,
    VoteRound,
    utcnow,
)
from ..queries.voting import round_tally
from ._unit import bump, unit_of_work
from .audit import audit
from .common import MAX_DISSENT, MAX_NAME, goal_in, proposal_in, require_running, text_input


@unit_of_work
def record_decision(workshop_id: int, goal_id: Any, raw: Mapping[str, Any]) -> Decision:
    """Record what the room proposes for a goal: an ambition level or an inriktningsmål.

    ``raw`` holds ``kind``, an optional ``proposal_id`` to carry forward, the final wording
    (same fields as a proposal), the criteria assessment and a list of ``dissent`` entries
    ``{"text", "name"}``; a name is stored only when the person agreed to it.
    """
    goal = goal_in(workshop_id, domain.parse_id(goal_id))
    require_running(goal.workshop.status)
    if goal.phase in (Phase.NOT_STARTED, Phase.VOTING):
        raise DomainError(N_("Stäng röstningen innan beslutet sparas."), code="wrong_phase")
    proposal = None
    if raw.get("proposal_id") not in (None, ""):
        proposal = proposal_in(workshop_id, raw["proposal_id"])
        if proposal.goal_id != goal.id:
            raise DomainError(N_("Förslaget hör till ett annat mål."), code="bad_payload")
    data = domain.validate_proposal(raw).to_dict()
    criteria = data.pop("criteria")
    kind = data.pop("kind")
    dissent = _dissent(raw.get("dissent"))
    last_round = next((r for r in reversed(goal.rounds) if r.revealed), None)
    tally = round_tally(last_round).to_dict() if last_round else None
    labels = _labels(goal, last_round) if last_round else None
    decision = goal.decision or Decision(goal_id=goal.id)
    decision.kind = kind
    decision.proposal_id = proposal.id if proposal else None
    decision.fields, decision.criteria = data, criteria
    decision.tally, decision.tally_labels = tally, labels
    decision.dissent = dissent
    decision.decided_at = utcnow()
    goal.decision = decision
    goal.phase = Phase.DECIDED.value
    bump(goal.workshop)
    audit(
        workshop_id,
        "decision",
        {"goal": goal.number, "proposal": proposal.label if proposal else "", "kind": kind},
    )
    return decision


def _dissent(raw: Any) -> list[dict[str, str]]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or len(raw) > 30:
        raise DomainError(N_("Reservationerna kunde inte läsas."), code="bad_payload")
    entries = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise DomainError(N_("Reservationerna kunde inte läsas."), code="bad_payload")
        text = text_input(item.get("text"), MAX_DISSENT, "")
        name = text_input(item.get("name"), MAX_NAME, "") if item.get("consent") else ""
        if text:
            entries.append({"text": text, "name": name})
    return entries


def _labels(goal: Goal, vote_round: VoteRound) -> dict[str, str]:
    by_id = {p.id: p.label for p in goal.proposals}
    return {str(pid): by_id.get(pid, str(pid)) for pid in vote_round.proposal_ids}
