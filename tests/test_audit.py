"""The audit trail: every facilitator action is logged with time and actor, nothing of voters."""

from __future__ import annotations

import csv
import functools
import io
from typing import Any

import sqlalchemy as sa
from docx import Document
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from workshop import queries
from workshop.extensions import db
from workshop.models import AuditEntry, Participant, Workshop

from .builders import emit_ack
from .conftest import PASSWORD, Phone, connect


def actions(app: Flask, workshop_id: int | None = None) -> list[str]:
    with app.app_context():
        query = sa.select(AuditEntry.action).order_by(AuditEntry.id)
        if workshop_id is not None:
            query = query.filter_by(workshop_id=workshop_id)
        return list(db.session.scalars(query))


def test_every_facilitator_action_is_logged(app: Flask, client: FlaskClient) -> None:
    assert (
        client.post("/login", data={"username": "samtalsledare", "password": "fel"}).status_code
        == 401
    )
    assert (
        client.post("/login", data={"username": "samtalsledare", "password": PASSWORD}).status_code
        == 302
    )
    response = client.post("/f/ny", data={"title": "Loggad dialog", "goals": "Område; 1; Mål ett"})
    workshop_id = int(response.headers["Location"].split("/")[2])
    assert (
        client.post(
            f"/f/{workshop_id}/redigera",
            data={"title": "Loggad dialog", "mode": "anonym", "follow_up_dates": "2019-04-30"},
        ).status_code
        == 302
    )
    client.post(f"/f/{workshop_id}/mal", data={"area": "Område", "number": "2", "text": "Mål två"})
    client.post(f"/f/{workshop_id}/mal", data={"area": "Område", "number": "3", "text": "Mål tre"})
    with app.app_context():
        g1, g2, g3 = (g.id for g in db.session.get(Workshop, workshop_id).goals)
    client.post(
        f"/f/{workshop_id}/mal/{g2}", data={"area": "Område", "number": "2", "text": "Mål 2 nytt"}
    )
    client.post(f"/f/{workshop_id}/mal/{g2}", data={"action": "down"})
    client.post(f"/f/{workshop_id}/mal/{g3}", data={"action": "delete"})
    assert client.post(f"/f/{workshop_id}/status", data={"action": "start"}).status_code == 302

    fac = connect(app, client, workshop_id, "facilitator")

    do = functools.partial(emit_ack, fac)
    phone = Phone(app, workshop_id)
    other = Phone(app, workshop_id)
    do("goal:select", goal_id=g1)
    do("phase:set", goal_id=g1, phase="forslag")
    do("timer:set", action="start", seconds=120)
    p1 = phone.propose(g1, "Minst 200 bostäder")["proposal"]["id"]
    p2 = other.propose(g1, "Fler pendelparkeringar")["proposal"]["id"]
    p3 = do(
        "proposal:add",
        goal_id=g1,
        client_id="samtalsledare-1",
        proposal={"kind": "ambitionsniva", "what": "Eget"},
    )["proposal"]["id"]
    do("proposal:publish", ids=[p1, p2], published=True)
    do("proposal:edit", id=p1, proposal={"kind": "ambitionsniva", "what": "Minst 250 bostäder"})
    do("proposal:hide", id=p3, reason="Dubblett")
    do("proposal:restore", id=p3)
    do("proposal:park", id=p3)
    do("parking:add", text="Ta upp senare", goal_id=g1)
    merged = do("proposal:merge", ids=[p1, p2], proposal={"kind": "ambitionsniva", "what": "Ihop"})[
        "proposal"
    ]["id"]
    do("phase:set", goal_id=g1, phase="rostning", method="ja_nej")
    round_id = phone.state()["state"]["vote"]["round_id"]
    assert phone.vote(round_id, {str(merged): "ja"})["ok"]
    do("phase:set", goal_id=g1, phase="resultat")
    do("decision:record", goal_id=g1, kind="ambitionsniva", proposal_id=merged, what="Beslutat")
    with app.app_context():
        other_id = max(
            db.session.scalars(sa.select(Participant.id).filter_by(workshop_id=workshop_id))
        )
    do("participant:update", id=other_id, role="observator")
    do("workshop:close")
    do("workshop:reopen")
    assert client.post(f"/f/{workshop_id}/status", data={"action": "close"}).status_code == 302
    assert client.get(f"/f/{workshop_id}/export.md").status_code == 200
    assert (
        client.post(f"/f/{workshop_id}/radera-personuppgifter", data={"confirm": "ja"}).status_code
        == 302
    )

    logged = actions(app, workshop_id)
    expected = {
        "workshop_create", "workshop_update", "goal_add", "goal_update", "goal_move",
        "goal_delete", "workshop_start", "goal_select", "phase_set", "timer", "proposal_add",
        "proposal_publish", "proposal_edit", "proposal_hide", "proposal_restore", "proposal_park",
        "parking_add", "proposal_merge", "reveal", "decision", "participant_update",
        "workshop_close", "workshop_reopen", "export", "erase",
    }  # fmt: skip
    assert expected <= set(logged), expected - set(logged)
    assert set(actions(app)) - set(logged) >= {"login", "login_failed"}

    with app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry)).all()
        for entry in entries:
            assert entry.at is not None
            assert entry.actor == "samtalsledare"
            assert queries.describe_audit(entry)
            # Nothing a participant does is logged, and no entry holds a ballot or a secret.
            text = repr(entry.details)
            assert phone.secret not in text and other.secret not in text
            assert "round_id" not in text and "answers" not in text
        facilitator_id = db.session.scalar(sa.text("SELECT id FROM facilitator"))
        assert {e.facilitator_id for e in entries if e.action != "login_failed"} == {facilitator_id}

    assert client.post("/logout").status_code == 302
    assert "logout" in actions(app)

    client.post("/login", data={"username": "samtalsledare", "password": PASSWORD})
    page = client.get(f"/f/{workshop_id}/logg").get_data(as_text=True)
    assert "Logg över samtalsledarens åtgärder" in page
    for text in (
        "Startade dialogen",
        "Visade resultatet",
        "Dolde ett förslag: Mål 1, F3, Dubblett",
        "Sparade beslut för ett mål: Mål 1, F4",
        "Raderade deltagarnas personuppgifter: 2 st",
    ):
        assert text in page, text

    # The decision document holds no audit entry; the log is its own DOCX, PDF and CSV.
    markdown = client.get(f"/f/{workshop_id}/export.md").get_data(as_text=True)
    assert "Logg över" not in markdown and "Slog samman förslag" not in markdown
    word = Document(io.BytesIO(client.get(f"/f/{workshop_id}/export.docx").data))
    decision_text = "\n".join(p.text for p in word.paragraphs) + "\n".join(
        cell.text for table in word.tables for row in table.rows for cell in row.cells
    )
    assert "Visade resultatet" not in decision_text and "UTC" not in decision_text

    response = client.get(f"/f/{workshop_id}/logg.docx")
    assert 'filename="logg-' in response.headers["Content-Disposition"]
    word = Document(io.BytesIO(response.data))
    assert word.core_properties.title.startswith("Logg: ")
    assert word.core_properties.title in [p.text for p in word.paragraphs]
    cells = [cell.text for row in word.tables[0].rows for cell in row.cells]
    assert cells[:3] == ["Tid (UTC)", "Vem", "Åtgärd"]
    assert "Visade resultatet: Mål 1, Röstning → Resultat" in cells
    assert "Slog samman förslag: Mål 1, F1, F2 → F4" in cells

    response = client.get(f"/f/{workshop_id}/logg.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Tid (UTC)", "Vem", "Åtgärd"]
    assert ["samtalsledare", "Visade resultatet: Mål 1, Röstning → Resultat"] in [
        row[1:] for row in rows
    ]
    assert all(row[0].endswith(" UTC") for row in rows[1:])

    pdf = PdfReader(io.BytesIO(client.get(f"/f/{workshop_id}/logg.pdf").data))
    text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
    assert "Sparade beslut för ett mål: Mål 1, F4" in text
    # Exporting the log is itself logged, after the file is made.
    assert actions(app).count("log_export") == 3


