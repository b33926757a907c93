"""The decision document: the records a workshop is read into, and consolidate() into the
proposal for decision (förslag till beslut), with the spreadsheet rows of every proposal and count.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .core import N_, Line, fill, format_date, format_date_text, pgettext_via
from .enums import GoalStatus, ProposalKind, ProposalStatus, VoteMethod
from .goals import DIRECTION_FOLLOW_UP
from .proposals import (
    ASSESSMENT_LABELS,
    CRITERIA,
    CRITERIA_LABELS,
    PROPOSAL_STATUS_LABELS,
    TEXT_FIELDS,
    criteria_lines,
    proposal_lines,
)
from .status import GOAL_STATUS_LABELS, GOAL_STATUS_POINTS, goal_status
from .time_plan import split
from .voting import ROUND_STATUS_LABELS, VOTE_METHOD_LABELS, answer_labels, describe_tally

# --- The records: a workshop as read from the database or an archive ------------------------


@dataclass
class ProposalRecord:
    id: int
    label: str  # "F3": how the room refers to it
    kind: str
    fields: dict[str, str]
    criteria: dict[str, str]
    author: str = ""
    status: str = ProposalStatus.ACTIVE.value
    hidden_reason: str = ""
    merged_into: str = ""  # label of the proposal it was merged into
    merged_from: list[str] = field(default_factory=list)
    original: dict[str, str] | None = None  # text before the facilitator edited it


@dataclass
class RoundRecord:
    number: int
    method: str
    status: str
    tally: dict[str, Any]
    labels: dict[int, str]  # proposal id -> label


@dataclass
class DissentRecord:
    text: str
    name: str = ""


@dataclass
class DecisionRecord:
    kind: str
    proposal_label: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    criteria: dict[str, str] = field(default_factory=dict)
    tally: dict[str, Any] | None = None
    tally_labels: dict[int, str] = field(default_factory=dict)
    dissent: list[DissentRecord] = field(default_factory=list)


@dataclass
class GoalRecord:
    area: str
    number: str
    text: str
    strategies: str = ""
    measurability: str = ""
    decision: DecisionRecord | None = None
    proposals: list[ProposalRecord] = field(default_factory=list)
    rounds: list[RoundRecord] = field(default_factory=list)
    follow_ups: list[FollowUpRecord] = field(default_factory=list)
    # The time plan (not archived): the goal's own minutes (None: an even share) and time used.
    plan_minutes: int | None = None
    used_seconds: int = 0

    @property
    def status(self) -> GoalStatus:
        """What the documents say about the goal (``status.goal_status``)."""
        return goal_status(
            self.decision.kind if self.decision else None,
            proposals=len(self.proposals),
            rounds=len(self.rounds),
        )


@dataclass
class FollowUpRecord:
    """What was recorded for a goal at one checkpoint (see ``validate_follow_up``)."""

    checkpoint: dt.date
    value: str = ""
    forecast: str = ""
    comment: str = ""
    activities: str = ""
    kolada_kpi: str = ""


@dataclass
class ParkingRecord:
    text: str
    goal: str = ""  # "Mål 3", or empty for the whole workshop


@dataclass
class AuditRecord:
    """One line of the facilitator's audit trail: when (UTC), who, and what."""

    at: str
    actor: str
    text: str


@dataclass
class WorkshopRecord:
    title: str
    dnr: str
    organisation: str
    unit: str
    meeting_date: str
    recipient: str
    send_to: str
    officer: str
    follow_up_dates: list[dt.date]
    anonymous: bool
    goals: list[GoalRecord]
    parking: list[ParkingRecord] = field(default_factory=list)
    export_date: str = ""
    audit: list[AuditRecord] = field(default_factory=list)
    plan_minutes: int | None = None  # the sitting's time plan; None: none was set


@dataclass
class GoalSection:
    heading: str
    number: str
    area: str
    text: str
    status: str  # a GoalStatus value
    status_text: str
    lines: list[Line]
    criteria: list[Line]
    support: list[str]
    dissent: list[str]
    follow_up: list[str]


