"""Database models (SQLAlchemy 2.x, typed).

Anonymity is a property of the schema: a ``Ballot`` holds what was answered under a key only
the phone can recompute (a hash of the round and the phone's secret), and nothing written when a
vote is cast names the person. The phone's secret is bound to its participant once, before any
vote, as another one-way hash (``Participant.secret_hash``); "X av Y har svarat" counts ballots.
So neither the rows nor the order or moment they were written pair a person with a ballot (see
docs/privacy.md and tests/test_privacy_storage.py). Named mode adds the participant to the
ballot, by design and announced.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_sqlalchemy import SQLAlchemy
from werkzeug.security import check_password_hash, generate_password_hash

from .domain.enums import ProposalStatus, Role, RoundStatus, WorkshopStatus


class Base(so.DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def random_key() -> str:
    return secrets.token_urlsafe(24)


class Facilitator(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    # Bumped at logout: every session (and Socket.IO connection) signed with an older value ends.
    session_version: so.Mapped[int] = so.mapped_column(default=0, server_default="0")

    def set_password(self, password: str, method: str = "scrypt") -> None:
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Workshop(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    dnr: so.Mapped[str] = so.mapped_column(sa.String(60), default="")
    organisation: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    unit: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    recipient: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    send_to: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    officer: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    meeting_date: so.Mapped[str] = so.mapped_column(sa.String(10), default="")
    follow_up_dates: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    join_code: so.Mapped[str] = so.mapped_column(sa.String(12), unique=True)
    screen_key: so.Mapped[str] = so.mapped_column(sa.String(64), default=random_key)
    # "utkast" before start, "pagar" while running, "stangd" when closed to participants.
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default=WorkshopStatus.DRAFT)
    anonymous: so.Mapped[bool] = so.mapped_column(default=True)
    current_goal_id: so.Mapped[int | None] = so.mapped_column(
        # Named (as PostgreSQL would name it) so a migration can drop it: it is added after
        # both tables exist (use_alter), by its name.
        sa.ForeignKey(
            "goal.id", use_alter=True, ondelete="SET NULL", name="workshop_current_goal_id_fkey"
        )
    )
    timer_ends_at: so.Mapped[dt.datetime | None]
    timer_remaining: so.Mapped[int | None]  # seconds left while paused
    seq: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("facilitator.id"))
    # When the participants' personal data was erased (by the facilitator or the retention rule).
    erased_at: so.Mapped[dt.datetime | None]
    # The projector: which page of a long list it shows, the proposal in focus (full slide), and
    # whether pages advance by themselves.
    screen_page: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    screen_focus_id: so.Mapped[int | None]
    screen_auto: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # The time set for the whole sitting, in minutes; None: no time plan.
    plan_minutes: so.Mapped[int | None]

    goals: so.Mapped[list[Goal]] = so.relationship(
        back_populates="workshop",
        order_by="Goal.position",
        cascade="all, delete-orphan",
        foreign_keys="Goal.workshop_id",
    )
    participants: so.WriteOnlyMapped[Participant] = so.relationship(
        back_populates="workshop", cascade="all, delete-orphan", passive_deletes=True
    )
    parking: so.Mapped[list[ParkingItem]] = so.relationship(
        back_populates="workshop", cascade="all, delete-orphan", order_by="ParkingItem.id"
    )


class Goal(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    workshop_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int] = so.mapped_column(default=0)
    area: so.Mapped[str] = so.mapped_column(sa.String(200))
    number: so.Mapped[str] = so.mapped_column(sa.String(10))
    text: so.Mapped[str] = so.mapped_column(sa.String(500))
    strategies: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    measurability: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    phase: so.Mapped[str] = so.mapped_column(sa.String(12), default="ej_startad")
    # The goal's share of the time plan (None: the even split of what is left), and the time it
    # has been current: used_seconds of closed intervals plus the one open since current_since.
    plan_minutes: so.Mapped[int | None]
    used_seconds: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    current_since: so.Mapped[dt.datetime | None]

    workshop: so.Mapped[Workshop] = so.relationship(
        back_populates="goals", foreign_keys=[workshop_id]
    )
    proposals: so.Mapped[list[Proposal]] = so.relationship(
        back_populates="goal", order_by="Proposal.id", cascade="all, delete-orphan"
    )
    rounds: so.Mapped[list[VoteRound]] = so.relationship(
        back_populates="goal", order_by="VoteRound.number", cascade="all, delete-orphan"
    )
    decision: so.Mapped[Decision | None] = so.relationship(
        back_populates="goal", cascade="all, delete-orphan"
    )

    @property
    def current_round(self) -> VoteRound | None:
        replaced = self.rounds and self.rounds[-1].status == RoundStatus.REPLACED
        return self.rounds[-1] if self.rounds and not replaced else None


class Participant(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    workshop_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    token: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True, default=random_key)
    display_name: so.Mapped[str | None] = so.mapped_column(sa.String(60))
    # "deltagare" may vote; "observator" follows and may propose but not vote.
    role: so.Mapped[str] = so.mapped_column(sa.String(12), default=Role.PARTICIPANT)
    removed: so.Mapped[bool] = so.mapped_column(default=False)
    left: so.Mapped[bool] = so.mapped_column(default=False)
    # A one-way hash of the ballot secret this participant's phone holds, bound once (at its
    # first state:get, apart from any vote): a vote must come with that secret, so a person
    # cannot vote twice under two secrets, and no row is written about the person at vote time.
    secret_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    joined_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    workshop: so.Mapped[Workshop] = so.relationship(back_populates="participants")

    @property
    def can_vote(self) -> bool:
        return self.role == Role.PARTICIPANT and not self.removed and not self.left


class Proposal(db.Model):
    __table_args__ = (
        sa.UniqueConstraint("goal_id", "client_id"),
        sa.UniqueConstraint("goal_id", "number"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    goal_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("goal.id", ondelete="CASCADE"), index=True
    )
    number: so.Mapped[int]  # per goal, shown as "F<number>"
    client_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    fields: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    criteria: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    original: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    # In anonymous mode the author is a key only the phone can recompute; in named mode the id.
    author_key: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)
    author_participant_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("participant.id", ondelete="SET NULL"), index=True
    )
    author_label: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    status: so.Mapped[str] = so.mapped_column(sa.String(14), default=ProposalStatus.ACTIVE)
    hidden_reason: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    merged_into_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("proposal.id"))
    published: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    goal: so.Mapped[Goal] = so.relationship(back_populates="proposals")
    merged_into: so.Mapped[Proposal | None] = so.relationship(
        remote_side=[id], back_populates="merged_from"
    )
    # Ordered: PostgreSQL returns rows in no fixed order, and the document lists sources F1, F2, ...
    merged_from: so.Mapped[list[Proposal]] = so.relationship(
        back_populates="merged_into", order_by="Proposal.number"
    )

    @property
    def label(self) -> str:
        return f"F{self.number}"


class VoteRound(db.Model):
    __table_args__ = (sa.UniqueConstraint("goal_id", "number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    goal_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("goal.id", ondelete="CASCADE"), index=True
    )
    number: so.Mapped[int]
    method: so.Mapped[str] = so.mapped_column(sa.String(12))
    dot_budget: so.Mapped[int] = so.mapped_column(default=3)
    proposal_ids: so.Mapped[list[int]] = so.mapped_column(sa.JSON)
    # "oppen" while votes are taken, "stangd" when closed, "ersatt" when a new round replaced it.
    status: so.Mapped[str] = so.mapped_column(sa.String(8), default=RoundStatus.OPEN)
    revealed: so.Mapped[bool] = so.mapped_column(default=False)

    goal: so.Mapped[Goal] = so.relationship(back_populates="rounds")


class Ballot(db.Model):
    """One voter's latest answer in a round, keyed by a hash of a secret only the phone holds."""

    __table_args__ = ({"sqlite_with_rowid": False},)

    key: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    round_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("vote_round.id", ondelete="CASCADE"), index=True
    )
    answers: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    # The phone's revision of its ballot (1, 2, … per change) and the random id it made for
    # that revision: a late copy of an older revision never overwrites a newer one, and a
    # repeated delivery is recognised. A counter per ballot, not a time or a global order.
    rev: so.Mapped[int] = so.mapped_column(default=1)
    vote_id: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    # Set only in named mode, which everyone is told about before voting.
    participant_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("participant.id", ondelete="SET NULL"), index=True
    )


