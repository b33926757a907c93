"""The room on 20 February: the presenter's page and focus, and the sitting's time plan.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

``workshop.screen_page`` / ``screen_focus_id`` / ``screen_auto``: which page of a long list the
projector shows, the one proposal the facilitator put in focus, and whether pages advance by
themselves. ``workshop.plan_minutes``: the time set for the sitting. ``goal.plan_minutes``: the
goal's share (edited, or the even split when empty); ``goal.used_seconds`` and
``goal.current_since``: the time the goal has been the current one, for planned-versus-used.
Existing rows get the defaults: page 0, no focus, no plan, nothing used.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# Plain ADD COLUMN (no batch copy): on SQLite a batch recreates the table, and dropping the old
# goal table would fire workshop.current_goal_id's ON DELETE SET NULL and lose the current goal.
def upgrade() -> None:
    op.add_column(
        "workshop", sa.Column("screen_page", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("workshop", sa.Column("screen_focus_id", sa.Integer(), nullable=True))
    op.add_column(
        "workshop",
        sa.Column("screen_auto", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("workshop", sa.Column("plan_minutes", sa.Integer(), nullable=True))
    op.add_column("goal", sa.Column("plan_minutes", sa.Integer(), nullable=True))
    op.add_column(
        "goal", sa.Column("used_seconds", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("goal", sa.Column("current_since", sa.DateTime(), nullable=True))


def downgrade() -> None:
    for column in ("current_since", "used_seconds", "plan_minutes"):
        op.drop_column("goal", column)
    for column in ("plan_minutes", "screen_auto", "screen_focus_id", "screen_page"):
        op.drop_column("workshop", column)
