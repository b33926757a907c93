"""The sitting's time plan: the split, the warnings, the clock of the current goal, the events
that set it (and refuse bad input or a phone), and the minutes in the decision document."""

from __future__ import annotations

import datetime as dt
import io

import docx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from workshop import documents, domain, queries
from workshop.domain.time_plan import GoalClock, check_minutes, plan, settle, split, used
from workshop.extensions import db
from workshop.models import Goal, Workshop, utcnow

from .builders import Dialogue, refused, start_dialogue

NOW = dt.datetime(2019, 2, 20, 9, 30)
BAD_TOTAL = "Ange ett helt antal minuter mellan 1 och 1440."
BAD_GOAL = "Ange ett helt antal minuter mellan 0 och 1440."


def clock(gid: int, minutes: int | None = None, used_s: int = 0, **kw) -> GoalClock:
    return GoalClock(
        id=gid,
        plan_minutes=minutes,
        used_seconds=used_s,
        current_since=kw.get("since"),
        done=kw.get("done", False),
    )


# --- The pure rules ---------------------------------------------------------------------------


def test_the_total_is_split_evenly_over_the_goals() -> None:
    assert split(90, [None] * 8) == [675] * 8  # 11¼ minutes each
    assert sum(split(10, [None] * 7)) == 600
    assert split(10, [None] * 7) == [86, 86, 86, 86, 86, 85, 85]  # odd seconds go first


def test_an_edited_goal_keeps_its_minutes_and_the_rest_share_what_is_left() -> None:
    assert split(90, [20, None, None, 10]) == [1200, 1800, 1800, 600]
    # Edited ones that use the whole plan leave nothing to share, never a negative share.
    assert split(30, [20, 20, None]) == [1200, 1200, 0]
    assert split(30, [0, None]) == [0, 1800]


def test_used_time_adds_the_open_interval() -> None:
    assert used(120, None, NOW) == 120
    assert used(120, NOW - dt.timedelta(minutes=3), NOW) == 300
    assert used(0, NOW + dt.timedelta(seconds=5), NOW) == 0  # a clock ahead never subtracts


def test_settle_opens_and_closes_the_interval_once() -> None:
    since = NOW - dt.timedelta(seconds=90)
    assert settle(10, None, True, NOW) == (10, NOW)
    assert settle(10, since, True, NOW) == (10, since)  # already ticking: unchanged
    assert settle(10, since, False, NOW) == (100, None)
    assert settle(100, None, False, NOW) == (100, None)


def test_a_goal_over_its_plan_is_marked_and_the_rest_no_longer_fits() -> None:
    goals = [clock(1, used_s=600, done=True), clock(2), clock(3)]
    on_time = plan(30, goals, NOW)
    assert on_time is not None
    assert [g.over for g in on_time.goals] == [False, False, False]
    assert on_time.fits and on_time.left_s == 1200 and on_time.needed_s == 1200

    late = plan(30, [clock(1, used_s=900, done=True), clock(2), clock(3)], NOW)
    assert late is not None
    assert [g.over for g in late.goals] == [True, False, False]
    assert late.left_s == 900 and late.needed_s == 1200 and not late.fits


def test_a_goal_ticking_now_counts_and_may_run_over() -> None:
    goals = [clock(1, minutes=5, since=NOW - dt.timedelta(minutes=6)), clock(2)]
    result = plan(20, goals, NOW, ticking_id=1)
    assert result is not None
    first = result.goal(1)
    assert first is not None and first.used_s == 360 and first.over and first.ticking
    assert result.to_dict()["goals"][1] == {
        "id": 2,
        "planned_s": 900,
        "used_s": 0,
        "over": False,
        "ticking": False,
        "minutes": None,
        "done": False,
    }


def test_edited_minutes_beyond_the_total_do_not_fit() -> None:
    result = plan(30, [clock(1, minutes=20), clock(2, minutes=20)], NOW)
    assert result is not None and not result.fits


def test_no_total_is_no_plan() -> None:
    assert plan(None, [clock(1, used_s=60)], NOW) is None


@pytest.mark.parametrize("value", [-1, 1441, "90 min", "", None, True, 1.5, [90], "-5"])
def test_bad_minutes_are_refused(value: object) -> None:
    with pytest.raises(domain.DomainError) as error:
        check_minutes(value, allow_zero=False)
    assert error.value.code == "bad_plan"


def test_minutes_as_typed_are_accepted() -> None:
    assert check_minutes(90, allow_zero=False) == 90
    assert check_minutes("45", allow_zero=False) == 45
    assert check_minutes(30.0, allow_zero=False) == 30
    assert check_minutes(0, allow_zero=True) == 0
    with pytest.raises(domain.DomainError):
        check_minutes(0, allow_zero=False)


# --- The events -------------------------------------------------------------------------------


@pytest.fixture
def dialogue(app: Flask, client: FlaskClient) -> Dialogue:
    return start_dialogue(app, client, phones=1, screen=True)


