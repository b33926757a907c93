"""The only code that changes state. Each public function validates, changes, commits.

Functions raise ``domain.DomainError`` (or its subclasses) and leave the database unchanged
when a rule is broken; views and event handlers translate the error for the person.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from . import domain
from .domain import N_, DomainError, Forbidden, NotFound, Phase, VoteMethod
from .models import (
    Ballot,
    Decision,
    Facilitator,
    Goal,
    ParkingItem,
    Participant,
    Proposal,
    Response,
    VoteRound,
    Workshop,
    db,
    utcnow,
)

T = TypeVar("T")

FACILITATOR_LABEL = N_("Samtalsledaren")
MERGED_LABEL = N_("Sammanslaget förslag")
MAX_NAME = 60
MAX_REASON = 200
MAX_DISSENT = 1000
MAX_PARKING = 1000
MAX_TIMER = 60 * 60
SECRET_MIN, SECRET_MAX = 16, 128


def _commit() -> None:
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _atomic(change: Callable[[], T]) -> T:
    """Run ``change`` and commit; roll back on any error so nothing is half-done."""
    try:
        result = change()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def _hash(*parts: object) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()


def _check_secret(secret: Any) -> str:
    if not isinstance(secret, str) or not SECRET_MIN <= len(secret) <= SECRET_MAX:
        raise DomainError(
            N_("Din telefon saknar sin hemliga röstnyckel. Ladda om sidan och försök igen."),
            code="bad_secret",
        )
    return secret


def _text(value: Any, limit: int, message: str, *, required: bool = False) -> str:
    try:
        text = domain.clean_text(value)
    except TypeError:
        raise DomainError(N_("Fältet har fel format."), code="bad_payload") from None
    if required and not text:
        raise DomainError(message, code="required")
    if len(text) > limit:
        raise DomainError(N_("Högst %(limit)s tecken."), code="too_long", params={"limit": limit})
    return text


# --- Facilitators ---------------------------------------------------------------------------


def _hash_method() -> str:
    """Return werkzeug's password hash method; tests may choose a cheaper one."""
    return str(current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def create_facilitator(username: str, password: str) -> Facilitator:
    """Add a facilitator account with a hashed password."""
    username = _text(username, 80, N_("Ange ett användarnamn."), required=True)
    if len(password or "") < 8:
        raise DomainError(N_("Lösenordet måste ha minst 8 tecken."), code="weak_password")
    if db.session.scalar(sa.select(Facilitator).filter_by(username=username)):
        raise DomainError(N_("Användarnamnet finns redan."), code="exists")
    facilitator = Facilitator(username=username)
    facilitator.set_password(password, _hash_method())
    db.session.add(facilitator)
    _commit()
    return facilitator


def ensure_first_facilitator(username: str, password: str | None) -> str | None:
    """Create the first facilitator if none exists; return a generated password to print once.

    A set ``password`` also resets an existing account of that name, so the environment wins.
    """
    existing = db.session.scalar(sa.select(Facilitator).filter_by(username=username))
    if existing:
        if password and not existing.check_password(password):
            existing.set_password(password, _hash_method())
            _commit()
        return None
    if db.session.scalar(sa.select(sa.func.count(Facilitator.id))) and not password:
        return None
    generated = None if password else secrets.token_urlsafe(9)
    create_facilitator(username, password or generated or "")
    return generated


def authenticate(username: str, password: str) -> Facilitator | None:
    facilitator = db.session.scalar(sa.select(Facilitator).filter_by(username=username or ""))
    if facilitator and facilitator.check_password(password or ""):
        return facilitator
    return None


# --- Workshops and goals --------------------------------------------------------------------


def get_workshop(workshop_id: int) -> Workshop:
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None:
        raise NotFound(N_("Dialogen finns inte."))
    return workshop


def find_by_code(code: str) -> Workshop:
    """Return the open workshop for a join code, or raise with a message for the phone."""
    code = domain.normalise_join_code(code)
    workshop = (
        db.session.scalar(sa.select(Workshop).filter_by(join_code=code))
        if domain.is_join_code(code)
        else None
    )
    if workshop is None:
        raise NotFound(N_("Koden finns inte. Kontrollera koden på skärmen och försök igen."))
    if workshop.status == "stangd":
        raise DomainError(
            N_("Dialogen är avslutad och tar inte emot fler deltagare."), code="closed"
        )
    return workshop


def _unique_join_code() -> str:
    while True:
        code = domain.new_join_code()
        if not db.session.scalar(sa.select(Workshop.id).filter_by(join_code=code)):
            return code


def create_workshop(
    title: str,
    goals: Iterable[domain.GoalInput] = (),
    *,
    facilitator_id: int | None = None,
    **details: Any,
) -> Workshop:
    """Create a workshop with its goals, in draft, with a fresh join code."""
    workshop = Workshop(
        title=_text(title, 200, N_("Ange en rubrik."), required=True),
        join_code=_unique_join_code(),
        created_by_id=facilitator_id,
        status="utkast",  # set now: column defaults only apply at insert, after the checks
    )
    _apply_details(workshop, details)
    for position, goal in enumerate(goals):
        workshop.goals.append(Goal(position=position, **goal.__dict__))
    db.session.add(workshop)
    _commit()
    return workshop


def create_from_template(facilitator_id: int | None = None) -> Workshop:
    """Create the built-in "KS mål 2019" workshop."""
    template = domain.KS_2019_TEMPLATE
    goals = [
        domain.GoalInput(area=area, number=number, text=text)
        for area, number, text in template["goals"]
    ]
    details = {k: v for k, v in template.items() if k not in ("title", "goals")}
    return create_workshop(template["title"], goals, facilitator_id=facilitator_id, **details)


DETAIL_LIMITS = {
    "dnr": 60,
    "organisation": 200,
    "unit": 200,
    "recipient": 200,
    "send_to": 200,
    "officer": 200,
}


def _apply_details(workshop: Workshop, details: Mapping[str, Any]) -> None:
    for name, limit in DETAIL_LIMITS.items():
        if name in details:
            setattr(workshop, name, _text(details[name], limit, ""))
    if details.get("meeting_date"):
        date = _text(details["meeting_date"], 10, "")
        if not domain._valid_date(date):
            raise DomainError(
                N_("Ange datum som ÅÅÅÅ-MM-DD."),
                code="bad_date",
                fields={"meeting_date": N_("Ange datum som ÅÅÅÅ-MM-DD.")},
            )
        workshop.meeting_date = date
    if "follow_up_dates" in details:
        dates = domain.parse_follow_up_dates(str(details["follow_up_dates"]))
        workshop.follow_up_dates = ", ".join(d.isoformat() for d in dates)
    elif not workshop.follow_up_dates:
        year = int(workshop.meeting_date[:4]) if workshop.meeting_date else utcnow().year
        workshop.follow_up_dates = ", ".join(d.isoformat() for d in domain.follow_up_dates(year))
    if "anonymous" in details:
        if workshop.status != "utkast" and bool(details["anonymous"]) != workshop.anonymous:
            raise DomainError(
                N_("Röstningsläget kan bara ändras innan dialogen startar."), code="started"
            )
        workshop.anonymous = bool(details["anonymous"])


def update_workshop(workshop_id: int, title: str, **details: Any) -> Workshop:
    """Change the workshop's title and document details."""
    workshop = get_workshop(workshop_id)

    def change() -> Workshop:
        workshop.title = _text(title, 200, N_("Ange en rubrik."), required=True)
        _apply_details(workshop, details)
        return workshop

    return _atomic(change)


def _editable_goals(workshop: Workshop) -> None:
    if workshop.status != "utkast":
        raise DomainError(N_("Målen kan bara ändras innan dialogen startar."), code="started")


def add_goals(workshop_id: int, goals: Iterable[domain.GoalInput]) -> list[Goal]:
    workshop = get_workshop(workshop_id)
    _editable_goals(workshop)
    start = len(workshop.goals)
    added = [Goal(position=start + i, **g.__dict__) for i, g in enumerate(goals)]
    workshop.goals.extend(added)
    _commit()
    return added


def _goal_in(workshop_id: int, goal_id: int) -> Goal:
    goal = db.session.get(Goal, goal_id)
    if goal is None or goal.workshop_id != workshop_id:
        raise NotFound(N_("Målet finns inte."))
    return goal


def update_goal(workshop_id: int, goal_id: int, goal_input: domain.GoalInput) -> Goal:
    goal = _goal_in(workshop_id, goal_id)
    _editable_goals(goal.workshop)
    for name, value in goal_input.__dict__.items():
        setattr(goal, name, value)
    _commit()
    return goal


def move_goal(workshop_id: int, goal_id: int, offset: int) -> None:
    """Move a goal up (-1) or down (+1) in the agenda."""
    goal = _goal_in(workshop_id, goal_id)
    workshop = goal.workshop
    _editable_goals(workshop)
    goals = list(workshop.goals)
    i = goals.index(goal)
    j = max(0, min(len(goals) - 1, i + offset))
    goals.insert(j, goals.pop(i))
    for position, item in enumerate(goals):
        item.position = position
    _commit()


def delete_goal(workshop_id: int, goal_id: int) -> None:
    goal = _goal_in(workshop_id, goal_id)
    workshop = goal.workshop
    _editable_goals(workshop)
    workshop.goals.remove(goal)
    for position, item in enumerate(workshop.goals):
        item.position = position
    _commit()


def start_workshop(workshop_id: int) -> Workshop:
    """Open the workshop: goals are fixed and the first goal becomes current."""
    workshop = get_workshop(workshop_id)
    if not workshop.goals:
        raise DomainError(N_("Lägg till minst ett mål innan dialogen startar."), code="no_goals")
    workshop.status = "pagar"
    if workshop.current_goal_id is None:
        workshop.current_goal_id = workshop.goals[0].id
    _bump(workshop)
    _commit()
    return workshop


def close_workshop(workshop_id: int) -> Workshop:
    """Close the workshop to participants; the result stays for export."""
    workshop = get_workshop(workshop_id)
    workshop.status = "stangd"
    for goal in workshop.goals:
        for vote_round in goal.rounds:
            if vote_round.status == "oppen":
                vote_round.status = "stangd"
    _bump(workshop)
    _commit()
    return workshop


def reopen_workshop(workshop_id: int) -> Workshop:
    workshop = get_workshop(workshop_id)
    if workshop.status == "stangd":
        workshop.status = "pagar"
        _bump(workshop)
        _commit()
    return workshop


def _bump(workshop: Workshop) -> None:
    """Advance the workshop's sequence number; every broadcast carries it."""
    workshop.seq = (workshop.seq or 0) + 1


def _require_running(workshop: Workshop) -> None:
    if workshop.status == "utkast":
        raise DomainError(N_("Dialogen har inte startat än."), code="not_started")
    if workshop.status == "stangd":
        raise DomainError(N_("Dialogen är avslutad."), code="closed")


# --- Participants ---------------------------------------------------------------------------


def join(workshop: Workshop, token: str | None, display_name: Any = None) -> Participant:
    """Let a phone in, or recognise it again by its token; a name is needed in named mode."""
    participant = None
    if token:
        participant = db.session.scalar(
            sa.select(Participant).filter_by(token=token, workshop_id=workshop.id)
        )
    if participant is not None and participant.removed:
        raise Forbidden(N_("Samtalsledaren har tagit bort dig från dialogen."))
    name = _text(
        display_name,
        MAX_NAME,
        N_("Skriv ditt namn så att andra ser vem som deltar."),
        required=not workshop.anonymous and participant is None,
    )
    if participant is None:
        participant = Participant(workshop_id=workshop.id)
        db.session.add(participant)
    if not workshop.anonymous and name:
        participant.display_name = name
    participant.left = False
    _bump(workshop)
    _commit()
    return participant


def participant_for(workshop_id: int, token: str | None) -> Participant | None:
    if not token:
        return None
    participant = db.session.scalar(
        sa.select(Participant).filter_by(token=token, workshop_id=workshop_id)
    )
    return None if participant is None or participant.removed else participant


def leave(participant: Participant) -> None:
    """Mark that a participant left; a ballot already cast still counts."""
    participant.left = True
    _bump(participant.workshop)
    _commit()


def set_participant(
    workshop_id: int, participant_id: int, *, role: str | None = None, removed: bool | None = None
) -> Participant:
    """Change a participant's role (deltagare/observator) or remove them."""
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.workshop_id != workshop_id:
        raise NotFound(N_("Deltagaren finns inte."))
    if role is not None:
        if role not in ("deltagare", "observator"):
            raise DomainError(N_("Okänd roll."), code="bad_role")
        participant.role = role
    if removed is not None:
        participant.removed = bool(removed)
    _bump(participant.workshop)
    _commit()
    return participant


def eligible_ids(workshop: Workshop) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(Participant.id).filter_by(
                workshop_id=workshop.id, role="deltagare", removed=False, left=False
            )
        )
    )


