"""What the console is refused when it moderates, proposes, decides, times or manages people.

Each refusal comes back in the ack with its code and Swedish message, and leaves every row of
the database as it was. The phases' refusals are in tests/test_phases.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from workshop import services
from workshop.extensions import db
from workshop.models import Participant

from .builders import Dialogue, Proposing, login, refused, start_dialogue
from .conftest import connect, table_rows

CLOSE_THE_VOTE = "Stäng röstningen innan förslagen ändras."
NO_SUCH_PROPOSAL = "Förslaget finns inte."
PICK_TWO = "Välj minst två förslag att slå samman."
SAME_GOAL = "Bara aktiva förslag för samma mål kan slås samman."
NEW_WORDING = {"kind": "ambitionsniva", "what": "Ny lydelse"}


def statuses(dialogue: Dialogue) -> dict[int, str]:
    """Every proposal's status as the console shows it."""
    return {p["id"]: p["status"] for p in dialogue.state()["all_proposals"]}


@pytest.fixture
def dialogue(app: Flask, client: FlaskClient) -> Proposing:
    return Proposing(app, client)


# --- Moderation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "extra"),
    [
        ("proposal:edit", {"proposal": NEW_WORDING}),
        ("proposal:hide", {"reason": "Dubblett"}),
        ("proposal:restore", {}),
        ("proposal:park", {}),
    ],
)
def test_moderating_a_proposal_of_another_workshop_is_not_found(
    app: Flask, dialogue: Proposing, event: str, extra: dict[str, Any]
) -> None:
    """An id of another workshop's proposal (or none at all) is "not found", never changed."""
    other = start_dialogue(app, app.test_client(), phones=1)
    other.open_proposals()
    foreign = other.phones[0].propose(other.goal_id, "Annan dialog")["proposal"]["id"]
    for proposal_id in (foreign, max(foreign, *dialogue.proposals) + 1000):
        refused(dialogue, event, "not_found", NO_SUCH_PROPOSAL, id=proposal_id, **extra)
    refused(dialogue, event, "bad_payload", "Ogiltigt id.", id="F1", **extra)
    assert other.state()["all_proposals"][0]["status"] == "aktiv"


@pytest.mark.parametrize(
    ("event", "extra"),
    [
        ("proposal:edit", {"proposal": NEW_WORDING}),
        ("proposal:hide", {"reason": "Dubblett"}),
        ("proposal:restore", {}),
        ("proposal:park", {}),
        ("proposal:merge", {"proposal": NEW_WORDING}),
    ],
)
def test_no_moderation_while_the_vote_is_open(
    dialogue: Proposing, event: str, extra: dict[str, Any]
) -> None:
    """Proposals stay as the phones vote on them until the facilitator closes the vote."""
    dialogue.do("phase:set", goal_id=dialogue.goal_id, phase="rostning", method="ja_nej")
    if event == "proposal:merge":
        target: dict[str, Any] = {"ids": dialogue.proposals}
    else:
        target = {"id": dialogue.proposals[0]}
    refused(dialogue, event, "wrong_phase", CLOSE_THE_VOTE, **target, **extra)
    vote = dialogue.phones[0].state()["state"]["vote"]
    assert vote["open"] and [p["id"] for p in vote["proposals"]] == dialogue.proposals


def test_restoring_an_active_or_merged_proposal_is_refused(dialogue: Proposing) -> None:
    """Only a hidden or parked proposal comes back; an active or merged one stays as it is."""
    first, second = dialogue.proposals
    refused(
        dialogue,
        "proposal:restore",
        "bad_state",
        "Förslaget är redan aktivt.",
        id=first,
    )
    merged = dialogue.do("proposal:merge", ids=[first, second], proposal=NEW_WORDING)
    refused(
        dialogue,
        "proposal:restore",
        "bad_state",
        "Förslaget är redan aktivt.",
        id=first,
    )
    assert statuses(dialogue) == {
        first: "sammanslagen",
        second: "sammanslagen",
        merged["proposal"]["id"]: "aktiv",
    }


def test_hiding_needs_a_short_reason(dialogue: Proposing) -> None:
    """The room is told why a proposal disappeared: no reason, or an essay, is refused."""
    first = dialogue.proposals[0]
    for reason in (None, "", "   "):
        refused(
            dialogue,
            "proposal:hide",
            "required",
            "Ange ett skäl, t.ex. dubblett.",
            id=first,
            reason=reason,
        )
    refused(
        dialogue,
        "proposal:hide",
        "too_long",
        "Högst 200 tecken.",
        id=first,
        reason="x" * 201,
    )
    refused(
        dialogue,
        "proposal:hide",
        "bad_payload",
        "Fältet har fel format.",
        id=first,
        reason=["Dubblett"],
    )
    assert statuses(dialogue)[first] == "aktiv"