@dataclass
class AppendixGoal:
    heading: str
    status: str  # a GoalStatus value, the same as the goal's section
    status_text: str
    proposals: list[list[Line]]
    rounds: list[list[str]]
    time: str = ""  # planned and used minutes, or "" when no time was planned or used


@dataclass
class ProposalRow:
    """One proposal as a spreadsheet row; texts translated, fields as entered."""

    goal: str
    goal_status: str  # the goal's status label, as in the document
    label: str
    kind: str
    status: str
    fields: dict[str, str]
    criteria: dict[str, str]  # criterion label -> assessment label ("" when not assessed)
    author: str
    merged_into: str
    merged_from: str
    hidden_reason: str


@dataclass
class TallyRow:
    """One count of a round's raw tally: how many answered ``answer`` for ``proposal``."""

    goal: str
    round: int
    method: str
    status: str
    ballots: int
    proposal: str
    answer: str
    count: int


@dataclass
class DecisionDocument:
    organisation: str
    unit: str
    dnr: str
    date: str
    recipient: str
    title: str
    decision_points: list[str]
    summary: list[str]
    background: list[str]
    goals: list[GoalSection]
    assessment: list[str]
    parking: list[str]
    send_to: str
    officer: str
    appendix: list[AppendixGoal]
    filename_stem: str
    proposal_rows: list[ProposalRow] = field(default_factory=list)
    tally_rows: list[TallyRow] = field(default_factory=list)
    time_plan: str = ""  # the sitting's planned and used minutes in total, or ""


def file_stem(prefix: str, dnr: str, date: str) -> str:
    """Name an export file after its kind, Dnr (made file-safe) and date."""
    stem = prefix
    if dnr:
        stem += "-" + re.sub(r"[^0-9A-Za-z]+", "-", dnr).strip("-")
    if date:
        stem += "-" + date
    return stem


# --- Consolidation into the proposal for decision -------------------------------------------