# --- Agenda, phases, timer ------------------------------------------------------------------


def select_goal(workshop_id: int, goal_id: int) -> Workshop:
    """Make a goal the current one on every screen."""
    workshop = get_workshop(workshop_id)
    goal = _goal_in(workshop_id, goal_id)
    workshop.current_goal_id = goal.id
    _bump(workshop)
    _commit()
    return workshop


def set_phase(
    workshop_id: int,
    goal_id: int,
    phase: str,
    method: str | None = None,
    dot_budget: Any = None,
) -> Goal:
    """Move a goal to another phase; opening the vote takes the method for this goal."""
    goal = _goal_in(workshop_id, goal_id)
    workshop = goal.workshop
    _require_running(workshop)
    try:
        target = Phase(phase)
    except ValueError:
        raise DomainError(N_("Okänd fas."), code="bad_phase") from None
    current = Phase(goal.phase)
    if target is Phase.DECIDED:
        raise DomainError(
            N_("Spara ett beslut för målet för att gå till fasen Beslut."), code="bad_phase"
        )
    domain.check_transition(current, target)
    vote_round = goal.current_round
    if target is Phase.VOTING:
        if current is Phase.RESULTS and vote_round is not None:
            vote_round.status, vote_round.revealed = "oppen", False  # reopen the same vote
        else:
            _open_round(goal, method, dot_budget)
    elif target is Phase.RESULTS:
        if vote_round is None:
            raise DomainError(N_("Det finns ingen omröstning att visa."), code="no_round")
        vote_round.status, vote_round.revealed = "stangd", True
    elif vote_round is not None and vote_round.status == "oppen":
        vote_round.status = "stangd"
    if current is Phase.DECIDED and goal.decision is not None:
        db.session.delete(goal.decision)  # stepping back reopens the goal
        goal.decision = None
    goal.phase = target.value
    workshop.current_goal_id = goal.id
    _bump(workshop)
    _commit()
    return goal


