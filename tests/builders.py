"""Shared test builders: a Socket.IO emit that returns its ack, a started dialogue with its
facilitator, screen and phones, and a decided KS mål 2019 workshop built through the services."""

from __future__ import annotations

import secrets
from typing import Any

import socketio
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient

from workshop import services
from workshop.extensions import db
from workshop.models import Workshop

from .conftest import PASSWORD, Phone, connect, table_rows

HOSTILE = '=HYPERLINK("http://example.com","klicka") <script>alert(1)</script> & "citat"'
AMBITION = {
    "kind": "ambitionsniva",
    "what": "Andelen invånare med egen försörjning ska öka med 2 procentenheter",
    "indicator": "Andel invånare 20–64 år utan ekonomiskt bistånd",
    "baseline_value": "91,2 %",
    "baseline_year": "2018",
    "target_value": "93,2 %",
    "target_date": "2019-12-31",
    "resources": "Inom befintlig budget",
    "criteria": {"paverkbart": "ja", "matbart": "ja", "resurser": "delvis"},
}


def emit_ack(
    client: SocketIOTestClient | socketio.Client, event: str, /, **payload: Any
) -> dict[str, Any]:
    """Send one event and return its ack, which must be ``ok``.

    Takes the in-process test client, or a real ``socketio.Client`` (the cluster tests).
    """
    if isinstance(client, socketio.Client):
        ack = client.call(event, payload, timeout=15)
    else:
        ack = client.emit(event, payload, callback=True)
    assert ack["ok"], (event, ack)
    return ack


def open_vote(
    fac: SocketIOTestClient, method: str = "betyg", count: int = 2
) -> tuple[int, int, list[int]]:
    """On the current goal: Förslag, ``count`` proposals by the facilitator, then a vote.

    Returns the goal's id, the open round's id and the proposals' ids.
    """
    goal_id = emit_ack(fac, "state:get")["state"]["goal"]["id"]
    emit_ack(fac, "phase:set", goal_id=goal_id, phase="forslag")
    proposals = [
        emit_ack(
            fac,
            "proposal:add",
            goal_id=goal_id,
            client_id=f"forslag-{n}-{secrets.token_hex(4)}",
            proposal={"kind": "ambitionsniva", "what": f"Förslag {n}"},
        )["proposal"]["id"]
        for n in range(count)
    ]
    emit_ack(fac, "phase:set", goal_id=goal_id, phase="rostning", method=method)
    return goal_id, emit_ack(fac, "state:get")["state"]["vote"]["round_id"], proposals


def start_workshop(app: Flask, *, anonymous: bool = True) -> int:
    """A running workshop from the KS mål 2019 template; returns its id."""
    with app.app_context():
        workshop = services.create_from_template()
        if not anonymous:
            services.update_workshop(workshop.id, workshop.title, anonymous=False)
        services.start_workshop(workshop.id)
        return workshop.id


def login(client: FlaskClient) -> None:
    """Log the HTTP client in as the facilitator the ``app`` fixture created."""
    response = client.post("/login", data={"username": "samtalsledare", "password": PASSWORD})
    assert response.status_code == 302


class Dialogue:
    """A started workshop seen live: the facilitator's socket, optionally the presenter's
    screen, and phones. ``client`` must be logged in as the facilitator (see ``login``)."""

    def __init__(
        self,
        app: Flask,
        client: FlaskClient,
        workshop_id: int,
        *,
        phones: int = 0,
        screen: bool = False,
    ) -> None:
        self.app, self.http, self.workshop_id = app, client, workshop_id
        with app.app_context():
            workshop = db.session.get(Workshop, workshop_id)
            self.screen_key = workshop.screen_key
            self.goal_id = workshop.goals[0].id
        self.fac = connect(app, client, workshop_id, "facilitator")
        self.screen = (
            connect(app, app.test_client(), workshop_id, "screen", key=self.screen_key)
            if screen
            else None
        )
        self.phones = [Phone(app, workshop_id) for _ in range(phones)]

    def do(self, event: str, **payload: Any) -> dict[str, Any]:
        """Send a facilitator event; its ack must be ``ok``."""
        return emit_ack(self.fac, event, **payload)

    def state(self) -> dict[str, Any]:
        """The facilitator's full snapshot."""
        return self.do("state:get")["state"]

    def open_proposals(self) -> int:
        """Move the current goal to Förslag; returns its id (also kept as ``goal_id``)."""
        self.goal_id = self.state()["goal"]["id"]
        self.do("phase:set", goal_id=self.goal_id, phase="forslag")
        return self.goal_id

    def phone(self, name: str | None = None) -> Phone:
        """Join one more phone."""
        phone = Phone(self.app, self.workshop_id, name)
        self.phones.append(phone)
        return phone


def start_dialogue(
    app: Flask,
    client: FlaskClient,
    *,
    phones: int = 0,
    screen: bool = False,
    anonymous: bool = True,
) -> Dialogue:
    """Log in, start a KS mål 2019 workshop and open its live clients."""
    workshop_id = start_workshop(app, anonymous=anonymous)
    login(client)
    return Dialogue(app, client, workshop_id, phones=phones, screen=screen)


def refused(dialogue: Dialogue, event: str, code: str, error: str, **payload: Any) -> None:
    """Send a console event that must be refused with ``code`` and ``error``, changing nothing."""
    before = table_rows(dialogue.app)
    ack = dialogue.fac.emit(event, payload, callback=True)
    assert ack["ok"] is False, ack
    assert (ack["code"], ack["error"]) == (code, error)
    assert table_rows(dialogue.app) == before


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


