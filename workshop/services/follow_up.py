"""Recording a decided goal's follow-up at a checkpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from .. import domain
from ..models import (
    FollowUp,
    db,
    utcnow,
)
from ..queries.records import follow_up_checkpoints
from ._unit import unit_of_work
from .audit import audit
from .common import goal_in


@unit_of_work
def save_follow_up(workshop_id: int, goal_id: Any, raw: Mapping[str, Any]) -> FollowUp:
    """Record (or replace) a decided goal's follow-up at one of the workshop's checkpoints."""
    goal = goal_in(workshop_id, domain.parse_id(goal_id))
    kind = goal.decision.kind if goal.decision is not None else None
    data = domain.validate_follow_up(raw, kind, follow_up_checkpoints(goal.workshop))
    entry = db.session.scalar(
        sa.select(FollowUp).filter_by(goal_id=goal.id, checkpoint=data.checkpoint)
    ) or FollowUp(goal_id=goal.id, checkpoint=data.checkpoint)
    entry.value, entry.forecast, entry.comment = data.value, data.forecast, data.comment
    entry.activities, entry.kolada_kpi = data.activities, data.kolada_kpi
    entry.updated_at = utcnow()
    db.session.add(entry)
    audit(workshop_id, "follow_up", {"goal": goal.number, "date": data.checkpoint.isoformat()})
    return entry
