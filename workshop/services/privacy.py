"""Personal data: erasing participants, deleting a workshop, the retention purge."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ..db import scrub_storage
from ..domain import N_, DomainError
from ..domain.enums import WorkshopStatus
from ..domain.privacy import PARTICIPANT_LABEL
from ..models import (
    Ballot,
    Goal,
    LoginAttempt,
    Participant,
    Proposal,
    VoteRound,
    Workshop,
    db,
    utcnow,
)
from ._unit import after_commit, bump, unit_of_work
from .audit import SYSTEM_ACTOR, Actor, acting_as, audit
from .common import get_workshop


@unit_of_work
def erase_personal_data(workshop_id: int, *, action: str = "erase") -> int:
    """Erase the participants of a workshop, keeping its anonymous result; return how many.

    Deletes every participant (their display names, the tokens their phones carry and the
    hashes of their ballot secrets); ballots and tallies, proposals, decisions and parked
    points stay, so the summary and the exports still work. Proposal authors named in named mode
    become "Deltagare". Refused while the dialogue is running. After the commit the database
    file is scrubbed (``scrub_storage``), so the erased data is not left in its log either.
    """
    after_commit(scrub_storage)
    workshop = get_workshop(workshop_id)
    if workshop.status == WorkshopStatus.RUNNING:
        raise DomainError(
            N_("Avsluta dialogen innan deltagarnas personuppgifter raderas."), code="running"
        )
    goal_ids = sa.select(Goal.id).filter_by(workshop_id=workshop.id)
    round_ids = sa.select(VoteRound.id).where(VoteRound.goal_id.in_(goal_ids))
    people = sa.select(Participant.id).filter_by(workshop_id=workshop.id)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(people.subquery())) or 0
    db.session.execute(
        sa.update(Ballot).where(Ballot.round_id.in_(round_ids)).values(participant_id=None)
    )
    named = sa.and_(
        Proposal.goal_id.in_(goal_ids),
        sa.or_(Proposal.author_participant_id.is_not(None), Proposal.author_key.is_not(None)),
    )
    db.session.execute(
        sa.update(Proposal)
        .where(named, Proposal.author_key.is_(None))
        .values(author_participant_id=None, author_label=PARTICIPANT_LABEL)
    )
    db.session.execute(sa.delete(Participant).where(Participant.workshop_id == workshop.id))
    workshop.erased_at = utcnow()
    bump(workshop)
    audit(workshop.id, action, {"count": count})
    return count


@unit_of_work
def delete_workshop(workshop_id: int) -> None:
    """Delete a workshop and everything in it; only its audit trail stays (without the link)."""
    after_commit(scrub_storage)
    workshop = get_workshop(workshop_id)
    audit(None, "workshop_delete", {"title": workshop.title, "workshop_id": workshop.id})
    workshop.current_goal_id = None
    db.session.flush()
    for goal in workshop.goals:
        for proposal in goal.proposals:
            proposal.merged_into_id = None
    db.session.flush()
    db.session.delete(workshop)


@unit_of_work
def purge_expired(days: int, now: dt.datetime | None = None) -> list[int]:
    """Erase the participants of every workshop created more than ``days`` days ago.

    The retention rule (``RETENTION_DAYS``); runs at start-up and as ``flask purge``. Returns
    the ids of the workshops it erased. Old failed-login records go too.
    """
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=days)
    db.session.execute(sa.delete(LoginAttempt).where(LoginAttempt.at <= now - dt.timedelta(1)))
    stale = db.session.scalars(
        sa.select(Workshop).where(Workshop.created_at < cutoff, Workshop.erased_at.is_(None))
    ).all()
    erased = []
    with acting_as(Actor(SYSTEM_ACTOR)):
        for workshop in stale:
            if workshop.status == WorkshopStatus.RUNNING:
                workshop.status = (
                    WorkshopStatus.CLOSED
                )  # retention wins over a dialogue left running
            erase_personal_data(workshop.id, action="purge")
            erased.append(workshop.id)
    return erased