def goal_ids(dialogue: Dialogue) -> list[int]:
    return [g["id"] for g in dialogue.state()["agenda"]]


def test_setting_90_minutes_splits_them_over_the_eight_goals(dialogue: Dialogue) -> None:
    assert dialogue.state()["plan"] is None
    assert dialogue.screen is not None
    assert dialogue.screen.emit("state:get", {}, callback=True)["state"]["plan"] is None

    dialogue.do("plan:set", minutes=90)
    state = dialogue.state()["plan"]
    assert state["total_s"] == 5400 and state["fits"]
    assert [g["planned_s"] for g in state["goals"]] == [675] * 8
    public = dialogue.screen.emit("state:get", {}, callback=True)["state"]["plan"]
    assert public["ticking"] is True  # the first goal is current in a running dialogue
    assert 670 <= public["goal_left_s"] <= 675

    ids = goal_ids(dialogue)
    dialogue.do("plan:goal", goal_id=ids[1], minutes=20)
    planned = [g["planned_s"] for g in dialogue.state()["plan"]["goals"]]
    assert planned[1] == 1200 and planned[0] == (5400 - 1200) // 7
    dialogue.do("plan:goal", goal_id=ids[1], minutes=None)  # back to the even split
    assert [g["planned_s"] for g in dialogue.state()["plan"]["goals"]] == [675] * 8
    dialogue.do("plan:set", minutes=None)
    assert dialogue.state()["plan"] is None


def test_the_audit_names_the_minutes(dialogue: Dialogue) -> None:
    dialogue.do("plan:set", minutes=90)
    dialogue.do("plan:goal", goal_id=goal_ids(dialogue)[2], minutes=12)
    with dialogue.app.app_context():
        texts = [e.text for e in queries.audit_records(dialogue.workshop_id)]
    assert "Ändrade tiden för dialogen: 90 min" in texts
    assert "Ändrade tiden för ett mål: Mål 3, 12 min" in texts


@pytest.mark.parametrize("minutes", [-5, 1441, "nittio", [], {"m": 1}, 0])
def test_a_bad_total_is_refused_and_changes_nothing(dialogue: Dialogue, minutes: object) -> None:
    refused(dialogue, "plan:set", "bad_plan", BAD_TOTAL, minutes=minutes)


def test_a_bad_goal_time_is_refused_and_changes_nothing(dialogue: Dialogue) -> None:
    goal = goal_ids(dialogue)[0]
    refused(dialogue, "plan:goal", "bad_plan", BAD_GOAL, goal_id=goal, minutes=-1)
    refused(dialogue, "plan:goal", "bad_plan", BAD_GOAL, goal_id=goal, minutes=24 * 60 + 1)
    refused(dialogue, "plan:goal", "not_found", "Målet finns inte.", goal_id=999999, minutes=5)


def test_the_error_is_translated(app: Flask, client: FlaskClient) -> None:
    client.get("/sprak/en")
    dialogue = start_dialogue(app, client)
    ack = dialogue.fac.emit("plan:set", {"minutes": -1}, callback=True)
    assert ack == {
        "ok": False,
        "code": "bad_plan",
        "error": "Enter a whole number of minutes between 1 and 1440.",
        "fields": {},
    }


def test_a_phone_or_the_presenter_cannot_set_the_plan(dialogue: Dialogue) -> None:
    before = dialogue.state()["plan"]
    for event, payload in (
        ("plan:set", {"minutes": 90}),
        ("plan:goal", {"goal_id": goal_ids(dialogue)[0], "minutes": 5}),
    ):
        ack = dialogue.phones[0].emit(event, payload)
        assert (ack["ok"], ack["code"]) == (False, "forbidden")
        assert dialogue.screen is not None
        assert dialogue.screen.emit(event, payload, callback=True)["code"] == "forbidden"
    assert dialogue.state()["plan"] == before is None


# --- The clock --------------------------------------------------------------------------------


def backdate(app: Flask, goal_id: int, seconds: int) -> None:
    """Pretend the goal has been current for ``seconds`` (instead of sleeping)."""
    with app.app_context():
        goal = db.session.get(Goal, goal_id)
        assert goal.current_since is not None, "the goal should be ticking"
        goal.current_since = goal.current_since - dt.timedelta(seconds=seconds)
        db.session.commit()
    # The time that passed would also have aged state:get's snapshots (STATE_CACHE_SECONDS).
    app.extensions.pop("malverkstad.state_cache", None)


def used_by_goal(dialogue: Dialogue) -> dict[int, int]:
    return {g["id"]: g["used_s"] for g in dialogue.state()["plan"]["goals"]}


