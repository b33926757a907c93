"""The only code that changes state. Each public function validates, changes, commits.

Functions raise ``domain.DomainError`` (or its subclasses) and leave the database unchanged
when a rule is broken; views and event handlers translate the error for the person.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import hashlib
import json
import math
import secrets
import sqlite3
import threading
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from . import domain
from .domain import N_, DomainError, Forbidden, NotFound, Phase, VoteMethod
from .models import (
    AuditEntry,
    Ballot,
    Decision,
    Facilitator,
    FollowUp,
    Goal,
    LoginAttempt,
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


# One writer at a time in this process: threads queue here instead of in SQLite's busy
# handler, whose sleeps (up to 100 ms each) would stall acknowledgements under load.
WRITE_LOCK = threading.RLock()


def _commit() -> None:
    try:
        with WRITE_LOCK:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _atomic(change: Callable[[], T]) -> T:
    """Run ``change`` and commit; roll back on any error so nothing is half-done."""
    try:
        result = change()
        with WRITE_LOCK:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def hash_parts(*parts: object) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()


def is_secret(secret: Any) -> bool:
    """Tell whether a phone sent something that can be its secret (a string of fitting length)."""
    return isinstance(secret, str) and SECRET_MIN <= len(secret) <= SECRET_MAX


def _check_secret(secret: Any) -> str:
    if not is_secret(secret):
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


# --- Audit trail ----------------------------------------------------------------------------

# What each audited action is called on the log page and in the export's appendix.
AUDIT_ACTIONS: dict[str, str] = {
    "login": N_("Loggade in"),
    "login_failed": N_("Misslyckad inloggning"),
    "login_locked": N_("Inloggning spärrad efter för många försök"),
    "logout": N_("Loggade ut"),
    "workshop_create": N_("Skapade dialogen"),
    "workshop_update": N_("Ändrade dialogens uppgifter"),
    "workshop_start": N_("Startade dialogen"),
    "workshop_close": N_("Avslutade dialogen"),
    "workshop_reopen": N_("Öppnade dialogen igen"),
    "workshop_delete": N_("Raderade dialogen"),
    "goal_add": N_("Lade till mål"),
    "goal_update": N_("Ändrade ett mål"),
    "goal_move": N_("Flyttade ett mål"),
    "goal_delete": N_("Tog bort ett mål"),
    "goal_select": N_("Valde mål"),
    "phase_set": N_("Bytte fas"),
    "reveal": N_("Visade resultatet"),
    "timer": N_("Ändrade timern"),
    "proposal_add": N_("Lade till ett eget förslag"),
    "proposal_edit": N_("Redigerade ett förslag"),
    "proposal_merge": N_("Slog samman förslag"),
    "proposal_hide": N_("Dolde ett förslag"),
    "proposal_restore": N_("Återställde ett förslag"),
    "proposal_park": N_("Parkerade ett förslag"),
    "proposal_publish": N_("Ändrade vilka förslag som visas"),
    "parking_add": N_("Skrev på parkeringsplatsen"),
    "decision": N_("Sparade beslut för ett mål"),
    "participant_update": N_("Ändrade en deltagare"),
    "export": N_("Exporterade förslaget till beslut"),
    "erase": N_("Raderade deltagarnas personuppgifter"),
    "purge": N_("Gallrade deltagarnas personuppgifter automatiskt"),
    "follow_up": N_("Sparade uppföljning för ett mål"),
    "archive_import": N_("Läste in en dialog från ett arkiv"),
}

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a facilitator (id and username) or the system (id None)."""

    username: str
    facilitator_id: int | None = None


_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("actor", default=None)


@contextlib.contextmanager
def acting_as(actor: Actor | None) -> Iterator[None]:
    """Attribute the service calls inside the block to ``actor`` in the audit trail.

    Views and Socket.IO handlers wrap a facilitator's calls in this; a participant's calls run
    without an actor and are never recorded (their identity must not sit next to their votes).
    """
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def audit(
    workshop_id: int | None,
    action: str,
    details: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
) -> AuditEntry | None:
    """Add an audit entry to the session, to be committed with the action it records.

    Without an ``actor`` the one of ``acting_as`` is used; with neither, nothing is recorded.
    """
    who = actor or _actor.get()
    if who is None:
        return None
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        workshop_id=workshop_id,
        at=utcnow(),
        actor=who.username[:80],
        facilitator_id=who.facilitator_id,
        action=action,
        details=dict(details or {}),
    )
    db.session.add(entry)
    return entry


def audit_now(
    workshop_id: int | None, action: str, details: Mapping[str, Any] | None = None
) -> None:
    """Record an action that changes nothing else (e.g. an export) and commit it."""
    if audit(workshop_id, action, details) is not None:
        _commit()


def audit_log(workshop_id: int) -> list[AuditEntry]:
    """Return a workshop's audit entries, oldest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEntry).filter_by(workshop_id=workshop_id).order_by(AuditEntry.id)
        )
    )


def describe_audit(entry: AuditEntry, gettext: Callable[..., str] = N_) -> str:
    """Return a short translated sentence for an entry: "Bytte fas: Mål 3, Förslag → Röstning"."""
    d = entry.details or {}
    parts: list[str] = []
    if d.get("title"):
        parts.append(str(d["title"]))
    if d.get("goal"):
        parts.append(domain.fill(gettext("Mål %(number)s"), number=d["goal"]))
    if d.get("proposals"):
        parts.append(", ".join(str(label) for label in d["proposals"]))
    if d.get("proposal"):
        parts.append(str(d["proposal"]))
    phases = {p.value: label for p, label in domain.PHASE_LABELS.items()}
    before, after = phases.get(d.get("from")), phases.get(d.get("to"))
    if after:
        parts.append((gettext(before) + " → " if before else "") + gettext(after))
    methods = {m.value: label for m, label in domain.VOTE_METHOD_LABELS.items()}
    method = methods.get(d.get("method"))
    if method:
        parts.append(gettext(method))
    if d.get("participant"):
        parts.append(domain.fill(gettext("deltagare nr %(id)s"), id=d["participant"]))
    if d.get("role") == "observator":
        parts.append(gettext("till observatör"))
    elif d.get("role") == "deltagare":
        parts.append(gettext("till röstande deltagare"))
    if d.get("removed"):
        parts.append(gettext("borttagen"))
    for key in ("reason", "format", "timer", "username"):
        if d.get(key):
            parts.append(str(d[key]))
    if d.get("count") is not None:
        parts.append(domain.fill(gettext("%(n)s st"), n=d["count"]))
    text = gettext(AUDIT_ACTIONS.get(entry.action, entry.action))
    return f"{text}: {', '.join(parts)}" if parts else text


def audit_records(workshop_id: int, gettext: Callable[..., str] = N_) -> list[domain.AuditRecord]:
    """Return the workshop's audit trail as records for the export."""
    return [
        domain.AuditRecord(
            at=entry.at.replace(microsecond=0).isoformat(sep=" ") + " UTC",
            actor=entry.actor,
            text=describe_audit(entry, gettext),
        )
        for entry in audit_log(workshop_id)
    ]


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


