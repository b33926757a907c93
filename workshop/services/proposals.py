"""Proposals: adding them (phones and facilitator) and moderating them (edit, merge, hide, park)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app

from .. import domain
from ..domain import N_, DomainError, Phase
from ..domain.enums import ProposalStatus
from ..domain.privacy import FACILITATOR_LABEL, MERGED_LABEL, hash_parts, phone_hash
from ..models import (
    Goal,
    ParkingItem,
    Participant,
    Proposal,
    db,
)
from ._unit import bump, lock_workshop, unit_of_work
from .audit import audit
from .common import (
    MAX_PARKING,
    MAX_REASON,
    check_secret,
    get_workshop,
    goal_in,
    proposal_in,
    require_running,
    text_input,
)

UNBOUND_PROPOSAL = N_(
    "Sidan behöver hämtas på nytt innan du kan lämna förslag. Ladda om sidan och försök igen."
)
OTHER_DEVICE_PROPOSAL = N_(
    "Du kan inte lämna förslag härifrån: webbläsaren har inte längre nyckeln från när du gick "
    "med (den kan ha rensats)."
)


# A unique constraint refuses a concurrent twin (the same client_id: a resend racing its
# original) or a number taken at the same moment; the next attempt finds the twin and returns
# it, or takes the next number. Exclusive, with the workshop's row locked for a phone's
# proposal, so two concurrent adds cannot both pass the caps on the same counts.
@unit_of_work(attempts=3, exclusive=True)
def add_proposal(
    workshop_id: int,
    goal_id: Any,
    raw: Mapping[str, Any],
    *,
    client_id: Any,
    participant: Participant | None = None,
    secret: Any = None,
) -> tuple[Proposal, bool]:
    """Add a proposal (participant, or facilitator when ``participant`` is None).

    Returns the proposal and whether it is new: a retry with the same ``client_id`` returns the
    proposal stored the first time instead of a duplicate.
    """
    goal = goal_in(workshop_id, domain.parse_id(goal_id))
    workshop = goal.workshop
    if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64:
        raise DomainError(
            N_("Förslaget saknar id. Ladda om sidan och försök igen."), code="bad_payload"
        )
    existing = db.session.scalar(
        sa.select(Proposal).filter_by(goal_id=goal.id, client_id=client_id)
    )
    if existing is not None:
        return existing, False
    if participant is not None:
        require_running(workshop.status)
        if goal.phase != Phase.PROPOSALS or workshop.current_goal_id != goal.id:
            raise DomainError(
                N_("Förslag tas inte emot för det här målet just nu."), code="wrong_phase"
            )
    elif goal.phase == Phase.DECIDED:
        raise DomainError(
            N_("Målet är redan beslutat. Gå tillbaka ett steg först."), code="wrong_phase"
        )
    data = domain.validate_proposal(raw).to_dict()
    author_key = None
    if participant is not None:
        if workshop.anonymous:
            secret = check_secret(secret)
            # The phone's bound secret only (as for a ballot): with a new secret per proposal
            # a phone would be a new author each time, past its caps.
            if participant.secret_hash != phone_hash(workshop.id, secret):
                if participant.secret_hash is None:
                    raise DomainError(UNBOUND_PROPOSAL, code="unbound")
                raise DomainError(OTHER_DEVICE_PROPOSAL, code="other_device")
            author_key = hash_parts("proposal", workshop.id, secret)
        caps = proposal_caps()
        # First without a lock, so a phone beyond its cap is refused by one read and cannot
        # keep the other writers waiting; then again under the lock, which decides.
        domain.check_proposal_caps(
            _proposal_counts(workshop.id, goal.id, author_key, participant.id), caps
        )
        lock_workshop(workshop.id)
        domain.check_proposal_caps(
            _proposal_counts(workshop.id, goal.id, author_key, participant.id), caps
        )
    criteria = data.pop("criteria")
    kind = data.pop("kind")
    proposal = Proposal(
        goal_id=goal.id,
        client_id=client_id,
        kind=kind,
        fields=data,
        criteria=criteria,
        published=False,
    )
    if participant is None:
        proposal.author_label = FACILITATOR_LABEL
    elif author_key is not None:
        proposal.author_key = author_key
    else:
        proposal.author_participant_id = participant.id
        proposal.author_label = participant.display_name or ""
    proposal.number = _next_number(goal)
    db.session.add(proposal)
    bump(workshop)
    if participant is None:
        audit(workshop.id, "proposal_add", {"goal": goal.number, "proposal": proposal.label})
    return proposal, True


def proposal_caps() -> domain.ProposalCaps:
    """The configured caps (workshop/config.py, PROPOSALS_PER_*)."""
    config = current_app.config
    defaults = domain.ProposalCaps()
    return domain.ProposalCaps(
        per_phone_goal=int(config.get("PROPOSALS_PER_PHONE_GOAL", defaults.per_phone_goal)),
        per_phone=int(config.get("PROPOSALS_PER_PHONE", defaults.per_phone)),
        per_goal=int(config.get("PROPOSALS_PER_GOAL", defaults.per_goal)),
        per_workshop=int(config.get("PROPOSALS_PER_WORKSHOP", defaults.per_workshop)),
    )


def _proposal_counts(
    workshop_id: int, goal_id: int, author_key: str | None, participant_id: int
) -> domain.ProposalCounts:
    """Count the stored proposals the caps look at, in one pass over the workshop's.

    Every stored row counts, hidden, merged and parked ones too: they cost the same to keep.
    The phone is its author key (anonymous) or its participant (named).
    """
    if author_key is not None:
        mine = Proposal.author_key == author_key
    else:
        mine = Proposal.author_participant_id == participant_id
    here = Proposal.goal_id == goal_id

    def count(condition: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    row = db.session.execute(
        sa.select(count(sa.and_(mine, here)), count(mine), count(here), sa.func.count(Proposal.id))
        .join(Goal, Goal.id == Proposal.goal_id)
        .where(Goal.workshop_id == workshop_id)
    ).one()
    return domain.ProposalCounts(*(int(value) for value in row))


def _next_number(goal: Goal) -> int:
    highest = db.session.scalar(sa.select(sa.func.max(Proposal.number)).filter_by(goal_id=goal.id))
    return (highest or 0) + 1


def _moderatable(proposal: Proposal) -> None:
    if proposal.goal.phase == Phase.VOTING:
        raise DomainError(N_("Stäng röstningen innan förslagen ändras."), code="wrong_phase")


@contextlib.contextmanager
def _moderating(
    workshop_id: int, proposal_id: Any, action: str
) -> Iterator[tuple[Proposal, dict[str, Any]]]:
    """Find a proposal the facilitator may change now and let the block change it.

    The block gets the proposal and the audit details to add to; after it the workshop's seq
    advances and the action is logged, in the caller's unit of work.
    """
    proposal = proposal_in(workshop_id, proposal_id)
    _moderatable(proposal)
    details: dict[str, Any] = {"goal": proposal.goal.number, "proposal": proposal.label}
    yield proposal, details
    bump(proposal.goal.workshop)
    audit(workshop_id, action, details)


@unit_of_work
def edit_proposal(workshop_id: int, proposal_id: Any, raw: Mapping[str, Any]) -> Proposal:
    """Change a proposal's wording; the first original stays with it."""
    with _moderating(workshop_id, proposal_id, "proposal_edit") as (proposal, _details):
        data = domain.validate_proposal(raw).to_dict()
        if proposal.original is None:
            proposal.original = {
                **proposal.fields,
                "kind": proposal.kind,
                "criteria": dict(proposal.criteria),
            }
        proposal.criteria = data.pop("criteria")
        proposal.kind = data.pop("kind")
        proposal.fields = data
    return proposal


