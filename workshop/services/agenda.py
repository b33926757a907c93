"""The dialogue's agenda: which goal is current, its phase, opening a vote, the timer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import domain
from ..domain import N_, DomainError, Phase, VoteMethod
from ..domain.enums import ProposalStatus, RoundStatus
from ..domain.voting import DEFAULT_DOT_BUDGET
from ..models import (
    Goal,
    VoteRound,
    Workshop,
    db,
    utcnow,
)
from ._unit import bump, lock_workshop, unit_of_work
from .audit import audit
from .common import MAX_TIMER, get_workshop, goal_in, require_running
from .screen import reset_screen
from .time_plan import follow_clock


@unit_of_work
def select_goal(workshop_id: int, goal_id: int) -> Workshop:
    """Make a goal the current one on every screen."""
    workshop = get_workshop(workshop_id)
    goal = goal_in(workshop_id, goal_id)
    workshop.current_goal_id = goal.id
    follow_clock(workshop)
    reset_screen(workshop)
    bump(workshop)
    audit(workshop_id, "goal_select", {"goal": goal.number})
    return workshop


# Read, decide and write as one writer of this process (exclusive): the row lock taken inside
# is held until the commit, which must not wait for WRITE_LOCK while a vote holding WRITE_LOCK
# waits for that row (a deadlock PostgreSQL cannot see). Across processes the row lock decides.
# A second attempt follows when the same change committed at the same moment (SQLite: the
# round's unique number): it decides again on what is stored now, which refuses this one as
# the usual error.
@unit_of_work(exclusive=True, attempts=2)
def set_phase(
    workshop_id: int,
    goal_id: int,
    phase: str,
    method: str | None = None,
    dot_budget: Any = None,
) -> Goal:
    """Move a goal to another phase; opening the vote takes the method for this goal."""
    lock_workshop(workshop_id)
    goal = goal_in(workshop_id, goal_id)
    workshop = goal.workshop
    require_running(workshop.status)
    try:
        target = Phase(phase)
    except ValueError:
        raise DomainError(N_("Okänd fas."), code="bad_phase") from None
    current = Phase(goal.phase)
    if target is Phase.DECIDED:
        raise DomainError(
            N_("Spara ett beslut för målet för att gå till fasen Beslut."), code="bad_phase"
        )
    domain.check_transition(current, target)
    vote_round = goal.current_round
    if target is Phase.VOTING:
        if current is Phase.RESULTS and vote_round is not None:
            vote_round.status, vote_round.revealed = RoundStatus.OPEN, False  # reopen the same vote
        else:
            _open_round(goal, method, dot_budget)
    elif target is Phase.RESULTS:
        if vote_round is None:
            raise DomainError(N_("Det finns ingen omröstning att visa."), code="no_round")
        vote_round.status, vote_round.revealed = RoundStatus.CLOSED, True
    elif vote_round is not None and vote_round.status == RoundStatus.OPEN:
        vote_round.status = RoundStatus.CLOSED
    if current is Phase.DECIDED and goal.decision is not None:
        db.session.delete(goal.decision)  # stepping back reopens the goal
        goal.decision = None
    goal.phase = target.value
    workshop.current_goal_id = goal.id
    follow_clock(workshop)
    reset_screen(workshop)
    bump(workshop)
    opened = goal.current_round if target is Phase.VOTING else None
    audit(
        workshop_id,
        "reveal" if target is Phase.RESULTS else "phase_set",
        {
            "goal": goal.number,
            "from": current.value,
            "to": target.value,
            **({"method": opened.method} if opened is not None else {}),
        },
    )
    return goal


def _open_round(goal: Goal, method: str | None, dot_budget: Any) -> VoteRound:
    try:
        vote_method = VoteMethod(method or "")
    except ValueError:
        raise DomainError(
            N_("Välj röstningsmetod innan röstningen öppnas."), code="bad_method"
        ) from None
    budget = (
        domain.check_dot_budget(dot_budget if dot_budget not in (None, "") else DEFAULT_DOT_BUDGET)
        if domain.rules(vote_method).uses_budget
        else DEFAULT_DOT_BUDGET
    )
    active = [p.id for p in goal.proposals if p.status == ProposalStatus.ACTIVE]
    if not active:
        raise DomainError(N_("Det finns inga förslag att rösta om."), code="no_proposals")
    for old in goal.rounds:
        old.status = RoundStatus.REPLACED
    vote_round = VoteRound(
        number=len(goal.rounds) + 1,
        method=vote_method.value,
        dot_budget=budget,
        proposal_ids=active,
    )
    goal.rounds.append(vote_round)
    for proposal in goal.proposals:
        if proposal.id in active:
            proposal.published = True  # what people vote on is shown to everyone
    return vote_round


@unit_of_work
def timer(workshop_id: int, action: str, seconds: Any = None) -> Workshop:
    """Start (with seconds), add a minute to, or stop the phase timer."""
    workshop = get_workshop(workshop_id)
    now = utcnow()
    if action == "start":
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int)
            or not (10 <= seconds <= MAX_TIMER)
        ):
            raise DomainError(
                N_("Ange en tid mellan 10 sekunder och 60 minuter."), code="bad_timer"
            )
        workshop.timer_ends_at, workshop.timer_remaining = now + dt.timedelta(seconds=seconds), None
    elif action == "add":
        if workshop.timer_ends_at is not None:
            ends = max(workshop.timer_ends_at, now) + dt.timedelta(seconds=60)
            workshop.timer_ends_at = min(ends, now + dt.timedelta(seconds=MAX_TIMER))
        else:
            workshop.timer_ends_at = now + dt.timedelta(seconds=60)
    elif action == "stop":
        workshop.timer_ends_at, workshop.timer_remaining = None, None
    else:
        raise DomainError(N_("Okänd timeråtgärd."), code="bad_timer")
    bump(workshop)
    audit(workshop_id, "timer", {"timer": f"{action} {seconds}" if action == "start" else action})
    return workshop