LOGIN_WINDOW = dt.timedelta(minutes=15)
LOGIN_MAX_FAILURES = 5  # per username and address within the window
LOGIN_MAX_FAILURES_PER_IP = 20  # per address, any usernames, within the window


class LoginLocked(DomainError):
    """Too many failed logins: wait ``minutes`` before trying again."""

    def __init__(self, minutes: int) -> None:
        super().__init__(
            N_(
                "För många misslyckade inloggningsförsök. Av säkerhetsskäl är inloggningen "
                "spärrad. Försök igen om %(minutes)s minuter."
            ),
            code="locked",
            params={"minutes": minutes},
        )
        self.minutes = minutes


def _lock_minutes(failures: list[dt.datetime], limit: int, now: dt.datetime) -> int:
    """Minutes until fewer than ``limit`` of ``failures`` (newest first) lie within the window."""
    if len(failures) < limit:
        return 0
    until = failures[limit - 1] + LOGIN_WINDOW
    return max(1, math.ceil((until - now).total_seconds() / 60))


def login(username: str, password: str, ip: str, now: dt.datetime | None = None) -> Facilitator:
    """Check a facilitator's login, with lockout after repeated failures.

    Failures are stored (``LoginAttempt``) so the lock holds across restarts and workers: five per
    username and address, or twenty per address, within 15 minutes lock that pair (or address)
    until the oldest of them is 15 minutes old. Raises ``LoginLocked`` while locked (the password
    is then not even checked) and ``DomainError`` code ``bad_login`` for a wrong password.
    """
    now = now or utcnow()
    username = (username or "")[:80]
    ip = (ip or "")[:64]
    since = now - LOGIN_WINDOW
    recent = sa.select(LoginAttempt.at).where(LoginAttempt.ip == ip, LoginAttempt.at > since)
    pair = list(
        db.session.scalars(
            recent.where(LoginAttempt.username == username).order_by(LoginAttempt.at.desc())
        )
    )
    anyone = list(db.session.scalars(recent.order_by(LoginAttempt.at.desc())))
    minutes = max(
        _lock_minutes(pair, LOGIN_MAX_FAILURES, now),
        _lock_minutes(anyone, LOGIN_MAX_FAILURES_PER_IP, now),
    )
    if minutes:
        audit(None, "login_locked", {"username": username, "ip": ip}, Actor(username))
        _commit()
        raise LoginLocked(minutes)
    account = authenticate(username, password)
    if account is None:
        db.session.execute(sa.delete(LoginAttempt).where(LoginAttempt.at <= now - dt.timedelta(1)))
        db.session.add(LoginAttempt(username=username, ip=ip, at=now))
        audit(None, "login_failed", {"username": username, "ip": ip}, Actor(username))
        _commit()
        raise DomainError(N_("Fel användarnamn eller lösenord."), code="bad_login")
    db.session.execute(
        sa.delete(LoginAttempt).where(LoginAttempt.username == username, LoginAttempt.ip == ip)
    )
    audit(None, "login", {"ip": ip}, Actor(account.username, account.id))
    _commit()
    return account


def logout(facilitator_id: int) -> Facilitator | None:
    """End every session of a facilitator: bump the version each session was signed with."""
    facilitator = db.session.get(Facilitator, facilitator_id)
    if facilitator is None:
        return None
    facilitator.session_version = (facilitator.session_version or 0) + 1
    audit(None, "logout", {}, Actor(facilitator.username, facilitator.id))
    _commit()
    return facilitator


# --- Workshops and goals --------------------------------------------------------------------


def get_workshop(workshop_id: int) -> Workshop:
    workshop = db.session.get(Workshop, workshop_id) if domain.in_id_range(workshop_id) else None
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
    db.session.flush()
    audit(workshop.id, "workshop_create", {"title": workshop.title})
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
        if not domain.valid_date(date):
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
        audit(workshop.id, "workshop_update", {"title": workshop.title})
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
    audit(workshop.id, "goal_add", {"goal": ", ".join(g.number for g in added)})
    _commit()
    return added


def _goal_in(workshop_id: int, goal_id: int) -> Goal:
    goal = db.session.get(Goal, goal_id) if domain.in_id_range(goal_id) else None
    if goal is None or goal.workshop_id != workshop_id:
        raise NotFound(N_("Målet finns inte."))
    return goal


def update_goal(workshop_id: int, goal_id: int, goal_input: domain.GoalInput) -> Goal:
    goal = _goal_in(workshop_id, goal_id)
    _editable_goals(goal.workshop)
    for name, value in goal_input.__dict__.items():
        setattr(goal, name, value)
    audit(workshop_id, "goal_update", {"goal": goal.number})
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
    audit(workshop_id, "goal_move", {"goal": goal.number, "offset": offset})
    _commit()


def delete_goal(workshop_id: int, goal_id: int) -> None:
    goal = _goal_in(workshop_id, goal_id)
    workshop = goal.workshop
    _editable_goals(workshop)
    workshop.goals.remove(goal)
    for position, item in enumerate(workshop.goals):
        item.position = position
    audit(workshop_id, "goal_delete", {"goal": goal.number})
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
    audit(workshop.id, "workshop_start")
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
    audit(workshop.id, "workshop_close")
    _commit()
    return workshop


def reopen_workshop(workshop_id: int) -> Workshop:
    workshop = get_workshop(workshop_id)
    if workshop.status == "stangd":
        workshop.status = "pagar"
        _bump(workshop)
        audit(workshop.id, "workshop_reopen")
        _commit()
    return workshop