def _merge_sources(workshop_id: int, proposal_ids: Any) -> list[Proposal]:
    """The proposals to merge: two or more, active, of one goal, not during a vote."""
    if not isinstance(proposal_ids, list) or len(proposal_ids) > 50:
        raise DomainError(N_("Välj minst två förslag att slå samman."), code="bad_merge")
    ids = list(dict.fromkeys(domain.parse_id(pid) for pid in proposal_ids))
    if len(ids) < 2:
        raise DomainError(N_("Välj minst två förslag att slå samman."), code="bad_merge")
    sources = [proposal_in(workshop_id, pid) for pid in ids]
    goal = sources[0].goal
    if any(p.goal_id != goal.id or p.status != ProposalStatus.ACTIVE for p in sources):
        raise DomainError(
            N_("Bara aktiva förslag för samma mål kan slås samman."), code="bad_merge"
        )
    _moderatable(sources[0])
    return sources


@unit_of_work
def merge_preview(
    workshop_id: int, proposal_ids: Any
) -> tuple[list[Proposal], list[domain.FieldDifference]]:
    """Check a merge before the form opens and say, field by field, where the sources differ.

    Reads only; it is a unit of work so it refuses exactly what ``merge_proposals`` refuses.
    """
    sources = _merge_sources(workshop_id, proposal_ids)
    differences = domain.merge_differences(
        [
            {"label": p.label, "kind": p.kind, "fields": p.fields, "criteria": p.criteria}
            for p in sources
        ]
    )
    return sources, differences


