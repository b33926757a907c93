"""Reading an archive back in: a whole workshop, as a new one, or nothing at all."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from .. import domain
from ..domain import N_, DomainError
from ..domain.archive import (
    check_ballot_count,
    check_decision_tally,
    check_details,
    check_round,
    check_round_numbers,
    check_values,
)
from ..models import (
    AuditEntry,
    Ballot,
    Decision,
    FollowUp,
    Goal,
    ParkingItem,
    Proposal,
    VoteRound,
    Workshop,
    db,
)
from ..queries.archive import (
    ARCHIVE_SCHEMA,
    ARCHIVE_VERSION,
    parse_when,
    remap_tally,
)
from ._unit import unit_of_work
from .audit import audit
from .workshops import unique_join_code

# One whole message per type: a type name passed as a parameter would stay Swedish in English.
_TYPE_ERRORS = {
    "string": N_("Fel typ i arkivet vid %(path)s: ska vara text."),
    "integer": N_("Fel typ i arkivet vid %(path)s: ska vara ett heltal."),
    "number": N_("Fel typ i arkivet vid %(path)s: ska vara ett tal."),
    "boolean": N_("Fel typ i arkivet vid %(path)s: ska vara sant eller falskt."),
    "object": N_("Fel typ i arkivet vid %(path)s: ska vara ett objekt."),
    "array": N_("Fel typ i arkivet vid %(path)s: ska vara en lista."),
    "null": N_("Fel typ i arkivet vid %(path)s: ska vara tomt."),
}


def _archive_path(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or N_("arkivet")


def _schema_error(error: Any) -> DomainError:
    """Turn a jsonschema error into a Swedish message naming where in the archive it is."""
    path = _archive_path(error.absolute_path)
    if error.validator == "required":
        missing = next((name for name in error.validator_value if name not in error.instance), "")
        return DomainError(
            N_("Arkivet saknar fältet %(field)s i %(path)s."),
            code="bad_archive",
            params={"field": missing, "path": path},
        )
    if error.validator == "type":
        expected = error.validator_value
        expected = expected[0] if isinstance(expected, list) else expected
        return DomainError(
            _TYPE_ERRORS.get(expected, N_("Ogiltigt värde i arkivet vid %(path)s.")),
            code="bad_archive",
            params={"path": path},
        )
    if error.validator == "additionalProperties":
        return DomainError(
            N_("Arkivet har ett okänt fält i %(path)s."), code="bad_archive", params={"path": path}
        )
    if error.validator == "maxItems":
        return DomainError(
            N_("För många poster i %(path)s (högst %(limit)s)."),
            code="bad_archive",
            params={"path": path, "limit": error.validator_value},
        )
    if error.validator == "maxLength":
        return DomainError(
            N_("Texten i %(path)s är för lång (högst %(limit)s tecken)."),
            code="bad_archive",
            params={"path": path, "limit": error.validator_value},
        )
    return DomainError(
        N_("Ogiltigt värde i arkivet vid %(path)s."), code="bad_archive", params={"path": path}
    )


def validate_archive(data: Any) -> None:
    """Check an archive against ``docs/archive-schema.json``; raise DomainError in Swedish."""
    import jsonschema

    if not isinstance(data, Mapping) or "archive_version" not in data:
        raise DomainError(N_("Filen är inte ett arkiv från Målverkstad."), code="bad_archive")
    # Depth and unstorable characters first: jsonschema and the JSON columns recurse.
    check_values(data)
    if type(data["archive_version"]) is not int or data["archive_version"] != ARCHIVE_VERSION:
        raise DomainError(
            N_("Arkivversion %(version)s kan inte läsas in; den här versionen läser version 1."),
            code="bad_archive",
            params={"version": str(data["archive_version"])[:20]},
        )
    schema = json.loads(ARCHIVE_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    audit_trail = data.get("audit")
    for i, entry in enumerate(audit_trail if isinstance(audit_trail, list) else []):
        # Before the schema, whose message for a nested value would not say what is wrong.
        if isinstance(entry, Mapping) and isinstance(entry.get("details"), Mapping):
            check_details(entry["details"], f"audit[{i}].details")
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise _schema_error(error)
    check_ballot_count(data["goals"])


def _bad_date(where: str) -> DomainError:
    return DomainError(
        N_("Ogiltigt datum i arkivet vid %(path)s."), code="bad_archive", params={"path": where}
    )


def _when(text: str | None, where: str) -> dt.datetime | None:
    """A timestamp the schema's pattern let through may still be no date (2019-13-45)."""
    try:
        return parse_when(text)
    except ValueError:
        raise _bad_date(where) from None