def build_workshop(app: Flask, *, anonymous: bool = True, voters: int = 5) -> int:
    """Goal 2 decided as an ambition level after a ja/nej vote, goal 6 as an inriktningsmål
    after a criteria vote, goal 5 with a proposal but undecided; edits, a merge, a hidden and
    a parked proposal, a parking point, dissent and follow-ups. Closed at the end."""
    actor = services.Actor("samtalsledare", None)
    with app.app_context(), services.acting_as(actor):
        workshop = services.create_from_template()
        wid = workshop.id
        if not anonymous:
            services.update_workshop(wid, workshop.title, anonymous=False)
        services.start_workshop(wid)
        workshop = db.session.get(Workshop, wid)
        people = [services.join(workshop, None, f"Ledamot {n}") for n in range(voters)]
        secrets_ = [f"telefonens-hemlighet-{n:04d}-abcdef" for n in range(voters)]
        for person, secret in zip(people, secrets_, strict=True):
            services.bind_secret(person.id, secret)  # what each phone's first state:get does
        goal2, goal5, goal6 = (workshop.goals[i].id for i in (1, 4, 5))

        def propose(goal_id: int, raw: dict[str, Any], n: int | None, client: str) -> int:
            kwargs: dict[str, Any] = {"client_id": client}
            if n is not None:
                kwargs.update(participant=people[n], secret=secrets_[n])
            proposal, _new = services.add_proposal(wid, goal_id, raw, **kwargs)
            return proposal.id

        services.select_goal(wid, goal2)
        services.set_phase(wid, goal2, "forslag")
        p1 = propose(goal2, AMBITION, 0, "klient-0001")
        p2 = propose(
            goal2, {"kind": "ambitionsniva", "what": "Fler jobb via Navigator"}, 1, "klient-0002"
        )
        p3 = propose(
            goal2, {"kind": "ambitionsniva", "what": "Fler praktikplatser"}, None, "klient-0003"
        )
        p4 = propose(goal2, {"kind": "ambitionsniva", "what": HOSTILE}, 2, "klient-0004")
        p5 = propose(goal2, {"kind": "ambitionsniva", "what": "Samma som F1"}, 3, "klient-0005")
        p6 = propose(goal2, {"kind": "ambitionsniva", "what": "Utred senare"}, 4, "klient-0006")
        services.edit_proposal(wid, p1, {**AMBITION, "target_value": "93,5 %"})
        services.merge_proposals(
            wid, [p2, p3], {"kind": "ambitionsniva", "what": "Fler jobb och praktikplatser"}
        )
        services.hide_proposal(wid, p5, "Dubblett av F1")
        services.park_proposal(wid, p6)
        services.add_parking(wid, "Se över nyckeltalen i Kolada", goal2)
        services.add_parking(wid, "Gemensam mall för alla mål")
        services.set_phase(wid, goal2, "rostning", method="ja_nej")
        round_id = db.session.get(Workshop, wid).goals[1].current_round.id
        active = db.session.get(Workshop, wid).goals[1].current_round.proposal_ids
        for n, person in enumerate(people):
            answers = {str(pid): ("ja" if (pid == p1) != (n == 4) else "nej") for pid in active}
            if n == 3:
                answers[str(p4)] = "avstar"
            services.cast_vote(person, round_id, secrets_[n], answers)
        services.set_phase(wid, goal2, "resultat")
        services.record_decision(
            wid,
            goal2,
            {
                **AMBITION,
                "proposal_id": p1,
                "dissent": [
                    {"text": "Ambitionsnivån är för låg", "name": "Bo Berg (S)", "consent": True},
                    {"text": "Resurser saknas", "name": "Anonym", "consent": False},
                ],
            },
        )

        services.select_goal(wid, goal5)
        services.set_phase(wid, goal5, "forslag")
        propose(
            goal5, {"kind": "ambitionsniva", "what": "Sjukfrånvaron ska minska"}, 0, "klient-0501"
        )

        services.select_goal(wid, goal6)
        services.set_phase(wid, goal6, "forslag")
        direction = {"kind": "inriktningsmal", "rationale": "KS kan inte ensamt påverka utfallet."}
        d1 = propose(goal6, direction, None, "klient-0601")
        d2 = propose(
            goal6, {"kind": "ambitionsniva", "what": "Två medborgardialoger"}, 1, "klient-0602"
        )
        services.set_phase(wid, goal6, "rostning", method="kriterier")
        round_id = db.session.get(Workshop, wid).goals[5].current_round.id
        for n, person in enumerate(people[:3]):
            rating = {"paverkbart": "ja", "matbart": "delvis", "resurser": ["ja", "nej", "ja"][n]}
            services.cast_vote(person, round_id, secrets_[n], {str(d1): rating, str(d2): rating})
        services.set_phase(wid, goal6, "resultat")
        services.record_decision(wid, goal6, {**direction, "proposal_id": d1})

        services.save_follow_up(
            wid,
            goal2,
            {
                "checkpoint": "2019-04-30",
                "value": "91,8 %",
                "forecast": "delvis",
                "comment": "Arbetsmarknadsenheten har fler inskrivna.",
                "kolada_kpi": "N31807",
            },
        )
        services.save_follow_up(
            wid, goal2, {"checkpoint": "2019-08-31", "value": "92,6 %", "forecast": "uppfylls"}
        )
        services.save_follow_up(
            wid,
            goal6,
            {"checkpoint": "2019-08-31", "activities": "Två dialogmöten med föreningslivet."},
        )
        services.close_workshop(wid)
        return wid
