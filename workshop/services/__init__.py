"""The only code that changes state.

One module per feature; each public function is one unit of work (``_unit.unit_of_work``):
it validates, changes, advances the workshop's seq, records the audit entry and commits, or
rolls back so nothing is half-done. Functions raise ``domain.DomainError`` when a rule is
broken; views and event handlers translate the error for the person. This facade lets callers
write ``services.cast_vote(...)``.
"""

from __future__ import annotations

from ..domain import DomainError, Forbidden, NotFound
from ..domain.privacy import (
    FACILITATOR_LABEL,
    MERGED_LABEL,
    PARTICIPANT_LABEL,
    hash_parts,
    is_secret,
    phone_hash,
)
from ._unit import WRITE_LOCK, CommitThenRaise, Retry, bump, lock_workshop, unit_of_work, writing
from .accounts import (
    LOGIN_MAX_FAILURES,
    LOGIN_MAX_FAILURES_PER_IP,
    LOGIN_WINDOW,
    LoginLocked,
    authenticate,
    create_facilitator,
    ensure_first_facilitator,
    login,
    logout,
)
from .agenda import select_goal, set_phase, timer
from .archive import import_archive, validate_archive
from .audit import SYSTEM_ACTOR, Actor, acting_as, audit, audit_now
from .common import (
    MAX_DISSENT,
    MAX_NAME,
    MAX_PARKING,
    MAX_REASON,
    MAX_TIMER,
    check_secret,
    get_workshop,
    goal_in,
    proposal_in,
    require_running,
    text_input,
)
from .decisions import record_decision
from .follow_up import save_follow_up
from .goals import add_goals, delete_goal, move_goal, update_goal
from .participants import JoinThrottled, join, leave, set_participant
from .privacy import delete_workshop, erase_personal_data, purge_expired
from .proposals import (
    add_parking,
    add_proposal,
    edit_proposal,
    hide_proposal,
    merge_preview,
    merge_proposals,
    park_draft,
    park_proposal,
    proposal_caps,
    publish_proposals,
    restore_proposal,
)
from .screen import MAX_SCREEN_PAGE, set_screen_auto, set_screen_focus, set_screen_page
from .time_plan import follow_clock, set_goal_plan, set_plan
from .voting import (
    BAD_VOTE_ID,
    CONFLICT,
    MAX_REV,
    VoteOutcome,
    VoteSQL,
    ballot_batches,
    bind_secret,
    cast_vote,
)
from .workshops import (
    DETAIL_LIMITS,
    close_workshop,
    create_from_template,
    create_workshop,
    find_by_code,
    reopen_workshop,
    start_workshop,
    unique_join_code,
    update_workshop,
)