def _open_round(goal: Goal, method: str | None, dot_budget: Any) -> VoteRound:
    try:
        vote_method = VoteMethod(method or "")
    except ValueError:
        raise DomainError(
            N_("Välj röstningsmetod innan röstningen öppnas."), code="bad_method"
        ) from None
    budget = (
        domain.check_dot_budget(dot_budget if dot_budget not in (None, "") else 3)
        if vote_method is VoteMethod.DOTS
        else domain.DEFAULT_DOT_BUDGET
    )
    active = [p.id for p in goal.proposals if p.status == "aktiv"]
    if not active:
        raise DomainError(N_("Det finns inga förslag att rösta om."), code="no_proposals")
    for old in goal.rounds:
        old.status = "ersatt"
    vote_round = VoteRound(
        number=len(goal.rounds) + 1,
        method=vote_method.value,
        dot_budget=budget,
        proposal_ids=active,
    )
    goal.rounds.append(vote_round)
    for proposal in goal.proposals:
        if proposal.id in active:
            proposal.published = True  # what people vote on is shown to everyone
    return vote_round


def timer(workshop_id: int, action: str, seconds: Any = None) -> Workshop:
    """Start (with seconds), add a minute to, or stop the phase timer."""
    workshop = get_workshop(workshop_id)
    now = utcnow()
    if action == "start":
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int)
            or not (10 <= seconds <= MAX_TIMER)
        ):
            raise DomainError(
                N_("Ange en tid mellan 10 sekunder och 60 minuter."), code="bad_timer"
            )
        workshop.timer_ends_at, workshop.timer_remaining = now + dt.timedelta(seconds=seconds), None
    elif action == "add":
        if workshop.timer_ends_at is not None:
            ends = max(workshop.timer_ends_at, now) + dt.timedelta(seconds=60)
            workshop.timer_ends_at = min(ends, now + dt.timedelta(seconds=MAX_TIMER))
        else:
            workshop.timer_ends_at = now + dt.timedelta(seconds=60)
    elif action == "stop":
        workshop.timer_ends_at, workshop.timer_remaining = None, None
    else:
        raise DomainError(N_("Okänd timeråtgärd."), code="bad_timer")
    _bump(workshop)
    _commit()
    return workshop


