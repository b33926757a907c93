"""What every web feature module shares: the five blueprints and the small view helpers.

The blueprints keep the names they always had (``main``, ``auth``, ``facilitator``,
``presenter``, ``participant``), so every endpoint (``facilitator.console``, ...) and URL is
unchanged; each feature module adds its routes to the blueprint of its audience.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, redirect, request, url_for
from flask_babel import gettext

from .. import domain, services
from ..domain import DomainError
from ..extensions import db
from ..models import Workshop

main = Blueprint("main", __name__)
auth = Blueprint("auth", __name__)
facilitator = Blueprint("facilitator", __name__, url_prefix="/f")
presenter = Blueprint("presenter", __name__)
participant = Blueprint("participant", __name__)

BLUEPRINTS = (main, auth, facilitator, presenter, participant)


def translate(exc: DomainError) -> str:
    """The error's message in the request's language."""
    return gettext(exc.message, **exc.params)


def field_errors(exc: DomainError) -> dict[str, str]:
    """The error's per-field messages in the request's language."""
    return exc.field_messages(gettext)


def join_url(workshop: Workshop) -> str:
    """The public address a phone opens to join the workshop."""
    return f"{current_app.config['PUBLIC_URL']}/j/{workshop.join_code}"


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send a visitor to the login page; run the view as the logged-in facilitator."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.facilitator is None:
            return redirect(url_for("auth.login", next=request.path))
        with services.acting_as(actor()):
            return view(*args, **kwargs)

    return wrapped


def actor() -> services.Actor:
    """The logged-in facilitator, as the audit trail names them."""
    return services.Actor(g.facilitator.username, g.facilitator.id)


def safe_next(target: str | None) -> str:
    """Accept only a local path as the place to go after logging in."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("facilitator.workshops")


def workshop_or_404(workshop_id: int) -> Workshop:
    """The workshop of a URL, or a 404 (also for ids outside the database's 32-bit range)."""
    if not domain.in_id_range(workshop_id):
        abort(404)
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None:
        abort(404)
    return workshop
