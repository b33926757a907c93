"""Reading votes: a phone's own ballot, named ballots, a round's tally and progress."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .. import domain
from ..domain import VoteMethod
from ..domain.privacy import hash_parts, is_secret
from ..models import (
    Ballot,
    Participant,
    VoteRound,
    db,
)
from .people import eligible_ids


def own_ballot(vote_round: VoteRound, secret: Any) -> tuple[dict[str, Any] | None, int]:
    """Return this phone's ballot in the round and its revision: ``(None, 0)`` when it has none."""
    if not is_secret(secret):
        return None, 0
    ballot = db.session.get(Ballot, hash_parts("ballot", vote_round.id, secret))
    if ballot is None or ballot.round_id != vote_round.id:
        return None, 0
    return ballot.answers, ballot.rev


def named_ballots(vote_round: VoteRound) -> list[tuple[str, dict[str, Any]]]:
    """Return (name, answers) for a round's ballots cast in named mode, sorted by name."""
    rows = db.session.execute(
        sa.select(Participant.display_name, Ballot.answers)
        .join(Participant, Participant.id == Ballot.participant_id)
        .where(Ballot.round_id == vote_round.id)
    )
    return sorted(((name or "", answers) for name, answers in rows), key=lambda r: r[0])


def round_tally(vote_round: VoteRound) -> domain.Tally:
    ballots = db.session.scalars(sa.select(Ballot.answers).filter_by(round_id=vote_round.id))
    return domain.tally(
        VoteMethod(vote_round.method), vote_round.proposal_ids, ballots, vote_round.dot_budget
    )


def round_progress(vote_round: VoteRound) -> tuple[int, int]:
    """Return "X av Y har svarat": X counts the round's ballots (no row says who answered)."""
    ballots = db.session.scalar(
        sa.select(sa.func.count()).select_from(Ballot).filter_by(round_id=vote_round.id)
    )
    return domain.progress(len(eligible_ids(vote_round.goal.workshop)), ballots or 0)
