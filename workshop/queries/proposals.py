"""Proposals as one phone sees them: its own, found by its author key or participant."""

from __future__ import annotations

import sqlalchemy as sa

from ..models import Proposal, db


def own_proposals(
    goal_id: int, *, author_key: str | None = None, participant_id: int | None = None
) -> list[Proposal]:
    """The proposals of one phone for a goal, in number order (anonymous: by ``author_key``).

    One indexed query instead of loading every proposal of the goal: a phone asking for its
    state often must not cost more when the goal holds many proposals.
    """
    if author_key is not None:
        mine = Proposal.author_key == author_key
    elif participant_id is not None:
        mine = Proposal.author_participant_id == participant_id
    else:
        return []
    return list(
        db.session.scalars(
            sa.select(Proposal).where(Proposal.goal_id == goal_id, mine).order_by(Proposal.number)
        )
    )
