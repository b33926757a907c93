"""The projector's page, focus and auto-advance: who may set them and what everyone sees."""

from __future__ import annotations

import secrets

from flask import Flask
from flask.testing import FlaskClient

from .builders import Dialogue, emit_ack, refused, start_dialogue


def _screen(dialogue: Dialogue) -> dict[str, object]:
    return dialogue.phones[0].state()["state"]["screen"]


def _published(dialogue: Dialogue, count: int = 2) -> list[int]:
    goal_id = dialogue.open_proposals()
    ids = [
        dialogue.do(
            "proposal:add",
            goal_id=goal_id,
            client_id=f"skarm-{n}-{secrets.token_hex(4)}",
            proposal={"kind": "ambitionsniva", "what": f"Förslag {n}"},
        )["proposal"]["id"]
        for n in range(count)
    ]
    dialogue.do("proposal:publish", ids=ids, published=True)
    return ids


def test_the_public_snapshot_carries_page_focus_and_auto(app: Flask, client: FlaskClient) -> None:
    dialogue = start_dialogue(app, client, phones=1, screen=True)
    ids = _published(dialogue)
    assert _screen(dialogue) == {"page": 0, "focus": None, "auto": False}
    dialogue.do("screen:page", delta=1)
    dialogue.do("screen:page", delta=1)
    dialogue.do("screen:auto", on=True)
    assert _screen(dialogue) == {"page": 2, "focus": None, "auto": True}
    dialogue.do("screen:page", delta=-1)
    dialogue.do("screen:focus", proposal_id=ids[1])
    assert _screen(dialogue) == {"page": 1, "focus": ids[1], "auto": True}
    assert emit_ack(dialogue.screen, "state:get")["state"]["screen"]["focus"] == ids[1]
    # Paging leaves the focus; page 0 is the floor.
    dialogue.do("screen:page", page=0)
    dialogue.do("screen:page", delta=-1)
    assert _screen(dialogue) == {"page": 0, "focus": None, "auto": True}
    dialogue.do("screen:focus", proposal_id=ids[0])
    dialogue.do("screen:focus", proposal_id=None)
    assert _screen(dialogue)["focus"] is None


def test_a_new_phase_or_goal_starts_at_the_first_page(app: Flask, client: FlaskClient) -> None:
    dialogue = start_dialogue(app, client, phones=1)
    ids = _published(dialogue)
    dialogue.do("screen:page", page=3)
    dialogue.do("screen:focus", proposal_id=ids[0])
    dialogue.do("phase:set", goal_id=dialogue.goal_id, phase="rostning", method="ja_nej")
    assert _screen(dialogue) == {"page": 0, "focus": None, "auto": False}
    dialogue.do("screen:page", page=2)
    goals = dialogue.state()["agenda"]
    dialogue.do("goal:select", goal_id=goals[1]["id"])
    assert _screen(dialogue)["page"] == 0


def test_bad_pages_and_foreign_proposals_are_refused(app: Flask, client: FlaskClient) -> None:
    dialogue = start_dialogue(app, client, phones=1)
    ids = _published(dialogue)
    hidden = dialogue.do(
        "proposal:add",
        goal_id=dialogue.goal_id,
        client_id=f"opublicerat-{secrets.token_hex(4)}",
        proposal={"kind": "ambitionsniva", "what": "Inte publicerat"},
    )["proposal"]["id"]
    bad_page = ("bad_payload", "Ogiltigt sidnummer.")
    refused(dialogue, "screen:page", *bad_page, page=-1)
    refused(dialogue, "screen:page", *bad_page, page=1000)
    refused(dialogue, "screen:page", *bad_page, page=True)
    refused(dialogue, "screen:page", *bad_page, delta=2)
    refused(dialogue, "screen:page", *bad_page, page=1, delta=1)
    refused(dialogue, "screen:page", *bad_page)
    refused(dialogue, "screen:auto", "bad_payload", "Ange på eller av.", on="ja")
    refused(
        dialogue,
        "screen:focus",
        "not_published",
        "Bara publicerade förslag kan visas på skärmen.",
        proposal_id=hidden,
    )
    refused(dialogue, "screen:focus", "not_found", "Förslaget finns inte.", proposal_id=999999)
    goals = dialogue.state()["agenda"]
    dialogue.do("goal:select", goal_id=goals[1]["id"])
    refused(
        dialogue,
        "screen:focus",
        "not_current",
        "Förslaget hör inte till det aktuella målet.",
        proposal_id=ids[0],
    )


def test_a_phone_and_the_presenter_cannot_page_focus_or_auto(
    app: Flask, client: FlaskClient
) -> None:
    dialogue = start_dialogue(app, client, phones=1, screen=True)
    ids = _published(dialogue)
    phone = dialogue.phones[0]
    for event, payload in (
        ("screen:page", {"delta": 1}),
        ("screen:page", {"page": 2}),
        ("screen:focus", {"proposal_id": ids[0]}),
        ("screen:auto", {"on": True}),
    ):
        for sender in (phone.sio, dialogue.screen):
            ack = sender.emit(event, payload, callback=True)
            assert ack["ok"] is False and ack["code"] == "forbidden", (event, ack)
    assert _screen(dialogue) == {"page": 0, "focus": None, "auto": False}
