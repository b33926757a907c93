"""Read-only queries for the screens, the exports and the archive; they never write."""

from __future__ import annotations

from .archive import ARCHIVE_SCHEMA, ARCHIVE_VERSION, export_archive, iso, parse_when, remap_tally
from .people import (
    PersonRow,
    eligible_ids,
    list_workshops,
    participant_for,
    participant_rows,
    participants,
)
from .proposals import own_proposals
from .records import (
    audit_log,
    audit_records,
    author_text,
    describe_audit,
    follow_up_checkpoints,
    follow_up_records,
    follow_ups,
    goal_statuses,
    workshop_record,
)
from .time_plan import plan_of, ticking_goal_id
from .voting import named_ballots, own_ballot, round_progress, round_tally

__all__ = [
    "plan_of",
    "ticking_goal_id",
    "ARCHIVE_SCHEMA",
    "ARCHIVE_VERSION",
    "export_archive",
    "iso",
    "parse_when",
    "remap_tally",
    "PersonRow",
    "eligible_ids",
    "list_workshops",
    "participant_for",
    "participant_rows",
    "participants",
    "own_proposals",
    "audit_log",
    "audit_records",
    "author_text",
    "describe_audit",
    "follow_up_checkpoints",
    "goal_statuses",
    "follow_up_records",
    "follow_ups",
    "workshop_record",
    "named_ballots",
    "own_ballot",
    "round_progress",
    "round_tally",
]
