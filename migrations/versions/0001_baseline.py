"""Baseline: the schema that ``db.create_all()`` made before there were migrations.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

The tables are built as a MetaData (not ``op.create_table``) so that ``create_all`` orders them
and adds ``workshop.current_goal_id``'s foreign key after ``goal`` exists on PostgreSQL, and so
that ``workshop.db.migrate_database`` can bring a database from before migrations to this baseline
(``schema().create_all(checkfirst=True)``) before stamping it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def schema() -> sa.MetaData:
    """Return the baseline's tables (never import the app's models here: they move on)."""
    metadata = sa.MetaData()
    sa.Table(
        "facilitator",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("session_version", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    login_attempt = sa.Table(
        "login_attempt",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    sa.Index("ix_login_attempt_at", login_attempt.c.at)
    sa.Index("ix_login_attempt_ip", login_attempt.c.ip)
    sa.Index("ix_login_attempt_username", login_attempt.c.username)
    sa.Table(
        "workshop",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("dnr", sa.String(length=60), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("send_to", sa.String(length=200), nullable=False),
        sa.Column("officer", sa.String(length=200), nullable=False),
        sa.Column("meeting_date", sa.String(length=10), nullable=False),
        sa.Column("follow_up_dates", sa.String(length=200), nullable=False),
        sa.Column("join_code", sa.String(length=12), nullable=False),
        sa.Column("screen_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("current_goal_id", sa.Integer(), nullable=True),
        sa.Column("timer_ends_at", sa.DateTime(), nullable=True),
        sa.Column("timer_remaining", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("erased_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["facilitator.id"],
        ),
        sa.ForeignKeyConstraint(
            ["current_goal_id"],
            ["goal.id"],
            ondelete="SET NULL",
            use_alter=True,
            name="workshop_current_goal_id_fkey",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("join_code"),
    )
    audit_entry = sa.Table(
        "audit_entry",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("facilitator_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["facilitator_id"], ["facilitator.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshop.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    sa.Index("ix_audit_entry_workshop_id", audit_entry.c.workshop_id)
    goal = sa.Table(
        "goal",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=200), nullable=False),
        sa.Column("number", sa.String(length=10), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("strategies", sa.Text(), nullable=False),
        sa.Column("measurability", sa.Text(), nullable=False),
        sa.Column("phase", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshop.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    sa.Index("ix_goal_workshop_id", goal.c.workshop_id)
    participant = sa.Table(
        "participant",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=60), nullable=True),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("left", sa.Boolean(), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshop.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    sa.Index("ix_participant_workshop_id", participant.c.workshop_id)
    follow_up = sa.Table(
        "follow_up",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("checkpoint", sa.Date(), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("forecast", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("activities", sa.Text(), nullable=False),
        sa.Column("kolada_kpi", sa.String(length=12), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["goal_id"], ["goal.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("goal_id", "checkpoint"),
    )
    sa.Index("ix_follow_up_goal_id", follow_up.c.goal_id)
    proposal = sa.Table(
        "proposal",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("original", sa.JSON(), nullable=True),
        sa.Column("author_key", sa.String(length=64), nullable=True),
        sa.Column("author_participant_id", sa.Integer(), nullable=True),
        sa.Column("author_label", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("hidden_reason", sa.String(length=200), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_participant_id"], ["participant.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["goal_id"], ["goal.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["proposal.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("goal_id", "client_id"),
        sa.UniqueConstraint("goal_id", "number"),
    )
    sa.Index("ix_proposal_author_key", proposal.c.author_key)
    sa.Index("ix_proposal_goal_id", proposal.c.goal_id)
    vote_round = sa.Table(
        "vote_round",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column("dot_budget", sa.Integer(), nullable=False),
        sa.Column("proposal_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("revealed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["goal_id"], ["goal.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("goal_id", "number"),
    )
    sa.Index("ix_vote_round_goal_id", vote_round.c.goal_id)
    ballot = sa.Table(
        "ballot",
        metadata,
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("vote_id", sa.String(length=64), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["round_id"], ["vote_round.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key"),
        sqlite_with_rowid=False,
    )
    sa.Index("ix_ballot_round_id", ballot.c.round_id)
    sa.Table(
        "decision",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("tally", sa.JSON(), nullable=True),
        sa.Column("tally_labels", sa.JSON(), nullable=True),
        sa.Column("dissent", sa.JSON(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["goal_id"], ["goal.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("goal_id"),
    )
    parking_item = sa.Table(
        "parking_item",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("source_proposal_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["goal_id"], ["goal.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["source_proposal_id"], ["proposal.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workshop_id"], ["workshop.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    sa.Index("ix_parking_item_workshop_id", parking_item.c.workshop_id)
    sa.Table(
        "response",
        metadata,
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["round_id"], ["vote_round.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id", "participant_id"),
        sqlite_with_rowid=False,
    )
    return metadata


def upgrade() -> None:
    schema().create_all(op.get_bind())


def downgrade() -> None:
    schema().drop_all(op.get_bind())
