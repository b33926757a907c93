"""Pure rules of the dialogue, one module per feature; this package is only their facade.

Nothing below ``workshop.domain`` imports Flask, SQLAlchemy or Socket.IO. Messages are Swedish
msgids marked with ``N_`` so the edge can translate them; ``DomainError.params`` fill their
placeholders.

The modules: ``core`` (DomainError, ids, text, dates, phases, gettext helpers), ``enums``
(every status and kind), ``goals`` (goals, import, join codes, follow-up dates, the template),
``proposals``, ``voting`` (the rules table of the vote methods), ``documents`` (the records
and the decision document), ``status`` (a goal's one status in every document) and
``follow_up``. Their public names are re-exported here, so
``from workshop import domain; domain.X`` and ``from workshop.domain import X`` keep working
wherever they are used; new code may import from the feature module directly.
"""

from __future__ import annotations

from .audit import AUDIT_ACTIONS, AuditLogDocument, audit_log_document
from .core import (
    DATE_RE,
    MAX_ID,
    MONTHS_SV,
    N_,
    PHASE_LABELS,
    PHASE_ORDER,
    TOO_LONG,
    DomainError,
    Forbidden,
    Line,
    NotFound,
    check_transition,
    clean_fields,
    clean_text,
    fill,
    format_date,
    format_date_text,
    format_number,
    in_id_range,
    int_in,
    parse_id,
    pgettext_via,
    valid_date,
)
from .documents import (
    AppendixGoal,
    AuditRecord,
    DecisionDocument,
    DecisionRecord,
    DissentRecord,
    FollowUpRecord,
    GoalRecord,
    GoalSection,
    ParkingRecord,
    ProposalRecord,
    ProposalRow,
    RoundRecord,
    TallyRow,
    WorkshopRecord,
    consolidate,
    file_stem,
    goal_list,
    proposal_rows,
    status_groups,
    tally_rows,
)
from .enums import (
    ENUMS,
    Assessment,
    Forecast,
    GoalStatus,
    Phase,
    ProposalKind,
    ProposalStatus,
    Role,
    RoundStatus,
    VoteMethod,
    WorkshopStatus,
    YesNo,
    enum_values,
)
from .follow_up import (
    FOLLOW_UP_LIMITS,
    FORECAST_LABELS,
    KOLADA_KPI_RE,
    FollowUpCheckpoint,
    FollowUpInput,
    FollowUpItem,
    FollowUpReport,
    checkpoints,
    follow_up_report,
    validate_follow_up,
)
from .goals import (
    DIRECTION_FOLLOW_UP,
    GOAL_LIMITS,
    JOIN_ALPHABET,
    JOIN_CODE_LENGTH,
    KS_2019_TEMPLATE,
    GoalInput,
    follow_up_dates,
    is_join_code,
    new_join_code,
    normalise_join_code,
    parse_follow_up_dates,
    parse_goal_lines,
    validate_goal,
)
from .proposals import (
    ASSESSMENT_LABELS,
    CRITERIA,
    CRITERIA_LABELS,
    DIRECTION_DROPS,
    MERGE_FIELD_LABELS,
    PROPOSAL_FIELD_LABELS,
    PROPOSAL_LIMITS,
    PROPOSAL_STATUS_LABELS,
    TEXT_FIELDS,
    FieldDifference,
    MergeOption,
    ProposalCaps,
    ProposalCounts,
    ProposalInput,
    check_proposal_caps,
    criteria_lines,
    merge_differences,
    proposal_lines,
    validate_proposal,
)
from .status import GOAL_STATUS_LABELS, GOAL_STATUS_POINTS, goal_status
from .voting import (
    BLOCK,
    CRITERION_POINTS,
    DEFAULT_DOT_BUDGET,
    GRADIENT_LABELS,
    MAX_DOT_BUDGET,
    METHODS,
    ROUND_STATUS_LABELS,
    SCALE,
    VOTE_METHOD_LABELS,
    YES_NO_LABELS,
    YES_NO_OPTIONS,
    BadAnswer,
    MethodRules,
    ProposalTally,
    Tally,
    answer_labels,
    answer_text,
    check_dot_budget,
    describe_tally,
    leaders,
    progress,
    rules,
    tally,
    validate_ballot,
)