def consolidate(record: WorkshopRecord, gettext: Any = N_) -> DecisionDocument:
    """Build the proposal for decision (förslag till beslut) from the workshop's state.

    Every goal appears with its one status (``status.goal_status``), said the same way in the
    decision points, the summary, the assessment, its section and the appendix. Every proposal,
    round and question taken forward goes to the appendix or its own section.
    """
    _ = gettext
    dates = ", ".join(format_date(d, _) for d in record.follow_up_dates)
    groups = status_groups(record.goals)
    decided = groups[GoalStatus.AMBITION] + groups[GoalStatus.DIRECTION]

    points = [
        fill(
            _(
                "Kommunstyrelsens arbetsutskott föreslår kommunstyrelsen att godkänna "
                "ambitionsnivån för kommunstyrelsens mål enligt detta förslag."
            ),
        )
    ]
    points.extend(
        fill(_(GOAL_STATUS_POINTS[status]), goals=goal_list(goals, _))
        for status, goals in groups.items()
        if goals
    )

    outcome = [
        fill(
            _(
                "%(decided)s av %(n)s mål fick ett förslag till beslut i dialogen: %(amb)s med "
                "ambitionsnivå och %(dir)s som inriktningsmål."
            ),
            decided=len(decided),
            n=len(record.goals),
            amb=len(groups[GoalStatus.AMBITION]),
            dir=len(groups[GoalStatus.DIRECTION]),
        )
    ]
    if groups[GoalStatus.DISCUSSED]:
        outcome.append(
            fill(
                _("Mål %(goals)s har behandlats i dialogen utan förslag till beslut."),
                goals=goal_list(groups[GoalStatus.DISCUSSED], _),
            )
        )
    if groups[GoalStatus.NOT_DISCUSSED]:
        outcome.append(
            fill(
                _("Mål %(goals)s har inte behandlats i dialogen."),
                goals=goal_list(groups[GoalStatus.NOT_DISCUSSED], _),
            )
        )
    summary = [
        fill(
            _(
                "Kommunstyrelsens arbetsutskott förde en dialog den %(date)s i syfte att ta "
                "fram förslag till ambitionsnivå för kommunstyrelsens %(n)s mål."
            ),
            date=format_date_text(record.meeting_date, _),
            n=len(record.goals),
        ),
        " ".join(outcome),
        fill(
            _("Prognos för måluppfyllelse redovisas i delårsrapporterna per %(dates)s."),
            dates=dates,
        ),
    ]
    background = [
        _(
            "En ambitionsnivå ska tydligt beskriva vad som ska uppnås och uppfylla tre kriterier: "
            "det ska gå att påverka och vara inom kommunstyrelsens ansvarsområde, det ska kunna "
            "mätas och det ska finnas resurser till att uppfylla målet."
        ),
        _(
            "Kommunstyrelsen kan också välja att låta ett mål vara inriktningsmål för "
            "verksamheten att förhålla sig till. Ett sådant mål blir inte styrande och ingen "
            "prognos redovisas; uppföljningen sker genom att efterfråga verksamhetens aktiviteter."
        ),
        fill(
            _(
                "Åsiktsmätningen i dialogen var %(mode)s. Resultaten är underlag för beslut, "
                "inte beslut."
            ),
            mode=_("anonym") if record.anonymous else _("öppen, med namn"),
        ),
    ]
    sections = [_goal_section(goal, record, _) for goal in record.goals]
    assessment = [
        fill(
            _(
                "Kommunledningskontoret bedömer att förslagen med ambitionsnivå ska stämmas av "
                "mot de tre kriterierna innan beslut. Bedömningen per mål framgår ovan."
            ),
        ),
    ]
    if groups[GoalStatus.DISCUSSED]:
        assessment.append(
            fill(
                _(
                    "Mål %(goals)s har behandlats i dialogen utan förslag till beslut. "
                    "Förslagen och röstresultaten i bilagan är underlag för den fortsatta "
                    "beredningen."
                ),
                goals=goal_list(groups[GoalStatus.DISCUSSED], _),
            )
        )
    if groups[GoalStatus.NOT_DISCUSSED]:
        assessment.append(
            fill(
                _("Mål %(goals)s har inte behandlats i dialogen och bör beredas vidare."),
                goals=goal_list(groups[GoalStatus.NOT_DISCUSSED], _),
            )
        )
    parking = [f"{p.goal}: {p.text}" if p.goal else p.text for p in record.parking]
    appendix = [_appendix_goal(goal, _) for goal in record.goals]
    time_total = _add_times(record, appendix, _)
    stem = file_stem("forslag-till-beslut", record.dnr, record.export_date)
    return DecisionDocument(
        organisation=record.organisation,
        unit=record.unit,
        dnr=record.dnr,
        date=record.export_date,
        recipient=record.recipient,
        title=record.title,
        decision_points=points,
        summary=summary,
        background=background,
        goals=sections,
        assessment=assessment,
        parking=parking,
        send_to=record.send_to,
        officer=record.officer,
        appendix=appendix,
        filename_stem=stem,
        proposal_rows=proposal_rows(record, _),
        tally_rows=tally_rows(record, _),
        time_plan=time_total,
    )


def _minutes(seconds: int) -> int:
    return (seconds + 30) // 60


def _add_times(record: WorkshopRecord, appendix: list[AppendixGoal], _: Any) -> str:
    """Write each goal's planned and used minutes into its appendix; return the total line."""
    used = [g.used_seconds for g in record.goals]
    if record.plan_minutes is None and not any(used):
        return ""
    if record.plan_minutes is None:
        for goal, part in zip(record.goals, appendix, strict=True):
            part.time = fill(_("Tid: %(used)s min använt."), used=_minutes(goal.used_seconds))
        return fill(_("Tid för dialogen: %(used)s min använt."), used=_minutes(sum(used)))
    planned = split(record.plan_minutes, [g.plan_minutes for g in record.goals])
    for goal, part, planned_s in zip(record.goals, appendix, planned, strict=True):
        part.time = fill(
            _("Tid: %(planned)s min planerat, %(used)s min använt."),
            planned=_minutes(planned_s),
            used=_minutes(goal.used_seconds),
        )
    return fill(
        _("Tid för dialogen: %(planned)s min planerat, %(used)s min använt."),
        planned=record.plan_minutes,
        used=_minutes(sum(used)),
    )