# --- Proposals ------------------------------------------------------------------------------


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
    goal = _goal_in(workshop_id, _as_id(goal_id))
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
        _require_running(workshop)
        if goal.phase != Phase.PROPOSALS or workshop.current_goal_id != goal.id:
            raise DomainError(
                N_("Förslag tas inte emot för det här målet just nu."), code="wrong_phase"
            )
    elif goal.phase == Phase.DECIDED:
        raise DomainError(
            N_("Målet är redan beslutat. Gå tillbaka ett steg först."), code="wrong_phase"
        )
    data = domain.validate_proposal(raw).to_dict()
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
    elif workshop.anonymous:
        proposal.author_key = _hash("proposal", workshop.id, _check_secret(secret))
    else:
        proposal.author_participant_id = participant.id
        proposal.author_label = participant.display_name or ""
    for attempt in range(3):
        proposal.number = _next_number(goal)
        db.session.add(proposal)
        _bump(workshop)
        try:
            db.session.commit()
            return proposal, True
        except IntegrityError:
            db.session.rollback()
            again = db.session.scalar(
                sa.select(Proposal).filter_by(goal_id=goal.id, client_id=client_id)
            )
            if again is not None:
                return again, False
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _next_number(goal: Goal) -> int:
    highest = db.session.scalar(sa.select(sa.func.max(Proposal.number)).filter_by(goal_id=goal.id))
    return (highest or 0) + 1


