"""Languages: the English catalog is complete and compiled, and the choice reaches every output.

Swedish is the source language: the msgids are the Swedish texts, so only English has a
catalog. The choice follows the session (``/sprak/<code>``), else ``Accept-Language``.
"""

from __future__ import annotations

import datetime as dt
import gettext as gettext_module
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import docx
import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from workshop import domain
from workshop.extensions import db
from workshop.models import Workshop

from .builders import emit_ack
from .conftest import Phone, connect, received

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "workshop" / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"
# The same options as the extraction command in the README.
EXTRACT = [
    "extract",
    "-F",
    "babel.cfg",
    "-k",
    "N_",
    "-k",
    "lazy_gettext",
    "-k",
    "pgettext_via:1c,2",
    "-c",
    "TRANSLATORS:",
]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def _key(message: Any) -> tuple[str | None, str]:
    msgid = message.id[0] if isinstance(message.id, tuple) else message.id
    return (message.context, msgid)


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    with PO.open("rb") as f:
        return read_po(f, locale="en")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: Any) -> Catalog:
    """Extract the msgids from the code and templates now, as a developer would."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    result = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", *EXTRACT, "-o", str(pot), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with pot.open("rb") as f:
        return read_po(f)


# --- The catalog ------------------------------------------------------------------------------


def test_catalog_has_no_untranslated_or_fuzzy_entries(catalog: Catalog) -> None:
    assert not catalog.fuzzy, "the catalog's header is marked fuzzy"
    messages = [m for m in catalog if m.id]
    assert len(messages) > 400
    fuzzy = [m.id for m in messages if m.fuzzy]
    untranslated = [
        m.id
        for m in messages
        if not m.string or (isinstance(m.string, tuple) and not all(m.string))
    ]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not untranslated, f"untranslated entries: {untranslated}"


def test_every_extracted_msgid_is_in_the_catalog(catalog: Catalog, extracted: Catalog) -> None:
    """A string added to the code or a template without a translation fails here."""
    known = {_key(m) for m in catalog if m.id}
    missing = sorted(
        (ctx or "", msgid)
        for ctx, msgid in (_key(m) for m in extracted if m.id)
        if (ctx, msgid) not in known
    )
    assert not missing, (
        "not in the English catalog (run the update commands in the README): " + repr(missing)
    )


def test_extraction_finds_the_messages_built_at_the_edges(extracted: Catalog) -> None:
    """The messages built from parts (filled in later, or with a context) are extracted."""
    keys = {_key(m) for m in extracted if m.id}
    for msgid in (
        "%(n)s röster lämnades.",  # fill(gettext(...)) in the domain
        "%(first)s och %(last)s",
        "december",  # month names, marked with N_
        "Högst %(limit)s tecken.",  # a DomainError field message
        "Du är inte ansluten.",  # a Socket.IO error
        "Bilaga: Alla förslag och röstresultat",  # an export heading
        "Från: {name}",  # a string for the scripts
    ):
        assert (None, msgid) in keys, msgid
    assert ("before a proposal's label, e.g. Förslag F3", "Förslag") in keys


def test_translations_keep_their_placeholders(catalog: Catalog) -> None:
    wrong = [
        (m.id, m.string)
        for m in catalog
        if m.id and _placeholders(str(m.id)) != _placeholders(str(m.string))
    ]
    assert not wrong, wrong
    assert not [error for error in catalog.check()], list(catalog.check())


def test_compiled_catalog_matches_the_po(catalog: Catalog) -> None:
    """The committed .mo (the app reads only it) holds exactly what the .po says."""
    with MO.open("rb") as f:
        compiled = gettext_module.GNUTranslations(f)
    expected = {}
    for m in catalog:
        if m.id:
            key = f"{m.context}\x04{m.id}" if m.context else m.id
            expected[key] = m.string
    actual = {k: v for k, v in compiled._catalog.items() if k}  # type: ignore[attr-defined]
    assert actual == expected, "the .mo is out of date: run pybabel compile (see the README)"


# --- Choosing the language --------------------------------------------------------------------


def html_lang(response: Any) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match
    return match.group(1)


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "sv"),
        ("sv", "sv"),
        ("sv-SE,sv;q=0.9,en;q=0.8", "sv"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("de-DE,de;q=0.9,en;q=0.5", "en"),
        ("de-DE", "sv"),
    ],
)
def test_landing_page_follows_accept_language(
    client: FlaskClient, header: str | None, lang: str
) -> None:
    response = client.get("/", headers={"Accept-Language": header} if header else {})
    assert response.status_code == 200
    assert html_lang(response) == lang
    text = response.get_data(as_text=True)
    if lang == "en":
        assert "Join a dialogue" in text and "Gå med i en dialog" not in text
    else:
        assert "Gå med i en dialog" in text and "Join a dialogue" not in text


def test_the_switch_is_remembered_over_the_browser(client: FlaskClient) -> None:
    response = client.get("/sprak/en")
    assert response.status_code == 302
    assert html_lang(client.get("/")) == "en"
    assert html_lang(client.get("/", headers={"Accept-Language": "sv"})) == "en"
    assert "Log in" in client.get("/login").get_data(as_text=True)
    client.get("/sprak/sv")
    assert html_lang(client.get("/", headers={"Accept-Language": "en"})) == "sv"


def test_an_unknown_language_changes_nothing(client: FlaskClient) -> None:
    client.get("/sprak/de")
    assert html_lang(client.get("/")) == "sv"


def test_the_switch_marks_the_current_language(client: FlaskClient) -> None:
    text = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert re.search(r'hreflang="en" aria-current="true"', text)
    assert not re.search(r'hreflang="sv" aria-current="true"', text)


def test_choice_survives_logging_in(client: FlaskClient, auth: Any) -> None:
    client.get("/sprak/en")
    auth.login()
    text = client.get("/f/").get_data(as_text=True)
    assert "All dialogues" in text or "Dialogues" in text
    assert "Create the dialogue" in text


def test_a_domain_error_page_is_translated(client: FlaskClient) -> None:
    response = client.post("/", data={"code": "ACDEFG"}, headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "That code does not exist." in response.get_data(as_text=True)


def test_the_scripts_strings_are_translated(
    app: Flask, client: FlaskClient, auth: Any, create_workshop: Any
) -> None:
    workshop_id = create_workshop()
    client.get("/sprak/en")
    auth.login()
    text = client.get(f"/f/{workshop_id}").get_data(as_text=True)
    block = re.search(r'<script type="application/json" id="i18n-common">(.*?)</script>', text)
    assert block
    assert '"conn_online": "Connected"' in block.group(1)
    assert '"decimal_sep": "."' in block.group(1)
    client.get("/sprak/sv")
    swedish = client.get(f"/f/{workshop_id}").get_data(as_text=True)
    assert '"decimal_sep": ","' in swedish


# --- Socket.IO --------------------------------------------------------------------------------


def english_phone(app: Flask, workshop_id: int) -> Phone:
    """A phone whose person chose English with the switch before joining."""
    phone = Phone.__new__(Phone)
    phone.app = app
    phone.http = app.test_client()
    phone.http.get("/sprak/en")
    phone.secret = "s" * 32
    phone.workshop_id = workshop_id
    with app.app_context():
        phone.code = db.session.get(Workshop, workshop_id).join_code
    assert phone.http.post(f"/j/{phone.code}", data={"name": ""}).status_code == 302
    phone.sio = connect(app, phone.http, workshop_id, "people")
    phone.sio.emit("state:get", {"secret": phone.secret}, callback=True)  # binds, as the page does
    return phone


def test_socket_errors_are_in_the_clients_language(
    app: Flask, create_workshop: Any, facilitator_socket: Any
) -> None:
    workshop_id = create_workshop()
    fac = facilitator_socket(workshop_id)
    goal_id = emit_ack(fac, "state:get")["state"]["goal"]["id"]
    emit_ack(fac, "phase:set", goal_id=goal_id, phase="forslag")

    english = english_phone(app, workshop_id)
    ack = english.propose(goal_id, "", indicator="x" * 301)
    assert ack["ok"] is False and ack["code"] == "invalid_fields"
    assert ack["error"] == "The proposal has errors that need correcting."
    assert ack["fields"] == {
        "what": "Describe what is to be achieved.",
        "indicator": "At most 300 characters.",
    }

    swedish = Phone(app, workshop_id)
    ack = swedish.propose(goal_id, "", indicator="x" * 301)
    assert ack["error"] == "Förslaget har fel som behöver rättas."
    assert ack["fields"]["indicator"] == "Högst 300 tecken."

    ack = english.emit("workshop:close")
    assert ack == {
        "ok": False,
        "code": "forbidden",
        "error": "Only the facilitator may do this.",
        "fields": {},
    }


def test_socket_follows_accept_language_without_a_choice(
    app: Flask, create_workshop: Any, facilitator_socket: Any
) -> None:
    workshop_id = create_workshop()
    phone = Phone(app, workshop_id)
    sio = app.extensions["socketio"].test_client(
        app,
        flask_test_client=phone.http,
        auth={"workshop": workshop_id, "role": "people"},
        headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    ack = sio.emit("vote:cast", {"round_id": 999, "secret": phone.secret}, callback=True)
    assert ack["ok"] is False
    assert ack["error"] == "The vote does not exist."


def test_each_language_gets_its_own_state(
    app: Flask, client: FlaskClient, auth: Any, create_workshop: Any
) -> None:
    """A push carries labels translated for each reader, whoever caused it."""
    workshop_id = create_workshop()
    client.get("/sprak/en")
    auth.login()
    fac = connect(app, client, workshop_id, "facilitator")
    swedish = Phone(app, workshop_id)
    english = english_phone(app, workshop_id)
    goal_id = emit_ack(fac, "state:get")["state"]["goal"]["id"]
    for sio in (fac, swedish.sio, english.sio):
        sio.get_received()

    emit_ack(fac, "phase:set", goal_id=goal_id, phase="forslag")
    (fac_state,) = received(fac)
    (sv_state,) = received(swedish.sio)
    (en_state,) = received(english.sio)
    assert fac_state["goal"]["phase_label"] == "Proposals"
    assert fac_state["agenda"][0]["phase_label"] == "Proposals"
    assert sv_state["goal"]["phase_label"] == "Förslag"
    assert en_state["goal"]["phase_label"] == "Proposals"
    assert sv_state["seq"] == en_state["seq"] == fac_state["seq"]

    assert swedish.propose(goal_id, "Fler i egen försörjning")["ok"]
    assert english.propose(goal_id, "More people self-supporting")["ok"]
    emit_ack(fac, "phase:set", goal_id=goal_id, phase="rostning", method="betyg")
    round_id = swedish.state()["state"]["vote"]["round_id"]
    ids = [p["id"] for p in swedish.state()["state"]["vote"]["proposals"]]
    assert swedish.vote(round_id, {str(ids[0]): 4, str(ids[1]): 3})["ok"]
    assert english.vote(round_id, {str(ids[0]): 5})["ok"]
    for sio in (fac, swedish.sio, english.sio):
        sio.get_received()
    emit_ack(fac, "phase:set", goal_id=goal_id, phase="resultat")
    sv_results = received(swedish.sio)[-1]
    en_results = received(english.sio)[-1]
    assert sv_results["vote"]["method_label"] == "Betyg 1–5 per förslag"
    assert en_results["vote"]["method_label"] == "Score 1–5 per proposal"
    assert sv_results["results"]["text"][0] == "2 röster lämnades."
    assert en_results["results"]["text"][0] == "Ballots cast: 2."
    assert "medelbetyg 4,5 av 5" in sv_results["results"]["text"][1]
    assert "average score 4.5 out of 5" in en_results["results"]["text"][1]


# --- The export -------------------------------------------------------------------------------


def _export_workshop(app: Flask, client: FlaskClient, auth: Any, create_workshop: Any) -> int:
    """A workshop with a phone's proposal and one from the facilitator, for the appendix."""
    workshop_id = create_workshop()
    auth.login()
    fac = connect(app, client, workshop_id, "facilitator")
    goal_id = emit_ack(fac, "state:get")["state"]["goal"]["id"]
    emit_ack(fac, "phase:set", goal_id=goal_id, phase="forslag")
    assert Phone(app, workshop_id).propose(goal_id, "Fler i egen försörjning")["ok"]
    ack = fac.emit(
        "proposal:add",
        {
            "goal_id": goal_id,
            "client_id": "c" * 16,
            "proposal": {"kind": "ambitionsniva", "what": "X"},
        },
        callback=True,
    )
    assert ack["ok"], ack
    return workshop_id


