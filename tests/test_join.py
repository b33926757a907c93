"""Joining from a phone, being recognised again, and what a phone may store and send."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient

from workshop import domain, services
from workshop.extensions import db
from workshop.models import Ballot, Participant, Proposal, Workshop

from .builders import Dialogue, emit_ack, login
from .conftest import Phone, alerts, connect, table_rows

PROPOSAL = {"kind": "ambitionsniva", "what": "Minst 200 nya bostäder 2019"}


def code_of(app: Flask, workshop_id: int) -> str:
    with app.app_context():
        return db.session.get(Workshop, workshop_id).join_code


def people(app: Flask, workshop_id: int) -> list[dict[str, Any]]:
    """Return the workshop's participant rows as stored."""
    with app.app_context():
        db.session.remove()
        rows = db.session.scalars(
            sa.select(Participant).filter_by(workshop_id=workshop_id).order_by(Participant.id)
        )
        return [
            {
                "id": p.id,
                "token": p.token,
                "name": p.display_name,
                "role": p.role,
                "removed": p.removed,
            }
            for p in rows
        ]


def fac_state(fac: SocketIOTestClient) -> dict[str, Any]:
    return emit_ack(fac, "state:get")["state"]


def proposal_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Proposal.id)))


def proposing(app: Flask, client: FlaskClient, workshop_id: int) -> Dialogue:
    """The started workshop with its first goal taking proposals, and the facilitator's socket."""
    login(client)
    dialogue = Dialogue(app, client, workshop_id)
    dialogue.open_proposals()
    return dialogue


@pytest.fixture
def dialogue(app: Flask, client: FlaskClient, create_workshop: Any) -> Dialogue:
    return proposing(app, client, create_workshop())


# --- Join codes and the join page -----------------------------------------------------------


def test_join_codes_are_six_unambiguous_characters(app: Flask) -> None:
    """Give every workshop a unique 6-character code from the unambiguous alphabet."""
    with app.app_context():
        codes = [services.create_workshop(f"Dialog {n}").join_code for n in range(30)]
    assert len(set(codes)) == 30
    for code in codes:
        assert len(code) == 6
        assert set(code) <= set(domain.JOIN_ALPHABET)
    assert not set(domain.JOIN_ALPHABET) & set("0O1IL2Z5S8B")


def test_join_page_then_join(app: Flask, create_workshop: Any) -> None:
    """Show the join page for a code; posting it joins and leads to the phone's room."""
    workshop_id = create_workshop()
    code = code_of(app, workshop_id)
    phone = app.test_client()
    page = phone.get(f"/j/{code}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Kommunstyrelsens mål 2019 fortsatt arbete" in text
    assert f'action="/j/{code}"' in text
    assert people(app, workshop_id) == []
    response = phone.post(f"/j/{code}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/w/{code}"
    assert len(people(app, workshop_id)) == 1
    assert phone.get(f"/w/{code}").status_code == 200


def test_rescanning_keeps_the_same_participant(app: Flask, create_workshop: Any) -> None:
    """Recognise a phone again by its cookie when it reloads or scans the code again."""
    workshop_id = create_workshop()
    code = code_of(app, workshop_id)
    phone = app.test_client()
    phone.post(f"/j/{code}")
    first = people(app, workshop_id)
    assert len(first) == 1
    rescan = phone.get(f"/j/{code}")
    assert rescan.status_code == 302
    assert rescan.headers["Location"] == f"/w/{code}"
    assert phone.post(f"/j/{code}").headers["Location"] == f"/w/{code}"
    assert phone.post(f"/j/{code.lower()}").status_code == 302
    assert people(app, workshop_id) == first
    # Another phone is another participant.
    app.test_client().post(f"/j/{code}")
    assert [p["id"] for p in people(app, workshop_id)][0] == first[0]["id"]
    assert len(people(app, workshop_id)) == 2


@pytest.mark.parametrize("code", ["AAAAAA", "ACDEFG", "hej", "ACDEFGH", "123456"])
def test_wrong_code_says_so_in_swedish(app: Flask, client: FlaskClient, code: str) -> None:
    """Answer an unknown code with 404 and a clear Swedish message, on both forms."""
    response = client.get(f"/j/{code}")
    assert response.status_code == 404
    assert "Koden finns inte." in alerts(response.get_data(as_text=True))
    response = client.post("/", data={"code": code})
    assert response.status_code == 404
    assert "Koden finns inte." in alerts(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Participant.id))) == 0


