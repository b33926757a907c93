"""The workshop as pure records for the documents, and the audit trail in words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa

from .. import domain
from ..domain import N_, time_plan
from ..domain.audit import AUDIT_ACTIONS
from ..domain.enums import Role
from ..domain.privacy import FACILITATOR_LABEL, MERGED_LABEL, PARTICIPANT_LABEL
from ..models import (
    AuditEntry,
    FollowUp,
    Goal,
    Proposal,
    Workshop,
    db,
    utcnow,
)
from .voting import round_tally


def audit_log(workshop_id: int) -> list[AuditEntry]:
    """Return a workshop's audit entries, oldest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEntry).filter_by(workshop_id=workshop_id).order_by(AuditEntry.id)
        )
    )


def describe_audit(entry: AuditEntry, gettext: Callable[..., str] = N_) -> str:
    """Return a short translated sentence for an entry: "Bytte fas: Mål 3, Förslag → Röstning"."""
    d = entry.details or {}
    parts: list[str] = []
    if d.get("title"):
        parts.append(str(d["title"]))
    if d.get("goal"):
        parts.append(domain.fill(gettext("Mål %(number)s"), number=d["goal"]))
    if d.get("proposals"):
        parts.append(", ".join(str(label) for label in d["proposals"]))
    if d.get("proposal"):
        parts.append(str(d["proposal"]))
    phases = {p.value: label for p, label in domain.PHASE_LABELS.items()}
    before, after = phases.get(d.get("from")), phases.get(d.get("to"))
    if after:
        parts.append((gettext(before) + " → " if before else "") + gettext(after))
    methods = {m.value: label for m, label in domain.VOTE_METHOD_LABELS.items()}
    method = methods.get(d.get("method"))
    if method:
        parts.append(gettext(method))
    if d.get("participant"):
        parts.append(domain.fill(gettext("deltagare nr %(id)s"), id=d["participant"]))
    if d.get("role") == Role.OBSERVER:
        parts.append(gettext("till observatör"))
    elif d.get("role") == Role.PARTICIPANT:
        parts.append(gettext("till röstande deltagare"))
    if d.get("removed"):
        parts.append(gettext("borttagen"))
    if "minutes" in d:  # the time plan: a total or a goal's minutes; None is the even split
        parts.append(
            domain.fill(gettext("%(n)s min"), n=d["minutes"])
            if d["minutes"] is not None
            else gettext("jämn fördelning")
        )
    for key in ("reason", "format", "timer", "username"):
        if d.get(key):
            parts.append(str(d[key]))
    if d.get("count") is not None:
        parts.append(domain.fill(gettext("%(n)s st"), n=d["count"]))
    text = gettext(AUDIT_ACTIONS.get(entry.action, entry.action))
    return f"{text}: {', '.join(parts)}" if parts else text


def audit_records(workshop_id: int, gettext: Callable[..., str] = N_) -> list[domain.AuditRecord]:
    """Return the workshop's audit trail as records for the export."""
    return [
        domain.AuditRecord(
            at=entry.at.replace(microsecond=0).isoformat(sep=" ") + " UTC",
            actor=entry.actor,
            text=describe_audit(entry, gettext),
        )
        for entry in audit_log(workshop_id)
    ]


def author_text(proposal: Proposal, gettext: Callable[[str], str] = N_) -> str:
    """Return who a proposal is from as shown to people: a name or a translated fixed label.

    Empty for an anonymous author. The fixed labels are stored as their (Swedish) msgids.
    """
    label = proposal.author_label
    if not label or proposal.author_key:
        return ""
    if label == PARTICIPANT_LABEL and proposal.author_participant_id is None:
        return domain.pgettext_via(
            "author of a proposal whose name was erased", "Deltagare", gettext
        )
    return gettext(label) if label in (FACILITATOR_LABEL, MERGED_LABEL) else label


