"""Casting a ballot: the hot path of a large room, with idempotent resends."""

from __future__ import annotations

import functools
import json
import types
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .. import domain
from ..domain import N_, DomainError, Forbidden, NotFound, VoteMethod
from ..domain.enums import Role, RoundStatus
from ..domain.privacy import hash_parts, is_secret
from ..models import (
    Ballot,
    Goal,
    Participant,
    Response,
    VoteRound,
    Workshop,
    db,
)
from ._unit import Retry, unit_of_work, writing
from .common import check_secret, require_running

MAX_REV = domain.MAX_ID  # the revision column holds what an id column does


@dataclass(frozen=True)
class VoteOutcome:
    """What became of one delivery of a ballot."""

    stored: bool  # this delivery changed the database
    changed: bool  # it replaced an earlier ballot of this phone (a changed vote)
    rev: int  # the ballot's revision now stored
    duplicate: bool = False  # the same revision (same vote_id) had arrived before
    stale: bool = False  # a newer revision is stored; this older one was ignored
    seq: int = 0  # the workshop's seq once the ballot is stored: a snapshot this new shows it

    def ack(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "duplicate": self.duplicate,
            "stale": self.stale,
            "rev": self.rev,
            "seq": self.seq,
        }


BAD_VOTE_ID = N_("Rösten saknar id. Ladda om sidan och försök igen.")


def _require_vote_open(status: str, round_status: str, current_goal_id: Any, goal_id: int) -> None:
    """Refuse a ballot unless the workshop runs and its current goal's round is open."""
    require_running(status)
    if round_status != RoundStatus.OPEN or current_goal_id != goal_id:
        raise DomainError(N_("Röstningen är stängd."), code="closed")


def _vote_revision(vote_id: Any, rev: Any) -> tuple[str, int | None]:
    if vote_id is None:
        vote_id = ""
    elif not isinstance(vote_id, str) or not 8 <= len(vote_id) <= 64:
        raise DomainError(BAD_VOTE_ID, code="bad_payload")
    if rev is not None and (
        isinstance(rev, bool) or not isinstance(rev, int) or not 1 <= rev <= MAX_REV
    ):
        raise DomainError(BAD_VOTE_ID, code="bad_payload")
    return vote_id, rev


@functools.cache
def _vote_statements() -> dict[str, Any]:
    """Build the vote path's statements once: each vote then only binds its values.

    A statement object built anew for every vote costs more to construct and to look up in
    SQLAlchemy's compiled cache than the database work itself.
    """
    p, w, r, g = Participant.__table__, Workshop.__table__, VoteRound.__table__, Goal.__table__
    b, rs = Ballot.__table__, Response.__table__
    round_id = sa.bindparam("round_id", type_=sa.Integer)
    context = (
        sa.select(
            p.c.workshop_id,
            p.c.role,
            p.c.left,
            p.c.removed,
            w.c.status,
            w.c.current_goal_id,
            w.c.anonymous,
            w.c.seq,
            r.c.id.label("round_id"),
            r.c.goal_id,
            r.c.status.label("round_status"),
            r.c.method,
            r.c.proposal_ids,
            r.c.dot_budget,
            g.c.workshop_id.label("round_workshop_id"),
            b.c.rev.label("ballot_rev"),
            b.c.vote_id.label("ballot_vote_id"),
            rs.c.participant_id.label("answered"),
        )
        .select_from(p)
        .join(w, w.c.id == p.c.workshop_id)
        .outerjoin(r, r.c.id == round_id)
        .outerjoin(g, g.c.id == r.c.goal_id)
        .outerjoin(b, sa.and_(b.c.key == sa.bindparam("key"), b.c.round_id == r.c.id))
        .outerjoin(rs, sa.and_(rs.c.round_id == r.c.id, rs.c.participant_id == p.c.id))
        .where(p.c.id == sa.bindparam("participant_id"))
    )
    return {
        # The participant, its workshop, the round (if it exists), the round's goal, this
        # phone's ballot (if any) and whether this participant has answered, in one read.
        "context": context,
        "change": b.update()
        .where(b.c.key == sa.bindparam("b_key"), b.c.rev < sa.bindparam("new_rev"))
        .values(
            answers=sa.bindparam("new_answers", type_=b.c.answers.type),
            rev=sa.bindparam("new_rev"),
            vote_id=sa.bindparam("new_vote_id"),
        ),
        "ballot": b.insert().values(
            key=sa.bindparam("b_key"),
            round_id=sa.bindparam("b_round_id"),
            answers=sa.bindparam("new_answers", type_=b.c.answers.type),
            rev=sa.bindparam("new_rev"),
            vote_id=sa.bindparam("new_vote_id"),
            participant_id=sa.bindparam("b_participant_id"),
        ),
        "response": rs.insert().values(
            round_id=sa.bindparam("b_round_id"), participant_id=sa.bindparam("b_participant_id")
        ),
        # In SQL: concurrent votes never share a seq. It is the first write, so from here to
        # the commit this transaction holds the workshop (a row lock on PostgreSQL, the write
        # lock on SQLite): a phase change cannot commit in between.
        "seq": w.update()
        .where(w.c.id == sa.bindparam("workshop_id"))
        .values(seq=w.c.seq + sa.literal_column("1"))
        .returning(w.c.seq, w.c.status, w.c.current_goal_id),
        "round_status": sa.select(r.c.status).where(r.c.id == round_id),
    }