@pytest.mark.parametrize(
    "typed",
    [
        "{lower}",
        "  {lower}  ",
        "{a}-{b}",
        "{a} {b}",
        "{a_lower} - {b_lower}",
    ],
)
def test_landing_form_normalises_the_code(
    app: Flask, client: FlaskClient, create_workshop: Any, typed: str
) -> None:
    """Accept a code typed in lowercase, with spaces or a dash, on the start page."""
    code = code_of(app, create_workshop())
    text = typed.format(
        lower=code.lower(),
        a=code[:3],
        b=code[3:],
        a_lower=code[:3].lower(),
        b_lower=code[3:].lower(),
    )
    response = client.post("/", data={"code": text})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/j/{code}"
    assert client.get(f"/j/{code.lower()}").headers["Location"] == f"/j/{code}"


def test_closed_workshop_takes_no_one(app: Flask, create_workshop: Any) -> None:
    """Answer 410 with "avslutad" once the workshop is closed, also to someone who joined."""
    workshop_id = create_workshop()
    code = code_of(app, workshop_id)
    joined = app.test_client()
    joined.post(f"/j/{code}")
    with app.app_context():
        services.close_workshop(workshop_id)
    stranger = app.test_client()
    for response in (
        stranger.get(f"/j/{code}"),
        stranger.post(f"/j/{code}"),
        joined.get(f"/w/{code}"),
    ):
        assert response.status_code == 410
        assert "avslutad" in alerts(response.get_data(as_text=True))
    assert len(people(app, workshop_id)) == 1


# --- Named and anonymous mode ---------------------------------------------------------------


def test_named_mode_requires_a_name(
    app: Flask, create_workshop: Any, facilitator_socket: Any
) -> None:
    """Require a name in named mode, keep a typed name on error, show it to the facilitator."""
    workshop_id = create_workshop(anonymous=False)
    code = code_of(app, workshop_id)
    phone = app.test_client()
    page = phone.get(f"/j/{code}").get_data(as_text=True)
    assert 'name="name"' in page

    response = phone.post(f"/j/{code}", data={"name": "   "})
    assert response.status_code == 400
    assert "Skriv ditt namn så att andra ser vem som deltar." in response.get_data(as_text=True)

    too_long = "Anna-Karin " + "Ek" * 30
    response = phone.post(f"/j/{code}", data={"name": too_long})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Högst 60 tecken." in page
    assert f'value="{too_long}"' in page
    assert people(app, workshop_id) == []

    response = phone.post(f"/j/{code}", data={"name": "  Anna Ek (C) "})
    assert response.headers["Location"] == f"/w/{code}"
    assert [p["name"] for p in people(app, workshop_id)] == ["Anna Ek (C)"]
    fac = facilitator_socket(workshop_id)
    assert [p["name"] for p in fac_state(fac)["participants"]] == ["Anna Ek (C)"]


def test_anonymous_mode_never_stores_a_name(
    app: Flask, create_workshop: Any, facilitator_socket: Any
) -> None:
    """Drop a name sent in anonymous mode, so it is stored and shown nowhere."""
    workshop_id = create_workshop()
    code = code_of(app, workshop_id)
    phone = app.test_client()
    assert 'name="name"' not in phone.get(f"/j/{code}").get_data(as_text=True)
    assert phone.post(f"/j/{code}", data={"name": "Anna Ek"}).status_code == 302
    assert phone.post(f"/j/{code}", data={"name": "Anna Ek"}).status_code == 302
    assert [p["name"] for p in people(app, workshop_id)] == [None]
    fac = facilitator_socket(workshop_id)
    assert [p["name"] for p in fac_state(fac)["participants"]] == [""]
    dump = repr(table_rows(app))
    assert "Anna Ek" not in dump


# --- The facilitator manages people ---------------------------------------------------------


def test_removed_participant_is_disconnected_and_cannot_rejoin(
    app: Flask, dialogue: Dialogue
) -> None:
    """Disconnect a removed participant with a `removed` event and refuse them with 403."""
    phone = dialogue.phone()
    bystander = dialogue.phone()
    assert phone.sio.is_connected()
    person = people(app, dialogue.workshop_id)[0]
    emit_ack(dialogue.fac, "participant:update", id=person["id"], removed=True)
    assert not phone.sio.is_connected()
    assert [item["name"] for item in phone.sio.queue].count("removed") == 1
    assert bystander.sio.is_connected()
    assert "removed" not in [item["name"] for item in bystander.sio.get_received()]

    response = phone.http.post(f"/j/{phone.code}")
    assert response.status_code == 403
    assert "tagit bort dig" in alerts(response.get_data(as_text=True))
    assert phone.http.get(f"/w/{phone.code}").headers["Location"] == f"/j/{phone.code}"
    assert not connect(app, phone.http, dialogue.workshop_id, "people").is_connected()
    assert [p["id"] for p in fac_state(dialogue.fac)["participants"]] == [
        people(app, dialogue.workshop_id)[1]["id"]
    ]
    assert len(people(app, dialogue.workshop_id)) == 2