def test_deleting_a_workshop_keeps_only_its_log(
    app: Flask, client: FlaskClient, create_workshop: Any
) -> None:
    workshop_id = create_workshop()
    phone = Phone(app, workshop_id)
    with app.app_context():
        goal_id = db.session.get(Workshop, workshop_id).goals[0].id
    client.post("/login", data={"username": "samtalsledare", "password": PASSWORD})
    fac = connect(app, client, workshop_id, "facilitator")
    emit_ack(fac, "phase:set", goal_id=goal_id, phase="forslag")
    p1 = phone.propose(goal_id, "Ett")["proposal"]["id"]
    p2 = phone.propose(goal_id, "Två")["proposal"]["id"]
    assert fac.emit(
        "proposal:merge",
        {"ids": [p1, p2], "proposal": {"kind": "ambitionsniva", "what": "Ihop"}},
        callback=True,
    )["ok"]
    emit_ack(fac, "proposal:park", id=p1 + 2)

    refused = client.post(f"/f/{workshop_id}/radera", data={})
    assert refused.status_code == 302
    with app.app_context():
        assert db.session.get(Workshop, workshop_id) is not None

    response = client.post(f"/f/{workshop_id}/radera", data={"confirm": "ja"})
    assert response.headers["Location"] == "/f/"
    assert not phone.sio.is_connected()
    assert not fac.is_connected()
    with app.app_context():
        assert db.session.get(Workshop, workshop_id) is None
        for table in ("goal", "proposal", "participant", "vote_round", "parking_item"):
            rows = db.session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
            assert rows == 0 or table == "goal", table
        entry = db.session.scalars(sa.select(AuditEntry).filter_by(action="workshop_delete")).one()
        assert entry.workshop_id is None
        assert entry.details["workshop_id"] == workshop_id
    assert client.get(f"/f/{workshop_id}").status_code == 404
