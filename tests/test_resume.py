"""Idempotent and resumable: resends after a reconnect, duplicates and late older votes.

A vote carries ``vote_id`` (random, per revision) and ``rev`` (rising per change); the
database keeps one ballot per phone and round and never lets an older revision overwrite a
newer one. Pushes carry ``prev_seq`` so a client can tell that it missed one.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import IntegrityError

from workshop import services
from workshop.extensions import db
from workshop.models import Ballot, Participant, Proposal

from .builders import emit_ack, open_vote
from .conftest import Phone, connect, received


class Vote:
    """A started workshop with an open betyg vote over two proposals, and one phone."""

    def __init__(self, app: Flask, workshop_id: int, fac: Any) -> None:
        self.app, self.workshop_id, self.fac = app, workshop_id, fac
        self.goal_id, self.round_id, self.proposals = open_vote(fac, "betyg")
        self.phone = Phone(app, workshop_id)

    def ballot(self, grade: int, rev: int, vote_id: str | None = None) -> dict[str, Any]:
        return {
            "round_id": self.round_id,
            "secret": self.phone.secret,
            "answers": {str(p): grade for p in self.proposals},
            "vote_id": vote_id or secrets.token_hex(8),
            "rev": rev,
        }

    def rows(self) -> list[tuple[dict[str, Any], int, str]]:
        with self.app.app_context():
            db.session.remove()
            return [
                (b.answers, b.rev, b.vote_id)
                for b in db.session.scalars(sa.select(Ballot).filter_by(round_id=self.round_id))
            ]

    def fac_state(self) -> dict[str, Any]:
        return emit_ack(self.fac, "state:get")["state"]


@pytest.fixture
def vote(app: Flask, create_workshop: Any, facilitator_socket: Any) -> Vote:
    workshop_id = create_workshop()
    return Vote(app, workshop_id, facilitator_socket(workshop_id))


def test_resend_after_reconnect_is_not_counted_twice(app: Flask, vote: Vote) -> None:
    payload = vote.ballot(4, rev=1)
    ack = vote.phone.emit("vote:cast", payload)
    stored_seq = ack.pop("seq")
    assert ack == {"ok": True, "changed": False, "duplicate": False, "stale": False, "rev": 1}
    before = vote.fac_state()
    assert before["seq"] == stored_seq

    # The ack was lost with the connection; the phone reconnects and sends the same ballot.
    vote.phone.sio.disconnect()
    vote.phone.sio = connect(app, vote.phone.http, vote.workshop_id, "people")
    received(vote.fac)
    ack = vote.phone.emit("vote:cast", payload)
    assert ack.pop("seq") == stored_seq
    assert ack == {"ok": True, "changed": False, "duplicate": True, "stale": False, "rev": 1}

    after = vote.fac_state()
    assert after["vote"]["answered"] == before["vote"]["answered"] == 1
    assert after["live_tally"]["ballots"] == 1
    assert after["seq"] == before["seq"]  # nothing changed, so nothing was pushed
    assert received(vote.fac) == []
    assert vote.rows() == [({str(p): 4 for p in vote.proposals}, 1, payload["vote_id"])]
    own = vote.phone.state()["own"]
    assert own["my_ballot"] == {str(p): 4 for p in vote.proposals}
    assert own["my_ballot_rev"] == 1


def test_duplicate_delivery_is_acknowledged_once_stored(vote: Vote) -> None:
    payload = vote.ballot(2, rev=1)
    first = vote.phone.emit("vote:cast", payload)
    seq = vote.fac_state()["seq"]
    duplicates = [vote.phone.emit("vote:cast", payload) for _ in range(3)]
    assert first["duplicate"] is False
    assert all(ack["ok"] and ack["duplicate"] and not ack["changed"] for ack in duplicates)
    assert vote.fac_state()["seq"] == seq
    assert len(vote.rows()) == 1


def test_older_revision_arriving_late_never_overwrites_a_newer_one(vote: Vote) -> None:
    older, newer = vote.ballot(1, rev=1), vote.ballot(5, rev=2)
    vote.phone.emit("vote:cast", older)
    assert vote.phone.emit("vote:cast", newer)["changed"] is True
    # The first delivery of rev 1 was slow (or a resend of it) and arrives after rev 2.
    ack = vote.phone.emit("vote:cast", older)
    assert ack.pop("seq") == vote.fac_state()["seq"]
    assert ack == {"ok": True, "changed": False, "duplicate": False, "stale": True, "rev": 2}
    assert vote.rows() == [({str(p): 5 for p in vote.proposals}, 2, newer["vote_id"])]

    # Out of order from the start: rev 4 first, then rev 3; the same rev with another id too.
    vote.phone.emit("vote:cast", vote.ballot(3, rev=4))
    assert vote.phone.emit("vote:cast", vote.ballot(1, rev=3))["stale"] is True
    assert vote.phone.emit("vote:cast", vote.ballot(1, rev=4))["stale"] is True
    assert vote.rows()[0][:2] == ({str(p): 3 for p in vote.proposals}, 4)
    tally = vote.fac_state()["live_tally"]
    assert tally["ballots"] == 1
    assert [p["score"] for p in tally["proposals"]] == [3, 3]


def test_vote_without_revision_is_taken_as_the_newest(vote: Vote) -> None:
    """Clients that send no rev (older pages) still replace their ballot, rev counting on."""
    assert vote.phone.vote(vote.round_id, {str(vote.proposals[0]): 2})["rev"] == 1
    assert vote.phone.vote(vote.round_id, {str(vote.proposals[0]): 3})["rev"] == 2
    ack = vote.phone.emit("vote:cast", vote.ballot(4, rev=3))
    assert ack["changed"] is True and ack["rev"] == 3


@pytest.mark.parametrize(
    "extra",
    [
        {"vote_id": "short"},
        {"vote_id": 12345678},
        {"vote_id": "x" * 65},
        {"rev": 0},
        {"rev": -1},
        {"rev": "2"},
        {"rev": True},
        {"rev": 2**40},
    ],
)
def test_malformed_revision_is_refused(vote: Vote, extra: dict[str, Any]) -> None:
    ack = vote.phone.emit("vote:cast", {**vote.ballot(3, rev=1), **extra})
    assert ack["ok"] is False and ack["code"] == "bad_payload"
    assert vote.rows() == []


def test_duplicate_after_the_round_closed_is_still_acknowledged(vote: Vote) -> None:
    """A resend whose original made it before the close is not reported as lost."""
    payload = vote.ballot(4, rev=1)
    vote.phone.emit("vote:cast", payload)
    emit_ack(vote.fac, "phase:set", goal_id=vote.goal_id, phase="resultat")
    assert vote.phone.emit("vote:cast", payload)["duplicate"] is True
    ack = vote.phone.emit("vote:cast", vote.ballot(1, rev=2))
    assert ack["ok"] is False and ack["code"] == "closed"


def test_the_database_keeps_one_ballot_and_one_proposal_per_client_id(
    app: Flask, vote: Vote
) -> None:
    """Uniqueness is the schema's, not only a check in Python."""
    vote.phone.emit("vote:cast", vote.ballot(4, rev=1))
    with app.app_context():
        ballot = db.session.execute(sa.select(Ballot.__table__)).one()
        proposal = db.session.execute(
            sa.select(Proposal.__table__).filter_by(id=vote.proposals[0])
        ).one()
        copies = [
            (Ballot, {**ballot._mapping, "rev": 9}),
            (Proposal, {**proposal._mapping, "id": None, "number": 99}),
        ]
        for model, row in copies:
            with pytest.raises(IntegrityError):
                db.session.execute(sa.insert(model.__table__).values(**row))
            db.session.rollback()