def _bump(workshop: Workshop) -> None:
    """Advance the workshop's sequence number; every broadcast carries it.

    In SQL (``seq = seq + 1`` at flush), so two processes changing one workshop at the same
    moment never hand out the same number; the new value is read back after the commit.
    """
    workshop.seq = Workshop.seq + 1


def _require_running(status: str) -> None:
    """Refuse a change to a workshop whose status (``Workshop.status``) is not running."""
    if status == "utkast":
        raise DomainError(N_("Dialogen har inte startat än."), code="not_started")
    if status == "stangd":
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
    audit(
        workshop_id,
        "participant_update",
        {"participant": participant.id, "role": role, "removed": removed},
    )
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
    audit(workshop_id, "goal_select", {"goal": goal.number})
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
    # Read, decide and write as one writer of this process: the row lock taken inside is held
    # until the commit, which must not wait for WRITE_LOCK while a vote holding WRITE_LOCK waits
    # for that row (a deadlock PostgreSQL cannot see). Across processes the row lock decides.
    with WRITE_LOCK:
        return _set_phase(workshop_id, goal_id, phase, method, dot_budget)


def _set_phase(
    workshop_id: int,
    goal_id: int,
    phase: str,
    method: str | None,
    dot_budget: Any,
    *,
    _retry: bool = True,
) -> Goal:
    _lock_workshop(workshop_id)
    goal = _goal_in(workshop_id, goal_id)
    workshop = goal.workshop
    _require_running(workshop.status)
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
    opened = goal.current_round if target is Phase.VOTING else None
    audit(
        workshop_id,
        "reveal" if target is Phase.RESULTS else "phase_set",
        {
            "goal": goal.number,
            "from": current.value,
            "to": target.value,
            **({"method": opened.method} if opened is not None else {}),
        },
    )
    try:
        _commit()
    except IntegrityError:
        # The same change committed at the same moment (SQLite: the round's unique number);
        # decide again on what is stored now, which refuses this one as the usual error.
        if not _retry:
            raise
        return _set_phase(workshop_id, goal_id, phase, method, dot_budget, _retry=False)
    return goal


def _lock_workshop(workshop_id: int) -> None:
    """Lock the workshop's row until commit and read everything afresh after it.

    Two requests that read and then decide (e.g. both open a vote round) would otherwise both
    decide on the same state. On PostgreSQL the second waits here for the first to commit and
    then sees its result. ``NO KEY UPDATE`` still lets rows that merely refer to the workshop
    (participants joining, audit entries) be written meanwhile. SQLite has no row locks: a
    write (of the unchanged seq) opens the transaction and takes the database's write lock
    now, so every read that follows sees the latest commit and no other process can commit
    until this one has. (A plain read would not: without a write, each SELECT sees whatever
    was committed when it ran, so a phase read before another process's commit and its rounds
    read after it could both look open.)
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            sa.update(Workshop)
            .where(Workshop.id == workshop_id)
            .values(seq=Workshop.seq)
            .execution_options(synchronize_session=False)
        )
    else:
        db.session.execute(
            sa.select(Workshop.id).where(Workshop.id == workshop_id).with_for_update(key_share=True)
        )
    db.session.expire_all()


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
    audit(workshop_id, "timer", {"timer": f"{action} {seconds}" if action == "start" else action})
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
    goal = _goal_in(workshop_id, domain.parse_id(goal_id))
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
        _require_running(workshop.status)
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
        proposal.author_key = hash_parts("proposal", workshop.id, _check_secret(secret))
    else:
        proposal.author_participant_id = participant.id
        proposal.author_label = participant.display_name or ""
    for attempt in range(3):
        proposal.number = _next_number(goal)
        db.session.add(proposal)
        _bump(workshop)
        if participant is None:
            audit(workshop.id, "proposal_add", {"goal": goal.number, "proposal": proposal.label})
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


def _proposal_in(workshop_id: int, proposal_id: Any) -> Proposal:
    proposal = db.session.get(Proposal, domain.parse_id(proposal_id))
    if proposal is None or proposal.goal.workshop_id != workshop_id:
        raise NotFound(N_("Förslaget finns inte."))
    return proposal


def _moderatable(proposal: Proposal) -> None:
    if proposal.goal.phase == Phase.VOTING:
        raise DomainError(N_("Stäng röstningen innan förslagen ändras."), code="wrong_phase")


@contextlib.contextmanager
def _moderating(
    workshop_id: int, proposal_id: Any, action: str
) -> Iterator[tuple[Proposal, dict[str, Any]]]:
    """Find a proposal the facilitator may change now, let the block change it, then commit.

    The block gets the proposal and the audit details to add to; after it the workshop's seq
    advances and the action is logged in the same transaction. An error leaves nothing done.
    """
    proposal = _proposal_in(workshop_id, proposal_id)
    _moderatable(proposal)
    details: dict[str, Any] = {"goal": proposal.goal.number, "proposal": proposal.label}
    yield proposal, details
    _bump(proposal.goal.workshop)
    audit(workshop_id, action, details)
    _commit()


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


def merge_proposals(
    workshop_id: int, proposal_ids: Any, raw: Mapping[str, Any], client_id: str | None = None
) -> Proposal:
    """Merge two or more active proposals of one goal into a new one that links them."""
    if not isinstance(proposal_ids, list) or len(proposal_ids) > 50:
        raise DomainError(N_("Välj minst två förslag att slå samman."), code="bad_merge")
    ids = list(dict.fromkeys(domain.parse_id(pid) for pid in proposal_ids))
    if len(ids) < 2:
        raise DomainError(N_("Välj minst två förslag att slå samman."), code="bad_merge")
    sources = [_proposal_in(workshop_id, pid) for pid in ids]
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
    audit(
        workshop_id,
        "proposal_merge",
        {
            "goal": goal.number,
            "proposals": [f"{', '.join(p.label for p in sources)} → {merged.label}"],
        },
    )
    _commit()
    return merged


def hide_proposal(workshop_id: int, proposal_id: Any, reason: Any) -> Proposal:
    """Hide a proposal from the room with a reason; it stays in the export's appendix."""
    with _moderating(workshop_id, proposal_id, "proposal_hide") as (proposal, details):
        proposal.hidden_reason = _text(
            reason, MAX_REASON, N_("Ange ett skäl, t.ex. dubblett."), required=True
        )
        proposal.status = "dold"
        details["reason"] = proposal.hidden_reason
    return proposal


