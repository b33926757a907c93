"""What the console is refused, and what it sees then: moderation, phases, and a vote reopened.

Each refusal comes back in the ack with its code and Swedish message, and leaves every row of
the database as it was.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from workshop import services
from workshop.extensions import db
from workshop.models import Ballot, Decision, Participant, VoteRound, Workshop

from .builders import Dialogue, login, start_dialogue, start_workshop
from .conftest import connect, table_rows

CLOSE_THE_VOTE = "Stäng röstningen innan förslagen ändras."
NO_SUCH_PROPOSAL = "Förslaget finns inte."
PICK_TWO = "Välj minst två förslag att slå samman."
SAME_GOAL = "Bara aktiva förslag för samma mål kan slås samman."
NEW_WORDING = {"kind": "ambitionsniva", "what": "Ny lydelse"}


def refused(dialogue: Dialogue, event: str, code: str, error: str, **payload: Any) -> None:
    """Send a console event that must be refused with ``code`` and ``error``, changing nothing."""
    before = table_rows(dialogue.app)
    ack = dialogue.fac.emit(event, payload, callback=True)
    assert ack["ok"] is False, ack
    assert (ack["code"], ack["error"]) == (code, error)
    assert table_rows(dialogue.app) == before


def statuses(dialogue: Dialogue) -> dict[int, str]:
    """Every proposal's status as the console shows it."""
    return {p["id"]: p["status"] for p in dialogue.state()["all_proposals"]}


class Proposing(Dialogue):
    """A running dialogue whose first goal takes proposals; two phones, each with one."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        login(client)
        super().__init__(app, client, start_workshop(app), phones=2)
        self.open_proposals()
        self.proposals = [
            phone.propose(self.goal_id, f"Förslag från telefon {n}")["proposal"]["id"]
            for n, phone in enumerate(self.phones)
        ]


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