def test_concurrent_deliveries_of_one_vote_store_it_once(app: Flask, vote: Vote) -> None:
    """The same ballot sent twice at the same moment (original and resend) races in the DB."""
    payload = vote.ballot(5, rev=1)
    outcomes: list[Any] = []
    start = threading.Barrier(4)

    def deliver() -> None:
        with app.app_context():
            participant = db.session.scalars(sa.select(Participant)).one()
            start.wait()
            try:
                outcomes.append(
                    services.cast_vote(
                        participant,
                        payload["round_id"],
                        payload["secret"],
                        payload["answers"],
                        vote_id=payload["vote_id"],
                        rev=payload["rev"],
                    )
                )
            except Exception as exc:  # noqa: BLE001 - recorded and checked below
                outcomes.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(isinstance(o, services.VoteOutcome) for o in outcomes), outcomes
    assert sum(o.stored for o in outcomes) == 1
    assert sum(o.duplicate for o in outcomes) == 3
    assert len(vote.rows()) == 1
    assert vote.fac_state()["vote"]["answered"] == 1


def test_proposal_resent_after_reconnect_is_not_duplicated(app: Flask, vote: Vote) -> None:
    emit_ack(vote.fac, "phase:set", goal_id=vote.goal_id, phase="forslag")
    payload = {
        "goal_id": vote.goal_id,
        "client_id": "utkast-" + secrets.token_hex(6),
        "secret": vote.phone.secret,
        "proposal": {"kind": "ambitionsniva", "what": "Fler cykelbanor"},
    }
    first = vote.phone.emit("proposal:add", payload)
    vote.phone.sio.disconnect()
    vote.phone.sio = connect(app, vote.phone.http, vote.workshop_id, "people")
    again = vote.phone.emit("proposal:add", payload)
    assert first["created"] is True and again["created"] is False
    assert again["proposal"]["id"] == first["proposal"]["id"]
    assert len(vote.fac_state()["all_proposals"]) == 3