def status_groups(goals: Sequence[GoalRecord]) -> dict[GoalStatus, list[GoalRecord]]:
    """Return the goals by status, every status present (possibly empty), in the enum's order."""
    groups: dict[GoalStatus, list[GoalRecord]] = {status: [] for status in GoalStatus}
    for goal in goals:
        groups[goal.status].append(goal)
    return groups


def goal_list(goals: Sequence[GoalRecord], gettext: Any = N_) -> str:
    """Join goal numbers as the language does: "1, 2 och 3"."""
    numbers = [g.number for g in goals]
    if len(numbers) == 1:
        return numbers[0]
    # TRANSLATORS: the end of a list of goal numbers, e.g. "1, 2 och 3".
    return fill(gettext("%(first)s och %(last)s"), first=", ".join(numbers[:-1]), last=numbers[-1])


def _goal_section(goal: GoalRecord, record: WorkshopRecord, _: Any) -> GoalSection:
    heading = fill(_("Mål %(number)s. %(text)s"), number=goal.number, text=goal.text)
    status = goal.status
    section = GoalSection(
        heading=heading,
        number=goal.number,
        area=goal.area,
        text=goal.text,
        status=status.value,
        status_text=_(GOAL_STATUS_LABELS[status]),
        lines=[],
        criteria=[],
        support=[],
        dissent=[],
        follow_up=[],
    )
    decision = goal.decision
    if decision is None:
        if status == GoalStatus.DISCUSSED:
            section.lines = [
                Line(_("Antal förslag"), str(len(goal.proposals))),
                Line(_("Antal omröstningar"), str(len(goal.rounds))),
            ]
            section.support = [_("Förslagen och röstresultaten redovisas i bilagan.")]
        return section
    section.support = (
        describe_tally(decision.tally, decision.tally_labels, _)
        if decision.tally
        else [_("Ingen omröstning genomfördes för detta mål.")]
    )
    section.dissent = [f"{d.text} — {d.name}" if d.name else d.text for d in decision.dissent]
    if status == GoalStatus.DIRECTION:
        section.follow_up = [_(DIRECTION_FOLLOW_UP)]
    else:
        section.follow_up = [
            fill(
                _("Prognos för måluppfyllelse per %(date)s (delårsrapport)."),
                date=format_date(d, _),
            )
            for d in record.follow_up_dates
        ]
    section.lines = proposal_lines(decision.fields, _)
    if decision.proposal_label:
        section.lines.append(Line(_("Bygger på förslag"), decision.proposal_label))
    section.criteria = criteria_lines(decision.criteria, _)
    return section


def _source_text(source: ProposalRecord, _: Any) -> str:
    """A merge source's full text on one line: kind, every filled field, the criteria."""
    kind = _("Inriktningsmål") if source.kind == ProposalKind.DIRECTION else _("Ambitionsnivå")
    parts = [
        kind,
        *(
            f"{ln.label}: {ln.value}"
            for ln in (*proposal_lines(source.fields, _), *criteria_lines(source.criteria, _))
        ),
    ]
    return "; ".join(parts)


