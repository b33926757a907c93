"""A proposal hidden after the reveal leaves what phones and the projector are sent."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient

from .builders import emit_ack, open_vote, start_dialogue


def test_a_proposal_hidden_in_resultat_leaves_the_public_vote(
    app: Flask, client: FlaskClient
) -> None:
    dialogue = start_dialogue(app, client, phones=1, screen=True)
    goal_id, round_id, (kept, hidden) = open_vote(dialogue.fac, "ja_nej")
    phone = dialogue.phones[0]
    assert phone.vote(round_id, {str(kept): "ja", str(hidden): "nej"})["ok"]
    dialogue.do("phase:set", goal_id=goal_id, phase="resultat")
    before = phone.state()["state"]["vote"]["proposals"]
    assert [p["id"] for p in before] == [kept, hidden]

    dialogue.do("proposal:hide", id=hidden, reason="Dubblett")

    for state in (phone.state()["state"], emit_ack(dialogue.screen, "state:get")["state"]):
        assert [p["id"] for p in state["vote"]["proposals"]] == [kept]
        assert "Förslag 1" not in json.dumps(state, ensure_ascii=False)  # its text is gone
        assert "Förslag 0" in json.dumps(state, ensure_ascii=False)
    # The count stays whole: the result is what the room voted, only the text is withdrawn.
    assert phone.state()["state"]["results"]["ballots"] == 1