def test_editing_to_an_invalid_wording_is_refused(dialogue: Proposing) -> None:
    """An edit is checked like a new proposal; a refused one keeps the first wording."""
    first = dialogue.proposals[0]
    before = table_rows(dialogue.app)
    ack = dialogue.fac.emit(
        "proposal:edit", {"id": first, "proposal": {"kind": "ambitionsniva"}}, callback=True
    )
    assert (ack["ok"], ack["code"], ack["error"]) == (
        False,
        "invalid_fields",
        "Förslaget har fel som behöver rättas.",
    )
    assert ack["fields"] == {"what": "Beskriv vad som ska uppnås."}
    assert table_rows(dialogue.app) == before
    shown = next(p for p in dialogue.state()["all_proposals"] if p["id"] == first)
    assert shown["fields"]["what"] == "Förslag från telefon 0"
    assert shown["edited"] is False


def test_merge_refusals(app: Flask, dialogue: Proposing) -> None:
    """Merging takes two or more active proposals of one goal of this workshop."""
    first, second = dialogue.proposals
    for ids in (None, first, [], [first], [first, first, str(first)], list(range(1, 52))):
        refused(dialogue, "proposal:merge", "bad_merge", PICK_TWO, ids=ids, proposal=NEW_WORDING)
    refused(
        dialogue,
        "proposal:merge",
        "bad_payload",
        "Ogiltigt id.",
        ids=[first, "F2"],
        proposal=NEW_WORDING,
    )
    # A proposal of another goal, then one that is hidden.
    goal2 = dialogue.state()["agenda"][1]["id"]
    other_goal = dialogue.do(
        "proposal:add",
        goal_id=goal2,
        client_id="refusal-other-goal",
        proposal={"kind": "ambitionsniva", "what": "Annat mål"},
    )["proposal"]["id"]
    refused(
        dialogue,
        "proposal:merge",
        "bad_merge",
        SAME_GOAL,
        ids=[first, other_goal],
        proposal=NEW_WORDING,
    )
    dialogue.do("proposal:hide", id=second, reason="Dubblett")
    refused(
        dialogue,
        "proposal:merge",
        "bad_merge",
        SAME_GOAL,
        ids=[first, second],
        proposal=NEW_WORDING,
    )
    dialogue.do("proposal:restore", id=second)
    # Another workshop's proposal is not found; an invalid wording is refused like an edit.
    other = start_dialogue(app, app.test_client(), phones=1)
    other.open_proposals()
    foreign = other.phones[0].propose(other.goal_id, "Annan dialog")["proposal"]["id"]
    refused(
        dialogue,
        "proposal:merge",
        "not_found",
        NO_SUCH_PROPOSAL,
        ids=[first, foreign],
        proposal=NEW_WORDING,
    )
    before = table_rows(app)
    ack = dialogue.fac.emit(
        "proposal:merge", {"ids": [first, second], "proposal": {"kind": "nej"}}, callback=True
    )
    assert ack["ok"] is False and ack["code"] != "bad_merge", ack
    assert table_rows(app) == before
    assert statuses(dialogue) == {first: "aktiv", second: "aktiv"}


def test_merged_proposals_cannot_be_merged_again(dialogue: Proposing) -> None:
    """Once merged, the sources are no longer active: merging them again is refused."""
    first, second = dialogue.proposals
    merged = dialogue.do("proposal:merge", ids=[first, second], proposal=NEW_WORDING)
    refused(
        dialogue,
        "proposal:merge",
        "bad_merge",
        SAME_GOAL,
        ids=[first, merged["proposal"]["id"]],
        proposal=NEW_WORDING,
    )


# --- Proposals, decisions, timer, people: the other refusals of the console ----------------


