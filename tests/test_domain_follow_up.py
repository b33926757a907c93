"""Unit tests for the follow-up in ``workshop.domain.follow_up``, without a database.

The app-level follow-up (the form, the stored rows, the DOCX/PDF report) is in test_follow_up.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from workshop.domain import (
    DecisionRecord,
    DomainError,
    FollowUpRecord,
    GoalRecord,
    GoalStatus,
    ProposalKind,
    WorkshopRecord,
    checkpoints,
    follow_up_report,
    validate_follow_up,
)

APRIL, YEAR_END = dt.date(2019, 4, 30), dt.date(2019, 12, 31)


def test_checkpoints_without_dates_or_year_are_empty():
    assert checkpoints([]) == []


@pytest.mark.parametrize(("typed", "stored"), [("n00090", "N00090"), ("", "")])
def test_an_ambition_level_keeps_a_kolada_kpi_in_capitals(typed, stored):
    data = validate_follow_up(
        {"checkpoint": "2019-04-30", "forecast": "uppfylls", "value": "12", "kolada_kpi": typed},
        ProposalKind.AMBITION,
        [APRIL],
    )
    assert (data.checkpoint, data.forecast, data.value, data.kolada_kpi) == (
        APRIL,
        "uppfylls",
        "12",
        stored,
    )
    assert data.activities == ""


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"checkpoint": "2019-04-30", "forecast": "uppfylls", "kolada_kpi": "N0009"}, "kolada_kpi"),
        ({"checkpoint": "2019-05-01", "forecast": "uppfylls"}, "checkpoint"),
        ({"checkpoint": ["2019-04-30"], "forecast": "uppfylls"}, "checkpoint"),
        ({"checkpoint": "2019-04-30", "forecast": 3}, "forecast"),
    ],
)
def test_an_ambition_level_follow_up_names_the_bad_field(raw, field):
    with pytest.raises(DomainError) as caught:
        validate_follow_up(raw, ProposalKind.AMBITION, [APRIL])
    assert caught.value.code == "invalid_fields"
    assert list(caught.value.fields) == [field]


def test_an_inriktningsmal_drops_value_and_kpi():
    data = validate_follow_up(
        {"checkpoint": "2019-04-30", "activities": "Två möten", "value": "9", "kolada_kpi": "N1"},
        ProposalKind.DIRECTION,
        [APRIL],
    )
    assert (data.activities, data.value, data.kolada_kpi, data.forecast) == (
        "Två möten",
        "",
        "",
        "",
    )


def test_a_follow_up_that_is_not_a_mapping_is_refused():
    with pytest.raises(DomainError) as caught:
        validate_follow_up(["2019-04-30"], ProposalKind.AMBITION, [APRIL])
    assert caught.value.code == "bad_payload"


def test_the_report_of_a_record_has_each_kind_of_goal():
    ambition = DecisionRecord(kind=ProposalKind.AMBITION, fields={"what": "Fler i arbete"})
    record = WorkshopRecord(
        title="Mål",
        dnr="KS 2018/109",
        organisation="Vaggeryds kommun",
        unit="",
        meeting_date="2019-02-20",
        recipient="",
        send_to="",
        officer="",
        follow_up_dates=[APRIL],
        anonymous=True,
        export_date="2019-09-01",
        goals=[
            GoalRecord(area="A", number="1", text="Ett"),
            GoalRecord(
                area="A",
                number="2",
                text="Två",
                decision=ambition,
                follow_ups=[FollowUpRecord(checkpoint=APRIL, forecast="nej?", value="3")],
            ),
            GoalRecord(
                area="A", number="3", text="Tre", decision=DecisionRecord(kind="inriktningsmal")
            ),
        ],
    )
    report = follow_up_report(record)
    assert report.filename_stem == "uppfoljning-KS-2018-109-2019-09-01"
    assert report.title == "Uppföljning: Mål"
    assert [c.date for c in report.checkpoints] == ["2019-04-30", "2019-12-31"]
    undecided, decided, direction = report.checkpoints[0].items
    assert [undecided.status, decided.status, direction.status] == [
        GoalStatus.NOT_DISCUSSED,
        GoalStatus.AMBITION,
        GoalStatus.DIRECTION,
    ]
    assert decided.heading == "Mål 2. Två"
    # An unknown stored forecast is shown as none, never as text the catalog lacks.
    assert (decided.forecast, decided.forecast_text) == ("", "Ingen prognos registrerad.")
    assert [(line.label, line.value) for line in decided.lines] == [
        ("Vad ska uppnås", "Fler i arbete"),
        ("Uppmätt värde", "3"),
    ]
    assert direction.lines[0].value == "Inga aktiviteter registrerade."