def test_observer_cannot_vote(app: Flask, dialogue: Dialogue) -> None:
    """Tell an observer's phone that it cannot vote."""
    phone = dialogue.phone()
    assert phone.state()["own"]["participant"]["can_vote"] is True
    person = people(app, dialogue.workshop_id)[0]
    emit_ack(dialogue.fac, "participant:update", id=person["id"], role="observator")
    # The phone is told at once, so it can fetch its own part again.
    assert [m["name"] for m in phone.sio.get_received()].count("own:changed") == 1
    own = phone.state()["own"]["participant"]
    assert own["can_vote"] is False
    assert own["role"] == "observator"
    assert fac_state(dialogue.fac)["people"]["observers"] == 1


# --- Proposals: idempotency and validation --------------------------------------------------


def test_proposal_retry_creates_one_proposal(app: Flask, dialogue: Dialogue) -> None:
    """Store a proposal sent twice with the same client_id once; the retry says created False."""
    phone = dialogue.phone()
    payload = {
        "goal_id": dialogue.goal_id,
        "client_id": "f3c1d2a4b5e6",
        "proposal": PROPOSAL,
        "secret": phone.secret,
    }
    first = phone.emit("proposal:add", payload)
    second = phone.emit("proposal:add", payload)
    assert first["ok"] and first["created"] is True
    assert second == {**first, "created": False}
    assert proposal_count(app) == 1
    assert [p["id"] for p in phone.state()["own"]["my_proposals"]] == [first["proposal"]["id"]]
    third = phone.emit("proposal:add", {**payload, "client_id": "a-different-id"})
    assert third["created"] is True
    assert proposal_count(app) == 2


def test_invalid_proposal_stores_nothing(app: Flask, dialogue: Dialogue) -> None:
    """Refuse a proposal without "what" and with a too long indicator, per field, in Swedish."""
    phone = dialogue.phone()
    before = fac_state(dialogue.fac)
    ack = phone.emit(
        "proposal:add",
        {
            "goal_id": dialogue.goal_id,
            "client_id": secrets.token_hex(8),
            "proposal": {"kind": "ambitionsniva", "what": "  ", "indicator": "x" * 301},
            "secret": phone.secret,
        },
    )
    assert ack["ok"] is False
    assert ack["code"] == "invalid_fields"
    assert ack["error"] == "Förslaget har fel som behöver rättas."
    assert ack["fields"]["what"] == "Beskriv vad som ska uppnås."
    assert "Högst 300 tecken" in ack["fields"]["indicator"]
    assert set(ack["fields"]) == {"what", "indicator"}
    assert proposal_count(app) == 0
    after = fac_state(dialogue.fac)
    assert after["seq"] == before["seq"]
    assert after["all_proposals"] == []


# --- Votes: one per person, and anonymous ---------------------------------------------------


def open_vote(dialogue: Dialogue, phones: list[Phone]) -> tuple[int, list[int]]:
    """Let the first two phones propose, open a ja/nej vote; return the round and proposals."""
    ids = [
        phone.propose(dialogue.goal_id, f"Förslag {n}")["proposal"]["id"]
        for n, phone in enumerate(phones[:2])
    ]
    emit_ack(dialogue.fac, "phase:set", goal_id=dialogue.goal_id, phase="rostning", method="ja_nej")
    return fac_state(dialogue.fac)["vote"]["round_id"], ids


def test_vote_from_a_phone_that_lost_its_secret_is_refused(app: Flask, dialogue: Dialogue) -> None:
    """Refuse a second ballot from the same person under a new secret; the tally stays.

    The first secret was bound to the person; the new one can never vote for them (not even
    in a round they have not voted in, or one person would hold two ballot keys)."""
    phone, other = dialogue.phone(), dialogue.phone()
    round_id, (p1, p2) = open_vote(dialogue, [phone, other])
    ack = phone.vote(round_id, {str(p1): "ja", str(p2): "nej"})
    assert ack.pop("seq") > 0
    assert ack == {"ok": True, "changed": False, "duplicate": False, "stale": False, "rev": 1}
    tally = fac_state(dialogue.fac)["live_tally"]
    assert tally["ballots"] == 1

    first_secret, phone.secret = phone.secret, secrets.token_urlsafe(24)  # storage cleared
    ack = phone.vote(round_id, {str(p1): "nej", str(p2): "nej"})
    assert ack["ok"] is False
    assert ack["code"] == "other_device"
    assert "Du kan inte rösta härifrån" in ack["error"]
    assert fac_state(dialogue.fac)["live_tally"] == tally
    assert phone.state()["own"]["my_ballot"] is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1
        bound = db.session.scalars(sa.select(Participant.secret_hash)).all()
        # Only the first secret is bound, as a hash; neither secret is stored.
        assert bound.count(services.phone_hash(dialogue.workshop_id, first_secret)) == 1
        assert services.phone_hash(dialogue.workshop_id, phone.secret) not in bound
        assert first_secret not in str(bound) and phone.secret not in str(bound)
    # Someone else can still vote.
    assert other.vote(round_id, {str(p1): "ja", str(p2): "ja"})["ok"]
    assert fac_state(dialogue.fac)["live_tally"]["ballots"] == 2