def test_proposal_refusals(dialogue: Proposing) -> None:
    """A phone proposes only to the current goal in Förslag; a decided goal takes none."""
    goal2 = dialogue.state()["agenda"][1]["id"]
    phone = dialogue.phones[0]
    before = table_rows(dialogue.app)
    ack = phone.propose(goal2, "Till fel mål")
    assert (ack["ok"], ack["code"], ack["error"]) == (
        False,
        "wrong_phase",
        "Förslag tas inte emot för det här målet just nu.",
    )
    ack = phone.emit(
        "proposal:add",
        {"goal_id": dialogue.goal_id, "client_id": "kort", "proposal": NEW_WORDING},
    )
    assert (ack["ok"], ack["code"], ack["error"]) == (
        False,
        "bad_payload",
        "Förslaget saknar id. Ladda om sidan och försök igen.",
    )
    assert table_rows(dialogue.app) == before
    dialogue.do("decision:record", goal_id=dialogue.goal_id, kind="ambitionsniva", what="Klart")
    refused(
        dialogue,
        "proposal:add",
        "wrong_phase",
        "Målet är redan beslutat. Gå tillbaka ett steg först.",
        goal_id=dialogue.goal_id,
        client_id="samtalsledare-sent",
        proposal=NEW_WORDING,
    )


def test_decision_refusals(dialogue: Proposing) -> None:
    """A decision carries a proposal of its own goal and readable reservations."""
    goal2 = dialogue.state()["agenda"][1]["id"]
    dialogue.do("goal:select", goal_id=goal2)
    dialogue.do("phase:set", goal_id=goal2, phase="forslag")
    decision = {"goal_id": goal2, "kind": "ambitionsniva", "what": "Beslut"}
    refused(
        dialogue,
        "decision:record",
        "bad_payload",
        "Förslaget hör till ett annat mål.",
        proposal_id=dialogue.proposals[0],
        **decision,
    )
    unreadable = "Reservationerna kunde inte läsas."
    for dissent in ("Jag reserverar mig", [{"text": "ok"}] * 31, ["Jag reserverar mig"]):
        refused(dialogue, "decision:record", "bad_payload", unreadable, dissent=dissent, **decision)
    assert dialogue.state()["goal"]["phase"] == "forslag"


def test_timer_refusals(dialogue: Proposing) -> None:
    """The timer takes whole seconds from 10 to 3600, and start, add or stop."""
    for seconds in (None, 9, 3601, "60", 60.0, True):
        refused(
            dialogue,
            "timer:set",
            "bad_timer",
            "Ange en tid mellan 10 sekunder och 60 minuter.",
            action="start",
            seconds=seconds,
        )
    refused(dialogue, "timer:set", "bad_timer", "Okänd timeråtgärd.", action="pause")
    assert dialogue.phones[0].state()["state"]["timer"] == {"ends_at": None}


def test_participant_refusals(app: Flask, dialogue: Proposing) -> None:
    """Only this workshop's participants, and only the roles deltagare and observatör."""
    other = start_dialogue(app, app.test_client(), phones=1)
    with app.app_context():
        foreign = db.session.scalar(
            sa.select(Participant.id).filter_by(workshop_id=other.workshop_id)
        )
        own = db.session.scalar(
            sa.select(Participant.id).filter_by(workshop_id=dialogue.workshop_id)
        )
    for participant_id in (foreign, foreign + 1000):
        refused(
            dialogue,
            "participant:update",
            "not_found",
            "Deltagaren finns inte.",
            id=participant_id,
            removed=True,
        )
    refused(dialogue, "participant:update", "bad_role", "Okänd roll.", id=own, role="ordforande")
    assert {p["role"] for p in dialogue.state()["participants"]} == {"deltagare"}


def test_a_workshop_without_goals_cannot_start(app: Flask, client: FlaskClient) -> None:
    """Starting needs a goal to show first."""
    with app.app_context():
        empty = services.create_workshop("Tom dialog").id
    login(client)
    fac = connect(app, client, empty, "facilitator")
    before = table_rows(app)
    ack = fac.emit("workshop:start", {}, callback=True)
    assert (ack["ok"], ack["code"], ack["error"]) == (
        False,
        "no_goals",
        "Lägg till minst ett mål innan dialogen startar.",
    )
    assert table_rows(app) == before


def test_a_second_edit_keeps_the_first_original(dialogue: Proposing) -> None:
    """The export shows what was first proposed, however often it was reworded."""
    first = dialogue.proposals[0]
    dialogue.do("proposal:edit", id=first, proposal=NEW_WORDING)
    dialogue.do("proposal:edit", id=first, proposal={"kind": "ambitionsniva", "what": "Tredje"})
    shown = next(p for p in dialogue.state()["all_proposals"] if p["id"] == first)
    assert shown["fields"]["what"] == "Tredje"
    assert shown["original"]["what"] == "Förslag från telefon 0"
