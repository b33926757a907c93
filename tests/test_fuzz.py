"""Hostile input over Socket.IO: malformed, oversized, wrongly typed and out-of-order events.

Every event the server registers is sent, from every kind of connection, with payloads drawn by
Hypothesis: None, lists, deep dicts, huge strings, numbers of every kind, booleans, control and
bidi characters, markup, missing fields, unknown ids and the ids of another workshop. The server
must answer each with an acknowledgement (an error, or ok for a payload that happens to be
valid), never fail, keep serving the others, and a refused event must change no row.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workshop import services
from workshop.extensions import db, socketio
from workshop.models import Goal, Proposal, VoteRound

from .builders import emit_ack
from .conftest import PASSWORD, Phone, connect
from .test_authorization import Arena


def registered_events() -> list[str]:
    return sorted(set(socketio.server.handlers["/"]) - {"connect", "disconnect"})


KEYS = [
    "goal_id", "client_id", "secret", "proposal", "round_id", "answers", "id", "ids", "phase",
    "method", "dot_budget", "action", "seconds", "reason", "text", "published", "kind", "what",
    "rationale", "criteria", "dissent", "role", "removed", "proposal_id", "consent", "name",
]  # fmt: skip
WEIRD_TEXT = [
    "",
    " ",
    "x" * 70_000,  # over every limit, and over Engine.IO's 64 KB buffer
    "å" * 5_000,
    "\x00\x01\x07\x1b[31m\x7f",
    "\u202eevil\u202c\u200b\ufeff",
    "\ud7ff\ue000\U0010ffff",
    '<img src=x onerror="alert(1)">',
    "'; DROP TABLE ballot; --",
    "../../etc/passwd",
    "ja",
    "rostning",
    "ja_nej",
    "prickar",
    "start",
    "observator",
    "9" * 400,
]


def nested(depth: int) -> Any:
    value: Any = {"id": 1}
    for n in range(depth):
        value = [value] if n % 2 else {"proposal": value, "ids": [1, 2]}
    return value


def strategies(ids: list[Any]) -> tuple[Any, Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=40),
        st.sampled_from(WEIRD_TEXT),
        st.sampled_from(ids),
    )
    values = st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=6),
            st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=6),
        ),
        max_leaves=12,
    )
    payloads = st.one_of(
        st.dictionaries(st.sampled_from(KEYS), values, max_size=6),
        st.dictionaries(st.sampled_from(KEYS), st.sampled_from(ids), max_size=6),
        values,
        st.integers(min_value=1, max_value=300).map(nested),
    )
    return values, payloads


def all_ids(app: Flask, arena: Arena) -> list[Any]:
    """Ids of both workshops' goals, proposals and rounds, and some that exist nowhere."""
    with app.app_context():
        goals = list(db.session.scalars(sa.select(Goal.id)))
        proposals = list(db.session.scalars(sa.select(Proposal.id)))
        rounds = list(db.session.scalars(sa.select(VoteRound.id)))
    return [
        *goals,
        *proposals,
        *rounds,
        arena.participant_id,
        arena.observer_id,
        arena.other_id,
        *(str(i) for i in proposals),
        0,
        -1,
        2**63,
        "1e3",
        "",
        [arena.p1, arena.p2],
        {str(arena.p1): "ja"},
        arena.participant.secret,
    ]


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (as ``table_rows``, on one connection, for speed)."""
    with app.app_context(), db.engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in db.metadata.sorted_tables
        }


def check_ack(event: str, ack: Any) -> None:
    assert isinstance(ack, dict), (event, ack)
    if ack.get("ok") is True:
        return
    assert ack.get("ok") is False, (event, ack)
    assert isinstance(ack.get("code"), str) and ack["code"], (event, ack)
    assert isinstance(ack.get("error"), str) and ack["error"], (event, ack)
    assert isinstance(ack.get("fields"), dict), (event, ack)


# What a phone may legitimately do (typing changes no row; a draft goes to the parking lot).
ALLOWED_CHANGES = {"proposal:add", "vote:cast", "proposal:typing", "parking:draft"}


def test_fuzz_phones_and_screen_change_nothing(app: Flask, client: FlaskClient) -> None:
    """Phones, an observer and the screen send ~700 hostile events; refused ones change nothing."""
    app.config["EVENT_RATE"] = 0  # reach the validation, not the rate limit (tested elsewhere)
    arena = Arena(app, client, "rostning")
    _values, payloads = strategies(all_ids(app, arena))
    senders = {
        "participant": arena.participant.sio,
        "observer": arena.observer.sio,
        "screen": arena.screen,
        "other_participant": arena.other.sio,
    }
    # Leaving is legitimate for a phone and would end its fuzzing; it is tested elsewhere.
    events = [name for name in registered_events() if name != "participant:leave"]
    sent = {"n": 0, "ok": 0}

    @settings(
        max_examples=180,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.lists(
            st.tuples(st.sampled_from(sorted(senders)), st.sampled_from(events), payloads),
            min_size=4,
            max_size=6,
        )
    )
    def run(batch: list[tuple[str, str, Any]]) -> None:
        before = snapshot(app)
        changed = False
        for sender, event, payload in batch:
            ack = senders[sender].emit(event, payload, callback=True)
            sent["n"] += 1
            check_ack(event, ack)
            if ack["ok"]:
                sent["ok"] += 1
                assert event == "state:get" or event in ALLOWED_CHANGES, (sender, event, payload)
                changed = changed or event != "state:get"
            assert senders[sender].is_connected(), (sender, event)
        if not changed:
            assert snapshot(app) == before, batch

    run()
    print("phones/screen events:", sent)
    assert sent["n"] >= 650, sent
    arena.drain()
    # Everyone is still served: a normal vote from a bystander counts.
    ballot = {str(arena.p1): "ja", str(arena.p2): "nej"}
    assert arena.bystander.vote(arena.round_id, ballot)["ok"] is True
    assert arena.state()["vote"]["answered"] >= 1


def test_fuzz_facilitator_never_breaks_the_server(app: Flask, client: FlaskClient) -> None:
    """The facilitator's console sends ~400 hostile events; each gets an ack, the server lives."""
    app.config["EVENT_RATE"] = 0  # reach the validation, not the rate limit (tested elsewhere)
    arena = Arena(app, client, "rostning")
    _values, payloads = strategies(all_ids(app, arena))
    sent = {"n": 0}

    @settings(
        max_examples=100,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.lists(st.tuples(st.sampled_from(registered_events()), payloads), min_size=4, max_size=6)
    )
    def run(batch: list[tuple[str, Any]]) -> None:
        for event, payload in batch:
            ack = arena.fac.emit(event, payload, callback=True)
            sent["n"] += 1
            check_ack(event, ack)
            if event == "participant:leave":
                assert ack["code"] == "forbidden"
            arena.drain()

    run()
    print("facilitator events:", sent)
    assert sent["n"] >= 350, sent
    # Workshop B, which the console could name but not touch, is unchanged and still works.
    with app.app_context():
        other = services.get_workshop(arena.other_id)
        assert other.status == "pagar"
        goal_id = other.goals[0].id
    assert arena.other.state()["ok"]
    # And a new dialogue on the same server runs a normal vote.
    fresh = app.test_client()
    fresh.post("/login", data={"username": "samtalsledare", "password": PASSWORD})
    with app.app_context():
        workshop = services.create_from_template()
        services.start_workshop(workshop.id)
        workshop_id, goal_id = workshop.id, workshop.goals[0].id
    fac = connect(app, fresh, workshop_id, "facilitator")
    phone = Phone(app, workshop_id)
    emit_ack(fac, "phase:set", goal_id=goal_id, phase="forslag")
    proposal_id = phone.propose(goal_id, "Fungerar fortfarande")["proposal"]["id"]
    ack = fac.emit(
        "phase:set",
        {"goal_id": goal_id, "phase": "rostning", "method": "ja_nej"},
        callback=True,
    )
    assert ack["ok"]
    round_id = phone.state()["state"]["vote"]["round_id"]
    assert phone.vote(round_id, {str(proposal_id): "ja"})["ok"]
