"""Unlinkable ballots: the phone's secret is bound to its participant; no "has answered" row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

``participant.secret_hash``: a one-way hash of the ballot secret the participant's phone
holds, bound once before any vote, so a vote writes nothing about the person. The ``response``
table (who has answered which round) is dropped: written in the same transaction as the
ballot, it let anyone reading the database files pair people with ballots (WAL frames, page
order). "X av Y har svarat" now counts ballots. Existing participants bind their secret at their
phone's next state:get.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("participant", sa.Column("secret_hash", sa.String(64), nullable=True))
    op.drop_index("ix_response_participant_id", table_name="response")
    op.drop_table("response")


def downgrade() -> None:
    op.create_table(
        "response",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["round_id"], ["vote_round.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id", "participant_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_response_participant_id", "response", ["participant_id"])
    op.drop_column("participant", "secret_hash")
