"""Reading an archive back in: a whole workshop, as a new one, or nothing at all."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from .. import domain
from ..domain import N_, DomainError
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

_JSON_TYPES = {
    "string": N_("text"),
    "integer": N_("ett heltal"),
    "number": N_("ett tal"),
    "boolean": N_("sant eller falskt"),
    "object": N_("ett objekt"),
    "array": N_("en lista"),
    "null": N_("tomt"),
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
            N_("Fel typ i arkivet vid %(path)s: ska vara %(type)s."),
            code="bad_archive",
            params={"path": path, "type": _JSON_TYPES.get(expected, expected)},
        )
    if error.validator == "additionalProperties":
        return DomainError(
            N_("Arkivet har ett okänt fält i %(path)s."), code="bad_archive", params={"path": path}
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
    if data["archive_version"] != ARCHIVE_VERSION:
        raise DomainError(
            N_("Arkivversion %(version)s kan inte läsas in; den här versionen läser version 1."),
            code="bad_archive",
            params={"version": str(data["archive_version"])[:20]},
        )
    schema = json.loads(ARCHIVE_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise _schema_error(error)


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
    each read one part of the archive; any broken reference refuses the whole import.
    """
    validate_archive(data)
    workshop = _workshop(data["workshop"], facilitator_id)
    goals: list[Goal] = []
    numbers: list[_Numbers] = []
    for position, g in enumerate(data["goals"]):
        base = f"goals[{position}]"
        goal = _goal(workshop, position, g)
        table = _proposals(goal, g, base)
        _rounds(goal, g, table, base)
        _decision(goal, g["decision"], table, base)
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
        created_at=parse_when(info["created_at"]),
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
            raise _missing(f"{base}.proposals F{p['number']}")
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
            created_at=parse_when(p["created_at"]),
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


def _rounds(goal: Goal, g: Mapping[str, Any], table: _Numbers, base: str) -> None:
    for r in g["rounds"]:
        vote_round = VoteRound(
            goal_id=goal.id,
            number=r["number"],
            method=r["method"],
            dot_budget=r["dot_budget"],
            proposal_ids=[table.to_id(n, f"{base}.rounds.proposals") for n in r["proposals"]],
            status=r["status"],
            revealed=r["revealed"],
        )
        db.session.add(vote_round)
        db.session.flush()
        allowed = set(r["proposals"])
        for answers in r["ballots"]:
            if any(not k.isdigit() or int(k) not in allowed for k in answers):
                raise _missing(f"{base}.rounds[{r['number']}].ballots")
            db.session.add(
                Ballot(
                    key=secrets.token_hex(32),
                    round_id=vote_round.id,
                    answers={str(table.ids[int(k)]): v for k, v in answers.items()},
                )
            )


def _decision(goal: Goal, d: Mapping[str, Any] | None, table: _Numbers, base: str) -> None:
    if d is None:
        return
    tally = d["tally"]
    if tally is not None:
        where = f"{base}.decision.tally"
        tally = remap_tally(tally, {n: table.to_id(n, where) for n in _tally_ids(tally)})
    db.session.add(
        Decision(
            goal_id=goal.id,
            kind=d["kind"],
            proposal_id=table.to_id(d["proposal"], f"{base}.decision.proposal")
            if d["proposal"] is not None
            else None,
            fields=d["fields"],
            criteria=d["criteria"],
            tally=tally,
            tally_labels={
                str(table.to_id(int(k), f"{base}.decision.tally_labels")): v
                for k, v in d["tally_labels"].items()
            },
            dissent=d["dissent"],
            decided_at=parse_when(d["decided_at"]),
        )
    )


def _follow_ups(goal: Goal, follow_ups: Iterable[Mapping[str, Any]], base: str) -> None:
    seen = set()
    for f in follow_ups:
        checkpoint = dt.date.fromisoformat(f["checkpoint"])
        if checkpoint in seen:
            raise _missing(f"{base}.follow_ups {f['checkpoint']}")
        seen.add(checkpoint)
        db.session.add(
            FollowUp(
                goal_id=goal.id,
                checkpoint=checkpoint,
                **{k: f[k] for k in ("value", "forecast", "comment", "activities", "kolada_kpi")},
                updated_at=parse_when(f["updated_at"]),
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
                created_at=parse_when(item["created_at"]),
            )
        )


def _audit_trail(workshop: Workshop, entries: Iterable[Mapping[str, Any]]) -> None:
    for entry in entries:
        db.session.add(
            AuditEntry(
                workshop_id=workshop.id,
                at=parse_when(entry["at"]),
                actor=entry["actor"],
                action=entry["action"],
                details=entry["details"],
            )
        )


def _tally_ids(tally: Mapping[str, Any]) -> set[Any]:
    found = {item.get("proposal_id") for item in tally.get("proposals", [])}
    found.update(tally.get("leaders", []))
    return found
