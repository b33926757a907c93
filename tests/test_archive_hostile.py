"""Hostile archives: each a small change to a real export, uploaded as the facilitator would.

Every one must be refused with the import form's message (Swedish, or English for an English
browser), a 4xx and not a single row written; the live vote's rules hold for imported ballots
and a decision's tally must be what its ballots give. A valid archive still round-trips.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from workshop import domain, services
from workshop.domain.archive import ARCHIVE_LIMITS, MAX_DEPTH

from .builders import build_workshop, emit_ack, open_vote, start_dialogue
from .conftest import alerts, table_rows

DEEP = "@@deep@@"  # replaced by 5,000 levels in the bytes, where json.dumps cannot recurse
DEEP_LIST = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a": ' * 5000 + "1" + "}" * 5000


def _goal(archive: dict[str, Any], method: str) -> int:
    """Index of the goal whose vote used ``method``."""
    return next(
        i for i, g in enumerate(archive["goals"]) if any(r["method"] == method for r in g["rounds"])
    )


def _round(archive: dict[str, Any], method: str) -> dict[str, Any]:
    return archive["goals"][_goal(archive, method)]["rounds"][0]


def _deep_details(archive: dict[str, Any]) -> bytes:
    archive["audit"][0]["details"] = {"goal": DEEP}
    return json.dumps(archive).replace(json.dumps(DEEP), DEEP_LIST).encode()


def _deep_answer(archive: dict[str, Any]) -> bytes:
    _round(archive, "ja_nej")["ballots"][0]["1"] = DEEP
    return json.dumps(archive).replace(json.dumps(DEEP), DEEP_OBJECT).encode()


def _dots(archive: dict[str, Any], budget: int, ballot: dict[str, Any]) -> None:
    r = _round(archive, "prickar")
    r["dot_budget"] = budget
    r["ballots"][0] = ballot


def _first_number(archive: dict[str, Any]) -> str:
    return str(_round(archive, "prickar")["proposals"][0])


def _tampered_tally(archive: dict[str, Any]) -> None:
    decision = archive["goals"][_goal(archive, "ja_nej")]["decision"]
    decision["tally"]["proposals"][0]["counts"]["ja"] += 100


def _duplicate_round(archive: dict[str, Any]) -> None:
    rounds = archive["goals"][_goal(archive, "ja_nej")]["rounds"]
    rounds.append(copy.deepcopy(rounds[0]))


def _duplicate_proposal(archive: dict[str, Any]) -> None:
    archive["goals"][_goal(archive, "ja_nej")]["proposals"][1]["number"] = 1


def _goal_position(archive: dict[str, Any]) -> None:
    archive["goals"][1]["position"] = 0  # positions are the list's order, nothing to collide


def _too_many_ballots(archive: dict[str, Any]) -> None:
    r = _round(archive, "ja_nej")
    r["ballots"] = [r["ballots"][0]] * (ARCHIVE_LIMITS["ballots"] + 1)


def _too_many_ballots_in_all(archive: dict[str, Any]) -> None:
    goal = archive["goals"][_goal(archive, "ja_nej")]
    first = goal["rounds"][0]
    rounds = 1 + ARCHIVE_LIMITS["all_ballots"] // ARCHIVE_LIMITS["ballots"]
    goal["rounds"] = [
        {**first, "number": n + 1, "ballots": [first["ballots"][0]] * ARCHIVE_LIMITS["ballots"]}
        for n in range(rounds)
    ]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set one value by a path such as ``workshop.title`` or ``goals.1.proposals.0.number``."""

    def change(archive: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = archive
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


YES = "goals[1].rounds[0]"  # the ja/nej vote of build_workshop's goal 2
# (id, the archive it changes, the change, the Swedish message, the English message)
CASES: list[tuple[str, str, Callable[[dict[str, Any]], Any], str, str]] = [
    (
        "ja_nej_99",
        "ja_nej",
        lambda a: _round(a, "ja_nej")["ballots"][0].update({"1": 99}),
        f"Rösten i {YES}.ballots[0] är tom eller har ett svar som metoden inte godtar.",
        f"The ballot in {YES}.ballots[0] is empty or has an answer the method does not accept.",
    ),
    (
        "prickar_million_budget_1",
        "prickar",
        lambda a: _dots(a, 1, {_first_number(a): 10**6}),
        "är tom eller har ett svar som metoden inte godtar.",
        "is empty or has an answer the method does not accept.",
    ),
    (
        "prickar_over_budget",
        "prickar",
        lambda a: _dots(a, 1, {str(n): 1 for n in _round(a, "prickar")["proposals"][:2]}),
        "fördelar 2 poäng men budgeten är 1.",
        "gives 2 points but the budget is 1.",
    ),
    (
        "ballot_unknown_proposal",
        "ja_nej",
        lambda a: _round(a, "ja_nej")["ballots"][0].update({"99": "ja"}),
        f"Rösten i {YES}.ballots[0] gäller ett förslag som inte finns i omröstningen.",
        f"The ballot in {YES}.ballots[0] is for a proposal that is not in the vote.",
    ),
    (
        "round_unknown_proposal",
        "ja_nej",
        lambda a: _round(a, "ja_nej")["proposals"].append(99),
        f"Arkivet hänvisar till något som inte finns: {YES}.proposals F99.",
        f"The archive refers to something that does not exist: {YES}.proposals F99.",
    ),
    (
        "duplicate_round_number",
        "ja_nej",
        _duplicate_round,
        "Omröstning nummer 1 finns flera gånger i goals[1].rounds.",
        "Vote number 1 appears more than once in goals[1].rounds.",
    ),
    (
        "duplicate_proposal_number",
        "ja_nej",
        _duplicate_proposal,
        "Förslag F1 finns flera gånger i goals[1].proposals.",
        "Proposal F1 appears more than once in goals[1].proposals.",
    ),
    (
        "duplicate_goal_position",
        "ja_nej",
        _goal_position,
        "Arkivet har ett okänt fält i goals[1].",
        "The archive has an unknown field in goals[1].",
    ),
    (
        "tampered_tally",
        "ja_nej",
        _tampered_tally,
        "Röstresultatet i goals[1].decision.tally stämmer inte med rösterna i arkivet.",
        "The vote result in goals[1].decision.tally does not match the ballots in the archive.",
    ),
    (
        "deep_audit_details",
        "ja_nej",
        _deep_details,
        f"Arkivet är för djupt nästlat (högst {MAX_DEPTH} nivåer).",
        f"The archive is nested too deeply (at most {MAX_DEPTH} levels).",
    ),
    (
        "deep_ballot_answer",
        "ja_nej",
        _deep_answer,
        f"Arkivet är för djupt nästlat (högst {MAX_DEPTH} nivåer).",
        f"The archive is nested too deeply (at most {MAX_DEPTH} levels).",
    ),
    (
        "nested_audit_details",
        "ja_nej",
        _set("audit.0.details", {"goal": {"a": {"b": "c"}}}),
        "Värdet i audit[0].details är för djupt nästlat (högst 2 nivåer).",
        "The value in audit[0].details is nested too deeply (at most 2 levels).",
    ),
    (
        "top_level_list",
        "ja_nej",
        lambda a: b"[1, 2, 3]",
        "Filen är inte ett arkiv från Målverkstad.",
        "The file is not an archive from Målverkstad.",
    ),
    (
        "not_utf8",
        "ja_nej",
        lambda a: json.dumps(a, ensure_ascii=False).encode("latin-1", "replace") + b"\xff\xfe",
        "Filen är inte en JSON-fil från Målverkstad.",
        "The file is not a JSON file from Målverkstad.",
    ),
    (
        "huge_title",
        "ja_nej",
        _set("workshop.title", "x" * 100_000),
        "Texten i workshop.title är för lång (högst 200 tecken).",
        "The text in workshop.title is too long (at most 200 characters).",
    ),
    (
        "long_proposal_field",
        "ja_nej",
        _set("goals.1.proposals.0.fields.baseline_year", "20188"),
        "Texten i goals[1].proposals[0].fields.baseline_year är för lång (högst 4 tecken).",
        "The text in goals[1].proposals[0].fields.baseline_year is too long (at most 4 "
        "characters).",
    ),
    (
        "nul_in_title",
        "ja_nej",
        _set("workshop.title", "KS\x00mål"),
        "Texten i workshop.title innehåller tecken som inte är tillåtna.",
        "The text in workshop.title contains characters that are not allowed.",
    ),
    (
        "too_many_ballots",
        "ja_nej",
        _too_many_ballots,
        f"För många poster i {YES}.ballots (högst {ARCHIVE_LIMITS['ballots']}).",
        f"Too many items in {YES}.ballots (at most {ARCHIVE_LIMITS['ballots']}).",
    ),
    (
        "too_many_ballots_in_all",
        "ja_nej",
        _too_many_ballots_in_all,
        "Arkivet har för många röster (22003, högst 20000).",
        "The archive has too many ballots (22003, at most 20000).",
    ),
    (
        "wrong_type",
        "ja_nej",
        _set("goals.1.proposals.0.number", "ett"),
        "Fel typ i arkivet vid goals[1].proposals[0].number: ska vara ett heltal.",
        "Wrong type in the archive at goals[1].proposals[0].number: should be an integer.",
    ),
    (
        "number_beyond_an_id",
        "ja_nej",
        _set("goals.1.proposals.0.number", 2**40),
        "Ogiltigt värde i arkivet vid goals[1].proposals[0].number.",
        "Invalid value in the archive at goals[1].proposals[0].number.",
    ),
    (
        "impossible_date",
        "ja_nej",
        _set("workshop.created_at", "2019-13-45T25:00:00"),
        "Ogiltigt datum i arkivet vid workshop.created_at.",
        "Invalid date in the archive at workshop.created_at.",
    ),
    (
        "wrong_version",
        "ja_nej",
        _set("archive_version", 2),
        "Arkivversion 2 kan inte läsas in; den här versionen läser version 1.",
        "Archive version 2 cannot be imported; this version reads version 1.",
    ),
]


def _export(client: FlaskClient, workshop_id: int) -> dict[str, Any]:
    response = client.get(f"/f/{workshop_id}/export.json")
    assert response.status_code == 200
    return response.get_json()


def _multipart(body: bytes) -> bytes:
    """The form's body written out: the test client would spool a large file to a temporary
    file that a refused request leaves unclosed (a ResourceWarning)."""
    return (
        b"--grans\r\n"
        b'Content-Disposition: form-data; name="archive"; filename="arkiv.json"\r\n'
        b"Content-Type: application/json\r\n\r\n" + body + b"\r\n--grans--\r\n"
    )


def _upload(client: FlaskClient, body: bytes, lang: str = "sv") -> Any:
    return client.post(
        "/f/importera",
        data=_multipart(body),
        content_type="multipart/form-data; boundary=grans",
        headers={"Accept-Language": lang},
    )


@pytest.fixture
def archives(app: Flask, client: FlaskClient) -> dict[str, dict[str, Any]]:
    """Real exports: build_workshop's (a ja/nej and a criteria vote, decided) and a live
    dialogue whose phones voted with dots (budget 3) before the decision was recorded."""
    yes_no = build_workshop(app)
    dialogue = start_dialogue(app, client, phones=3)
    goal_id, round_id, proposals = open_vote(dialogue.fac, "prickar", count=3)
    for phone, points in zip(dialogue.phones, ((2, 1, 0), (0, 3, 0), (1, 1, 1)), strict=True):
        ack = phone.vote(round_id, {str(p): n for p, n in zip(proposals, points, strict=True)})
        assert ack["ok"], ack
    dialogue.do("phase:set", goal_id=goal_id, phase="resultat")
    emit_ack(
        dialogue.fac,
        "decision:record",
        goal_id=goal_id,
        kind="ambitionsniva",
        what="Fler jobb",
        proposal_id=proposals[1],
    )
    return {"ja_nej": _export(client, yes_no), "prickar": _export(client, dialogue.workshop_id)}


@pytest.mark.parametrize(
    ("base", "change", "swedish", "english"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_hostile_archive_is_refused_in_swedish_and_english(
    app: Flask,
    client: FlaskClient,
    archives: dict[str, dict[str, Any]],
    base: str,
    change: Callable[[dict[str, Any]], Any],
    swedish: str,
    english: str,
) -> None:
    archive = copy.deepcopy(archives[base])
    changed = change(archive)
    body = changed if isinstance(changed, bytes) else json.dumps(archive).encode()
    before = table_rows(app)
    for lang, message in (("sv", swedish), ("en", english)):
        response = _upload(client, body, lang)
        assert response.status_code == 400
        assert message in alerts(response.get_data(as_text=True))
    assert table_rows(app) == before


def test_an_oversized_file_is_refused_before_it_is_read(
    app: Flask, client: FlaskClient, archives: dict[str, dict[str, Any]]
) -> None:
    before = table_rows(app)
    archive = json.dumps(archives["ja_nej"]).encode()
    archive += b" " * (app.config["MAX_CONTENT_LENGTH"] + 1 - len(archive))
    response = _upload(client, archive)
    assert response.status_code == 413
    assert "Filen är för stor." in response.get_data(as_text=True)
    assert table_rows(app) == before


def test_the_service_refuses_deep_objects_handed_to_it(
    app: Flask, archives: dict[str, dict[str, Any]]
) -> None:
    """Not only a file: a 5,000-deep Python value never reaches jsonschema or a JSON column."""
    deep: Any = "bunn"
    for _ in range(5000):
        deep = {"a": deep}
    for where in ("audit", "fields"):
        archive = copy.deepcopy(archives["ja_nej"])
        if where == "audit":
            archive["audit"][0]["details"] = deep
        else:
            archive["goals"][1]["proposals"][0]["fields"] = deep
        before = table_rows(app)
        with app.app_context(), pytest.raises(domain.DomainError) as caught:
            services.import_archive(archive)
        assert caught.value.message == "Arkivet är för djupt nästlat (högst %(limit)s nivåer)."
        assert table_rows(app) == before


@pytest.mark.parametrize("base", ["ja_nej", "prickar"])
def test_a_valid_archive_still_round_trips(
    client: FlaskClient, archives: dict[str, dict[str, Any]], base: str
) -> None:
    """Export, import over HTTP, export again: equal but for exported_at (tally recounted)."""
    first = archives[base]
    response = _upload(client, json.dumps(first).encode())
    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    second = _export(client, int(response.headers["Location"].split("/")[2]))
    assert {**second, "exported_at": ""} == {**first, "exported_at": ""}


def test_the_schema_states_the_live_limits() -> None:
    """The published schema's lengths and counts are the domain's (one set of numbers)."""
    from workshop.queries import ARCHIVE_SCHEMA

    schema = json.loads(ARCHIVE_SCHEMA.read_text(encoding="utf-8"))
    defs = schema["$defs"]
    for props in (defs["fields"]["properties"], defs["original"]["anyOf"][1]["properties"]):
        assert {k: v["maxLength"] for k, v in props.items() if "maxLength" in v} == (
            domain.PROPOSAL_LIMITS
        )
    goal = defs["goal"]["properties"]
    assert {k: goal[k]["maxLength"] for k in domain.GOAL_LIMITS} == domain.GOAL_LIMITS
    details = schema["properties"]["workshop"]["properties"]
    assert {k: details[k]["maxLength"] for k in services.DETAIL_LIMITS} == services.DETAIL_LIMITS
    follow_up = defs["follow_up"]["properties"]
    assert {k: follow_up[k]["maxLength"] for k in ("value", "comment", "activities")} == {
        k: domain.FOLLOW_UP_LIMITS[k] for k in ("value", "comment", "activities")
    }
    dissent = defs["decision"]["properties"]["dissent"]["items"]["properties"]
    assert (dissent["text"]["maxLength"], dissent["name"]["maxLength"]) == (
        services.MAX_DISSENT,
        services.MAX_NAME,
    )
    parking = schema["properties"]["parking"]["items"]["properties"]
    assert parking["text"]["maxLength"] == services.MAX_PARKING
    assert defs["proposal"]["properties"]["hidden_reason"]["maxLength"] == services.MAX_REASON
    assert schema["properties"]["goals"]["maxItems"] == ARCHIVE_LIMITS["goals"]
    assert goal["proposals"]["maxItems"] == ARCHIVE_LIMITS["proposals"]
    assert goal["rounds"]["maxItems"] == ARCHIVE_LIMITS["rounds"]
    assert goal["follow_ups"]["maxItems"] == ARCHIVE_LIMITS["follow_ups"]
    assert defs["round"]["properties"]["ballots"]["maxItems"] == ARCHIVE_LIMITS["ballots"]
    assert defs["round"]["properties"]["dot_budget"]["maximum"] == domain.MAX_DOT_BUDGET
    assert schema["properties"]["parking"]["maxItems"] == ARCHIVE_LIMITS["parking"]
    assert schema["properties"]["audit"]["maxItems"] == ARCHIVE_LIMITS["audit"]
    assert defs["decision"]["properties"]["dissent"]["maxItems"] == ARCHIVE_LIMITS["dissent"]
    assert defs["number"]["maximum"] == ARCHIVE_LIMITS["proposals"]
