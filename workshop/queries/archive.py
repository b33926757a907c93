"""The whole workshop as a versioned JSON archive (``docs/archive-schema.json``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from .. import domain
from ..models import (
    Ballot,
    Workshop,
    db,
    utcnow,
)
from ..resources import resource
from .records import audit_log, follow_ups

ARCHIVE_VERSION = 1


ARCHIVE_SCHEMA = resource("docs/archive-schema.json")


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def parse_when(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def remap_tally(tally: Mapping[str, Any] | None, ids: Mapping[int, int]) -> dict[str, Any] | None:
    """Return a copy of a stored tally with its proposal ids replaced through ``ids``."""
    if tally is None:
        return None
    out = dict(tally)
    out["leaders"] = [ids[int(pid)] for pid in tally.get("leaders", [])]
    out["proposals"] = [
        {**item, "proposal_id": ids[int(item["proposal_id"])]}
        for item in tally.get("proposals", [])
    ]
    return out


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def export_archive(workshop: Workshop) -> dict[str, Any]:
    """Return the whole workshop as an archive (see ``docs/archive-schema.json``).

    References are relative and stable: a goal by its index in ``goals``, a proposal by its
    number within its goal, a round by its number. Ballots carry answers only, in a sorted
    order, with no link to a participant; participants, join code and keys are not archived.
    """
    goals = list(workshop.goals)
    index = {g.id: i for i, g in enumerate(goals)}
    numbers = {p.id: p.number for g in goals for p in g.proposals}
    goals_out = []
    for goal in goals:
        rounds = []
        for r in goal.rounds:
            answers = db.session.scalars(sa.select(Ballot.answers).filter_by(round_id=r.id))
            ballots = [{str(numbers[int(k)]): v for k, v in a.items()} for a in answers]
            rounds.append(
                {
                    "number": r.number,
                    "method": r.method,
                    "dot_budget": r.dot_budget,
                    "proposals": [numbers[pid] for pid in r.proposal_ids],
                    "status": r.status,
                    "revealed": r.revealed,
                    "ballots": sorted(ballots, key=_sort_key),
                }
            )
        decision = None
        if goal.decision is not None:
            d = goal.decision
            decision = {
                "kind": d.kind,
                "proposal": numbers.get(d.proposal_id) if d.proposal_id else None,
                "fields": dict(d.fields),
                "criteria": dict(d.criteria),
                "tally": remap_tally(d.tally, numbers),
                "tally_labels": {
                    str(numbers[int(k)]): v for k, v in (d.tally_labels or {}).items()
                },
                "dissent": list(d.dissent or []),
                "decided_at": iso(d.decided_at),
            }
        goals_out.append(
            {
                "area": goal.area,
                "number": goal.number,
                "text": goal.text,
                "strategies": goal.strategies,
                "measurability": goal.measurability,
                "phase": goal.phase,
                "proposals": [
                    {
                        "number": p.number,
                        "kind": p.kind,
                        "fields": dict(p.fields),
                        "criteria": dict(p.criteria),
                        "original": dict(p.original) if p.original is not None else None,
                        # Only a name someone chose to show (named mode) or a fixed label.
                        "author": "" if p.author_key else p.author_label,
                        "status": p.status,
                        "hidden_reason": p.hidden_reason,
                        "merged_into": numbers.get(p.merged_into_id) if p.merged_into_id else None,
                        "published": p.published,
                        "created_at": iso(p.created_at),
                    }
                    for p in goal.proposals
                ],
                "rounds": rounds,
                "decision": decision,
                "follow_ups": [
                    {
                        "checkpoint": f.checkpoint.isoformat(),
                        "value": f.value,
                        "forecast": f.forecast,
                        "comment": f.comment,
                        "activities": f.activities,
                        "kolada_kpi": f.kolada_kpi,
                        "updated_at": iso(f.updated_at),
                    }
                    for f in follow_ups(goal)
                ],
            }
        )
    sources = {p.id: (index[g.id], p.number) for g in goals for p in g.proposals}
    return {
        "archive_version": ARCHIVE_VERSION,
        "exported_at": utcnow().replace(microsecond=0).isoformat() + "Z",
        "workshop": {
            "title": workshop.title,
            "dnr": workshop.dnr,
            "organisation": workshop.organisation,
            "unit": workshop.unit,
            "recipient": workshop.recipient,
            "send_to": workshop.send_to,
            "officer": workshop.officer,
            "meeting_date": workshop.meeting_date,
            "follow_up_dates": [
                d.isoformat() for d in domain.parse_follow_up_dates(workshop.follow_up_dates)
            ]
            if workshop.follow_up_dates
            else [],
            "status": workshop.status,
            "anonymous": workshop.anonymous,
            "current_goal": index.get(workshop.current_goal_id or 0),
            "created_at": iso(workshop.created_at),
        },
        "goals": goals_out,
        "parking": [
            {
                "text": item.text,
                "goal": index.get(item.goal_id or 0),
                "source_proposal": (
                    dict(zip(("goal", "number"), sources[item.source_proposal_id], strict=True))
                    if item.source_proposal_id in sources
                    else None
                ),
                "created_at": iso(item.created_at),
            }
            for item in workshop.parking
        ],
        "audit": [
            {"at": iso(e.at), "actor": e.actor, "action": e.action, "details": dict(e.details)}
            for e in audit_log(workshop.id)
        ],
    }