def test_pushes_chain_prev_seq_so_a_missed_one_shows(app: Flask, vote: Vote) -> None:
    """Each push names the seq of the one before; a client that did not see it has a gap."""
    screen = Phone(app, vote.workshop_id).sio
    received(screen)
    emit_ack(vote.fac, "timer:set", action="start", seconds=60)
    seen = received(screen)
    # The phone drops out and misses the next push.
    vote.phone.sio.disconnect()
    emit_ack(vote.fac, "timer:set", action="add")
    emit_ack(vote.fac, "timer:set", action="stop")
    missed_then_next = received(screen)
    pushes = seen + missed_then_next
    assert [p["prev_seq"] for p in pushes[1:]] == [p["seq"] for p in pushes[:-1]]
    last_seen_by_phone = seen[-1]["seq"]
    assert missed_then_next[-1]["prev_seq"] > last_seen_by_phone  # the phone's gap rule fires
    # state:get (what the phone asks for on a gap) answers with the whole current state.
    vote.phone.sio = connect(app, vote.phone.http, vote.workshop_id, "people")
    assert vote.phone.state()["state"]["seq"] == missed_then_next[-1]["seq"]


@pytest.mark.parametrize("change", ["new", "changed"])
def test_a_vote_racing_the_close_of_its_round_is_refused_not_stored(
    app: Flask, vote: Vote, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """The facilitator closes the vote after a ballot was read and checked, before it is written.

    The ballot must then be refused as arriving after the close, not land in the closed round.
    """
    if change == "changed":
        assert vote.phone.emit("vote:cast", vote.ballot(2, rev=1))["ok"]
    before = vote.rows()
    read_context = services.VoteSQL.context

    def read_then_close(self: Any, params: dict[str, Any]) -> Any:
        found = read_context(self, params)

        def close() -> None:  # another request, committed between the read and the write
            with app.app_context():
                services.set_phase(vote.workshop_id, vote.goal_id, "resultat")
                db.session.remove()

        closer = threading.Thread(target=close)
        closer.start()
        closer.join(timeout=30)
        return found

    monkeypatch.setattr(services.VoteSQL, "context", read_then_close)
    ack = vote.phone.emit("vote:cast", vote.ballot(5, rev=2))
    monkeypatch.undo()
    assert ack["ok"] is False and ack["code"] == "closed", ack
    assert vote.rows() == before
    state = vote.fac_state()
    assert state["goal"]["phase"] == "resultat"
    assert state["vote"]["answered"] == len(before)
