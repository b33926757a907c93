"""The archive's pure rules: the depth scan, the value walk and ballots and tallies judged by
the live vote's rules (workshop/domain/archive.py)."""

from __future__ import annotations

from typing import Any

import pytest

from workshop.domain import DomainError
from workshop.domain.archive import (
    MAX_ARCHIVE_BYTES,
    MAX_DEPTH,
    bracket_depth,
    check_decision_tally,
    check_details,
    check_round,
    check_values,
    expected_tally,
    parse_archive,
)


def _message(error: pytest.ExceptionInfo[DomainError]) -> str:
    return error.value.message % error.value.params


def test_depth_is_scanned_in_the_raw_text() -> None:
    assert bracket_depth('{"a": [1, {"b": "[[[[[[[[[[[[[[["}]}', MAX_DEPTH) == 3
    assert bracket_depth(r'{"a": "\"[[[[[[[[[[[[[[[[["}', MAX_DEPTH) == 1
    assert bracket_depth("[[[]][]]", MAX_DEPTH) == 3
    assert bracket_depth("[" * 5000 + "]" * 5000, MAX_DEPTH) == MAX_DEPTH + 1  # stops there
    assert bracket_depth("[" * 5000, MAX_DEPTH) == 0  # unmatched: json.loads refuses it


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"a": ' * 5000 + b"1" + b"}" * 5000, "Arkivet är för djupt nästlat (högst 12 nivåer)."),
        (b"[" * 5000, "Filen är inte en JSON-fil från Målverkstad."),
        (b'{"a": "\xff"}', "Filen är inte en JSON-fil från Målverkstad."),
        (b"1" * 5000, "Filen är inte en JSON-fil från Målverkstad."),  # over 4,300 digits
        (b" " * (MAX_ARCHIVE_BYTES + 1), "Filen är för stor för att läsas in (högst 2 MB)."),
    ],
)
def test_parse_archive_refuses_in_swedish(raw: bytes, message: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_archive(raw)
    assert _message(caught) == message


def test_parse_archive_reads_utf8_with_a_bom() -> None:
    assert parse_archive('\ufeff{"å": [1]}'.encode()) == {"å": [1]}


def test_values_are_walked_without_recursion() -> None:
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(DomainError) as caught:
        check_values({"a": deep})
    assert caught.value.message.startswith("Arkivet är för djupt nästlat")
    with pytest.raises(DomainError) as caught:
        check_values({"goals": [{"text": "a\x00b"}]})
    assert _message(caught) == "Texten i goals[0].text innehåller tecken som inte är tillåtna."
    check_values({"text": "rad 1\nrad 2\tflik"})


def test_audit_details_are_flat() -> None:
    check_details({"proposals": ["F1", "F2"], "published": True}, "audit[0].details")
    with pytest.raises(DomainError) as caught:
        check_details({"proposals": [["F1"]]}, "audit[0].details")
    assert _message(caught) == "Värdet i audit[0].details är för djupt nästlat (högst 2 nivåer)."


def _round(method: str, ballots: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "number": 1,
        "method": method,
        "dot_budget": 3,
        "proposals": [1, 2],
        "status": "stangd",
        "revealed": True,
        "ballots": ballots,
        **extra,
    }


@pytest.mark.parametrize(
    ("r", "message"),
    [
        (
            _round("ja_nej", [{"1": "ja"}, {"1": 99}]),
            "Rösten i g.ballots[1] är tom eller har ett svar som metoden inte godtar.",
        ),
        (
            _round("prickar", [{"1": 10**6}], dot_budget=1),
            "Rösten i g.ballots[0] är tom eller har ett svar som metoden inte godtar.",
        ),
        (
            _round("prickar", [{"1": 1, "2": 1}], dot_budget=1),
            "Rösten i g.ballots[0] fördelar 2 poäng men budgeten är 1.",
        ),
        (
            _round("betyg", [{"3": 4}]),
            "Rösten i g.ballots[0] gäller ett förslag som inte finns i omröstningen.",
        ),
        (_round("betyg", [{}]), "Rösten i g.ballots[0] är tom eller har ett svar som metoden"),
        (
            _round("betyg", [], proposals=[1, 9]),
            "Arkivet hänvisar till något som inte finns: g.proposals F9.",
        ),
        (_round("betyg", [], proposals=[1, 1]), "Förslag F1 finns flera gånger i g.proposals."),
    ],
)
def test_a_round_is_judged_by_the_live_vote_rules(r: dict[str, Any], message: str) -> None:
    with pytest.raises(DomainError) as caught:
        check_round(r, {1, 2}, "g")
    assert _message(caught).startswith(message)


def test_ballots_come_back_normalised() -> None:
    assert check_round(_round("betyg", [{"1": "4", "2": ""}]), {1, 2}, "g") == [{"1": 4}]
    assert check_round(_round("prickar", [{"1": 3, "2": 0}]), {1, 2}, "g") == [{"1": 3}]


def test_a_decision_tally_must_be_the_recount() -> None:
    rounds = [_round("ja_nej", [{"1": "ja", "2": "nej"}, {"1": "ja"}])]
    ballots = [check_round(rounds[0], {1, 2}, "g")]
    honest = {"tally": None, "tally_labels": {}}
    counted = check_decision_tally(
        {"tally": expected_tally(rounds, ballots)[0], "tally_labels": {"1": "F1", "2": "F2"}},
        rounds,
        ballots,
        "g.decision",
    )
    assert counted is not None and counted["leaders"] == [1]
    edited = {**counted, "leaders": [2]}
    for decision in (
        {"tally": edited, "tally_labels": {"1": "F1", "2": "F2"}},
        {"tally": counted, "tally_labels": {"1": "F1"}},
        honest,  # a revealed round gives a decision its tally
    ):
        with pytest.raises(DomainError) as caught:
            check_decision_tally(decision, rounds, ballots, "g.decision")
        assert _message(caught) == (
            "Röstresultatet i g.decision.tally stämmer inte med rösterna i arkivet."
        )
    hidden = [{**rounds[0], "revealed": False}]
    assert check_decision_tally(honest, hidden, ballots, "g.decision") is None