def _date(text: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _bad_date(where) from None


def _missing(what: str) -> DomainError:
    return DomainError(
        N_("Arkivet hänvisar till något som inte finns: %(what)s."),
        code="bad_archive",
        params={"what": what},
    )


@unit_of_work
def import_archive(data: Any, facilitator_id: int | None = None) -> Workshop:
    """Recreate a workshop from an archive made by ``export_archive``, as a new workshop.

    It gets a fresh join code and presenter key; ballots get fresh random keys. The steps below
    each read one part of the archive; any broken reference, any ballot the live vote would
    refuse and any decision tally that is not the recount of its ballots refuses the whole
    import (limits and order: ``docs/archive.md``).
    """
    validate_archive(data)
    workshop = _workshop(data["workshop"], facilitator_id)
    goals: list[Goal] = []
    numbers: list[_Numbers] = []
    for position, g in enumerate(data["goals"]):
        base = f"goals[{position}]"
        goal = _goal(workshop, position, g)
        table = _proposals(goal, g, base)
        ballots = _rounds(goal, g, table, base)
        _decision(goal, g, ballots, table, base)
        _follow_ups(goal, g["follow_ups"], base)
        goals.append(goal)
        numbers.append(table)
    current = _goal_at(goals, data["workshop"]["current_goal"], "workshop.current_goal")
    workshop.current_goal_id = current.id if current else None
    _parking(workshop, data["parking"], goals, numbers)
    _audit_trail(workshop, data["audit"])
    # Recorded outside the workshop's own trail, so a re-export matches the archive.
    audit(None, "archive_import", {"title": workshop.title})
    return workshop


class _Numbers:
    """One goal's proposals: the archive's numbers (F1, F2, …) and the new rows' ids."""

    def __init__(self, by_number: Mapping[int, Proposal]) -> None:
        self.ids = {number: proposal.id for number, proposal in by_number.items()}

    def to_id(self, number: Any, where: str) -> int:
        if not isinstance(number, int) or number not in self.ids:
            raise _missing(f"{where} F{number}")
        return self.ids[number]


def _workshop(info: Mapping[str, Any], facilitator_id: int | None) -> Workshop:
    dates = ", ".join(info["follow_up_dates"])
    if dates:
        domain.parse_follow_up_dates(dates)
    if info["meeting_date"] and not domain.valid_date(info["meeting_date"]):
        raise _bad_date("workshop.meeting_date")
    workshop = Workshop(
        title=info["title"],
        dnr=info["dnr"],
        organisation=info["organisation"],
        unit=info["unit"],
        recipient=info["recipient"],
        send_to=info["send_to"],
        officer=info["officer"],
        meeting_date=info["meeting_date"],
        follow_up_dates=dates,
        join_code=unique_join_code(),
        status=info["status"],
        anonymous=info["anonymous"],
        created_at=_when(info["created_at"], "workshop.created_at"),
        created_by_id=facilitator_id,
    )
    db.session.add(workshop)
    db.session.flush()
    return workshop


def _goal(workshop: Workshop, position: int, g: Mapping[str, Any]) -> Goal:
    goal = Goal(
        workshop_id=workshop.id,
        position=position,
        **{k: g[k] for k in ("area", "number", "text", "strategies", "measurability")},
        phase=g["phase"],
    )
    db.session.add(goal)
    db.session.flush()
    return goal


def _proposals(goal: Goal, g: Mapping[str, Any], base: str) -> _Numbers:
    by_number: dict[int, Proposal] = {}
    for p in g["proposals"]:
        if p["number"] in by_number:
            raise DomainError(
                N_("Förslag F%(number)s finns flera gånger i %(path)s."),
                code="bad_archive",
                params={"number": p["number"], "path": f"{base}.proposals"},
            )
        proposal = Proposal(
            goal_id=goal.id,
            number=p["number"],
            client_id=secrets.token_hex(16),
            kind=p["kind"],
            fields=p["fields"],
            criteria=p["criteria"],
            original=p["original"],
            author_label=p["author"],
            status=p["status"],
            hidden_reason=p["hidden_reason"],
            published=p["published"],
            created_at=_when(p["created_at"], f"{base}.proposals.created_at"),
        )
        db.session.add(proposal)
        by_number[p["number"]] = proposal
    db.session.flush()
    table = _Numbers(by_number)
    for p in g["proposals"]:
        if p["merged_into"] is not None:
            by_number[p["number"]].merged_into_id = table.to_id(
                p["merged_into"], f"{base}.proposals.merged_into"
            )
    return table


def _rounds(
    goal: Goal, g: Mapping[str, Any], table: _Numbers, base: str
) -> list[list[dict[str, Any]]]:
    """Store the goal's rounds; return each round's ballots as the live vote normalises them."""
    check_round_numbers(g["rounds"], f"{base}.rounds")
    counted = []
    for i, r in enumerate(g["rounds"]):
        ballots = check_round(r, set(table.ids), f"{base}.rounds[{i}]")
        vote_round = VoteRound(
            goal_id=goal.id,
            number=r["number"],
            method=r["method"],
            dot_budget=r["dot_budget"],
            proposal_ids=[table.ids[n] for n in r["proposals"]],
            status=r["status"],
            revealed=r["revealed"],
        )
        db.session.add(vote_round)
        db.session.flush()
        for answers in ballots:
            db.session.add(
                Ballot(
                    key=secrets.token_hex(32),
                    round_id=vote_round.id,
                    answers={str(table.ids[int(k)]): v for k, v in answers.items()},
                )
            )
        counted.append(ballots)
    return counted


def _decision(
    goal: Goal,
    g: Mapping[str, Any],
    ballots: list[list[dict[str, Any]]],
    table: _Numbers,
    base: str,
) -> None:
    d = g["decision"]
    if d is None:
        return
    where = f"{base}.decision"
    # Recounted from the ballots, as record_decision does; an archive that says otherwise
    # is refused rather than corrected, so an edited result never passes unnoticed.
    tally = check_decision_tally(d, g["rounds"], ballots, where)
    db.session.add(
        Decision(
            goal_id=goal.id,
            kind=d["kind"],
            proposal_id=table.to_id(d["proposal"], f"{where}.proposal")
            if d["proposal"] is not None
            else None,
            fields=d["fields"],
            criteria=d["criteria"],
            tally=remap_tally(tally, table.ids),
            tally_labels={str(table.ids[int(k)]): v for k, v in d["tally_labels"].items()},
            dissent=d["dissent"],
            decided_at=_when(d["decided_at"], f"{where}.decided_at"),
        )
    )


def _follow_ups(goal: Goal, follow_ups: Iterable[Mapping[str, Any]], base: str) -> None:
    seen = set()
    for f in follow_ups:
        checkpoint = _date(f["checkpoint"], f"{base}.follow_ups.checkpoint")
        if checkpoint in seen:
            raise DomainError(
                N_("Uppföljningen %(date)s finns flera gånger i %(path)s."),
                code="bad_archive",
                params={"date": f["checkpoint"], "path": f"{base}.follow_ups"},
            )
        seen.add(checkpoint)
        db.session.add(
            FollowUp(
                goal_id=goal.id,
                checkpoint=checkpoint,
                **{k: f[k] for k in ("value", "forecast", "comment", "activities", "kolada_kpi")},
                updated_at=_when(f["updated_at"], f"{base}.follow_ups.updated_at"),
            )
        )


def _goal_at(goals: list[Goal], index: Any, where: str) -> Goal | None:
    if index is None:
        return None
    if not 0 <= index < len(goals):
        raise _missing(f"{where} {index}")
    return goals[index]


def _parking(
    workshop: Workshop,
    items: Iterable[Mapping[str, Any]],
    goals: list[Goal],
    numbers: list[_Numbers],
) -> None:
    for item in items:
        goal = _goal_at(goals, item["goal"], "parking.goal")
        source = item["source_proposal"]
        source_id = None
        if source is not None:
            _goal_at(goals, source["goal"], "parking.source_proposal")
            table = numbers[source["goal"]].ids
            if source["number"] not in table:
                raise _missing(f"parking.source_proposal F{source['number']}")
            source_id = table[source["number"]]
        db.session.add(
            ParkingItem(
                workshop_id=workshop.id,
                goal_id=goal.id if goal else None,
                text=item["text"],
                source_proposal_id=source_id,
                created_at=_when(item["created_at"], "parking.created_at"),
            )
        )


def _audit_trail(workshop: Workshop, entries: Iterable[Mapping[str, Any]]) -> None:
    for entry in entries:
        db.session.add(
            AuditEntry(
                workshop_id=workshop.id,
                at=_when(entry["at"], "audit.at"),
                actor=entry["actor"],
                action=entry["action"],
                details=entry["details"],
            )
        )