def restore_proposal(workshop_id: int, proposal_id: Any) -> Proposal:
    """Show a hidden or parked proposal again."""
    with _moderating(workshop_id, proposal_id, "proposal_restore") as (proposal, _details):
        if proposal.status not in ("dold", "parkerad"):
            raise DomainError(N_("Förslaget är redan aktivt."), code="bad_state")
        proposal.status, proposal.hidden_reason = "aktiv", ""
    return proposal


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
        proposal.status = "parkerad"
        db.session.add(item)
    return item


def add_parking(workshop_id: int, text: Any, goal_id: Any = None) -> ParkingItem:
    """Write a point on the parking lot, for a goal or the whole workshop."""
    workshop = get_workshop(workshop_id)
    goal = _goal_in(workshop_id, domain.parse_id(goal_id)) if goal_id not in (None, "") else None
    item = ParkingItem(
        workshop_id=workshop.id,
        goal_id=goal.id if goal else None,
        text=_text(text, MAX_PARKING, N_("Skriv vad som ska parkeras."), required=True),
    )
    db.session.add(item)
    _bump(workshop)
    audit(workshop_id, "parking_add", {"goal": goal.number if goal else ""})
    _commit()
    return item


def publish_proposals(workshop_id: int, proposal_ids: Any, published: bool = True) -> None:
    """Show (or stop showing) proposals on the presenter view and phones."""
    ids = proposal_ids if isinstance(proposal_ids, list) else [proposal_ids]
    proposals = [_proposal_in(workshop_id, pid) for pid in ids]
    for proposal in proposals:
        proposal.published = bool(published)
    _bump(get_workshop(workshop_id))
    audit(
        workshop_id,
        "proposal_publish",
        {"proposals": [p.label for p in proposals], "published": bool(published)},
    )
    _commit()


# --- Voting ---------------------------------------------------------------------------------


MAX_REV = domain.MAX_ID  # the revision column holds what an id column does


@dataclass(frozen=True)
class VoteOutcome:
    """What became of one delivery of a ballot."""

    stored: bool  # this delivery changed the database
    changed: bool  # it replaced an earlier ballot of this phone (a changed vote)
    rev: int  # the ballot's revision now stored
    duplicate: bool = False  # the same revision (same vote_id) had arrived before
    stale: bool = False  # a newer revision is stored; this older one was ignored
    seq: int = 0  # the workshop's seq once the ballot is stored: a snapshot this new shows it

    def ack(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "duplicate": self.duplicate,
            "stale": self.stale,
            "rev": self.rev,
            "seq": self.seq,
        }


BAD_VOTE_ID = N_("Rösten saknar id. Ladda om sidan och försök igen.")


def _require_vote_open(status: str, round_status: str, current_goal_id: Any, goal_id: int) -> None:
    """Refuse a ballot unless the workshop runs and its current goal's round is open."""
    _require_running(status)
    if round_status != "oppen" or current_goal_id != goal_id:
        raise DomainError(N_("Röstningen är stängd."), code="closed")


def _vote_revision(vote_id: Any, rev: Any) -> tuple[str, int | None]:
    if vote_id is None:
        vote_id = ""
    elif not isinstance(vote_id, str) or not 8 <= len(vote_id) <= 64:
        raise DomainError(BAD_VOTE_ID, code="bad_payload")
    if rev is not None and (
        isinstance(rev, bool) or not isinstance(rev, int) or not 1 <= rev <= MAX_REV
    ):
        raise DomainError(BAD_VOTE_ID, code="bad_payload")
    return vote_id, rev


@functools.cache
def _vote_statements() -> dict[str, Any]:
    """Build the vote path's statements once: each vote then only binds its values.

    A statement object built anew for every vote costs more to construct and to look up in
    SQLAlchemy's compiled cache than the database work itself.
    """
    p, w, r, g = Participant.__table__, Workshop.__table__, VoteRound.__table__, Goal.__table__
    b, rs = Ballot.__table__, Response.__table__
    round_id = sa.bindparam("round_id", type_=sa.Integer)
    context = (
        sa.select(
            p.c.workshop_id,
            p.c.role,
            p.c.left,
            p.c.removed,
            w.c.status,
            w.c.current_goal_id,
            w.c.anonymous,
            w.c.seq,
            r.c.id.label("round_id"),
            r.c.goal_id,
            r.c.status.label("round_status"),
            r.c.method,
            r.c.proposal_ids,
            r.c.dot_budget,
            g.c.workshop_id.label("round_workshop_id"),
            b.c.rev.label("ballot_rev"),
            b.c.vote_id.label("ballot_vote_id"),
            rs.c.participant_id.label("answered"),
        )
        .select_from(p)
        .join(w, w.c.id == p.c.workshop_id)
        .outerjoin(r, r.c.id == round_id)
        .outerjoin(g, g.c.id == r.c.goal_id)
        .outerjoin(b, sa.and_(b.c.key == sa.bindparam("key"), b.c.round_id == r.c.id))
        .outerjoin(rs, sa.and_(rs.c.round_id == r.c.id, rs.c.participant_id == p.c.id))
        .where(p.c.id == sa.bindparam("participant_id"))
    )
    return {
        # The participant, its workshop, the round (if it exists), the round's goal, this
        # phone's ballot (if any) and whether this participant has answered, in one read.
        "context": context,
        "change": b.update()
        .where(b.c.key == sa.bindparam("b_key"), b.c.rev < sa.bindparam("new_rev"))
        .values(
            answers=sa.bindparam("new_answers", type_=b.c.answers.type),
            rev=sa.bindparam("new_rev"),
            vote_id=sa.bindparam("new_vote_id"),
        ),
        "ballot": b.insert().values(
            key=sa.bindparam("b_key"),
            round_id=sa.bindparam("b_round_id"),
            answers=sa.bindparam("new_answers", type_=b.c.answers.type),
            rev=sa.bindparam("new_rev"),
            vote_id=sa.bindparam("new_vote_id"),
            participant_id=sa.bindparam("b_participant_id"),
        ),
        "response": rs.insert().values(
            round_id=sa.bindparam("b_round_id"), participant_id=sa.bindparam("b_participant_id")
        ),
        # In SQL: concurrent votes never share a seq. It is the first write, so from here to
        # the commit this transaction holds the workshop (a row lock on PostgreSQL, the write
        # lock on SQLite): a phase change cannot commit in between.
        "seq": w.update()
        .where(w.c.id == sa.bindparam("workshop_id"))
        .values(seq=w.c.seq + sa.literal_column("1"))
        .returning(w.c.seq, w.c.status, w.c.current_goal_id),
        "round_status": sa.select(r.c.status).where(r.c.id == round_id),
    }


