"""HTTP pages and forms: login, setting up a workshop and its goals, QR code, exports, the CLI."""

from __future__ import annotations

import io
import re
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

import cairosvg
import docx
import PIL.Image
import pytest
import sqlalchemy as sa
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient

from workshop import domain
from workshop.extensions import db
from workshop.models import Facilitator, Workshop
from workshop.resources import version

from .conftest import PASSWORD, AuthActions, alerts

GOALS_LOCKED = "Målen kan bara ändras innan dialogen startar."
MODE_LOCKED = "Röstningsläget kan bara ändras innan dialogen startar."
TEMPLATE_GOALS = [text for _area, _number, text in domain.KS_2019_TEMPLATE["goals"]]


def created_id(response: Any) -> int:
    """Return the id of the workshop a create form redirected to."""
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.fullmatch(r"/f/(\d+)/redigera", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def snapshot(app: Flask, workshop_id: int) -> dict[str, Any]:
    """Read a workshop's details and goals straight from the database."""
    with app.app_context():
        db.session.remove()
        workshop = db.session.get(Workshop, workshop_id)
        assert workshop is not None
        return {
            "title": workshop.title,
            "dnr": workshop.dnr,
            "organisation": workshop.organisation,
            "unit": workshop.unit,
            "recipient": workshop.recipient,
            "send_to": workshop.send_to,
            "officer": workshop.officer,
            "meeting_date": workshop.meeting_date,
            "follow_up_dates": workshop.follow_up_dates,
            "anonymous": workshop.anonymous,
            "status": workshop.status,
            "goals": [
                (g.id, g.position, g.area, g.number, g.text, g.strategies, g.measurability)
                for g in workshop.goals
            ],
        }


def goal_texts(app: Flask, workshop_id: int) -> list[str]:
    return [goal[4] for goal in snapshot(app, workshop_id)["goals"]]


def workshop_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Workshop.id)))


@pytest.fixture
def logged_in(client: FlaskClient, auth: AuthActions) -> FlaskClient:
    assert auth.login().status_code == 302
    return client


@pytest.fixture
def draft(app: Flask, logged_in: FlaskClient) -> int:
    """Create the KS mål 2019 workshop through the form, logged in, not started."""
    return created_id(logged_in.post("/f/ny-mall"))


def start(client: FlaskClient, workshop_id: int) -> None:
    response = client.post(f"/f/{workshop_id}/status", data={"action": "start"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/f/{workshop_id}"


# --- Login ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("samtalsledare", "fel-lösenord"),
        ("samtalsledare", ""),
        ("okänd", PASSWORD),
        ("", ""),
    ],
)
def test_wrong_login_is_refused_in_swedish(
    client: FlaskClient, auth: AuthActions, username: str, password: str
) -> None:
    """Refuse a wrong username or password with 401 and a Swedish message."""
    response = auth.login(username, password)
    assert response.status_code == 401
    assert alerts(response.get_data(as_text=True)) == "Fel användarnamn eller lösenord."
    assert client.get("/f/").headers["Location"] == "/login?next=/f/"


