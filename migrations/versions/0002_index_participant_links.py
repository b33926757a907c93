"""Index the columns that point at a participant.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Erasing participants' personal data (the retention rule, ``flask purge``) and deleting a
workshop find the rows that point at its participants: ``response`` by ``participant_id``
(its primary key starts with ``round_id``), and the ``ON DELETE SET NULL`` links of ``ballot``
and ``proposal``. PostgreSQL does not index a foreign key by itself, so each participant deleted
scanned those tables whole; with these indexes the erasure stays quick as the tables grow.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_response_participant_id", "response", "participant_id"),
    ("ix_ballot_participant_id", "ballot", "participant_id"),
    ("ix_proposal_author_participant_id", "proposal", "author_participant_id"),
]


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