class _VoteSQL:
    """Run the vote path's statements on the session's connection, in its transaction.

    On SQLite (the embedded default, where one process carries the whole room) they go
    straight to the DB-API cursor as SQL compiled once: SQLAlchemy's per-statement execution
    machinery costs more than SQLite's own work and halved the votes a process could take.
    Other databases get the same statements through SQLAlchemy Core.
    """

    def __init__(self) -> None:
        self.connection = db.session.connection()  # begins the session's transaction
        self.raw = self.connection.dialect.name == "sqlite"

    def __call__(self, name: str, params: dict[str, Any]) -> Any:
        if not self.raw:
            return self.connection.execute(_vote_statements()[name], params)
        compiled = _vote_sql_sqlite()[name]
        if "new_answers" in params:
            params = {**params, "new_answers": json.dumps(params["new_answers"])}
        cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(compiled.string, tuple(params[n] for n in compiled.positiontup or ()))
        return cursor

    def first(self, name: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """Run a statement and return its first row, finishing the statement."""
        rows = self(name, params).fetchall()  # a statement left open would pin a snapshot
        return tuple(rows[0]) if rows else None

    def context(self, params: dict[str, Any]) -> dict[str, Any] | None:
        result = self("context", params)
        if not self.raw:
            row = result.first()
            return None if row is None else row._asdict()
        rows = result.fetchall()
        if not rows:
            return None
        row = dict(zip([d[0] for d in result.description], rows[0], strict=True))
        if row["proposal_ids"] is not None:
            row["proposal_ids"] = json.loads(row["proposal_ids"])
        return row


@functools.cache
def _vote_sql_sqlite() -> dict[str, Any]:
    from sqlalchemy.dialects import sqlite

    return {name: s.compile(dialect=sqlite.dialect()) for name, s in _vote_statements().items()}


def cast_vote(
    participant: Participant | int,
    round_id: Any,
    secret: Any,
    answers: Any,
    *,
    vote_id: Any = None,
    rev: Any = None,
    _retry: bool = True,
) -> VoteOutcome:
    """Store a participant's ballot, or replace the one they cast before in this round.

    The ballot is keyed by a hash of the phone's secret; who has answered is stored apart.
    ``vote_id`` (made by the phone per revision) and ``rev`` (1, 2, … per change) make a
    resend harmless: the same revision again is a ``duplicate``, an older one than stored is
    ``stale``; neither changes anything. The database decides: the ballot's key is its primary
    key, and a change is an ``UPDATE … WHERE rev < :rev``. Without ``rev`` the ballot is taken
    as the newest. A duplicate is recognised even after the round closed.

    This is the hot path of a large room: prebuilt SQL (``_VoteSQL``), no ORM objects loaded:
    one read to decide, then, holding the workshop, the seq's advance, a re-read of the round's
    status and the ballot (with the answer, for a first ballot).
    """
    participant_id = participant if isinstance(participant, int) else participant.id
    round_number = domain.parse_id(round_id)
    key = hash_parts("ballot", round_number, secret) if is_secret(secret) else None
    run = _VoteSQL()
    found = run.context(
        {"participant_id": participant_id, "round_id": round_number, "key": key or ""}
    )
    if found is None or found["removed"]:
        raise Forbidden(N_("Du är inte längre med i dialogen."))
    row = types.SimpleNamespace(**found)
    if row.round_id is None or row.round_workshop_id != row.workshop_id:
        raise NotFound(N_("Omröstningen finns inte."))
    if row.role != "deltagare":
        raise Forbidden(N_("Du deltar som observatör och kan inte rösta."))
    if row.left:
        raise Forbidden(N_("Du har lämnat dialogen. Gå med igen för att rösta."))
    vote_id, rev = _vote_revision(vote_id, rev)
    _check_secret(secret)
    has_ballot = row.ballot_rev is not None
    if has_ballot and rev is not None and rev <= row.ballot_rev:
        duplicate = rev == row.ballot_rev and bool(vote_id) and vote_id == row.ballot_vote_id
        db.session.rollback()  # end the read transaction
        return VoteOutcome(
            stored=False,
            changed=False,
            rev=row.ballot_rev,
            duplicate=duplicate,
            stale=not duplicate,
            seq=row.seq,
        )
    _require_vote_open(row.status, row.round_status, row.current_goal_id, row.goal_id)
    ballot_answers = domain.validate_ballot(
        VoteMethod(row.method), row.proposal_ids, answers, row.dot_budget
    )
    if not has_ballot and row.answered is not None:
        raise DomainError(
            N_(
                "Du har redan röstat från en annan webbläsare eller enhet. Rösten kan bara "
                "ändras därifrån."
            ),
            code="already_voted",
        )
    new_rev = (rev if rev is not None else row.ballot_rev + 1) if has_ballot else (rev or 1)
    stored, seq = True, row.seq
    with WRITE_LOCK:
        try:
            # The round may have closed since the read above: decide again, holding the workshop
            # (a refusal is rolled back below).
            seq, status, current_goal_id = run.first("seq", {"workshop_id": row.workshop_id})
            (round_status,) = run.first("round_status", {"round_id": row.round_id})
            _require_vote_open(status, round_status, current_goal_id, row.goal_id)
            if has_ballot:
                result = run(
                    "change",
                    {
                        "b_key": key,
                        "new_rev": new_rev,
                        "new_answers": ballot_answers,
                        "new_vote_id": vote_id,
                    },
                )
                stored = result.rowcount == 1  # else a newer revision was stored meanwhile
            else:
                values = {
                    "b_key": key,
                    "b_round_id": row.round_id,
                    "new_answers": ballot_answers,
                    "new_rev": new_rev,
                    "new_vote_id": vote_id,
                    "b_participant_id": None if row.anonymous else participant_id,
                }
                run("ballot", values)
                run("response", {"b_round_id": row.round_id, "b_participant_id": participant_id})
            if stored:
                db.session.commit()
        except (IntegrityError, sqlite3.IntegrityError):
            # The same ballot (or this person's answer) was stored at the same moment, e.g.
            # a resend racing its original.
            stored = False
        except Exception:
            db.session.rollback()
            raise
        if not stored:
            db.session.rollback()
    if not stored:  # decide again against what is stored now
        if _retry:
            return cast_vote(
                participant_id, round_id, secret, answers, vote_id=vote_id, rev=rev, _retry=False
            )
        raise DomainError(N_("Rösten kunde inte sparas. Försök igen."), code="conflict")
    return VoteOutcome(stored=True, changed=has_ballot, rev=new_rev, seq=seq)


def own_ballot(vote_round: VoteRound, secret: Any) -> tuple[dict[str, Any] | None, int]:
    """Return this phone's ballot in the round and its revision: ``(None, 0)`` when it has none."""
    if not is_secret(secret):
        return None, 0
    ballot = db.session.get(Ballot, hash_parts("ballot", vote_round.id, secret))
    if ballot is None or ballot.round_id != vote_round.id:
        return None, 0
    return ballot.answers, ballot.rev


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
    goal = _goal_in(workshop_id, domain.parse_id(goal_id))
    _require_running(goal.workshop.status)
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
    audit(
        workshop_id,
        "decision",
        {"goal": goal.number, "proposal": proposal.label if proposal else "", "kind": kind},
    )
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
    if label == PARTICIPANT_LABEL and proposal.author_participant_id is None:
        return domain.pgettext_via(
            "author of a proposal whose name was erased", "Deltagare", gettext
        )
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
                follow_ups=follow_up_records(goal),
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
        audit=audit_records(workshop.id, gettext),
    )