def _as_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise DomainError(N_("Ogiltigt id."), code="bad_payload")
    try:
        return int(value)
    except ValueError:
        raise DomainError(N_("Ogiltigt id."), code="bad_payload") from None


def _proposal_in(workshop_id: int, proposal_id: Any) -> Proposal:
    proposal = db.session.get(Proposal, _as_id(proposal_id))
    if proposal is None or proposal.goal.workshop_id != workshop_id:
        raise NotFound(N_("Förslaget finns inte."))
    return proposal


def _moderatable(proposal: Proposal) -> None:
    if proposal.goal.phase == Phase.VOTING:
        raise DomainError(N_("Stäng röstningen innan förslagen ändras."), code="wrong_phase")


def edit_proposal(workshop_id: int, proposal_id: Any, raw: Mapping[str, Any]) -> Proposal:
    """Change a proposal's wording; the first original stays with it."""
    proposal = _proposal_in(workshop_id, proposal_id)
    _moderatable(proposal)
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
    _bump(proposal.goal.workshop)
    _commit()
    return proposal


def merge_proposals(
    workshop_id: int, proposal_ids: Any, raw: Mapping[str, Any], client_id: str | None = None
) -> Proposal:
    """Merge two or more active proposals of one goal into a new one that links them."""
    if not isinstance(proposal_ids, list) or len(set(map(str, proposal_ids))) < 2:
        raise DomainError(N_("Välj minst två förslag att slå samman."), code="bad_merge")
    sources = [_proposal_in(workshop_id, pid) for pid in dict.fromkeys(proposal_ids)]
    goal = sources[0].goal
    if any(p.goal_id != goal.id or p.status != "aktiv" for p in sources):
        raise DomainError(
            N_("Bara aktiva förslag för samma mål kan slås samman."), code="bad_merge"
        )
    _moderatable(sources[0])
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
        source.status = "sammanslagen"
        source.merged_into_id = merged.id
    _bump(goal.workshop)
    _commit()
    return merged


