"""Follow-up after the decision: the checkpoints, one follow-up's validation, and the report."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .core import N_, DomainError, Line, clean_fields, clean_text, fill, format_date, valid_date
from .documents import FollowUpRecord, GoalRecord, WorkshopRecord, file_stem
from .enums import Forecast, GoalStatus, ProposalKind
from .proposals import PROPOSAL_FIELD_LABELS, proposal_lines
from .status import GOAL_STATUS_LABELS

FORECAST_LABELS: dict[str, str] = {
    Forecast.MET: N_("Uppfylls"),
    Forecast.PARTLY: N_("Uppfylls delvis"),
    Forecast.NOT_MET: N_("Uppfylls inte"),
}
FOLLOW_UP_LIMITS: dict[str, int] = {
    "value": 100,
    "comment": 1000,
    "activities": 2000,
    "kolada_kpi": 12,
}
KOLADA_KPI_RE = re.compile(r"^[A-Z]\d{5}$")


def checkpoints(follow_up_dates: Sequence[dt.date], year: int | None = None) -> list[dt.date]:
    """Return the follow-up checkpoints: the workshop's dates plus the year end (31 December).

    The year is the latest follow-up date's, else ``year``.
    """
    dates = set(follow_up_dates)
    last = max((d.year for d in dates), default=year)
    if last is not None:
        dates.add(dt.date(last, 12, 31))
    return sorted(dates)


@dataclass(frozen=True)
class FollowUpInput:
    checkpoint: dt.date
    value: str = ""
    forecast: str = ""
    comment: str = ""
    activities: str = ""
    kolada_kpi: str = ""


def validate_follow_up(
    raw: Mapping[str, Any], goal_kind: str | None, allowed: Sequence[dt.date]
) -> FollowUpInput:
    """Check a follow-up for a goal decided as ``goal_kind`` at one of the ``allowed`` dates.

    An ambition level needs a forecast (uppfylls / delvis / uppfylls_inte); an inriktningsmål
    has no forecast and no measured value, only the activities carried out.
    """
    if goal_kind is None:
        raise DomainError(
            N_("Målet har inget förslag till beslut och kan inte följas upp än."), code="undecided"
        )
    if not isinstance(raw, Mapping):
        raise DomainError(N_("Uppföljningen kunde inte läsas."), code="bad_payload")
    values, errors, params = clean_fields(raw, FOLLOW_UP_LIMITS)
    checkpoint = None
    try:
        text = clean_text(raw.get("checkpoint"))
    except TypeError:
        text = ""
    if valid_date(text) and dt.date.fromisoformat(text) in allowed:
        checkpoint = dt.date.fromisoformat(text)
    else:
        errors["checkpoint"] = N_("Välj en av dialogens uppföljningstidpunkter.")
    forecast = raw.get("forecast") or ""
    forecast = forecast.strip() if isinstance(forecast, str) else "?"
    if goal_kind == ProposalKind.DIRECTION:
        if forecast:
            errors["forecast"] = N_("Ett inriktningsmål har ingen prognos.")
        if not values["activities"] and "activities" not in errors:
            errors["activities"] = N_("Beskriv vilka aktiviteter verksamheten har genomfört.")
        values["value"] = values["kolada_kpi"] = ""
    else:
        if forecast not in FORECAST_LABELS:
            errors["forecast"] = N_(
                "Välj en prognos: uppfylls, uppfylls delvis eller uppfylls inte."
            )
        values["activities"] = ""
        kpi = values["kolada_kpi"].upper()
        if kpi and "kolada_kpi" not in errors and not KOLADA_KPI_RE.match(kpi):
            errors["kolada_kpi"] = N_("Ange nyckeltalets id i Kolada, t.ex. N00090.")
        values["kolada_kpi"] = kpi
    if errors:
        raise DomainError(
            N_("Uppföljningen har fel som behöver rättas."),
            code="invalid_fields",
            fields=errors,
            field_params=params,
        )
    assert checkpoint is not None
    return FollowUpInput(checkpoint=checkpoint, forecast=forecast, **values)


@dataclass
class FollowUpItem:
    heading: str
    area: str
    status: str  # a GoalStatus value
    status_text: str
    forecast: str  # a ``Forecast`` value or ""
    forecast_text: str
    lines: list[Line]


@dataclass
class FollowUpCheckpoint:
    date: str  # ISO date
    heading: str
    items: list[FollowUpItem]


@dataclass
class FollowUpReport:
    organisation: str
    unit: str
    dnr: str
    date: str
    title: str
    intro: list[str]
    checkpoints: list[FollowUpCheckpoint]
    filename_stem: str


def follow_up_report(record: WorkshopRecord, gettext: Any = N_) -> FollowUpReport:
    """Build the follow-up report: every goal at every checkpoint, undecided ones included."""
    _ = gettext
    dates = checkpoints(record.follow_up_dates, _year(record.meeting_date))
    sections = []
    for date in dates:
        items = []
        for goal in record.goals:
            heading = fill(_("Mål %(number)s. %(text)s"), number=goal.number, text=goal.text)
            entry = next((f for f in goal.follow_ups if f.checkpoint == date), None)
            items.append(_follow_up_item(goal, heading, entry, _))
        if date.month == 12 and date.day == 31:
            title = fill(_("Uppföljning per %(date)s (helår)"), date=format_date(date, _))
        else:
            title = fill(_("Uppföljning per %(date)s (delårsrapport)"), date=format_date(date, _))
        sections.append(FollowUpCheckpoint(date=date.isoformat(), heading=title, items=items))
    intro = [
        _(
            "Prognosen för måluppfyllelse redovisas för mål med ambitionsnivå. För "
            "inriktningsmål redovisas ingen prognos; uppföljningen sker genom verksamhetens "
            "aktiviteter."
        ),
    ]
    stem = file_stem("uppfoljning", record.dnr, record.export_date)
    return FollowUpReport(
        organisation=record.organisation,
        unit=record.unit,
        dnr=record.dnr,
        date=record.export_date,
        title=fill(_("Uppföljning: %(title)s"), title=record.title),
        intro=intro,
        checkpoints=sections,
        filename_stem=stem,
    )


def _year(text: str) -> int | None:
    return int(text[:4]) if text[:4].isdigit() else None


def _follow_up_item(
    goal: GoalRecord, heading: str, entry: FollowUpRecord | None, _: Any
) -> FollowUpItem:
    decision = goal.decision
    if decision is None:  # discussed without a decision, or not at all: nothing to follow up
        return FollowUpItem(
            heading=heading,
            area=goal.area,
            status=goal.status.value,
            status_text=_(GOAL_STATUS_LABELS[goal.status]),
            forecast="",
            forecast_text="",
            lines=[],
        )
    if goal.status == GoalStatus.DIRECTION:
        activities = entry.activities if entry else ""
        lines = [
            Line(_("Genomförda aktiviteter"), activities or _("Inga aktiviteter registrerade.")),
        ]
        if entry and entry.comment:
            lines.append(Line(_("Kommentar"), entry.comment))
        return FollowUpItem(
            heading=heading,
            area=goal.area,
            status=GoalStatus.DIRECTION.value,
            status_text=_(GOAL_STATUS_LABELS[GoalStatus.DIRECTION]),
            forecast="",
            forecast_text="",
            lines=lines,
        )
    fields_ = decision.fields
    shown = {_(PROPOSAL_FIELD_LABELS[name]) for name in ("what", "target")}
    lines = [line for line in proposal_lines(fields_, _) if line.label in shown]
    forecast = entry.forecast if entry and entry.forecast in FORECAST_LABELS else ""
    if entry and entry.value:
        value = entry.value
        if entry.kolada_kpi:
            value = fill(_("%(value)s (Källa: Kolada, %(kpi)s)"), value=value, kpi=entry.kolada_kpi)
        lines.append(Line(_("Uppmätt värde"), value))
    if entry and entry.comment:
        lines.append(Line(_("Kommentar"), entry.comment))
    return FollowUpItem(
        heading=heading,
        area=goal.area,
        status=GoalStatus.AMBITION.value,
        status_text=_(GOAL_STATUS_LABELS[GoalStatus.AMBITION]),
        forecast=forecast,
        forecast_text=_(FORECAST_LABELS[forecast]) if forecast else _("Ingen prognos registrerad."),
        lines=lines,
    )