def test_the_current_goal_accrues_time_only_while_the_dialogue_runs(dialogue: Dialogue) -> None:
    dialogue.do("plan:set", minutes=90)
    first, second = goal_ids(dialogue)[:2]
    backdate(dialogue.app, first, 300)
    assert 300 <= used_by_goal(dialogue)[first] <= 302

    # Another goal becomes current: the first one stops at its time, the second one starts.
    dialogue.do("goal:select", goal_id=second)
    with dialogue.app.app_context():
        goal = db.session.get(Goal, first)
        assert goal.current_since is None and 300 <= goal.used_seconds <= 302
    backdate(dialogue.app, second, 700)
    state = dialogue.state()["plan"]
    row = next(g for g in state["goals"] if g["id"] == second)
    assert row["over"] and row["ticking"] and row["used_s"] >= 700  # 675 s planned
    public = dialogue.screen.emit("state:get", {}, callback=True)["state"]["plan"]
    assert public["goal_left_s"] <= -25

    # Closing stops every clock; reopening starts the current goal's again.
    dialogue.do("workshop:close")
    with dialogue.app.app_context():
        assert all(
            g.current_since is None for g in db.session.get(Workshop, dialogue.workshop_id).goals
        )
    frozen = used_by_goal(dialogue)
    assert not any(g["ticking"] for g in dialogue.state()["plan"]["goals"])
    dialogue.do("workshop:reopen")
    with dialogue.app.app_context():
        assert db.session.get(Goal, second).current_since is not None
        assert db.session.get(Goal, first).current_since is None
    assert used_by_goal(dialogue)[first] == frozen[first]


def test_a_phase_change_makes_its_goal_the_one_that_ticks(dialogue: Dialogue) -> None:
    first, _, third = goal_ids(dialogue)[:3]
    backdate(dialogue.app, first, 60)
    dialogue.do("phase:set", goal_id=third, phase="forslag")
    with dialogue.app.app_context():
        goals = {g.id: g for g in db.session.get(Workshop, dialogue.workshop_id).goals}
        assert goals[third].current_since is not None
        assert goals[first].current_since is None and goals[first].used_seconds >= 60
        assert goals[third].phase == "forslag"  # the phase change itself still happens


def test_a_draft_workshop_does_not_tick(app: Flask, create_workshop) -> None:
    workshop_id = create_workshop(start=False)
    with app.app_context():
        assert all(g.current_since is None for g in db.session.get(Workshop, workshop_id).goals)


# --- The decision document --------------------------------------------------------------------


def test_the_export_holds_planned_and_used_minutes(dialogue: Dialogue) -> None:
    dialogue.do("plan:set", minutes=90)
    ids = goal_ids(dialogue)
    dialogue.do("plan:goal", goal_id=ids[0], minutes=10)
    backdate(dialogue.app, ids[0], 8 * 60)
    dialogue.do("goal:select", goal_id=ids[1])
    with dialogue.app.app_context():
        workshop = db.session.get(Workshop, dialogue.workshop_id)
        record = queries.workshop_record(workshop, "2019-02-20")
        doc = domain.consolidate(record)
    assert doc.time_plan == "Tid för dialogen: 90 min planerat, 8 min använt."
    assert doc.appendix[0].time == "Tid: 10 min planerat, 8 min använt."
    assert doc.appendix[1].time == "Tid: 11 min planerat, 0 min använt."  # (90 − 10) / 7

    markdown = documents.render_markdown(doc)
    assert "Tid\\: 10 min planerat, 8 min använt\\." in markdown
    assert "Tid för dialogen\\: 90 min planerat, 8 min använt\\." in markdown
    word = docx.Document(io.BytesIO(documents.render_docx(doc)))
    paragraphs = [p.text for p in word.paragraphs]
    assert "Tid: 10 min planerat, 8 min använt." in paragraphs
    assert "Tid för dialogen: 90 min planerat, 8 min använt." in paragraphs
    assert "<p>Tid: 10 min planerat, 8 min använt.</p>" in documents.render_html(doc)


def test_without_a_plan_or_used_time_the_export_has_no_time_lines() -> None:
    record = domain.WorkshopRecord(
        title="T",
        dnr="",
        organisation="",
        unit="",
        meeting_date="2019-02-20",
        recipient="",
        send_to="",
        officer="",
        follow_up_dates=[],
        anonymous=True,
        goals=[domain.GoalRecord(area="A", number="1", text="Mål")],
    )
    doc = domain.consolidate(record)
    assert doc.time_plan == "" and doc.appendix[0].time == ""
    record.goals[0].used_seconds = 125
    doc = domain.consolidate(record)
    assert doc.time_plan == "Tid för dialogen: 2 min använt."
    assert doc.appendix[0].time == "Tid: 2 min använt."


def test_the_archive_does_not_carry_the_time_plan(dialogue: Dialogue) -> None:
    dialogue.do("plan:set", minutes=90)
    with dialogue.app.app_context():
        archive = queries.export_archive(db.session.get(Workshop, dialogue.workshop_id))
    assert archive["archive_version"] == 1
    assert "plan_minutes" not in str(archive) and "used_seconds" not in str(archive)


def test_utcnow_is_naive_like_current_since() -> None:
    # The columns hold naive UTC; a mix would raise in the subtraction.
    assert utcnow().tzinfo is None
