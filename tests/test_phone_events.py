"""The phone's live extras of issue 13: ``proposal:typing`` (a count for the console) and
``parking:draft`` (an unsent draft to the parking lot once proposals close)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from workshop.extensions import db
from workshop.models import ParkingItem

from .builders import Dialogue, emit_ack, start_dialogue

DRAFT = "Fler ska gå vidare till studier efter gymnasiet"


def typing(dialogue: Dialogue) -> int:
    return dialogue.state()["people"]["typing"]


def parking_rows(app: Flask) -> list[tuple[int | None, str]]:
    with app.app_context():
        return [(p.goal_id, p.text) for p in db.session.scalars(db.select(ParkingItem))]


def test_typing_is_a_count_while_the_goal_takes_proposals(app: Flask, client: FlaskClient) -> None:
    dialogue = start_dialogue(app, client, phones=3)
    first, second, third = dialogue.phones
    goal_id = dialogue.state()["goal"]["id"]
    # Before Förslag nothing is counted.
    assert emit_ack(first.sio, "proposal:typing", goal_id=goal_id, typing=True)["typing"] is False
    assert typing(dialogue) == 0

    dialogue.open_proposals()
    dialogue.fac.get_received()
    emit_ack(first.sio, "proposal:typing", goal_id=goal_id, typing=True)
    emit_ack(second.sio, "proposal:typing", goal_id=goal_id, typing=True)
    emit_ack(second.sio, "proposal:typing", goal_id=goal_id, typing=True)  # again: still one
    assert typing(dialogue) == 2
    pushed = [s for s in dialogue.fac.get_received() if s["name"] == "state"]
    assert pushed and pushed[-1]["args"][0]["people"]["typing"] == 2
    # A count only: the snapshot names nobody as typing, and phones do not get the count.
    assert "typing" not in first.state()["state"]["people"]

    emit_ack(first.sio, "proposal:typing", goal_id=goal_id, typing=False)
    assert typing(dialogue) == 1
    second.sio.disconnect()  # a phone that goes away stops typing
    assert typing(dialogue) == 0

    emit_ack(third.sio, "proposal:typing", goal_id=goal_id, typing=True)
    assert typing(dialogue) == 1
    first.propose(goal_id, "Ett förslag att rösta om")
    dialogue.do("phase:set", goal_id=goal_id, phase="rostning", method="ja_nej")
    assert typing(dialogue) == 0  # proposals closed: nobody is counted as typing


def voting(app: Flask, client: FlaskClient) -> tuple[Dialogue, int]:
    dialogue = start_dialogue(app, client, phones=2)
    goal_id = dialogue.open_proposals()
    dialogue.phones[0].propose(goal_id, "Ett förslag att rösta om")
    dialogue.do("phase:set", goal_id=goal_id, phase="rostning", method="ja_nej")
    return dialogue, goal_id


def test_draft_goes_to_the_parking_lot_once_without_an_author(
    app: Flask, client: FlaskClient
) -> None:
    dialogue, goal_id = voting(app, client)
    phone = dialogue.phones[1]
    payload = {"goal_id": goal_id, "text": DRAFT, "client_id": "utkast-abcdef12"}
    ack = emit_ack(phone.sio, "parking:draft", **payload)
    assert ack["parking"]["goal_id"] == goal_id
    again = emit_ack(phone.sio, "parking:draft", **payload)  # a resend after a lost ack
    assert again["parking"]["id"] == ack["parking"]["id"]
    assert parking_rows(app) == [(goal_id, DRAFT)]
    assert [(p["goal_id"], p["text"]) for p in dialogue.state()["parking"]] == [(goal_id, DRAFT)]


def test_draft_for_another_goal_or_while_proposals_are_open_is_refused(
    app: Flask, client: FlaskClient
) -> None:
    dialogue = start_dialogue(app, client, phones=1)
    phone = dialogue.phones[0]
    goals = [g["id"] for g in dialogue.state()["agenda"]]
    goal_id = dialogue.open_proposals()
    ack = phone.emit("parking:draft", {"goal_id": goal_id, "text": DRAFT})
    assert (ack["ok"], ack["code"]) == (False, "wrong_phase")
    assert ack["error"] == (
        "Förslagen är inte stängda för det här målet. Skicka utkastet som ett förslag."
    )
    phone.propose(goal_id, "Ett förslag att rösta om")
    dialogue.do("phase:set", goal_id=goal_id, phase="rostning", method="ja_nej")
    ack = phone.emit("parking:draft", {"goal_id": goals[1], "text": DRAFT})
    assert (ack["ok"], ack["code"]) == (False, "wrong_goal")
    assert ack["error"] == "Utkastet gäller ett mål som inte pågår nu. Det kan inte tas vidare."
    ack = phone.emit("parking:draft", {"goal_id": goal_id, "text": "   "})
    assert (ack["ok"], ack["code"]) == (False, "required")
    assert parking_rows(app) == []
    # The facilitator's own parking event stays theirs: a phone is refused.
    ack = phone.emit("parking:add", {"goal_id": goal_id, "text": DRAFT})
    assert (ack["ok"], ack["code"]) == (False, "forbidden")
    assert parking_rows(app) == []