def hide_proposal(workshop_id: int, proposal_id: Any, reason: Any) -> Proposal:
    """Hide a proposal from the room with a reason; it stays in the export's appendix."""
    proposal = _proposal_in(workshop_id, proposal_id)
    _moderatable(proposal)
    proposal.hidden_reason = _text(
        reason, MAX_REASON, N_("Ange ett skäl, t.ex. dubblett."), required=True
    )
    proposal.status = "dold"
    _bump(proposal.goal.workshop)
    _commit()
    return proposal


def restore_proposal(workshop_id: int, proposal_id: Any) -> Proposal:
    """Show a hidden or parked proposal again."""
    proposal = _proposal_in(workshop_id, proposal_id)
    _moderatable(proposal)
    if proposal.status not in ("dold", "parkerad"):
        raise DomainError(N_("Förslaget är redan aktivt."), code="bad_state")
    proposal.status, proposal.hidden_reason = "aktiv", ""
    _bump(proposal.goal.workshop)
    _commit()
    return proposal


def park_proposal(workshop_id: int, proposal_id: Any) -> ParkingItem:
    """Move a proposal to the parking lot, which the export carries."""
    proposal = _proposal_in(workshop_id, proposal_id)
    _moderatable(proposal)
    text = proposal.fields.get("what") or proposal.fields.get("rationale") or ""
    item = ParkingItem(
        workshop_id=workshop_id,
        goal_id=proposal.goal_id,
        source_proposal_id=proposal.id,
        text=f"{proposal.label}: {text}"[:MAX_PARKING],
    )
    proposal.status = "parkerad"
    db.session.add(item)
    _bump(proposal.goal.workshop)
    _commit()
    return item


def add_parking(workshop_id: int, text: Any, goal_id: Any = None) -> ParkingItem:
    """Write a point on the parking lot, for a goal or the whole workshop."""
    workshop = get_workshop(workshop_id)
    goal = _goal_in(workshop_id, _as_id(goal_id)) if goal_id not in (None, "") else None
    item = ParkingItem(
        workshop_id=workshop.id,
        goal_id=goal.id if goal else None,
        text=_text(text, MAX_PARKING, N_("Skriv vad som ska parkeras."), required=True),
    )
    db.session.add(item)
    _bump(workshop)
    _commit()
    return item


def publish_proposals(workshop_id: int, proposal_ids: Any, published: bool = True) -> None:
    """Show (or stop showing) proposals on the presenter view and phones."""
    ids = proposal_ids if isinstance(proposal_ids, list) else [proposal_ids]
    proposals = [_proposal_in(workshop_id, pid) for pid in ids]
    for proposal in proposals:
        proposal.published = bool(published)
    _bump(get_workshop(workshop_id))
    _commit()


# --- Voting ---------------------------------------------------------------------------------


def cast_vote(participant: Participant, round_id: Any, secret: Any, answers: Any) -> bool:
    """Store a participant's ballot, or replace the one they cast before in this round.

    The ballot is keyed by a hash of the phone's secret; who has answered is stored apart.
    Returns True when this replaced an earlier ballot.
    """
    vote_round = db.session.get(VoteRound, _as_id(round_id))
    workshop = participant.workshop
    if vote_round is None or vote_round.goal.workshop_id != participant.workshop_id:
        raise NotFound(N_("Omröstningen finns inte."))
    if participant.role != "deltagare":
        raise Forbidden(N_("Du deltar som observatör och kan inte rösta."))
    if participant.left or participant.removed:
        raise Forbidden(N_("Du har lämnat dialogen. Gå med igen för att rösta."))
    _require_running(workshop)
    if vote_round.status != "oppen" or workshop.current_goal_id != vote_round.goal_id:
        raise DomainError(N_("Röstningen är stängd."), code="closed")
    ballot_answers = domain.validate_ballot(
        VoteMethod(vote_round.method), vote_round.proposal_ids, answers, vote_round.dot_budget
    )
    key = _hash("ballot", vote_round.id, _check_secret(secret))
    ballot = db.session.get(Ballot, key)
    answered = db.session.get(Response, (vote_round.id, participant.id))
    if ballot is not None and ballot.round_id == vote_round.id:
        ballot.answers = ballot_answers
        changed = True
    elif answered is not None:
        raise DomainError(
            N_(
                "Du har redan röstat från en annan webbläsare eller enhet. Rösten kan bara "
                "ändras därifrån."
            ),
            code="already_voted",
        )
    else:
        db.session.add(
            Ballot(
                key=key,
                round_id=vote_round.id,
                answers=ballot_answers,
                participant_id=None if workshop.anonymous else participant.id,
            )
        )
        db.session.add(Response(round_id=vote_round.id, participant_id=participant.id))
        changed = False
    _bump(workshop)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DomainError(N_("Rösten kunde inte sparas. Försök igen."), code="conflict") from None
    return changed


