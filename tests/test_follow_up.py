"""Follow-up after the decision: checkpoints, rules per kind of goal, the view, the report."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import docx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from workshop import documents, domain, queries
from workshop.extensions import db
from workshop.models import FollowUp, Workshop

from .builders import build_workshop
from .conftest import alerts, table_rows
from .test_formats import check_archival_pdf

APRIL, AUGUST, YEAR_END = dt.date(2019, 4, 30), dt.date(2019, 8, 31), dt.date(2019, 12, 31)
CHECKPOINTS = [APRIL, AUGUST, YEAR_END]


def test_checkpoints_are_the_follow_up_dates_and_the_year_end() -> None:
    assert domain.checkpoints(domain.follow_up_dates(2019)) == CHECKPOINTS
    assert domain.checkpoints([], 2019) == [YEAR_END]
    assert domain.checkpoints([YEAR_END, APRIL]) == [APRIL, YEAR_END]


def test_an_ambition_level_needs_a_forecast() -> None:
    data = domain.validate_follow_up(
        {
            "checkpoint": "2019-04-30",
            "value": " 7,1 % ",
            "forecast": "delvis",
            "kolada_kpi": "n00090",
        },
        "ambitionsniva",
        CHECKPOINTS,
    )
    assert (data.checkpoint, data.value, data.forecast, data.kolada_kpi) == (
        APRIL,
        "7,1 %",
        "delvis",
        "N00090",
    )
    with pytest.raises(domain.DomainError) as caught:
        domain.validate_follow_up(
            {"checkpoint": "2019-05-01", "forecast": "kanske", "kolada_kpi": "sjukfrånvaro"},
            "ambitionsniva",
            CHECKPOINTS,
        )
    assert set(caught.value.fields) == {"checkpoint", "forecast", "kolada_kpi"}


def test_an_inriktningsmal_has_activities_and_no_forecast() -> None:
    with pytest.raises(domain.DomainError) as caught:
        domain.validate_follow_up(
            {"checkpoint": "2019-08-31", "forecast": "uppfylls"}, "inriktningsmal", CHECKPOINTS
        )
    assert caught.value.fields == {
        "forecast": "Ett inriktningsmål har ingen prognos.",
        "activities": "Beskriv vilka aktiviteter verksamheten har genomfört.",
    }
    data = domain.validate_follow_up(
        {"checkpoint": "2019-08-31", "activities": "Dialogmöten", "value": "12"},
        "inriktningsmal",
        CHECKPOINTS,
    )
    assert (data.activities, data.forecast, data.value) == ("Dialogmöten", "", "")


def test_an_undecided_goal_cannot_be_followed_up() -> None:
    with pytest.raises(domain.DomainError) as caught:
        domain.validate_follow_up({"checkpoint": "2019-04-30"}, None, CHECKPOINTS)
    assert caught.value.code == "undecided"


def test_the_report_shows_all_goals_at_every_checkpoint(app: Flask) -> None:
    workshop_id = build_workshop(app)
    with app.app_context():
        record = queries.workshop_record(db.session.get(Workshop, workshop_id), "2019-09-01")
    report = domain.follow_up_report(record)
    assert [c.date for c in report.checkpoints] == [d.isoformat() for d in CHECKPOINTS]
    assert report.checkpoints[-1].heading == "Uppföljning per 31 december 2019 (helår)"
    for checkpoint in report.checkpoints:
        assert len(checkpoint.items) == 8
        statuses = [item.status for item in checkpoint.items]
        assert statuses.count("ej_behandlad") == 5
        assert statuses[1] == "ambitionsniva" and statuses[5] == "inriktningsmal"
        assert statuses[4] == "behandlad_utan_beslut"  # goal 5 had a proposal, no decision
        assert checkpoint.items[0].status_text == "Ej behandlad i dialogen"
    april, august, year_end = report.checkpoints
    assert (april.items[1].forecast, april.items[1].forecast_text) == ("delvis", "Uppfylls delvis")
    assert august.items[1].forecast_text == "Uppfylls"
    assert year_end.items[1].forecast_text == "Ingen prognos registrerad."
    values = {line.label: line.value for line in april.items[1].lines}
    assert values["Uppmätt värde"] == "91,8 % (Källa: Kolada, N31807)"
    assert august.items[5].forecast == "" and august.items[5].lines[0].value.startswith("Två")

    word = docx.Document(io.BytesIO(documents.render_follow_up_docx(report)))
    text = "\n".join(p.text for p in word.paragraphs)
    assert text.count("Ej behandlad i dialogen") == 5 * 3
    assert text.count("Behandlad utan förslag till beslut") == 3
    assert "Prognos: Uppfylls delvis" in text
    assert "Title" not in {p.style.name for p in word.paragraphs}  # the house style
    assert [p.text for p in word.paragraphs if p.style.name == "Dokumenttitel"] == [report.title]
    footer = word.sections[0].footer._element
    fields = [t.text.strip() for t in footer.iter(docx.oxml.ns.qn("w:instrText"))]
    assert fields == ["PAGE", "NUMPAGES"]
    pdf = check_archival_pdf(documents.render_follow_up_pdf(report))
    flat = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
    assert "Uppfylls delvis" in flat and "Inriktningsmål — ingen prognos" in flat
    assert flat.count("Behandlad utan förslag till beslut") == 3


# --- The view -----------------------------------------------------------------------------------


def test_follow_up_page_and_form(app: Flask, client: FlaskClient, auth: Any) -> None:
    workshop_id = build_workshop(app)
    with app.app_context():
        workshop = db.session.get(Workshop, workshop_id)
        goal2, goal1, goal6 = (workshop.goals[i].id for i in (1, 0, 5))
    auth.login()
    page = client.get(f"/f/{workshop_id}/uppfoljning").get_data(as_text=True)
    assert page.count('badge--ej_behandlad">Ej behandlad i dialogen<') == 5
    assert 'badge--behandlad_utan_beslut">Behandlad utan förslag till beslut<' in page
    assert 'class="forecast forecast--delvis">Uppfylls delvis</span>' in page
    assert 'name="csrf_token"' in page or "csrf" not in page
    assert page.count(f'action="/f/{workshop_id}/uppfoljning/{goal2}"') == 3

    response = client.post(
        f"/f/{workshop_id}/uppfoljning/{goal2}",
        data={"checkpoint": "2019-12-31", "value": "93,6 %", "forecast": "uppfylls"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#uppfoljning-{goal2}-2019-12-31")
    with app.app_context():
        entry = db.session.query(FollowUp).filter_by(goal_id=goal2, checkpoint=YEAR_END).one()
        assert (entry.value, entry.forecast) == ("93,6 %", "uppfylls")

    before = table_rows(app)
    refused = client.post(
        f"/f/{workshop_id}/uppfoljning/{goal6}",
        data={"checkpoint": "2019-04-30", "forecast": "uppfylls"},
    )
    assert refused.status_code == 400
    assert "Ett inriktningsmål har ingen prognos." in alerts(refused.get_data(as_text=True))
    undecided = client.post(
        f"/f/{workshop_id}/uppfoljning/{goal1}",
        data={"checkpoint": "2019-04-30", "forecast": "uppfylls"},
    )
    assert undecided.status_code == 400
    assert "inget förslag till beslut" in alerts(undecided.get_data(as_text=True))
    assert table_rows(app) == before

    for ext in ("docx", "pdf"):
        download = client.get(f"/f/{workshop_id}/uppfoljning.{ext}")
        assert download.status_code == 200
        assert 'filename="uppfoljning-KS-2018-109-' in download.headers["Content-Disposition"]
    assert client.get(f"/f/{workshop_id}/uppfoljning.txt").status_code == 404
