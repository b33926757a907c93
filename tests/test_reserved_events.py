"""A client cannot trigger the server's own connect/disconnect handlers by naming an event so.

Before the guard (``workshop/live/guard.py``) a phone that emitted ``disconnect`` was forgotten
while its socket stayed open, and ``connect`` registered it again with a full rate bucket.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient

from workshop.extensions import db, socketio
from workshop.live import guard, rooms
from workshop.models import Participant

from .builders import emit_ack, start_dialogue

RESERVED = sorted(guard.RESERVED_EVENTS)


def sid_of(client: SocketIOTestClient) -> str:
    return socketio.server.manager.sid_from_eio_sid(client.eio_sid, "/")


def test_the_guard_knows_every_name_python_socketio_reserves() -> None:
    from socketio.base_client import BaseClient

    assert set(BaseClient.reserved_events) <= guard.RESERVED_EVENTS | {"__disconnect_final"}
    assert guard.is_reserved(["disconnect", {}]) and not guard.is_reserved(["state:get", {}])
    assert not guard.is_reserved([]) and not guard.is_reserved("disconnect")


@pytest.mark.parametrize("name", RESERVED)
def test_a_phone_naming_a_reserved_event_stays_as_it_was(
    app: Flask, client: FlaskClient, name: str, monkeypatch: Any
) -> None:
    dialogue = start_dialogue(app, client, phones=1)
    phone = dialogue.phones[0]
    sid = sid_of(phone.sio)
    registered = rooms.connection(sid)
    assert registered is not None and registered.role == "people"
    with app.app_context():
        online = rooms.online_count(dialogue.workshop_id)

    clock = [time.monotonic() + 10]  # a full bucket, and a clock that stands still
    monkeypatch.setattr(rooms.time, "monotonic", lambda: clock[0])
    acks = [phone.emit("state:get", {"secret": phone.secret}) for _ in range(41)]
    assert acks[-1]["code"] == "rate_limited"  # the burst of 40 is spent

    assert phone.sio.emit(name, {"workshop": dialogue.workshop_id}, callback=True) is None
    phone.sio.emit(name)

    assert rooms.connection(sid) == registered  # neither forgotten nor registered anew
    with app.app_context():
        assert rooms.online_count(dialogue.workshop_id) == online
    assert phone.emit("state:get", {"secret": phone.secret})["code"] == "rate_limited"
    assert phone.sio.is_connected()


def participant_ids(app: Flask) -> list[int]:
    with app.app_context():
        return sorted(db.session.scalars(sa.select(Participant.id)))


def test_a_removed_phone_that_named_disconnect_is_still_closed(
    app: Flask, client: FlaskClient
) -> None:
    dialogue = start_dialogue(app, client, phones=2)
    target, other = dialogue.phones  # joined in this order, so the target has the lower id
    target.sio.emit("disconnect", {})
    target.sio.emit("connect", {})
    removed = participant_ids(app)[0]

    emit_ack(dialogue.fac, "participant:update", id=removed, removed=True)

    assert not target.sio.is_connected()
    assert other.sio.is_connected()
    assert all(c.participant_id != removed for c in rooms.local_connections().values())


def test_a_console_that_named_connect_is_closed_at_logout(app: Flask, client: FlaskClient) -> None:
    dialogue = start_dialogue(app, client)
    dialogue.fac.emit("connect", {"workshop": dialogue.workshop_id, "role": "facilitator"})
    dialogue.fac.emit("disconnect")
    assert dialogue.fac.is_connected()
    assert emit_ack(dialogue.fac, "state:get")["state"]["goal"]["id"] == dialogue.goal_id

    assert client.post("/logout").status_code == 302

    assert not dialogue.fac.is_connected()
    assert all(c.role != "facilitator" for c in rooms.local_connections().values())