def list_workshops() -> list[Workshop]:
    return list(db.session.scalars(sa.select(Workshop).order_by(Workshop.created_at.desc())))


class PersonRow(Protocol):
    """What the console lists of a participant (a row of ``participant_rows``)."""

    id: int
    display_name: str | None
    role: str
    left: bool


def participant_rows(workshop_id: int) -> Sequence[PersonRow]:
    """Return id, name, role and left of the workshop's participants, without loading objects."""
    p = Participant.__table__
    return db.session.execute(
        sa.select(p.c.id, p.c.display_name, p.c.role, p.c.left)
        .where(p.c.workshop_id == workshop_id, p.c.removed.is_(False))
        .order_by(p.c.id)
    ).all()  # type: ignore[return-value]


def participants(workshop: Workshop) -> list[Participant]:
    return list(
        db.session.scalars(
            workshop.participants.select().filter_by(removed=False).order_by(Participant.id)
        )
    )


# --- Personal data: erasure, deletion, retention --------------------------------------------

PARTICIPANT_LABEL = "Deltagare"  # stored for an erased author; shown via its context below


def erase_personal_data(workshop_id: int, *, action: str = "erase") -> int:
    """Erase the participants of a workshop, keeping its anonymous result; return how many.

    Deletes every participant (their display names and the tokens their phones carry) and the
    record of who answered which round; ballots and tallies, proposals, decisions and parked
    points stay, so the summary and the exports still work. Proposal authors named in named mode
    become "Deltagare". Refused while the dialogue is running.
    """
    workshop = get_workshop(workshop_id)
    if workshop.status == "pagar":
        raise DomainError(
            N_("Avsluta dialogen innan deltagarnas personuppgifter raderas."), code="running"
        )
    goal_ids = sa.select(Goal.id).filter_by(workshop_id=workshop.id)
    round_ids = sa.select(VoteRound.id).where(VoteRound.goal_id.in_(goal_ids))
    people = sa.select(Participant.id).filter_by(workshop_id=workshop.id)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(people.subquery())) or 0
    db.session.execute(
        sa.update(Ballot).where(Ballot.round_id.in_(round_ids)).values(participant_id=None)
    )
    db.session.execute(sa.delete(Response).where(Response.round_id.in_(round_ids)))
    db.session.execute(sa.delete(Response).where(Response.participant_id.in_(people)))
    named = sa.and_(
        Proposal.goal_id.in_(goal_ids),
        sa.or_(Proposal.author_participant_id.is_not(None), Proposal.author_key.is_not(None)),
    )
    db.session.execute(
        sa.update(Proposal)
        .where(named, Proposal.author_key.is_(None))
        .values(author_participant_id=None, author_label=PARTICIPANT_LABEL)
    )
    db.session.execute(sa.delete(Participant).where(Participant.workshop_id == workshop.id))
    workshop.erased_at = utcnow()
    _bump(workshop)
    audit(workshop.id, action, {"count": count})
    _commit()
    db.session.expire_all()
    return count


def delete_workshop(workshop_id: int) -> None:
    """Delete a workshop and everything in it; only its audit trail stays (without the link)."""
    workshop = get_workshop(workshop_id)
    audit(None, "workshop_delete", {"title": workshop.title, "workshop_id": workshop.id})
    workshop.current_goal_id = None
    db.session.flush()
    erase = sa.select(Participant.id).filter_by(workshop_id=workshop.id)
    db.session.execute(sa.delete(Response).where(Response.participant_id.in_(erase)))
    for goal in workshop.goals:
        for proposal in goal.proposals:
            proposal.merged_into_id = None
    db.session.flush()
    db.session.delete(workshop)
    _commit()


def purge_expired(days: int, now: dt.datetime | None = None) -> list[int]:
    """Erase the participants of every workshop created more than ``days`` days ago.

    The retention rule (``RETENTION_DAYS``); runs at start-up and as ``flask purge``. Returns
    the ids of the workshops it erased. Old failed-login records go too.
    """
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=days)
    db.session.execute(sa.delete(LoginAttempt).where(LoginAttempt.at <= now - dt.timedelta(1)))
    _commit()
    stale = db.session.scalars(
        sa.select(Workshop).where(Workshop.created_at < cutoff, Workshop.erased_at.is_(None))
    ).all()
    erased = []
    with acting_as(Actor(SYSTEM_ACTOR)):
        for workshop in stale:
            if workshop.status == "pagar":
                workshop.status = "stangd"  # retention wins over a dialogue left running
            erase_personal_data(workshop.id, action="purge")
            erased.append(workshop.id)
    return erased