@unit_of_work
def merge_proposals(
    workshop_id: int, proposal_ids: Any, raw: Mapping[str, Any], client_id: str | None = None
) -> Proposal:
    """Merge two or more active proposals of one goal into a new one that links them.

    ``raw`` is the merged proposal as the facilitator chose it field by field (kind, texts and
    ``criteria``), validated like any proposal. The sources keep their own fields and criteria
    and point at the new one (``merged_into_id``), so nothing a participant wrote is lost.
    """
    sources = _merge_sources(workshop_id, proposal_ids)
    goal = sources[0].goal
    data = domain.validate_proposal(raw).to_dict()
    criteria = data.pop("criteria")
    kind = data.pop("kind")
    merged = Proposal(
        goal_id=goal.id,
        client_id=client_id or secrets.token_hex(16),
        kind=kind,
        fields=data,
        criteria=criteria,
        author_label=MERGED_LABEL,
        number=_next_number(goal),
        published=any(p.published for p in sources),
    )
    db.session.add(merged)
    db.session.flush()
    for source in sources:
        source.status = ProposalStatus.MERGED
        source.merged_into_id = merged.id
    bump(goal.workshop)
    audit(
        workshop_id,
        "proposal_merge",
        {
            "goal": goal.number,
            "proposals": [f"{', '.join(p.label for p in sources)} → {merged.label}"],
        },
    )
    return merged


@unit_of_work
def hide_proposal(workshop_id: int, proposal_id: Any, reason: Any) -> Proposal:
    """Hide a proposal from the room with a reason; it stays in the export's appendix."""
    with _moderating(workshop_id, proposal_id, "proposal_hide") as (proposal, details):
        proposal.hidden_reason = text_input(
            reason, MAX_REASON, N_("Ange ett skäl, t.ex. dubblett."), required=True
        )
        proposal.status = ProposalStatus.HIDDEN
        details["reason"] = proposal.hidden_reason
    return proposal


@unit_of_work
def restore_proposal(workshop_id: int, proposal_id: Any) -> Proposal:
    """Show a hidden or parked proposal again."""
    with _moderating(workshop_id, proposal_id, "proposal_restore") as (proposal, _details):
        if proposal.status not in (ProposalStatus.HIDDEN, ProposalStatus.PARKED):
            raise DomainError(N_("Förslaget är redan aktivt."), code="bad_state")
        proposal.status, proposal.hidden_reason = ProposalStatus.ACTIVE, ""
    return proposal