def test_right_login_opens_the_workshop_list(client: FlaskClient, auth: AuthActions) -> None:
    """Log in with the right password and land on the facilitator's list."""
    assert client.get("/login").status_code == 200
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/f/"
    assert client.get("/f/").status_code == 200


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/f/7/sammanstallning", "/f/7/sammanstallning"),
        ("/f/?sida=2", "/f/?sida=2"),
        ("", "/f/"),
        ("//evil.example", "/f/"),
        ("//evil.example/f/", "/f/"),
        ("http://evil.example", "/f/"),
        ("https://evil.example/f/", "/f/"),
        ("javascript:alert(1)", "/f/"),
        ("/\t/evil.example", "/f/"),
        (" //evil.example", "/f/"),
        ("f/", "/f/"),
        ("/\\evil.example", None),
    ],
)
def test_next_only_accepts_local_paths(
    client: FlaskClient, target: str, expected: str | None
) -> None:
    """Send the facilitator only to a local path after login, never to another host."""
    response = client.post(
        "/login", data={"username": "samtalsledare", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    if expected is not None:
        assert location == expected
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc
    assert location.startswith("/") and not location.startswith("//")
    assert "\\" not in location


def test_login_page_carries_next(client: FlaskClient) -> None:
    """Keep the page that asked for a login in the login form."""
    response = client.get("/f/3/sammanstallning")
    assert response.headers["Location"] == "/login?next=/f/3/sammanstallning"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/f/3/sammanstallning"' in page


def test_logout_ends_the_session(client: FlaskClient, auth: AuthActions) -> None:
    """Log out with POST only; afterwards facilitator pages ask for a login again."""
    auth.login()
    assert client.get("/f/").status_code == 200
    assert client.get("/logout").status_code == 405
    assert client.get("/f/").status_code == 200
    response = auth.logout()
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/f/").headers["Location"] == "/login?next=/f/"


def test_healthz(client: FlaskClient) -> None:
    """Report the app and its database as healthy in JSON, with the version."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok", "database": "ok", "version": version()}


def test_the_footer_shows_the_version(client: FlaskClient) -> None:
    assert version() == metadata.version("malverkstad")  # the distribution's metadata
    page = client.get("/").get_data(as_text=True)
    assert f'<li class="footer-version">Målverkstad {version()}</li>' in page


# --- Creating a workshop --------------------------------------------------------------------


def test_create_from_template(app: Flask, logged_in: FlaskClient) -> None:
    """Create the KS mål 2019 workshop with its 8 goals and the case's details."""
    workshop_id = created_id(logged_in.post("/f/ny-mall"))
    data = snapshot(app, workshop_id)
    assert [goal[3] for goal in data["goals"]] == [str(n) for n in range(1, 9)]
    assert [goal[4] for goal in data["goals"]] == TEMPLATE_GOALS
    assert data["goals"][0][4].startswith("Hållbar tillväxt och utvecklad infrastruktur")
    assert data["goals"][7][2] == "Internt perspektiv"
    assert data["dnr"] == "KS 2018/109"
    assert data["meeting_date"] == "2019-02-20"
    assert data["follow_up_dates"] == "2019-04-30, 2019-08-31"
    assert data["status"] == "utkast"
    assert data["anonymous"] is True
    page = logged_in.get(f"/f/{workshop_id}/redigera")
    assert page.status_code == 200
    assert "KS 2018/109" in page.get_data(as_text=True)


PASTED = (
    "Arbete och fritid; 2; Fler i egen försörjning; Praktikplatser; Andel i arbete\n"
    "\n"
    "Kunskap och hälsa; 5; Vi skall bli en friskare kommun\n"
    "Internt perspektiv; 8; Effektivare kommun; ; Nöjd-medborgar-index\n"
)
CSV_FILE = (
    "\ufeffOmråde;Nr;Mål;Strategier;Mätbarhet\r\n"
    "Arbete och fritid;2;Fler i egen försörjning;Praktikplatser;Andel i arbete\r\n"
    'Kunskap och hälsa;5;"Vi skall bli en friskare kommun";;\r\n'
    "Internt perspektiv;8;Effektivare kommun;;Nöjd-medborgar-index\r\n"
).encode()
EXPECTED_IMPORT = [
    ("Arbete och fritid", "2", "Fler i egen försörjning", "Praktikplatser", "Andel i arbete"),
    ("Kunskap och hälsa", "5", "Vi skall bli en friskare kommun", "", ""),
    ("Internt perspektiv", "8", "Effektivare kommun", "", "Nöjd-medborgar-index"),
]


def import_form(title: str, how: str, text: str) -> dict[str, Any]:
    if how == "pasted":
        return {"title": title, "goals": text}
    return {"title": title, "file": (io.BytesIO(text.encode("utf-8-sig")), "mal.csv")}


@pytest.mark.parametrize(
    ("how", "data"),
    [
        ("pasted", {"title": "Nämndens mål 2020", "goals": PASTED}),
        ("uploaded", {"title": "Nämndens mål 2020", "file": (io.BytesIO(CSV_FILE), "mal.csv")}),
    ],
)
def test_create_by_import(app: Flask, logged_in: FlaskClient, how: str, data: Any) -> None:
    """Create a workshop from pasted lines or an uploaded CSV file, goals in their order."""
    response = logged_in.post("/f/ny", data=data, content_type="multipart/form-data")
    workshop_id = created_id(response)
    created = snapshot(app, workshop_id)
    assert created["title"] == "Nämndens mål 2020"
    assert [goal[2:] for goal in created["goals"]] == EXPECTED_IMPORT
    assert [goal[1] for goal in created["goals"]] == [0, 1, 2]


BAD_LINES = (
    "Arbete och fritid; 2; Fler i egen försörjning\n"
    "\n"
    "Kunskap och hälsa; 5; Vi skall bli en friskare kommun\n"
    "Internt perspektiv; 8;\n"
    "Demokrati; 6; Ökat medborgarinflytande\n"
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (import_form("Import", "pasted", BAD_LINES), "Rad 4 kunde inte importeras"),
        (import_form("Import", "uploaded", BAD_LINES), "Rad 4 kunde inte importeras"),
        (import_form("Import", "pasted", "; 1; Mål utan område\n"), "Rad 1 kunde inte"),
        (import_form("Import", "pasted", "Område; Nr; Mål\n"), "inga mål att importera"),
        (import_form("", "pasted", "Arbete; 1; Ett mål\n"), "Ange en rubrik."),
        (
            {"title": "Import", "file": (io.BytesIO("Arbete;1;Mål".encode("cp1252")), "x.csv")},
            "UTF-8",
        ),
    ],
)
def test_bad_import_creates_nothing(
    app: Flask, logged_in: FlaskClient, data: dict[str, Any], message: str
) -> None:
    """Refuse a bad import with 400, name the bad line and create no workshop at all."""
    before = workshop_count(app)
    response = logged_in.post("/f/ny", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in alerts(response.get_data(as_text=True))
    assert workshop_count(app) == before


# --- Editing a workshop ---------------------------------------------------------------------

DETAILS = {
    "title": "KS mål 2019 – dialog i KSAU",
    "dnr": "KS 2019/12",
    "organisation": "Vaggeryds kommun",
    "unit": "Kommunledningskontoret",
    "recipient": "Kommunstyrelsen",
    "send_to": "Ekonomiavdelningen",
    "officer": "Anna Andersson",
    "meeting_date": "2019-03-06",
    "follow_up_dates": "2019-08-31 2019-04-30",
    "mode": "namn",
}


def test_edit_workshop_details(app: Flask, logged_in: FlaskClient, draft: int) -> None:
    """Save the document details and the voting mode before the dialogue starts."""
    response = logged_in.post(f"/f/{draft}/redigera", data=DETAILS)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/f/{draft}/redigera"
    saved = snapshot(app, draft)
    for name in ("title", "dnr", "organisation", "unit", "recipient", "send_to", "officer"):
        assert saved[name] == DETAILS[name]
    assert saved["meeting_date"] == "2019-03-06"
    assert saved["follow_up_dates"] == "2019-04-30, 2019-08-31"
    assert saved["anonymous"] is False
    assert len(saved["goals"]) == 8


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"meeting_date": "2019-02-30"}, "Ange datum som ÅÅÅÅ-MM-DD."),
        ({"meeting_date": "20/2 2019"}, "Ange datum som ÅÅÅÅ-MM-DD."),
        ({"follow_up_dates": "2019-04-31, 2019-08-31"}, "Ogiltigt datum: 2019-04-31."),
        ({"follow_up_dates": ""}, "Ange minst ett uppföljningsdatum."),
        ({"title": "   "}, "Ange en rubrik."),
        ({"dnr": "K" * 61}, "Högst 60 tecken."),
    ],
)
def test_bad_details_change_nothing(
    app: Flask, logged_in: FlaskClient, draft: int, changes: dict[str, str], message: str
) -> None:
    """Refuse bad details with 400 and a message, leaving every detail as it was."""
    before = snapshot(app, draft)
    response = logged_in.post(f"/f/{draft}/redigera", data={**DETAILS, **changes})
    assert response.status_code == 400
    assert message in alerts(response.get_data(as_text=True))
    assert snapshot(app, draft) == before