def own_ballot(vote_round: VoteRound, secret: Any) -> dict[str, Any] | None:
    if not isinstance(secret, str) or not SECRET_MIN <= len(secret) <= SECRET_MAX:
        return None
    ballot = db.session.get(Ballot, _hash("ballot", vote_round.id, secret))
    return ballot.answers if ballot is not None and ballot.round_id == vote_round.id else None


def named_ballots(vote_round: VoteRound) -> list[tuple[str, dict[str, Any]]]:
    """Return (name, answers) for a round's ballots cast in named mode, sorted by name."""
    rows = db.session.execute(
        sa.select(Participant.display_name, Ballot.answers)
        .join(Participant, Participant.id == Ballot.participant_id)
        .where(Ballot.round_id == vote_round.id)
    )
    return sorted(((name or "", answers) for name, answers in rows), key=lambda r: r[0])


def round_tally(vote_round: VoteRound) -> domain.Tally:
    ballots = db.session.scalars(sa.select(Ballot.answers).filter_by(round_id=vote_round.id))
    return domain.tally(
        VoteMethod(vote_round.method), vote_round.proposal_ids, ballots, vote_round.dot_budget
    )


def round_progress(vote_round: VoteRound) -> tuple[int, int]:
    answered = db.session.scalars(
        sa.select(Response.participant_id).filter_by(round_id=vote_round.id)
    )
    return domain.progress(eligible_ids(vote_round.goal.workshop), answered)


# --- Decisions ------------------------------------------------------------------------------


def record_decision(workshop_id: int, goal_id: Any, raw: Mapping[str, Any]) -> Decision:
    """Record what the room proposes for a goal: an ambition level or an inriktningsmål.

    ``raw`` holds ``kind``, an optional ``proposal_id`` to carry forward, the final wording
    (same fields as a proposal), the criteria assessment and a list of ``dissent`` entries
    ``{"text", "name"}``; a name is stored only when the person agreed to it.
    """
    goal = _goal_in(workshop_id, _as_id(goal_id))
    _require_running(goal.workshop)
    if goal.phase in (Phase.NOT_STARTED, Phase.VOTING):
        raise DomainError(N_("Stäng röstningen innan beslutet sparas."), code="wrong_phase")
    proposal = None
    if raw.get("proposal_id") not in (None, ""):
        proposal = _proposal_in(workshop_id, raw["proposal_id"])
        if proposal.goal_id != goal.id:
            raise DomainError(N_("Förslaget hör till ett annat mål."), code="bad_payload")
    data = domain.validate_proposal(raw).to_dict()
    criteria = data.pop("criteria")
    kind = data.pop("kind")
    dissent = _dissent(raw.get("dissent"))
    last_round = next((r for r in reversed(goal.rounds) if r.revealed), None)
    tally = round_tally(last_round).to_dict() if last_round else None
    labels = _labels(goal, last_round) if last_round else None
    decision = goal.decision or Decision(goal_id=goal.id)
    decision.kind = kind
    decision.proposal_id = proposal.id if proposal else None
    decision.fields, decision.criteria = data, criteria
    decision.tally, decision.tally_labels = tally, labels
    decision.dissent = dissent
    decision.decided_at = utcnow()
    goal.decision = decision
    goal.phase = Phase.DECIDED.value
    _bump(goal.workshop)
    _commit()
    return decision


