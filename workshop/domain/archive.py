"""Reading an archive back in: the limits a file must keep and the vote rules it must follow.

An archive comes from outside, so it is judged like a phone's input: size and nesting are
bounded before anything deep is parsed, and each stored ballot is checked with the live
vote's rules (:func:`validate_ballot` of the round's method, proposals and dot budget). A
decision's tally is never taken on trust: it must equal the tally of the ballots (see
:func:`check_decision_tally`). The limits are listed in ``docs/archive-schema.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .core import N_, DomainError
from .enums import VoteMethod
from .voting import check_dot_budget, tally, validate_ballot

MAX_ARCHIVE_BYTES = 2 * 1024 * 1024  # the upload limit (MAX_CONTENT_LENGTH) too
# A real archive nests 9 deep at most (goals, decision, tally, proposals, criteria, bucket);
# the margin is for the next format change, and 12 keeps every reader far from recursion.
MAX_DEPTH = 12
# Audit details are flat: a value is a scalar or one list (or object) of scalars.
MAX_DETAIL_DEPTH = 2
# How many items a list in the archive may hold (the schema's maxItems say the same).
ARCHIVE_LIMITS: dict[str, int] = {
    "goals": 100,
    "proposals": 2000,  # per goal; also a round's proposals, a tally's and any number
    "rounds": 50,  # per goal
    "ballots": 2000,  # per round
    "all_ballots": 20000,  # in the whole archive: its rows are written in one transaction
    "follow_ups": 50,  # per goal
    "follow_up_dates": 20,
    "dissent": 30,  # as services.decisions accepts
    "parking": 2000,
    "audit": 10000,
    "detail_items": 2000,  # a list inside one audit entry's details
}

NOT_JSON = N_("Filen är inte en JSON-fil från Målverkstad.")
TOO_DEEP = N_("Arkivet är för djupt nästlat (högst %(limit)s nivåer).")

# Strings the database cannot hold or clean_text would have removed: C0/C1 controls other
# than tab and newlines, lone surrogates, U+FFFE/U+FFFF. PostgreSQL refuses NUL outright.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_ONE_KIND = str.maketrans("{}", "[]")


def bracket_depth(text: str, limit: int) -> int:
    """Return how deep the JSON ``text`` nests (brackets in strings skipped), at most limit + 1.

    A scan of the raw text, so json.loads never recurses into a hostile file (it raises
    RecursionError near 1,000 levels, an HTTP 500). Each pass removes the innermost pairs, so
    the passes needed are the depth; a few C-level passes, not a Python loop per character.
    Unmatched brackets are left for json.loads to refuse.
    """
    rest = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).translate(_ONE_KIND)
    for passes in range(limit + 1):
        if "[]" not in rest:
            return passes
        rest = rest.replace("[]", "")
    return limit + 1


def parse_archive(raw: bytes) -> Any:
    """Decode an uploaded archive file; raise DomainError (Swedish) for anything not JSON."""
    if len(raw) > MAX_ARCHIVE_BYTES:
        raise DomainError(
            N_("Filen är för stor för att läsas in (högst %(limit)s MB)."),
            code="bad_archive",
            params={"limit": MAX_ARCHIVE_BYTES // (1024 * 1024)},
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(NOT_JSON, code="bad_archive") from None
    if bracket_depth(text, MAX_DEPTH) > MAX_DEPTH:
        raise DomainError(TOO_DEEP, code="bad_archive", params={"limit": MAX_DEPTH})
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        # ValueError also covers an integer of more than 4,300 digits.
        raise DomainError(NOT_JSON, code="bad_archive") from None


def _where(path: Sequence[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or N_("arkivet")


def check_values(data: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH and strings the database cannot store.

    Iterative, so a deep structure handed in as Python objects (not only as a file) is
    refused before jsonschema or the JSON column's encoder recurse into it.
    """
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if _UNPRINTABLE.search(value):
                raise DomainError(
                    N_("Texten i %(path)s innehåller tecken som inte är tillåtna."),
                    code="bad_archive",
                    params={"path": _where(path)},
                )
            continue
        if not isinstance(value, Mapping | list):
            continue
        if len(path) >= MAX_DEPTH:
            raise DomainError(TOO_DEEP, code="bad_archive", params={"limit": MAX_DEPTH})
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str) or _UNPRINTABLE.search(key):
                    raise DomainError(
                        N_("Arkivet har ett okänt fält i %(path)s."),
                        code="bad_archive",
                        params={"path": _where(path)},
                    )
                stack.append((item, (*path, key)))
        else:
            stack.extend((item, (*path, i)) for i, item in enumerate(value))