def test_markdown_export_is_english_in_an_english_session(
    app: Flask, client: FlaskClient, auth: Any, create_workshop: Any
) -> None:
    workshop_id = _export_workshop(app, client, auth, create_workshop)
    swedish = client.get(f"/f/{workshop_id}/export.md").get_data(as_text=True)
    for heading in (
        "## Förslag till beslut",
        "## Sammanfattning",
        "## Ärendet",
        "## Bedömning",
        "## Frågor att ta vidare",
        "## Beslutet ska skickas till",
        "## Handläggare",
        "## Bilaga\\: Alla förslag och röstresultat",
        "#### Förslag F1",
        "Samtalsledaren",
        "30 april 2019",
    ):
        assert heading in swedish, heading

    client.get("/sprak/en")
    english = client.get(f"/f/{workshop_id}/export.md").get_data(as_text=True)
    for heading in (
        "Reg\\. no\\. KS 2018/109",
        "## Proposal for decision",
        "## Summary",
        "## Background",
        "## Assessment",
        "## Questions to take forward",
        "## The decision is to be sent to",
        "## Case officer",
        "## Appendix\\: All proposals and voting results",
        "### Goal 1\\. ",
        "#### Proposal F1",
        "**Proposed by:** Facilitator",
        "30 April 2019",
        "Not dealt with in the dialogue",
    ):
        assert heading in english, heading
    for swedish_text in (
        "Förslag till beslut",
        "Sammanfattning",
        "Ärendet",
        "Bilaga",
        "Handläggare",
        "Samtalsledaren",
        "april 2019",
        "Ej behandlad",
        "Dnr",
    ):
        assert swedish_text not in english, swedish_text