@unit_of_work
def park_proposal(workshop_id: int, proposal_id: Any) -> ParkingItem:
    """Move a proposal to the parking lot, which the export carries."""
    with _moderating(workshop_id, proposal_id, "proposal_park") as (proposal, _details):
        text = proposal.fields.get("what") or proposal.fields.get("rationale") or ""
        item = ParkingItem(
            workshop_id=workshop_id,
            goal_id=proposal.goal_id,
            source_proposal_id=proposal.id,
            text=f"{proposal.label}: {text}"[:MAX_PARKING],
        )
        proposal.status = ProposalStatus.PARKED
        db.session.add(item)
    return item


@unit_of_work
def add_parking(workshop_id: int, text: Any, goal_id: Any = None) -> ParkingItem:
    """Write a point on the parking lot, for a goal or the whole workshop."""
    workshop = get_workshop(workshop_id)
    goal = goal_in(workshop_id, domain.parse_id(goal_id)) if goal_id not in (None, "") else None
    item = ParkingItem(
        workshop_id=workshop.id,
        goal_id=goal.id if goal else None,
        text=text_input(text, MAX_PARKING, N_("Skriv frågan som ska tas vidare."), required=True),
    )
    db.session.add(item)
    bump(workshop)
    audit(workshop_id, "parking_add", {"goal": goal.number if goal else ""})
    return item


# The phases in which proposals are closed for the goal, so a draft may go to the parking lot.
DRAFT_PARKING_PHASES = (Phase.VOTING, Phase.RESULTS, Phase.DECIDED)


@unit_of_work(exclusive=True)
def park_draft(workshop_id: int, goal_id: Any, text: Any, client_id: Any = None) -> ParkingItem:
    """Put a phone's unsent proposal draft on the parking lot of the goal it was written for.

    Only for the goal in progress, once its proposals are closed (before that, the phone sends
    a proposal instead). No author is stored: the parking lot never says who wrote a point. A
    resend of the same draft (the same text for the same goal, e.g. after a lost acknowledgement)
    returns the point stored first; ``client_id`` is accepted for the protocol's sake but not
    stored, since ParkingItem has no column for it.
    """
    workshop = get_workshop(workshop_id)
    require_running(workshop.status)
    goal = goal_in(workshop_id, domain.parse_id(goal_id))
    if workshop.current_goal_id != goal.id:
        raise DomainError(
            N_("Utkastet gäller ett mål som inte pågår nu. Det kan inte tas vidare."),
            code="wrong_goal",
        )
    if goal.phase not in DRAFT_PARKING_PHASES:
        raise DomainError(
            N_("Förslagen är inte stängda för det här målet. Skicka utkastet som ett förslag."),
            code="wrong_phase",
        )
    # A full draft (what, target, indicator …) can be longer than a parking point: keep its start.
    point = text_input(text, 20 * MAX_PARKING, N_("Utkastet är tomt."), required=True)
    point = point[:MAX_PARKING]
    existing = db.session.scalar(
        sa.select(ParkingItem).filter_by(workshop_id=workshop.id, goal_id=goal.id, text=point)
    )
    if existing is not None:
        return existing
    item = ParkingItem(workshop_id=workshop.id, goal_id=goal.id, text=point)
    db.session.add(item)
    bump(workshop)
    return item


@unit_of_work
def publish_proposals(workshop_id: int, proposal_ids: Any, published: bool = True) -> None:
    """Show (or stop showing) proposals on the presenter view and phones."""
    ids = proposal_ids if isinstance(proposal_ids, list) else [proposal_ids]
    proposals = [proposal_in(workshop_id, pid) for pid in ids]
    for proposal in proposals:
        proposal.published = bool(published)
    bump(get_workshop(workshop_id))
    audit(
        workshop_id,
        "proposal_publish",
        {"proposals": [p.label for p in proposals], "published": bool(published)},
    )