def _dissent(raw: Any) -> list[dict[str, str]]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or len(raw) > 30:
        raise DomainError(N_("Reservationerna kunde inte läsas."), code="bad_payload")
    entries = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise DomainError(N_("Reservationerna kunde inte läsas."), code="bad_payload")
        text = _text(item.get("text"), MAX_DISSENT, "")
        name = _text(item.get("name"), MAX_NAME, "") if item.get("consent") else ""
        if text:
            entries.append({"text": text, "name": name})
    return entries


def _labels(goal: Goal, vote_round: VoteRound) -> dict[str, str]:
    by_id = {p.id: p.label for p in goal.proposals}
    return {str(pid): by_id.get(pid, str(pid)) for pid in vote_round.proposal_ids}


# --- Reading state for the screens and the export -------------------------------------------


def author_text(proposal: Proposal, gettext: Callable[[str], str] = N_) -> str:
    """Return who a proposal is from as shown to people: a name or a translated fixed label.

    Empty for an anonymous author. The fixed labels are stored as their (Swedish) msgids.
    """
    label = proposal.author_label
    if not label or proposal.author_key:
        return ""
    return gettext(label) if label in (FACILITATOR_LABEL, MERGED_LABEL) else label


def workshop_record(
    workshop: Workshop, export_date: str, gettext: Callable[..., str] = N_
) -> domain.WorkshopRecord:
    """Collect the workshop's state into the pure record the consolidation reads.

    ``gettext`` translates the few fixed labels the record carries (author labels, "Mål 3").
    """
    goals = []
    for goal in workshop.goals:
        labels = {p.id: p.label for p in goal.proposals}
        proposals = [
            domain.ProposalRecord(
                id=p.id,
                label=p.label,
                kind=p.kind,
                fields=dict(p.fields),
                criteria=dict(p.criteria),
                author=author_text(p, gettext),
                status=p.status,
                hidden_reason=p.hidden_reason,
                merged_into=labels.get(p.merged_into_id, "") if p.merged_into_id else "",
                merged_from=[s.label for s in p.merged_from],
                original=(
                    {k: v for k, v in p.original.items() if isinstance(v, str)}
                    if p.original
                    else None
                ),
            )
            for p in goal.proposals
        ]
        rounds = [
            domain.RoundRecord(
                number=r.number,
                method=r.method,
                status=r.status,
                tally=round_tally(r).to_dict(),
                labels={pid: labels.get(pid, str(pid)) for pid in r.proposal_ids},
            )
            for r in goal.rounds
        ]
        decision = None
        if goal.decision is not None:
            d = goal.decision
            decision = domain.DecisionRecord(
                kind=d.kind,
                proposal_label=d.proposal.label if d.proposal else "",
                fields=dict(d.fields),
                criteria=dict(d.criteria),
                tally=d.tally,
                tally_labels={int(k): v for k, v in (d.tally_labels or {}).items()},
                dissent=[domain.DissentRecord(**entry) for entry in d.dissent],
            )
        goals.append(
            domain.GoalRecord(
                area=goal.area,
                number=goal.number,
                text=goal.text,
                strategies=goal.strategies,
                measurability=goal.measurability,
                decision=decision,
                proposals=proposals,
                rounds=rounds,
            )
        )
    goal_names = {
        g.id: domain.fill(gettext("Mål %(number)s"), number=g.number) for g in workshop.goals
    }
    return domain.WorkshopRecord(
        title=workshop.title,
        dnr=workshop.dnr,
        organisation=workshop.organisation,
        unit=workshop.unit,
        meeting_date=workshop.meeting_date,
        recipient=workshop.recipient,
        send_to=workshop.send_to,
        officer=workshop.officer,
        follow_up_dates=domain.parse_follow_up_dates(workshop.follow_up_dates)
        if workshop.follow_up_dates
        else [],
        anonymous=workshop.anonymous,
        goals=goals,
        parking=[
            domain.ParkingRecord(text=item.text, goal=goal_names.get(item.goal_id or 0, ""))
            for item in workshop.parking
        ],
        export_date=export_date,
    )


def list_workshops() -> list[Workshop]:
    return list(db.session.scalars(sa.select(Workshop).order_by(Workshop.created_at.desc())))


def participants(workshop: Workshop) -> list[Participant]:
    return list(
        db.session.scalars(
            workshop.participants.select().filter_by(removed=False).order_by(Participant.id)
        )
    )