# --- Follow-up after the decision -----------------------------------------------------------


def follow_up_checkpoints(workshop: Workshop) -> list[dt.date]:
    """Return the workshop's checkpoints: its follow-up dates plus 31 December."""
    dates = (
        domain.parse_follow_up_dates(workshop.follow_up_dates) if workshop.follow_up_dates else []
    )
    year = int(workshop.meeting_date[:4]) if workshop.meeting_date[:4].isdigit() else None
    return domain.checkpoints(dates, year)


def follow_ups(goal: Goal) -> list[FollowUp]:
    return list(
        db.session.scalars(
            sa.select(FollowUp).filter_by(goal_id=goal.id).order_by(FollowUp.checkpoint)
        )
    )


def follow_up_records(goal: Goal) -> list[domain.FollowUpRecord]:
    return [
        domain.FollowUpRecord(
            checkpoint=f.checkpoint,
            value=f.value,
            forecast=f.forecast,
            comment=f.comment,
            activities=f.activities,
            kolada_kpi=f.kolada_kpi,
        )
        for f in follow_ups(goal)
    ]


def save_follow_up(workshop_id: int, goal_id: Any, raw: Mapping[str, Any]) -> FollowUp:
    """Record (or replace) a decided goal's follow-up at one of the workshop's checkpoints."""
    goal = _goal_in(workshop_id, domain.parse_id(goal_id))
    kind = goal.decision.kind if goal.decision is not None else None
    data = domain.validate_follow_up(raw, kind, follow_up_checkpoints(goal.workshop))
    entry = db.session.scalar(
        sa.select(FollowUp).filter_by(goal_id=goal.id, checkpoint=data.checkpoint)
    ) or FollowUp(goal_id=goal.id, checkpoint=data.checkpoint)
    entry.value, entry.forecast, entry.comment = data.value, data.forecast, data.comment
    entry.activities, entry.kolada_kpi = data.activities, data.kolada_kpi
    entry.updated_at = utcnow()
    db.session.add(entry)
    audit(workshop_id, "follow_up", {"goal": goal.number, "date": data.checkpoint.isoformat()})
    _commit()
    return entry


# --- Archive: the whole workshop as JSON, and back --------------------------------------------