class VoteSQL:
    """Run the vote path's statements on the session's connection, in its transaction.

    On SQLite (the embedded default, where one process carries the whole room) they go
    straight to the DB-API cursor as SQL compiled once: SQLAlchemy's per-statement execution
    machinery costs more than SQLite's own work and halved the votes a process could take.
    Other databases get the same statements through SQLAlchemy Core.
    """

    def __init__(self) -> None:
        self.connection = db.session.connection()  # begins the session's transaction
        self.raw = self.connection.dialect.name == "sqlite"

    def __call__(self, name: str, params: dict[str, Any]) -> Any:
        if not self.raw:
            return self.connection.execute(_vote_statements()[name], params)
        compiled = _vote_sql_sqlite()[name]
        if "new_answers" in params:
            params = {**params, "new_answers": json.dumps(params["new_answers"])}
        cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(compiled.string, tuple(params[n] for n in compiled.positiontup or ()))
        return cursor

    def first(self, name: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """Run a statement and return its first row, finishing the statement."""
        rows = self(name, params).fetchall()  # a statement left open would pin a snapshot
        return tuple(rows[0]) if rows else None

    def context(self, params: dict[str, Any]) -> dict[str, Any] | None:
        result = self("context", params)
        if not self.raw:
            row = result.first()
            return None if row is None else row._asdict()
        rows = result.fetchall()
        if not rows:
            return None
        row = dict(zip([d[0] for d in result.description], rows[0], strict=True))
        if row["proposal_ids"] is not None:
            row["proposal_ids"] = json.loads(row["proposal_ids"])
        return row


@functools.cache
def _vote_sql_sqlite() -> dict[str, Any]:
    from sqlalchemy.dialects import sqlite

    return {name: s.compile(dialect=sqlite.dialect()) for name, s in _vote_statements().items()}


CONFLICT = N_("Rösten kunde inte sparas. Försök igen.")


# A second attempt decides again against what is stored now, when the same ballot (or this
# person's answer) was stored at the same moment, e.g. a resend racing its original, or a newer
# revision overtook this one.
@unit_of_work(attempts=2)
def cast_vote(
    participant: Participant | int,
    round_id: Any,
    secret: Any,
    answers: Any,
    *,
    vote_id: Any = None,
    rev: Any = None,
) -> VoteOutcome:
    """Store a participant's ballot, or replace the one they cast before in this round.

    The ballot is keyed by a hash of the phone's secret; who has answered is stored apart.
    ``vote_id`` (made by the phone per revision) and ``rev`` (1, 2, … per change) make a
    resend harmless: the same revision again is a ``duplicate``, an older one than stored is
    ``stale``; neither changes anything. The database decides: the ballot's key is its primary
    key, and a change is an ``UPDATE … WHERE rev < :rev``. Without ``rev`` the ballot is taken
    as the newest. A duplicate is recognised even after the round closed.

    This is the hot path of a large room: prebuilt SQL (``VoteSQL``), no ORM objects loaded:
    one read to decide, then, holding the workshop, the seq's advance, a re-read of the round's
    status and the ballot (with the answer, for a first ballot), committed before the process's
    write lock is released (``writing``).
    """
    participant_id = participant if isinstance(participant, int) else participant.id
    round_number = domain.parse_id(round_id)
    key = hash_parts("ballot", round_number, secret) if is_secret(secret) else None
    run = VoteSQL()
    found = run.context(
        {"participant_id": participant_id, "round_id": round_number, "key": key or ""}
    )
    if found is None or found["removed"]:
        raise Forbidden(N_("Du är inte längre med i dialogen."))
    row = types.SimpleNamespace(**found)
    if row.round_id is None or row.round_workshop_id != row.workshop_id:
        raise NotFound(N_("Omröstningen finns inte."))
    if row.role != Role.PARTICIPANT:
        raise Forbidden(N_("Du deltar som observatör och kan inte rösta."))
    if row.left:
        raise Forbidden(N_("Du har lämnat dialogen. Gå med igen för att rösta."))
    vote_id, rev = _vote_revision(vote_id, rev)
    check_secret(secret)
    has_ballot = row.ballot_rev is not None
    if has_ballot and rev is not None and rev <= row.ballot_rev:
        duplicate = rev == row.ballot_rev and bool(vote_id) and vote_id == row.ballot_vote_id
        return VoteOutcome(
            stored=False,
            changed=False,
            rev=row.ballot_rev,
            duplicate=duplicate,
            stale=not duplicate,
            seq=row.seq,
        )
    _require_vote_open(row.status, row.round_status, row.current_goal_id, row.goal_id)
    ballot_answers = domain.validate_ballot(
        VoteMethod(row.method), row.proposal_ids, answers, row.dot_budget
    )
    if not has_ballot and row.answered is not None:
        raise DomainError(
            N_(
                "Du har redan röstat från en annan webbläsare eller enhet. Rösten kan bara "
                "ändras därifrån."
            ),
            code="already_voted",
        )
    new_rev = (rev if rev is not None else row.ballot_rev + 1) if has_ballot else (rev or 1)
    with writing():
        # The round may have closed since the read above: decide again, holding the workshop.
        seq, status, current_goal_id = run.first("seq", {"workshop_id": row.workshop_id})
        (round_status,) = run.first("round_status", {"round_id": row.round_id})
        _require_vote_open(status, round_status, current_goal_id, row.goal_id)
        if has_ballot:
            result = run(
                "change",
                {
                    "b_key": key,
                    "new_rev": new_rev,
                    "new_answers": ballot_answers,
                    "new_vote_id": vote_id,
                },
            )
            if result.rowcount != 1:  # a newer revision was stored meanwhile
                raise Retry(DomainError(CONFLICT, code="conflict"))
        else:
            values = {
                "b_key": key,
                "b_round_id": row.round_id,
                "new_answers": ballot_answers,
                "new_rev": new_rev,
                "new_vote_id": vote_id,
                "b_participant_id": None if row.anonymous else participant_id,
            }
            run("ballot", values)
            run("response", {"b_round_id": row.round_id, "b_participant_id": participant_id})
    return VoteOutcome(stored=True, changed=has_ballot, rev=new_rev, seq=seq)