def test_docx_export_is_english_in_an_english_session(
    app: Flask, client: FlaskClient, auth: Any, create_workshop: Any
) -> None:
    workshop_id = _export_workshop(app, client, auth, create_workshop)
    client.get("/sprak/en")
    response = client.get(f"/f/{workshop_id}/export.docx")
    assert response.status_code == 200
    word = docx.Document(io.BytesIO(response.data))
    headings = [p.text for p in word.paragraphs if p.style.name.startswith("Heading")]
    for heading in (
        "Proposal for decision",
        "Summary",
        "Background",
        "Assessment",
        "Questions to take forward",
        "Case officer",
        "Appendix: All proposals and voting results",
        "Proposal F1",
    ):
        assert heading in headings, heading
    assert word.core_properties.language == "en-GB"

    client.get("/sprak/sv")
    word = docx.Document(io.BytesIO(client.get(f"/f/{workshop_id}/export.docx").data))
    assert "Förslag till beslut" in [p.text for p in word.paragraphs]
    assert word.core_properties.language == "sv-SE"


def test_goal_numbers_and_dates_are_joined_in_the_language() -> None:
    catalogue = {
        "%(first)s och %(last)s": "%(first)s and %(last)s",
        "april": "April",
        "%(int)s,%(dec)s": "%(int)s.%(dec)s",
    }

    def english(message: str) -> str:
        return catalogue.get(message, message)

    goals = [domain.GoalRecord(area="A", number=n, text="T") for n in ("1", "2", "3")]
    assert domain.goal_list(goals) == "1, 2 och 3"
    assert domain.goal_list(goals, english) == "1, 2 and 3"
    assert domain.format_date(dt.date(2019, 4, 30)) == "30 april 2019"
    assert domain.format_date(dt.date(2019, 4, 30), english) == "30 April 2019"
    assert domain.format_number(4.5) == "4,5"
    assert domain.format_number(4.5, english) == "4.5"
    assert domain.format_number(4.0, english) == "4"