ARCHIVE_VERSION = 1
ARCHIVE_SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "archive-schema.json"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _when(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _remap_tally(tally: Mapping[str, Any] | None, ids: Mapping[int, int]) -> dict[str, Any] | None:
    """Return a copy of a stored tally with its proposal ids replaced through ``ids``."""
    if tally is None:
        return None
    out = dict(tally)
    out["leaders"] = [ids[int(pid)] for pid in tally.get("leaders", [])]
    out["proposals"] = [
        {**item, "proposal_id": ids[int(item["proposal_id"])]}
        for item in tally.get("proposals", [])
    ]
    return out


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def export_archive(workshop: Workshop) -> dict[str, Any]:
    """Return the whole workshop as an archive (see ``docs/archive-schema.json``).

    References are relative and stable: a goal by its index in ``goals``, a proposal by its
    number within its goal, a round by its number. Ballots carry answers only, in a sorted
    order, with no link to a participant; participants, join code and keys are not archived.
    """
    goals = list(workshop.goals)
    index = {g.id: i for i, g in enumerate(goals)}
    numbers = {p.id: p.number for g in goals for p in g.proposals}
    goals_out = []
    for goal in goals:
        rounds = []
        for r in goal.rounds:
            answers = db.session.scalars(sa.select(Ballot.answers).filter_by(round_id=r.id))
            ballots = [{str(numbers[int(k)]): v for k, v in a.items()} for a in answers]
            rounds.append(
                {
                    "number": r.number,
                    "method": r.method,
                    "dot_budget": r.dot_budget,
                    "proposals": [numbers[pid] for pid in r.proposal_ids],
                    "status": r.status,
                    "revealed": r.revealed,
                    "ballots": sorted(ballots, key=_sort_key),
                }
            )
        decision = None
        if goal.decision is not None:
            d = goal.decision
            decision = {
                "kind": d.kind,
                "proposal": numbers.get(d.proposal_id) if d.proposal_id else None,
                "fields": dict(d.fields),
                "criteria": dict(d.criteria),
                "tally": _remap_tally(d.tally, numbers),
                "tally_labels": {
                    str(numbers[int(k)]): v for k, v in (d.tally_labels or {}).items()
                },
                "dissent": list(d.dissent or []),
                "decided_at": _iso(d.decided_at),
            }
        goals_out.append(
            {
                "area": goal.area,
                "number": goal.number,
                "text": goal.text,
                "strategies": goal.strategies,
                "measurability": goal.measurability,
                "phase": goal.phase,
                "proposals": [
                    {
                        "number": p.number,
                        "kind": p.kind,
                        "fields": dict(p.fields),
                        "criteria": dict(p.criteria),
                        "original": dict(p.original) if p.original is not None else None,
                        # Only a name someone chose to show (named mode) or a fixed label.
                        "author": "" if p.author_key else p.author_label,
                        "status": p.status,
                        "hidden_reason": p.hidden_reason,
                        "merged_into": numbers.get(p.merged_into_id) if p.merged_into_id else None,
                        "published": p.published,
                        "created_at": _iso(p.created_at),
                    }
                    for p in goal.proposals
                ],
                "rounds": rounds,
                "decision": decision,
                "follow_ups": [
                    {
                        "checkpoint": f.checkpoint.isoformat(),
                        "value": f.value,
                        "forecast": f.forecast,
                        "comment": f.comment,
                        "activities": f.activities,
                        "kolada_kpi": f.kolada_kpi,
                        "updated_at": _iso(f.updated_at),
                    }
                    for f in follow_ups(goal)
                ],
            }
        )
    sources = {p.id: (index[g.id], p.number) for g in goals for p in g.proposals}
    return {
        "archive_version": ARCHIVE_VERSION,
        "exported_at": utcnow().replace(microsecond=0).isoformat() + "Z",
        "workshop": {
            "title": workshop.title,
            "dnr": workshop.dnr,
            "organisation": workshop.organisation,
            "unit": workshop.unit,
            "recipient": workshop.recipient,
            "send_to": workshop.send_to,
            "officer": workshop.officer,
            "meeting_date": workshop.meeting_date,
            "follow_up_dates": [
                d.isoformat() for d in domain.parse_follow_up_dates(workshop.follow_up_dates)
            ]
            if workshop.follow_up_dates
            else [],
            "status": workshop.status,
            "anonymous": workshop.anonymous,
            "current_goal": index.get(workshop.current_goal_id or 0),
            "created_at": _iso(workshop.created_at),
        },
        "goals": goals_out,
        "parking": [
            {
                "text": item.text,
                "goal": index.get(item.goal_id or 0),
                "source_proposal": (
                    dict(zip(("goal", "number"), sources[item.source_proposal_id], strict=True))
                    if item.source_proposal_id in sources
                    else None
                ),
                "created_at": _iso(item.created_at),
            }
            for item in workshop.parking
        ],
        "audit": [
            {"at": _iso(e.at), "actor": e.actor, "action": e.action, "details": dict(e.details)}
            for e in audit_log(workshop.id)
        ],
    }


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


def import_archive(data: Any, facilitator_id: int | None = None) -> Workshop:
    """Recreate a workshop from an archive made by ``export_archive``, as a new workshop.

    It gets a fresh join code and presenter key; ballots get fresh random keys.
    """
    validate_archive(data)
    info = data["workshop"]
    dates = ", ".join(info["follow_up_dates"])
    if dates:
        domain.parse_follow_up_dates(dates)

    def change() -> Workshop:
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
            join_code=_unique_join_code(),
            status=info["status"],
            anonymous=info["anonymous"],
            created_at=_when(info["created_at"]),
            created_by_id=facilitator_id,
        )
        db.session.add(workshop)
        db.session.flush()
        goals: list[Goal] = []
        ids: list[dict[int, int]] = []  # per goal: proposal number -> new id
        for position, g in enumerate(data["goals"]):
            goal = Goal(
                workshop_id=workshop.id,
                position=position,
                **{k: g[k] for k in ("area", "number", "text", "strategies", "measurability")},
                phase=g["phase"],
            )
            db.session.add(goal)
            db.session.flush()
            goals.append(goal)
            by_number: dict[int, Proposal] = {}
            for p in g["proposals"]:
                if p["number"] in by_number:
                    raise _missing(f"goals[{position}].proposals F{p['number']}")
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
                    created_at=_when(p["created_at"]),
                )
                db.session.add(proposal)
                by_number[p["number"]] = proposal
            db.session.flush()
            number_to_id = {n: p.id for n, p in by_number.items()}
            ids.append(number_to_id)

            def to_id(number: Any, where: str, table: dict[int, int] = number_to_id) -> int:
                if not isinstance(number, int) or number not in table:
                    raise _missing(f"{where} F{number}")
                return table[number]

            base = f"goals[{position}]"
            for p in g["proposals"]:
                if p["merged_into"] is not None:
                    by_number[p["number"]].merged_into_id = to_id(
                        p["merged_into"], f"{base}.proposals.merged_into"
                    )
            for r in g["rounds"]:
                vote_round = VoteRound(
                    goal_id=goal.id,
                    number=r["number"],
                    method=r["method"],
                    dot_budget=r["dot_budget"],
                    proposal_ids=[to_id(n, f"{base}.rounds.proposals") for n in r["proposals"]],
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
                            answers={str(number_to_id[int(k)]): v for k, v in answers.items()},
                        )
                    )
            d = g["decision"]
            if d is not None:
                tally = d["tally"]
                if tally is not None:
                    where = f"{base}.decision.tally"
                    tally = _remap_tally(tally, {n: to_id(n, where) for n in _tally_ids(tally)})
                db.session.add(
                    Decision(
                        goal_id=goal.id,
                        kind=d["kind"],
                        proposal_id=to_id(d["proposal"], f"{base}.decision.proposal")
                        if d["proposal"] is not None
                        else None,
                        fields=d["fields"],
                        criteria=d["criteria"],
                        tally=tally,
                        tally_labels={
                            str(to_id(int(k), f"{base}.decision.tally_labels")): v
                            for k, v in d["tally_labels"].items()
                        },
                        dissent=d["dissent"],
                        decided_at=_when(d["decided_at"]),
                    )
                )
            seen = set()
            for f in g["follow_ups"]:
                checkpoint = dt.date.fromisoformat(f["checkpoint"])
                if checkpoint in seen:
                    raise _missing(f"{base}.follow_ups {f['checkpoint']}")
                seen.add(checkpoint)
                db.session.add(
                    FollowUp(
                        goal_id=goal.id,
                        checkpoint=checkpoint,
                        **{
                            k: f[k]
                            for k in ("value", "forecast", "comment", "activities", "kolada_kpi")
                        },
                        updated_at=_when(f["updated_at"]),
                    )
                )

        def goal_at(index: Any, where: str) -> Goal | None:
            if index is None:
                return None
            if not 0 <= index < len(goals):
                raise _missing(f"{where} {index}")
            return goals[index]

        current = goal_at(info["current_goal"], "workshop.current_goal")
        workshop.current_goal_id = current.id if current else None
        for item in data["parking"]:
            goal = goal_at(item["goal"], "parking.goal")
            source = item["source_proposal"]
            source_id = None
            if source is not None:
                goal_at(source["goal"], "parking.source_proposal")
                table = ids[source["goal"]]
                if source["number"] not in table:
                    raise _missing(f"parking.source_proposal F{source['number']}")
                source_id = table[source["number"]]
            db.session.add(
                ParkingItem(
                    workshop_id=workshop.id,
                    goal_id=goal.id if goal else None,
                    text=item["text"],
                    source_proposal_id=source_id,
                    created_at=_when(item["created_at"]),
                )
            )
        for entry in data["audit"]:
            db.session.add(
                AuditEntry(
                    workshop_id=workshop.id,
                    at=_when(entry["at"]),
                    actor=entry["actor"],
                    action=entry["action"],
                    details=entry["details"],
                )
            )
        # Recorded outside the workshop's own trail, so a re-export matches the archive.
        audit(None, "archive_import", {"title": workshop.title})
        return workshop

    return _atomic(change)


def _tally_ids(tally: Mapping[str, Any]) -> set[Any]:
    found = {item.get("proposal_id") for item in tally.get("proposals", [])}
    found.update(tally.get("leaders", []))
    return found
