"""Casting a ballot: the hot path of a large room, with idempotent resends and group commit.

Two things meet here. Anonymity: nothing written when a vote is cast names the person. The
ballot's key is a hash of the round and the phone's secret; the secret was bound to the
participant (as another hash) before, apart from any vote; "X av Y" counts ballots. Speed:
ballots that arrive together are written in one transaction (``GroupCommit``), so a room's
votes share the durable commits and advance the workshop's seq once per batch. A batch of many
ballots is also what a reader of the database files sees: which phones' ballots, not whose.
"""

from __future__ import annotations

import functools
import json
import threading
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from .. import domain
from ..domain import N_, DomainError, Forbidden, NotFound, VoteMethod
from ..domain.enums import Role, RoundStatus
from ..domain.privacy import hash_parts, is_secret, phone_hash
from ..models import Ballot, Goal, Participant, VoteRound, Workshop, db
from ._batch import GroupCommit
from ._unit import WRITE_LOCK, Retry, unit_of_work
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
def _vote_statements(dialect: str) -> dict[str, Any]:
    """Build the vote path's statements once: each vote then only binds its values.

    A statement object built anew for every vote costs more to construct and to look up in
    SQLAlchemy's compiled cache than the database work itself.
    """
    p, w, r, g = Participant.__table__, Workshop.__table__, VoteRound.__table__, Goal.__table__
    b = Ballot.__table__
    round_id = sa.bindparam("round_id", type_=sa.Integer)
    context = (
        sa.select(
            p.c.workshop_id,
            p.c.role,
            p.c.left,
            p.c.removed,
            p.c.secret_hash,
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
        )
        .select_from(p)
        .join(w, w.c.id == p.c.workshop_id)
        .outerjoin(r, r.c.id == round_id)
        .outerjoin(g, g.c.id == r.c.goal_id)
        .outerjoin(b, sa.and_(b.c.key == sa.bindparam("key"), b.c.round_id == r.c.id))
        .where(p.c.id == sa.bindparam("participant_id"))
    )
    # A ballot stored at the same moment (a resend racing its original) makes the insert do
    # nothing instead of failing the whole batch; the writer of the second then decides again.
    # psycopg reports no row count for it (-1), so there the insert returns the key it stored.
    insert = (sqlite if dialect == "sqlite" else postgresql).insert
    ballot = (
        insert(b)
        .values(
            key=sa.bindparam("b_key"),
            round_id=sa.bindparam("b_round_id"),
            answers=sa.bindparam("new_answers", type_=b.c.answers.type),
            rev=sa.bindparam("new_rev"),
            vote_id=sa.bindparam("new_vote_id"),
            participant_id=sa.bindparam("b_participant_id"),
        )
        .on_conflict_do_nothing()
    )
    return {
        # The participant (with its bound secret), its workshop, the round (if it exists), the
        # round's goal and this phone's ballot (if any), in one read.
        "context": context,
        "change": b.update()
        .where(b.c.key == sa.bindparam("b_key"), b.c.rev < sa.bindparam("new_rev"))
        .values(
            answers=sa.bindparam("new_answers", type_=b.c.answers.type),
            rev=sa.bindparam("new_rev"),
            vote_id=sa.bindparam("new_vote_id"),
        ),
        "ballot": ballot if dialect == "sqlite" else ballot.returning(b.c.key),
        # Once per participant, in its own transaction, never in a vote's.
        "bind": p.update()
        .where(p.c.id == sa.bindparam("participant_id"), p.c.secret_hash.is_(None))
        .values(secret_hash=sa.bindparam("secret_hash")),
        # In SQL, once per batch and workshop: concurrent batches never share a seq. It is the
        # batch's first write, so from here to the commit this transaction holds the workshop
        # (a row lock on PostgreSQL, the write lock on SQLite): a phase change cannot commit in
        # between.
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
        self.dialect = self.connection.dialect.name
        self.raw = self.dialect == "sqlite"

    def __call__(self, name: str, params: dict[str, Any]) -> Any:
        if not self.raw:
            return self.connection.execute(_vote_statements(self.dialect)[name], params)
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
    statements = _vote_statements("sqlite")
    return {name: s.compile(dialect=sqlite.dialect()) for name, s in statements.items()}


CONFLICT = N_("Rösten kunde inte sparas. Försök igen.")
UNBOUND = N_("Sidan behöver hämtas på nytt innan du kan rösta. Ladda om sidan och försök igen.")
OTHER_DEVICE = N_(
    "Du kan inte rösta härifrån: webbläsaren har inte längre röstnyckeln från när du gick med "
    "(den kan ha rensats). Röster du redan lämnat gäller."
)


@unit_of_work
def bind_secret(participant_id: int, secret: Any) -> bool:
    """Bind a phone's ballot secret to its participant, once; tell whether it is bound to it.

    Called at the phone's first state:get, so the write that names the participant happens
    apart from any vote. A later, different secret (cleared storage) is not bound: that phone
    can follow the dialogue but not vote, so one person never holds two ballot keys.
    """
    if not is_secret(secret):
        return False
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.removed:
        return False
    wanted = phone_hash(participant.workshop_id, secret)
    if participant.secret_hash is None:
        participant.secret_hash = wanted
    return participant.secret_hash == wanted


@dataclass(frozen=True)
class _Write:
    """A checked ballot waiting for its batch: what the batch writes, and what it re-checks."""

    workshop_id: int
    goal_id: int
    round_id: int
    key: str
    answers: dict[str, Any]
    rev: int
    vote_id: str
    participant_id: int | None  # named mode only
    change: bool  # replaces this phone's stored ballot (``UPDATE … WHERE rev < :rev``)


def _write_batch(writes: Sequence[_Write]) -> list[VoteOutcome | BaseException]:
    """Write a batch of ballots in one transaction: one seq per workshop, one commit.

    Each ballot is decided on its own: a round that closed meanwhile refuses that ballot, a
    ballot that lost a race (a resend, a newer revision) asks its writer to decide again; the
    others are written. A batch with nothing to write is rolled back, so its seq stays unused.
    """
    run = VoteSQL()  # a connection before the lock, as ``unit_of_work(exclusive=True)``
    results: list[VoteOutcome | BaseException] = []
    with WRITE_LOCK:
        try:
            heads = {}
            for workshop_id in dict.fromkeys(w.workshop_id for w in writes):
                heads[workshop_id] = run.first("seq", {"workshop_id": workshop_id})
            rounds: dict[int, str | None] = {}
            for write in writes:
                if write.round_id not in rounds:
                    row = run.first("round_status", {"round_id": write.round_id})
                    rounds[write.round_id] = row[0] if row else None
                seq, status, goal_id = heads[write.workshop_id]
                try:
                    _require_vote_open(status, rounds[write.round_id], goal_id, write.goal_id)
                except DomainError as refused:
                    results.append(refused)
                    continue
                results.append(_write_one(run, write, seq))
            if any(isinstance(r, VoteOutcome) for r in results):
                db.session.commit()
            else:
                db.session.rollback()
        except BaseException:
            db.session.rollback()  # before another writer of this process may write
            raise
    return results


def _write_one(run: VoteSQL, write: _Write, seq: int) -> VoteOutcome | BaseException:
    values = {
        "b_key": write.key,
        "new_rev": write.rev,
        "new_answers": write.answers,
        "new_vote_id": write.vote_id,
    }
    if write.change:
        stored = run("change", values).rowcount == 1  # 0: a newer revision was stored meanwhile
    else:
        values |= {"b_round_id": write.round_id, "b_participant_id": write.participant_id}
        result = run("ballot", values)  # nothing stored: the same ballot was stored meanwhile
        stored = result.rowcount == 1 if run.raw else result.first() is not None
    if not stored:
        return Retry(DomainError(CONFLICT, code="conflict"))
    return VoteOutcome(stored=True, changed=write.change, rev=write.rev, seq=seq)


def _batch_failed(error: BaseException) -> BaseException:
    """What the other writers of a batch that failed as a whole raise."""
    if isinstance(error, IntegrityError):  # e.g. the round was deleted: decide again
        return Retry(DomainError(CONFLICT, code="conflict"))
    return DomainError(CONFLICT, code="conflict")


_batches_lock = threading.Lock()


def ballot_batches() -> GroupCommit[_Write, VoteOutcome]:
    """This app's group commit for ballots (one per app: a batch writes to one database)."""
    batches = current_app.extensions.get("ballot_batches")
    if batches is None:
        with _batches_lock:
            batches = current_app.extensions.get("ballot_batches")
            if batches is None:
                batches = GroupCommit(
                    _write_batch,
                    max_batch=current_app.config["VOTE_BATCH_MAX"],
                    window=current_app.config["VOTE_BATCH_WINDOW"],
                    on_failure=_batch_failed,
                )
                current_app.extensions["ballot_batches"] = batches
    return batches


# A second attempt decides again against what is stored now, when the same ballot was stored
# at the same moment (e.g. a resend racing its original) or a newer revision overtook this one.
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

    The ballot is keyed by a hash of the round and the phone's secret, and the secret must be
    the one bound to the participant before (``bind_secret``, at the phone's first state:get;
    ``unbound`` otherwise): one ballot per person and round, and nothing about the person
    written now. ``vote_id`` (made by the phone per revision) and ``rev``
    (1, 2, … per change) make a resend harmless: the same revision again is a ``duplicate``, an
    older one than stored is ``stale``; neither changes anything. The database decides: the
    ballot's key is its primary key, and a change is an ``UPDATE … WHERE rev < :rev``. Without
    ``rev`` the ballot is taken as the newest. A duplicate is recognised even after the round
    closed.

    This is the hot path of a large room: prebuilt SQL (``VoteSQL``), no ORM objects loaded:
    one read to decide, without any lock; then the ballot joins the next batch
    (``ballot_batches``), which re-checks the round holding the workshop, writes and commits;
    the ballot is acknowledged after that commit.
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
    if row.secret_hash is None:
        # Bound at the phone's first state:get, never here: a bind written next to the ballot
        # would pair them for anyone replaying the database's log.
        raise DomainError(UNBOUND, code="unbound")
    if row.secret_hash != phone_hash(row.workshop_id, secret):
        raise DomainError(OTHER_DEVICE, code="other_device")
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
    new_rev = (rev if rev is not None else row.ballot_rev + 1) if has_ballot else (rev or 1)
    write = _Write(
        workshop_id=row.workshop_id,
        goal_id=row.goal_id,
        round_id=row.round_id,
        key=key or "",
        answers=ballot_answers,
        rev=new_rev,
        vote_id=vote_id,
        participant_id=None if row.anonymous else participant_id,
        change=has_ballot,
    )
    db.session.rollback()  # end the read: a writer waiting for its batch holds no connection
    return ballot_batches().submit(write)