def test_mode_is_fixed_after_start(app: Flask, logged_in: FlaskClient, draft: int) -> None:
    """Refuse to switch anonymous/named after the start, but keep other details editable."""
    start(logged_in, draft)
    before = snapshot(app, draft)
    response = logged_in.post(f"/f/{draft}/redigera", data={**DETAILS, "mode": "namn"})
    assert response.status_code == 400
    assert MODE_LOCKED in alerts(response.get_data(as_text=True))
    assert snapshot(app, draft) == before
    response = logged_in.post(f"/f/{draft}/redigera", data={**DETAILS, "mode": "anonym"})
    assert response.status_code == 302
    after = snapshot(app, draft)
    assert after["anonymous"] is True
    assert after["dnr"] == "KS 2019/12"


# --- Goals before and after the start -------------------------------------------------------


def test_goals_can_be_changed_before_start(app: Flask, logged_in: FlaskClient, draft: int) -> None:
    """Add, edit, move and delete goals while the workshop is a draft."""
    ids = [goal[0] for goal in snapshot(app, draft)["goals"]]
    response = logged_in.post(
        f"/f/{draft}/mal", data={"area": "Internt perspektiv", "number": "9", "text": "Nytt mål"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/f/{draft}/redigera#mal"
    assert goal_texts(app, draft) == [*TEMPLATE_GOALS, "Nytt mål"]

    response = logged_in.post(
        f"/f/{draft}/mal", data={"lines": "Kultur; 10; Mål tio\nKultur; 11; Mål elva"}
    )
    assert response.status_code == 302
    assert goal_texts(app, draft)[-3:] == ["Nytt mål", "Mål tio", "Mål elva"]

    response = logged_in.post(
        f"/f/{draft}/mal/{ids[0]}",
        data={"action": "save", "area": "Tillväxt", "number": "1", "text": "Omskrivet mål"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/f/{draft}/redigera#mal-{ids[0]}"
    assert goal_texts(app, draft)[0] == "Omskrivet mål"

    assert logged_in.post(f"/f/{draft}/mal/{ids[0]}", data={"action": "down"}).status_code == 302
    assert goal_texts(app, draft)[:2] == [TEMPLATE_GOALS[1], "Omskrivet mål"]
    assert logged_in.post(f"/f/{draft}/mal/{ids[2]}", data={"action": "up"}).status_code == 302
    assert goal_texts(app, draft)[:3] == [TEMPLATE_GOALS[1], TEMPLATE_GOALS[2], "Omskrivet mål"]
    assert logged_in.post(f"/f/{draft}/mal/{ids[1]}", data={"action": "up"}).status_code == 302
    assert goal_texts(app, draft)[0] == TEMPLATE_GOALS[1]

    assert logged_in.post(f"/f/{draft}/mal/{ids[3]}", data={"action": "delete"}).status_code == 302
    texts = goal_texts(app, draft)
    assert TEMPLATE_GOALS[3] not in texts
    assert len(texts) == 10
    assert [goal[1] for goal in snapshot(app, draft)["goals"]] == list(range(10))


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/mal", {"area": "Internt perspektiv", "number": "9", "text": "Nytt mål"}),
        ("/mal", {"lines": "Kultur; 10; Mål tio"}),
        ("/mal/{goal}", {"action": "save", "area": "Tillväxt", "number": "1", "text": "Nytt"}),
        ("/mal/{goal}", {"action": "up"}),
        ("/mal/{goal}", {"action": "down"}),
        ("/mal/{goal}", {"action": "delete"}),
    ],
)
def test_goals_are_locked_after_start(
    app: Flask, logged_in: FlaskClient, draft: int, path: str, data: dict[str, str]
) -> None:
    """Refuse every change to the goals once the dialogue has started."""
    goal_id = snapshot(app, draft)["goals"][1][0]
    start(logged_in, draft)
    before = snapshot(app, draft)
    response = logged_in.post(f"/f/{draft}" + path.format(goal=goal_id), data=data)
    assert response.status_code == 400
    assert GOALS_LOCKED in alerts(response.get_data(as_text=True))
    assert snapshot(app, draft) == before


def test_goal_of_another_workshop_is_not_found(
    app: Flask, logged_in: FlaskClient, draft: int
) -> None:
    """Refuse to change a goal through the address of another workshop."""
    other = created_id(logged_in.post("/f/ny-mall"))
    foreign_goal = snapshot(app, other)["goals"][0][0]
    before = snapshot(app, other)
    response = logged_in.post(f"/f/{draft}/mal/{foreign_goal}", data={"action": "delete"})
    assert response.status_code == 400
    assert "Målet finns inte." in alerts(response.get_data(as_text=True))
    assert snapshot(app, other) == before


# --- QR code, exports and summary -----------------------------------------------------------


def test_qr_code_encodes_the_join_url(
    app: Flask, client: FlaskClient, create_workshop: Any
) -> None:
    """Serve an SVG QR code that a scanner reads as the public join URL."""
    workshop_id = create_workshop()
    with app.app_context():
        code = db.session.get(Workshop, workshop_id).join_code
    response = client.get(f"/qr/{code}.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    png = cairosvg.svg2png(bytestring=response.data, output_width=600)
    found = zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(png)))
    assert [barcode.text for barcode in found] == [f"http://mote.example:5000/j/{code}"]
    assert client.get("/qr/AAAAAA.svg").status_code == 404


@pytest.mark.parametrize("ext", ["docx", "md"])
def test_exports_need_a_login(
    app: Flask, client: FlaskClient, create_workshop: Any, ext: str
) -> None:
    """Refuse an export to anyone who is not logged in as facilitator."""
    workshop_id = create_workshop()
    response = client.get(f"/f/{workshop_id}/export.{ext}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=/f/{workshop_id}/export.{ext}"


def test_exports_for_the_facilitator(logged_in: FlaskClient, draft: int) -> None:
    """Download the DOCX and Markdown named after the Dnr; an unknown format is 404."""
    response = logged_in.get(f"/f/{draft}/export.docx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "KS-2018-109" in disposition and disposition.endswith('.docx"')
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(response.data)).paragraphs)
    assert "KS 2018/109" in text

    markdown = logged_in.get(f"/f/{draft}/export.md")
    assert markdown.status_code == 200
    assert markdown.mimetype == "text/markdown"
    assert "KS-2018-109" in markdown.headers["Content-Disposition"]
    assert TEMPLATE_GOALS[4] in markdown.get_data(as_text=True)

    assert logged_in.get(f"/f/{draft}/export.odt").status_code == 404  # pdf, xlsx, csv, json exist
    assert logged_in.get("/f/9999/export.docx").status_code == 404


def test_summary_lists_every_goal(logged_in: FlaskClient, draft: int) -> None:
    """Show all 8 goals on the summary page, each not yet dealt with."""
    response = logged_in.get(f"/f/{draft}/sammanstallning")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for text in TEMPLATE_GOALS:
        assert text in page
    assert "Ej behandlad" in page
    assert "KS 2018/109" in page


# --- The command line -----------------------------------------------------------------------


def test_cli_creates_a_facilitator(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    """Create a facilitator account from the command line that can then log in."""
    result = app.test_cli_runner().invoke(
        args=["create-facilitator", "kalle"], input="lösenord123\nlösenord123\n"
    )
    assert result.exit_code == 0, result.output
    assert "Samtalsledaren kalle är skapad." in result.output
    response = auth.login("kalle", "lösenord123")
    assert response.status_code == 302
    assert response.headers["Location"] == "/f/"


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("olle", "kort", "Lösenordet måste ha minst 8 tecken."),
        ("samtalsledare", "lösenord123", "Användarnamnet finns redan."),
    ],
)
def test_cli_refuses_a_bad_account(app: Flask, username: str, password: str, message: str) -> None:
    """Refuse a too short password or a taken name with a message, creating nothing."""
    result = app.test_cli_runner().invoke(
        args=["create-facilitator", username], input=f"{password}\n{password}\n"
    )
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        names = db.session.scalars(sa.select(Facilitator.username)).all()
    assert names == ["samtalsledare"]


@pytest.mark.parametrize("path", ["/f/{}", "/f/{}/sammanstallning", "/f/{}/export.docx"])
def test_a_workshop_id_beyond_the_database_is_not_found(logged_in: FlaskClient, path: str) -> None:
    """An id no integer column holds is an unknown workshop on every database, not an error."""
    for workshop_id in (2**31, 2**63 + 5):
        assert logged_in.get(path.format(workshop_id)).status_code == 404