def _appendix_goal(goal: GoalRecord, _: Any) -> AppendixGoal:
    by_label = {p.label: p for p in goal.proposals}
    proposals = []
    for p in goal.proposals:
        lines = [
            Line(pgettext_via("before a proposal's label, e.g. Förslag F3", "Förslag", _), p.label),
            Line(
                _("Typ"),
                _("Inriktningsmål") if p.kind == ProposalKind.DIRECTION else _("Ambitionsnivå"),
            ),
            Line(_("Status"), _(PROPOSAL_STATUS_LABELS.get(p.status, p.status))),
        ]
        if p.author:
            lines.append(Line(_("Förslagsställare"), p.author))
        if p.hidden_reason:
            lines.append(Line(_("Skäl"), p.hidden_reason))
        if p.merged_into:
            lines.append(Line(_("Sammanslaget i"), p.merged_into))
        if p.merged_from:
            lines.append(Line(_("Sammanslaget av"), ", ".join(p.merged_from)))
        lines.extend(proposal_lines(p.fields, _))
        lines.extend(criteria_lines(p.criteria, _))
        # A merged proposal carries its sources' own texts, so the reader sees what was joined.
        for label in p.merged_from:
            if label in by_label:
                lines.append(
                    Line(
                        fill(_("Källa %(label)s"), label=label),
                        _source_text(by_label[label], _),
                    )
                )
        if p.original is not None:
            original = "; ".join(f"{ln.label}: {ln.value}" for ln in proposal_lines(p.original, _))
            lines.append(Line(_("Ursprunglig lydelse före redigering"), original))
        proposals.append(lines)
    rounds = []
    for r in goal.rounds:
        head = fill(
            _("Omröstning %(n)s (%(method)s, %(status)s)"),
            n=r.number,
            method=_(VOTE_METHOD_LABELS[VoteMethod(r.method)]),
            status=_(ROUND_STATUS_LABELS.get(r.status, r.status)),
        )
        rounds.append([head, *describe_tally(r.tally, r.labels, _)])
    return AppendixGoal(
        heading=fill(_("Mål %(number)s. %(text)s"), number=goal.number, text=goal.text),
        status=goal.status.value,
        status_text=_(GOAL_STATUS_LABELS[goal.status]),
        proposals=proposals,
        rounds=rounds,
    )


# --- Spreadsheet tables: every proposal and every raw count ----------------------------------


def proposal_rows(record: WorkshopRecord, gettext: Any = N_) -> list[ProposalRow]:
    """Return every proposal of every goal as a row, for the XLSX and CSV exports."""
    _ = gettext
    rows = []
    for goal in record.goals:
        for p in goal.proposals:
            rows.append(
                ProposalRow(
                    goal=goal.number,
                    goal_status=_(GOAL_STATUS_LABELS[goal.status]),
                    label=p.label,
                    kind=_("Inriktningsmål")
                    if p.kind == ProposalKind.DIRECTION
                    else _("Ambitionsnivå"),
                    status=_(PROPOSAL_STATUS_LABELS.get(p.status, p.status)),
                    fields={name: p.fields.get(name, "") for name in TEXT_FIELDS},
                    criteria={
                        _(CRITERIA_LABELS[name]): _(ASSESSMENT_LABELS[p.criteria[name]])
                        if p.criteria.get(name) in ASSESSMENT_LABELS
                        else ""
                        for name in CRITERIA
                    },
                    author=p.author,
                    merged_into=p.merged_into,
                    merged_from=", ".join(p.merged_from),
                    hidden_reason=p.hidden_reason,
                )
            )
    return rows


def tally_rows(record: WorkshopRecord, gettext: Any = N_) -> list[TallyRow]:
    """Return every round's raw counts, one row per proposal and answer."""
    _ = gettext
    rows = []
    for goal in record.goals:
        for r in goal.rounds:
            method = VoteMethod(r.method)
            for item in r.tally["proposals"]:
                for answer, count in answer_labels(method, item, _):
                    rows.append(
                        TallyRow(
                            goal=goal.number,
                            round=r.number,
                            method=_(VOTE_METHOD_LABELS[method]),
                            status=_(ROUND_STATUS_LABELS.get(r.status, r.status)),
                            ballots=r.tally["ballots"],
                            proposal=r.labels.get(item["proposal_id"], str(item["proposal_id"])),
                            answer=answer,
                            count=int(count),
                        )
                    )
    return rows
