"""Phases of a goal from the console: the steps refused, and a vote reopened from Resultat.

A refusal comes back in the ack with its code and Swedish message and changes no row; going
back from Resultat to Röstning reopens the same round, going back to Förslag and voting again
replaces it.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from workshop import services
from workshop.extensions import db
from workshop.models import Ballot, Decision, VoteRound, Workshop

from .builders import Dialogue, Proposing, login, refused, start_dialogue
from .conftest import table_rows


@pytest.fixture
def dialogue(app: Flask, client: FlaskClient) -> Proposing:
    return Proposing(app, client)


# --- Phases ---------------------------------------------------------------------------------


def bad_step(current: str, target: str) -> str:
    return f"Det går inte att gå från fasen {current} till {target}."


def test_skipping_a_phase_is_refused(dialogue: Proposing) -> None:
    """One step forward, or back; never a jump forward, nor back to "not started"."""
    goal2 = dialogue.state()["agenda"][1]["id"]
    for target in ("rostning", "resultat"):
        refused(
            dialogue,
            "phase:set",
            "bad_phase",
            bad_step("ej_startad", target),
            goal_id=goal2,
            phase=target,
            method="ja_nej",
        )
    refused(
        dialogue,
        "phase:set",
        "bad_phase",
        bad_step("forslag", "resultat"),
        goal_id=dialogue.goal_id,
        phase="resultat",
    )
    refused(
        dialogue,
        "phase:set",
        "bad_phase",
        bad_step("forslag", "ej_startad"),
        goal_id=dialogue.goal_id,
        phase="ej_startad",
    )
    refused(dialogue, "phase:set", "bad_phase", "Okänd fas.", goal_id=dialogue.goal_id, phase="x")
    refused(
        dialogue,
        "phase:set",
        "bad_phase",
        "Spara ett beslut för målet för att gå till fasen Beslut.",
        goal_id=dialogue.goal_id,
        phase="beslut",
    )
    agenda = {goal["id"]: goal["phase"] for goal in dialogue.state()["agenda"]}
    assert (agenda[dialogue.goal_id], agenda[goal2]) == ("forslag", "ej_startad")


def test_opening_a_vote_needs_a_method_and_proposals(dialogue: Proposing) -> None:
    """No method, an unknown one, a bad dot budget, or nothing active to vote on: refused."""
    goal = dialogue.goal_id
    for method in (None, "", "handuppräckning"):
        refused(
            dialogue,
            "phase:set",
            "bad_method",
            "Välj röstningsmetod innan röstningen öppnas.",
            goal_id=goal,
            phase="rostning",
            method=method,
        )
    for budget in (0, 21, "tre"):
        before = table_rows(dialogue.app)
        ack = dialogue.fac.emit(
            "phase:set",
            {"goal_id": goal, "phase": "rostning", "method": "prickar", "dot_budget": budget},
            callback=True,
        )
        assert ack["ok"] is False, ack
        assert table_rows(dialogue.app) == before
    first, second = dialogue.proposals
    dialogue.do("proposal:hide", id=first, reason="Dubblett")
    dialogue.do("proposal:park", id=second)
    refused(
        dialogue,
        "phase:set",
        "no_proposals",
        "Det finns inga förslag att rösta om.",
        goal_id=goal,
        phase="rostning",
        method="ja_nej",
    )
    state = dialogue.phones[0].state()["state"]
    assert state["goal"]["phase"] == "forslag" and state["vote"] is None


def test_opening_a_vote_publishes_what_is_voted_on(dialogue: Proposing) -> None:
    """Unpublished active proposals are enough: opening the vote shows them to everyone."""
    assert dialogue.phones[0].state()["state"]["proposals"] == []
    dialogue.do("phase:set", goal_id=dialogue.goal_id, phase="rostning", method="ja_nej")
    state = dialogue.phones[0].state()["state"]
    assert [p["id"] for p in state["proposals"]] == dialogue.proposals
    assert [p["id"] for p in state["vote"]["proposals"]] == dialogue.proposals


def test_results_of_a_goal_decided_without_a_vote_are_refused(dialogue: Proposing) -> None:
    """A goal decided straight from Förslag has no round to reveal."""
    dialogue.do(
        "decision:record",
        goal_id=dialogue.goal_id,
        kind="ambitionsniva",
        what="Beslutat utan omröstning",
    )
    refused(
        dialogue,
        "phase:set",
        "no_round",
        "Det finns ingen omröstning att visa.",
        goal_id=dialogue.goal_id,
        phase="resultat",
    )
    assert dialogue.state()["goal"]["phase"] == "beslut"


def test_no_phase_change_in_a_closed_or_draft_workshop(app: Flask, client: FlaskClient) -> None:
    """A closed dialogue is over and a draft has not begun: phases stay where they are."""
    with app.app_context():
        draft_id = services.create_from_template().id
    login(client)
    draft = Dialogue(app, client, draft_id)
    refused(
        draft,
        "phase:set",
        "not_started",
        "Dialogen har inte startat än.",
        goal_id=draft.goal_id,
        phase="forslag",
    )
    closed = start_dialogue(app, client)
    closed.open_proposals()
    closed.do("workshop:close")
    for phase in ("rostning", "ej_startad", "forslag"):
        refused(
            closed,
            "phase:set",
            "closed",
            "Dialogen är avslutad.",
            goal_id=closed.goal_id,
            phase=phase,
            method="ja_nej",
        )
    with app.app_context():
        statuses_ = {
            w.id: (w.status, w.goals[0].phase)
            for w in (
                db.session.get(Workshop, draft_id),
                db.session.get(Workshop, closed.workshop_id),
            )
        }
    assert statuses_ == {
        draft_id: ("utkast", "ej_startad"),
        closed.workshop_id: ("stangd", "forslag"),
    }


def test_phase_of_another_workshops_goal_is_not_found(app: Flask, dialogue: Proposing) -> None:
    """A goal id of another workshop is refused and changes neither workshop."""
    other = start_dialogue(app, app.test_client())
    before = table_rows(app)
    ack = dialogue.fac.emit(
        "phase:set", {"goal_id": other.goal_id, "phase": "forslag"}, callback=True
    )
    assert ack["ok"] is False and ack["code"] == "not_found", ack
    assert table_rows(app) == before


# --- Reopening a vote from Resultat ---------------------------------------------------------


def rounds(app: Flask, goal_id: int) -> list[tuple[int, str, bool]]:
    with app.app_context():
        db.session.remove()
        return [
            (r.number, r.status, r.revealed)
            for r in db.session.scalars(
                sa.select(VoteRound).filter_by(goal_id=goal_id).order_by(VoteRound.number)
            )
        ]


def voted_and_revealed(dialogue: Proposing) -> tuple[int, dict[str, Any]]:
    """Open a ja/nej vote, both phones vote ja on the first proposal, reveal; (round, results)."""
    first, second = dialogue.proposals
    dialogue.do("phase:set", goal_id=dialogue.goal_id, phase="rostning", method="ja_nej")
    round_id = dialogue.phones[0].state()["state"]["vote"]["round_id"]
    for phone in dialogue.phones:
        assert phone.vote(round_id, {str(first): "ja", str(second): "nej"})["ok"]
    dialogue.do("phase:set", goal_id=dialogue.goal_id, phase="resultat")
    results = dialogue.phones[0].state()["state"]["results"]
    assert results is not None
    return round_id, results


def test_back_from_resultat_to_rostning_reopens_the_same_round(
    app: Flask, dialogue: Proposing
) -> None:
    """The ballots cast stay and may be changed; the tally is hidden again until revealed."""
    round_id, results = voted_and_revealed(dialogue)
    dialogue.do("phase:set", goal_id=dialogue.goal_id, phase="rostning")
    state = dialogue.phones[0].state()["state"]
    assert state["vote"]["round_id"] == round_id and state["vote"]["open"]
    assert state["vote"]["answered"] == 2
    assert state["results"] is None
    assert rounds(app, dialogue.goal_id) == [(1, "oppen", False)]
    first, second = dialogue.proposals
    assert dialogue.phones[1].vote(round_id, {str(first): "nej", str(second): "nej"})["ok"]
    dialogue.do("phase:set", goal_id=dialogue.goal_id, phase="resultat")
    again = dialogue.phones[0].state()["state"]["results"]
    assert again["ballots"] == results["ballots"] == 2
    assert again != results


def test_back_to_forslag_then_rostning_replaces_the_round(app: Flask, dialogue: Proposing) -> None:
    """A vote opened anew after Förslag is a new round: the old one is "ersatt", its ballots
    no longer count, and a phone still sending to it is told that the vote is closed."""
    old_round, _results = voted_and_revealed(dialogue)
    dialogue.do("phase:set", goal_id=dialogue.goal_id, phase="forslag")
    dialogue.do("phase:set", goal_id=dialogue.goal_id, phase="rostning", method="betyg")
    vote = dialogue.phones[0].state()["state"]["vote"]
    assert vote["round_id"] != old_round
    assert (vote["number"], vote["method"], vote["open"], vote["answered"]) == (
        2,
        "betyg",
        True,
        0,
    )
    assert rounds(app, dialogue.goal_id) == [(1, "ersatt", True), (2, "oppen", False)]
    first, second = dialogue.proposals
    before = table_rows(app)
    late = dialogue.phones[0].vote(old_round, {str(first): "ja", str(second): "nej"})
    assert (late["ok"], late["code"], late["error"]) == (False, "closed", "Röstningen är stängd.")
    assert table_rows(app) == before
    assert dialogue.phones[0].vote(vote["round_id"], {str(first): 4, str(second): 2})["ok"]
    dialogue.do("phase:set", goal_id=dialogue.goal_id, phase="resultat")
    results = dialogue.phones[1].state()["state"]["results"]
    assert results["ballots"] == 1
    with app.app_context():
        old_ballots = db.session.scalar(
            sa.select(sa.func.count()).select_from(Ballot).filter_by(round_id=old_round)
        )
    assert old_ballots == 2  # kept for the record, counted nowhere


def test_back_from_beslut_deletes_the_decision(app: Flask, dialogue: Proposing) -> None:
    """Stepping back from Beslut reopens the goal: the decision is gone, the results remain."""
    _round, results = voted_and_revealed(dialogue)
    first = dialogue.proposals[0]
    dialogue.do(
        "decision:record",
        goal_id=dialogue.goal_id,
        kind="ambitionsniva",
        proposal_id=first,
        what="Beslutad lydelse",
    )
    assert dialogue.phones[0].state()["state"]["decision"]["fields"]["what"] == "Beslutad lydelse"
    dialogue.do("phase:set", goal_id=dialogue.goal_id, phase="resultat")
    state = dialogue.phones[0].state()["state"]
    assert (state["goal"]["phase"], state["decision"]) == ("resultat", None)
    assert state["results"] == results
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision)) == 0