def workshop_record(
    workshop: Workshop, export_date: str, gettext: Callable[..., str] = N_
) -> domain.WorkshopRecord:
    """Collect the workshop's state into the pure record the consolidation reads.

    ``gettext`` translates the few fixed labels the record carries (author labels, "Mål 3").
    """
    goals = []
    for goal in workshop.goals:
        labels = {p.id: p.label for p in goal.proposals}
        proposals = [
            domain.ProposalRecord(
                id=p.id,
                label=p.label,
                kind=p.kind,
                fields=dict(p.fields),
                criteria=dict(p.criteria),
                author=author_text(p, gettext),
                status=p.status,
                hidden_reason=p.hidden_reason,
                merged_into=labels.get(p.merged_into_id, "") if p.merged_into_id else "",
                merged_from=[s.label for s in p.merged_from],
                original=(
                    {k: v for k, v in p.original.items() if isinstance(v, str)}
                    if p.original
                    else None
                ),
            )
            for p in goal.proposals
        ]
        rounds = [
            domain.RoundRecord(
                number=r.number,
                method=r.method,
                status=r.status,
                tally=round_tally(r).to_dict(),
                labels={pid: labels.get(pid, str(pid)) for pid in r.proposal_ids},
            )
            for r in goal.rounds
        ]
        decision = None
        if goal.decision is not None:
            d = goal.decision
            decision = domain.DecisionRecord(
                kind=d.kind,
                proposal_label=d.proposal.label if d.proposal else "",
                fields=dict(d.fields),
                criteria=dict(d.criteria),
                tally=d.tally,
                tally_labels={int(k): v for k, v in (d.tally_labels or {}).items()},
                dissent=[domain.DissentRecord(**entry) for entry in d.dissent],
            )
        goals.append(
            domain.GoalRecord(
                area=goal.area,
                number=goal.number,
                text=goal.text,
                strategies=goal.strategies,
                measurability=goal.measurability,
                decision=decision,
                proposals=proposals,
                rounds=rounds,
                follow_ups=follow_up_records(goal),
                plan_minutes=goal.plan_minutes,
                used_seconds=time_plan.used(goal.used_seconds or 0, goal.current_since, utcnow()),
            )
        )
    goal_names = {
        g.id: domain.fill(gettext("Mål %(number)s"), number=g.number) for g in workshop.goals
    }
    return domain.WorkshopRecord(
        title=workshop.title,
        dnr=workshop.dnr,
        organisation=workshop.organisation,
        unit=workshop.unit,
        meeting_date=workshop.meeting_date,
        recipient=workshop.recipient,
        send_to=workshop.send_to,
        officer=workshop.officer,
        follow_up_dates=domain.parse_follow_up_dates(workshop.follow_up_dates)
        if workshop.follow_up_dates
        else [],
        anonymous=workshop.anonymous,
        goals=goals,
        parking=[
            domain.ParkingRecord(text=item.text, goal=goal_names.get(item.goal_id or 0, ""))
            for item in workshop.parking
        ],
        export_date=export_date,
        audit=audit_records(workshop.id, gettext),
        plan_minutes=workshop.plan_minutes,
    )


def goal_statuses(workshop: Workshop) -> dict[int, domain.GoalStatus]:
    """Return each goal's status by id, by the documents' one rule (``domain.goal_status``)."""
    return {
        goal.id: domain.goal_status(
            goal.decision.kind if goal.decision is not None else None,
            proposals=len(goal.proposals),
            rounds=len(goal.rounds),
        )
        for goal in workshop.goals
    }


def follow_up_checkpoints(workshop: Workshop) -> list[dt.date]:
    """Return the workshop's checkpoints: its follow-up dates plus 31 December."""
    dates = (
        domain.parse_follow_up_dates(workshop.follow_up_dates) if workshop.follow_up_dates else []
    )
    year = int(workshop.meeting_date[:4]) if workshop.meeting_date[:4].isdigit() else None
    return domain.checkpoints(dates, year)


def follow_ups(goal: Goal) -> list[FollowUp]:
    return list(
        db.session.scalars(
            sa.select(FollowUp).filter_by(goal_id=goal.id).order_by(FollowUp.checkpoint)
        )
    )


def follow_up_records(goal: Goal) -> list[domain.FollowUpRecord]:
    return [
        domain.FollowUpRecord(
            checkpoint=f.checkpoint,
            value=f.value,
            forecast=f.forecast,
            comment=f.comment,
            activities=f.activities,
            kolada_kpi=f.kolada_kpi,
        )
        for f in follow_ups(goal)
    ]