def check_details(details: Mapping[str, Any], where: str) -> None:
    """Audit details hold scalars and lists of scalars: depth 2 at most, the details included."""

    def depth(value: Any) -> int:
        if isinstance(value, Mapping):
            return 1 + max((depth(v) for v in value.values()), default=0)
        if isinstance(value, list):
            return 1 + max((depth(v) for v in value), default=0)
        return 0

    # check_values has bounded the depth already, so this recursion stays shallow.
    if depth(details) > MAX_DETAIL_DEPTH:
        raise DomainError(
            N_("Värdet i %(path)s är för djupt nästlat (högst %(limit)s nivåer)."),
            code="bad_archive",
            params={"path": where, "limit": MAX_DETAIL_DEPTH},
        )


def _ballot_error(exc: DomainError, where: str) -> DomainError:
    """Say which ballot broke which of the live vote's rules."""
    params: dict[str, Any] = {"path": where}
    if exc.code == "over_budget":
        message = N_("Rösten i %(path)s fördelar %(spent)s poäng men budgeten är %(budget)s.")
        params.update(exc.params)
    elif exc.message == N_("Rösten gäller ett förslag som inte finns i omröstningen."):
        message = N_("Rösten i %(path)s gäller ett förslag som inte finns i omröstningen.")
    else:
        message = N_("Rösten i %(path)s är tom eller har ett svar som metoden inte godtar.")
    return DomainError(message, code="bad_archive", params=params)


def check_round(r: Mapping[str, Any], numbers: set[int], where: str) -> list[dict[str, Any]]:
    """Check one archived round as the live vote would; return its ballots, normalised.

    ``numbers`` are the goal's proposal numbers; the round's proposals must be among them, once
    each, and every ballot must pass ``validate_ballot`` for the round's method and budget.
    """
    method = VoteMethod(r["method"])  # the schema allows only the methods' values
    budget = check_dot_budget(r["dot_budget"])
    seen: set[int] = set()
    for number in r["proposals"]:
        if number not in numbers:
            raise DomainError(
                N_("Arkivet hänvisar till något som inte finns: %(what)s."),
                code="bad_archive",
                params={"what": f"{where}.proposals F{number}"},
            )
        if number in seen:
            raise DomainError(
                N_("Förslag F%(number)s finns flera gånger i %(path)s."),
                code="bad_archive",
                params={"number": number, "path": f"{where}.proposals"},
            )
        seen.add(number)
    ballots = []
    for i, answers in enumerate(r["ballots"]):
        try:
            ballots.append(validate_ballot(method, r["proposals"], answers, budget))
        except DomainError as exc:
            raise _ballot_error(exc, f"{where}.ballots[{i}]") from None
    return ballots


def check_ballot_count(goals: Sequence[Mapping[str, Any]]) -> None:
    """Bound the ballots of the whole archive, which one import writes while holding the
    database's write lock (the live votes wait for it)."""
    count = sum(len(r["ballots"]) for g in goals for r in g["rounds"])
    if count > ARCHIVE_LIMITS["all_ballots"]:
        raise DomainError(
            N_("Arkivet har för många röster (%(count)s, högst %(limit)s)."),
            code="bad_archive",
            params={"count": count, "limit": ARCHIVE_LIMITS["all_ballots"]},
        )


def check_round_numbers(rounds: Sequence[Mapping[str, Any]], where: str) -> None:
    """Round numbers are unique within a goal (the live vote numbers them 1, 2, …)."""
    seen: set[int] = set()
    for r in rounds:
        if r["number"] in seen:
            raise DomainError(
                N_("Omröstning nummer %(number)s finns flera gånger i %(path)s."),
                code="bad_archive",
                params={"number": r["number"], "path": where},
            )
        seen.add(r["number"])


def expected_tally(
    rounds: Sequence[Mapping[str, Any]], ballots: Sequence[Sequence[Mapping[str, Any]]]
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The tally and labels a decision records: those of the goal's last revealed round.

    Returned in the archive's terms (proposal numbers for ids), as services.record_decision
    computes them from the stored ballots.
    """
    for r, round_ballots in zip(reversed(rounds), reversed(ballots), strict=True):
        if r["revealed"]:
            counted = tally(VoteMethod(r["method"]), r["proposals"], round_ballots, r["dot_budget"])
            return counted.to_dict(), {str(n): f"F{n}" for n in r["proposals"]}
    return None, {}


def check_decision_tally(
    decision: Mapping[str, Any],
    rounds: Sequence[Mapping[str, Any]],
    ballots: Sequence[Sequence[Mapping[str, Any]]],
    where: str,
) -> dict[str, Any] | None:
    """Refuse a decision whose tally is not what its goal's ballots give; return the tally.

    A recorded decision freezes its round (stepping back deletes the decision), so an
    honest archive's tally always equals the recount; a difference means it was edited.
    """
    counted, labels = expected_tally(rounds, ballots)
    if decision["tally"] != counted or dict(decision["tally_labels"]) != labels:
        raise DomainError(
            N_("Röstresultatet i %(path)s stämmer inte med rösterna i arkivet."),
            code="bad_archive",
            params={"path": f"{where}.tally"},
        )
    return counted
