"""Facilitator accounts: creating them, logging in (with lockout) and out."""

from __future__ import annotations

import datetime as dt
import math
import secrets

import sqlalchemy as sa
from flask import current_app

from ..domain import N_, DomainError
from ..models import (
    Facilitator,
    LoginAttempt,
    db,
    utcnow,
)
from ._unit import CommitThenRaise, unit_of_work
from .audit import Actor, audit
from .common import text_input


def _hash_method() -> str:
    """Return werkzeug's password hash method; tests may choose a cheaper one."""
    return str(current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


@unit_of_work
def create_facilitator(username: str, password: str) -> Facilitator:
    """Add a facilitator account with a hashed password."""
    username = text_input(username, 80, N_("Ange ett användarnamn."), required=True)
    if len(password or "") < 8:
        raise DomainError(N_("Lösenordet måste ha minst 8 tecken."), code="weak_password")
    if db.session.scalar(sa.select(Facilitator).filter_by(username=username)):
        raise DomainError(N_("Användarnamnet finns redan."), code="exists")
    facilitator = Facilitator(username=username)
    facilitator.set_password(password, _hash_method())
    db.session.add(facilitator)
    return facilitator


@unit_of_work
def ensure_first_facilitator(username: str, password: str | None) -> str | None:
    """Create the first facilitator if none exists; return a generated password to print once.

    A set ``password`` also resets an existing account of that name, so the environment wins.
    """
    existing = db.session.scalar(sa.select(Facilitator).filter_by(username=username))
    if existing:
        if password and not existing.check_password(password):
            existing.set_password(password, _hash_method())
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

    Two units of work around the password check, so the slow hash runs without the write lock:
    the first counts the failures and records this attempt as one, holding the lock, so attempts
    made at the same moment each see the ones before them and the lockout holds however many
    arrive together; the second keeps it as a failure or, for the right password, clears them.
    """
    now = now or utcnow()
    username = (username or "")[:80]
    ip = (ip or "")[:64]
    _begin_attempt(username, ip, now)
    return _end_attempt(authenticate(username, password), username, ip)


@unit_of_work(exclusive=True)
def _begin_attempt(username: str, ip: str, now: dt.datetime) -> None:
    # Across processes too (several workers): the process's write lock is not enough, so take
    # the database's before counting. On PostgreSQL a table lock that readers pass; on SQLite
    # the first write (old attempts purged) takes the database's write lock, so a login in
    # another process waits here and then counts this attempt.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("LOCK TABLE login_attempt IN EXCLUSIVE MODE"))
    db.session.execute(sa.delete(LoginAttempt).where(LoginAttempt.at <= now - dt.timedelta(1)))
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
        raise CommitThenRaise(LoginLocked(minutes))
    attempt = LoginAttempt(username=username, ip=ip, at=now)  # a failure until proved otherwise
    db.session.add(attempt)


@unit_of_work(exclusive=True)
def _end_attempt(account: Facilitator | None, username: str, ip: str) -> Facilitator:
    if account is None:
        audit(None, "login_failed", {"username": username, "ip": ip}, Actor(username))
        raise CommitThenRaise(DomainError(N_("Fel användarnamn eller lösenord."), code="bad_login"))
    db.session.execute(
        sa.delete(LoginAttempt).where(LoginAttempt.username == username, LoginAttempt.ip == ip)
    )
    audit(None, "login", {"ip": ip}, Actor(account.username, account.id))
    return account


@unit_of_work
def logout(facilitator_id: int) -> Facilitator | None:
    """End every session of a facilitator: bump the version each session was signed with."""
    facilitator = db.session.get(Facilitator, facilitator_id)
    if facilitator is None:
        return None
    facilitator.session_version = (facilitator.session_version or 0) + 1
    audit(None, "logout", {}, Actor(facilitator.username, facilitator.id))
    return facilitator