PERSON_COLUMNS = {"participant_id", "author_participant_id", "token"}


def test_no_row_links_a_person_to_a_ballot(app: Flask, dialogue: Dialogue) -> None:
    """Store ballots so that no row holds both a person and their answers, without timestamps."""
    phones = [dialogue.phone() for _ in range(4)]
    round_id, (p1, p2) = open_vote(dialogue, phones)
    cast = [
        {str(p1): "ja", str(p2): "nej"},
        {str(p1): "nej", str(p2): "nej"},
        {str(p1): "avstar", str(p2): "ja"},
        {str(p1): "ja", str(p2): "ja"},
    ]
    for phone, answers in zip(phones, cast, strict=True):
        assert phone.vote(round_id, answers)["ok"]
    assert phones[0].vote(round_id, {str(p1): "nej", str(p2): "ja"})["changed"] is True
    cast[0] = {str(p1): "nej", str(p2): "ja"}

    tables = table_rows(app)
    found_answers = 0
    for name, rows in tables.items():
        for row in rows:
            has_person = name == "participant" or any(
                row.get(column) is not None for column in PERSON_COLUMNS
            )
            has_answers = any(value in cast for value in row.values())
            found_answers += has_answers
            assert not (has_person and has_answers), (name, row)
    assert found_answers == 4
    assert sorted(map(str, (row["answers"] for row in tables["ballot"]))) == sorted(map(str, cast))
    assert all(row["participant_id"] is None for row in tables["ballot"])
    assert "response" not in tables  # nothing records who answered; "X av Y" counts ballots
    assert fac_state(dialogue.fac)["vote"]["answered"] == 4

    tokens = {p["token"] for p in people(app, dialogue.workshop_id)}
    for row in tables["ballot"]:
        assert not tokens & {str(value) for value in row.values()}

    for table in (Ballot.__table__,):
        for column in table.columns:
            assert not isinstance(column.type, sa.DateTime | sa.Date | sa.Time), column
            assert not any(word in column.name for word in ("_at", "time", "created")), column


def test_started_named_workshop_details_save_without_the_mode(
    app: Flask, client: FlaskClient, auth: Any, create_workshop: Any
) -> None:
    """Save a started named workshop's details from a form that no longer sends the mode."""
    workshop_id = create_workshop(anonymous=False)
    auth.login()
    response = client.post(
        f"/f/{workshop_id}/redigera",
        data={
            "title": "Ny rubrik",
            "dnr": "KS 2018/109",
            "meeting_date": "2019-02-20",
            "follow_up_dates": "2019-04-30, 2019-08-31",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        workshop = db.session.get(Workshop, workshop_id)
        assert (workshop.title, workshop.anonymous) == ("Ny rubrik", False)


def test_named_mode_shows_the_facilitator_who_voted_what(
    app: Flask, client: FlaskClient, create_workshop: Any
) -> None:
    """List each named voter's answers on the console, and never in anonymous mode."""
    for anonymous in (False, True):
        workshop_id = create_workshop(anonymous=anonymous)
        dialogue = proposing(app, client, workshop_id)
        fac = dialogue.fac
        phone = Phone(app, workshop_id, name="Anna Ek")
        ack = phone.propose(dialogue.goal_id, "Fler bostäder")
        emit_ack(fac, "phase:set", goal_id=dialogue.goal_id, phase="rostning", method="ja_nej")
        round_id = fac_state(fac)["vote"]["round_id"]
        assert phone.vote(round_id, {str(ack["proposal"]["id"]): "avstar"})["ok"]
        expected = [] if anonymous else [{"name": "Anna Ek", "text": "F1: Avstår"}]
        assert fac_state(fac)["named_votes"] == expected
        assert "named_votes" not in phone.state()["state"]