class Decision(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    goal_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("goal.id", ondelete="CASCADE"), unique=True
    )
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    proposal_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("proposal.id", ondelete="SET NULL")
    )
    fields: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    criteria: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    tally: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    tally_labels: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    dissent: so.Mapped[list[dict[str, str]]] = so.mapped_column(sa.JSON, default=list)
    decided_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    goal: so.Mapped[Goal] = so.relationship(back_populates="decision")
    proposal: so.Mapped[Proposal | None] = so.relationship()


class ParkingItem(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    workshop_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    goal_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("goal.id", ondelete="SET NULL"))
    text: so.Mapped[str] = so.mapped_column(sa.String(1000))
    source_proposal_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("proposal.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    workshop: so.Mapped[Workshop] = so.relationship(back_populates="parking")
    goal: so.Mapped[Goal | None] = so.relationship()


class LoginAttempt(db.Model):
    """A failed facilitator login, kept for a short while to lock out password guessing."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(80), index=True)
    ip: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow, index=True)


class AuditEntry(db.Model):
    """One facilitator action: when, by whom, what. Never a participant's identity or vote."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    workshop_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("workshop.id", ondelete="SET NULL"), index=True
    )
    at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    actor: so.Mapped[str] = so.mapped_column(sa.String(80))
    facilitator_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("facilitator.id", ondelete="SET NULL")
    )
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    details: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)


class FollowUp(db.Model):
    """A goal's follow-up at one checkpoint: measured value, forecast and comment, or (for an
    inriktningsmål, which has no forecast) the activities the organisation carried out."""

    __table_args__ = (sa.UniqueConstraint("goal_id", "checkpoint"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    goal_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("goal.id", ondelete="CASCADE"), index=True
    )
    checkpoint: so.Mapped[dt.date]
    value: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    # "uppfylls", "delvis" or "uppfylls_inte"; empty for an inriktningsmål.
    forecast: so.Mapped[str] = so.mapped_column(sa.String(16), default="")
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    activities: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # The Kolada KPI the value is read from, e.g. "N00090"; empty when measured otherwise.
    kolada_kpi: so.Mapped[str] = so.mapped_column(sa.String(12), default="")
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    goal: so.Mapped[Goal] = so.relationship()
