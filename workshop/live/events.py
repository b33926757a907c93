"""Socket.IO handlers: parse, authorize, call a service, then push state after the commit.

Each handler returns an acknowledgement ``{"ok": true, ...}`` or ``{"ok": false, "error",
"code", "fields"}``. The connection's workshop and role come from ``connect``, never from the
payload. Every event is listed in docs/protocol.md.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, request, session
from flask_babel import force_locale, get_locale, gettext
from flask_socketio import ConnectionRefusedError, disconnect, join_room

from .. import domain, queries, services
from ..domain import N_, DomainError, Forbidden
from ..extensions import db, socketio
from ..models import Participant
from ..sessions import current_facilitator
from . import snapshots
from .rooms import (
    Connection,
    connection,
    forget,
    online_count,
    push_state,
    register,
    room,
    set_typing,
    sids_of_participant,
    take_token,
    typing_now,
)

Handler = Callable[[Connection, dict[str, Any]], dict[str, Any] | None]


def error_payload(exc: DomainError, locale: str | None = None) -> dict[str, Any]:
    """Translate a domain error into the acknowledgement a client shows to its person."""

    def render() -> dict[str, Any]:
        return {
            "ok": False,
            "code": exc.code,
            "error": gettext(exc.message, **exc.params),
            "fields": exc.field_messages(gettext),
        }

    if locale:
        with force_locale(locale):
            return render()
    return render()


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    """Sent by every client on connect; joins the room of its workshop and audience.

    A phone's connecting pushes the state (its ``people.online`` is the "N anslutna" count);
    the client itself gets the connection, or ``connect_error`` with the reason, and then
    asks ``state:get``.

    ``auth`` is ``{"workshop": id, "role": "facilitator"|"screen"|"people", "key"?}``. The role
    is checked against the signed session cookie (or the presenter key), never trusted.
    """
    if not isinstance(auth, dict):
        raise ConnectionRefusedError("auth_required")
    try:
        workshop = services.get_workshop(int(auth.get("workshop")))
    except (TypeError, ValueError, DomainError):
        raise ConnectionRefusedError("unknown_workshop") from None
    role = auth.get("role")
    facilitator_id = session.get("facilitator_id")
    if facilitator_id is not None and current_facilitator() is None:
        facilitator_id = None  # deleted account, or a session ended by logging out
    if role == "facilitator":
        if facilitator_id is None:
            raise ConnectionRefusedError("login_required")
        conn = Connection(workshop.id, "facilitator", facilitator_id=facilitator_id)
    elif role == "screen":
        by_key = isinstance(auth.get("key"), str) and auth.get("key") == workshop.screen_key
        if facilitator_id is None and not by_key:
            raise ConnectionRefusedError("login_required")
        # A presenter let in by the facilitator's session ends when that facilitator logs out.
        conn = Connection(workshop.id, "screen", facilitator_id=None if by_key else facilitator_id)
    elif role == "people":
        token = (session.get("p") or {}).get(str(workshop.id))
        participant = queries.participant_for(workshop.id, token)
        if participant is None:
            raise ConnectionRefusedError("join_required")
        conn = Connection(workshop.id, "people", participant_id=participant.id)
    else:
        raise ConnectionRefusedError("bad_role")
    locale = str(get_locale() or "sv")
    conn = dataclasses.replace(conn, locale=locale)
    register(request.sid, conn)
    join_room(room(workshop.id, conn.role))
    join_room(room(workshop.id, conn.role, locale))
    if conn.role == "people":
        push_state(workshop.id)  # the "N anslutna" counts; pushes are coalesced


def _facilitator_actor(conn: Connection) -> services.Actor | None:
    """The audit actor for a facilitator's event, or None when their session has ended."""
    facilitator = current_facilitator()
    if facilitator is None or facilitator.id != conn.facilitator_id:
        return None
    return services.Actor(facilitator.username, facilitator.id)


@socketio.on("disconnect")
def on_disconnect(*_args: Any) -> None:
    """Sent by the transport when a client goes away; a phone's going changes the counts."""
    gone = forget(request.sid)
    if gone is not None and gone.role == "people":
        push_state(gone.workshop_id)


def event(name: str, *, roles: tuple[str, ...], push: bool = True) -> Callable[[Handler], Any]:
    """Register a handler that runs only for the given roles and pushes state after success."""

    def decorator(fn: Handler) -> Any:
        @functools.wraps(fn)
        def wrapper(payload: Any = None) -> dict[str, Any]:
            conn = connection(request.sid)
            if conn is None:
                return error_payload(DomainError(N_("Du är inte ansluten."), code="not_connected"))
            rate, burst = current_app.config["EVENT_RATE"], current_app.config["EVENT_BURST"]
            if not take_token(request.sid, rate, burst):
                return error_payload(
                    DomainError(
                        N_("Du skickar för många meddelanden. Vänta en stund och försök igen."),
                        code="rate_limited",
                    )
                )
            if conn.role not in roles:
                return error_payload(Forbidden())
            if payload is None:
                payload = {}
            if not isinstance(payload, dict):
                return error_payload(
                    DomainError(N_("Meddelandet kunde inte läsas."), code="bad_payload")
                )
            actor = None
            if conn.role == "facilitator":
                actor = _facilitator_actor(conn)
                if actor is None:
                    disconnect()
                    return error_payload(
                        DomainError(N_("Du är utloggad. Logga in igen."), code="login_required")
                    )
            try:
                with services.acting_as(actor):
                    result = fn(conn, payload) or {}
            except DomainError as exc:
                return error_payload(exc)
            if push:
                push_state(conn.workshop_id)
            return {"ok": True, **result}

        socketio.on_event(name, wrapper)
        return wrapper

    return decorator


FACILITATOR = ("facilitator",)
EVERYONE = ("facilitator", "screen", "people")


def _participant(conn: Connection) -> Participant:
    participant = db.session.get(Participant, conn.participant_id)
    if participant is None or participant.removed:
        raise Forbidden(N_("Du är inte längre med i dialogen."))
    return participant


@event("state:get", roles=EVERYONE, push=False)
def on_state_get(conn: Connection, payload: dict[str, Any]) -> dict[str, Any]:
    """Sent by any client after (re)connecting; the sender alone gets the current state.

    A phone adds ``secret`` to get back its own proposals and ballot; a phone's first one binds
    that secret to its participant (``services.bind_secret``), apart from any vote. The
    snapshot may come from the cache (``snapshots.cached_state``: same seq, at most
    STATE_CACHE_SECONDS old). Phones and the presenter have a tighter rate for it
    (STATE_GET_RATE, STATE_GET_BURST).
    """
    if conn.role != "facilitator":
        # A tighter bucket of its own: a snapshot in a vote of 100 proposals is ~0.5 MB to
        # encode and send, so 18 a second (within EVENT_RATE) would take a core from the votes.
        config = current_app.config
        if not take_token(
            f"{request.sid}:state", config["STATE_GET_RATE"], config["STATE_GET_BURST"]
        ):
            raise DomainError(
                N_("Du skickar för många meddelanden. Vänta en stund och försök igen."),
                code="rate_limited",
            )
    if conn.role == "people":
        participant = _participant(conn)
        if participant.secret_hash is None and services.is_secret(payload.get("secret")):
            services.bind_secret(participant.id, payload.get("secret"))
    workshop = services.get_workshop(conn.workshop_id)
    online = online_count(workshop.id)
    if conn.role == "facilitator":
        full = snapshots.cached_state(
            workshop, "facilitator", lambda: snapshots.facilitator_state(workshop)
        )
        full["people"]["online"] = online
        full["people"]["typing"] = typing_now(workshop)
        return {"state": full}
    result: dict[str, Any] = {
        "state": snapshots.cached_state(
            workshop, "public", lambda: snapshots.public_state(workshop)
        )
    }
    result["state"]["people"]["online"] = online
    result["state"]["shape"] = snapshots.shape(result["state"])  # what a later count applies to
    if conn.role == "people":
        result["own"] = snapshots.own_state(workshop, _participant(conn), payload.get("secret"))
    return result


@event("proposal:add", roles=("people", "facilitator"))
def on_proposal_add(conn: Connection, payload: dict[str, Any]) -> dict[str, Any]:
    """Sent by a phone (or the facilitator) with a proposal; all audiences get new state.

    A retry with the same ``client_id`` is acknowledged with the proposal stored first.
    """
    participant = _participant(conn) if conn.role == "people" else None
    proposal, created = services.add_proposal(
        conn.workshop_id,
        payload.get("goal_id"),
        payload.get("proposal") or {},
        client_id=payload.get("client_id"),
        participant=participant,
        secret=payload.get("secret"),
    )
    return {"proposal": snapshots.proposal_data(proposal), "created": created}


@event("proposal:typing", roles=("people",), push=False)
def on_proposal_typing(conn: Connection, payload: dict[str, Any]) -> dict[str, Any]:
    """Sent by a phone when its person starts typing a proposal (``typing: true``) and after
    10 s without a keystroke, or on sending (``false``).

    Only the facilitator's console learns anything: ``people.typing``, a count (never who),
    with the next push. Nothing is stored; a disconnect ends the phone's typing.
    """
    goal_id = domain.parse_id(payload.get("goal_id"))
    typing = payload.get("typing") is True
    workshop = services.get_workshop(conn.workshop_id)
    if typing and (
        workshop.current_goal_id != goal_id
        or services.goal_in(workshop.id, goal_id).phase != domain.Phase.PROPOSALS
    ):
        typing = False  # proposals are not open for that goal: nothing to count
    if set_typing(request.sid, conn.workshop_id, goal_id, typing):
        push_state(conn.workshop_id)
    return {"typing": typing}


@event("parking:draft", roles=("people",))
def on_parking_draft(conn: Connection, payload: dict[str, Any]) -> dict[str, Any]:
    """Sent by a phone whose person chose "Skicka till frågor att ta vidare" for a draft left
    when the facilitator closed proposals; all audiences get new state (the parking lot is
    in the facilitator's snapshot only).

    Refused for a goal that is not in progress, or whose proposals are still open. No author
    is stored.
    """
    _participant(conn)
    item = services.park_draft(
        conn.workshop_id, payload.get("goal_id"), payload.get("text"), payload.get("client_id")
    )
    return {"parking": {"id": item.id, "goal_id": item.goal_id}}


@event("vote:cast", roles=("people",), push=False)
def on_vote_cast(conn: Connection, payload: dict[str, Any]) -> dict[str, Any]:
    """Sent by a phone with its ballot; all audiences get the new "X av Y" count.

    The tally itself reaches only the facilitator until it is revealed. ``vote_id`` and
    ``rev`` make a resend harmless: a duplicate, or an older revision arriving after a newer
    one, is acknowledged without a change (and without a push).
    """
    outcome = services.cast_vote(
        conn.participant_id,
        payload.get("round_id"),
        payload.get("secret"),
        payload.get("answers"),
        vote_id=payload.get("vote_id"),
        rev=payload.get("rev"),
    )
    if outcome.stored:
        push_state(conn.workshop_id)
    return outcome.ack()


@event("participant:leave", roles=("people",))
def on_participant_leave(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by a phone whose person leaves; all audiences get the new count."""
    services.leave(_participant(conn))


@event("workshop:start", roles=FACILITATOR)
def on_workshop_start(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to open the dialogue; every audience gets the first goal."""
    services.start_workshop(conn.workshop_id)


@event("workshop:close", roles=FACILITATOR)
def on_workshop_close(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to end the dialogue; every audience is told it is closed."""
    services.close_workshop(conn.workshop_id)


@event("workshop:reopen", roles=FACILITATOR)
def on_workshop_reopen(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to reopen a closed dialogue; every audience follows."""
    services.reopen_workshop(conn.workshop_id)


@event("goal:select", roles=FACILITATOR)
def on_goal_select(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to move the room to a goal; every audience follows."""
    services.select_goal(conn.workshop_id, domain.parse_id(payload.get("goal_id")))


@event("phase:set", roles=FACILITATOR)
def on_phase_set(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to change a goal's phase (opening a vote takes ``method``).

    Every audience gets the new phase; moving to "resultat" reveals the tally to all.
    """
    services.set_phase(
        conn.workshop_id,
        domain.parse_id(payload.get("goal_id")),
        str(payload.get("phase", "")),
        payload.get("method"),
        payload.get("dot_budget"),
    )


@event("timer:set", roles=FACILITATOR)
def on_timer_set(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to start, extend (+1 min) or stop the timer; all see it."""
    services.timer(conn.workshop_id, str(payload.get("action", "")), payload.get("seconds"))


@event("plan:set", roles=FACILITATOR)
def on_plan_set(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator with the sitting's minutes (null: no plan); all get new state.

    The console gets the whole plan; phones and the presenter only the current goal's time left.
    """
    services.set_plan(conn.workshop_id, payload.get("minutes"))


@event("plan:goal", roles=FACILITATOR)
def on_plan_goal(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator with one goal's minutes (null: even split); all get new state."""
    services.set_goal_plan(
        conn.workshop_id, domain.parse_id(payload.get("goal_id")), payload.get("minutes")
    )


@event("proposal:edit", roles=FACILITATOR)
def on_proposal_edit(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to reword a proposal; all audiences see it marked as edited."""
    services.edit_proposal(conn.workshop_id, payload.get("id"), payload.get("proposal") or {})


@event("proposal:merge_preview", roles=FACILITATOR, push=False)
def on_proposal_merge_preview(conn: Connection, payload: dict[str, Any]) -> dict[str, Any]:
    """Sent by the facilitator opening the merge form; only the sender gets the answer.

    The answer lists the sources and, field by field, their distinct values (the domain's
    ``merge_differences``), so the form shows where they differ. Nothing changes.
    """
    sources, differences = services.merge_preview(conn.workshop_id, payload.get("ids"))
    return {
        "sources": [snapshots.proposal_data(p) for p in sources],
        "fields": [
            {
                **dataclasses.asdict(d),
                "label": gettext(domain.MERGE_FIELD_LABELS[d.name]),
            }
            for d in differences
        ],
    }


@event("proposal:merge", roles=FACILITATOR)
def on_proposal_merge(conn: Connection, payload: dict[str, Any]) -> dict[str, Any]:
    """Sent by the facilitator to merge proposals into one; all audiences get new state."""
    merged = services.merge_proposals(
        conn.workshop_id, payload.get("ids"), payload.get("proposal") or {}
    )
    return {"proposal": snapshots.proposal_data(merged)}


@event("proposal:hide", roles=FACILITATOR)
def on_proposal_hide(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to hide a proposal with a reason; all audiences get new state."""
    services.hide_proposal(conn.workshop_id, payload.get("id"), payload.get("reason"))


@event("proposal:restore", roles=FACILITATOR)
def on_proposal_restore(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to bring back a hidden or parked proposal; all get new state."""
    services.restore_proposal(conn.workshop_id, payload.get("id"))


@event("proposal:park", roles=FACILITATOR)
def on_proposal_park(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to move a proposal to the parking lot; all get new state."""
    services.park_proposal(conn.workshop_id, payload.get("id"))


@event("proposal:publish", roles=FACILITATOR)
def on_proposal_publish(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to show (or withdraw) proposals; all audiences get new state.

    Presenter and phones see the published active proposals; the console sees them all.
    """
    services.publish_proposals(
        conn.workshop_id, payload.get("ids"), bool(payload.get("published", True))
    )


@event("parking:add", roles=FACILITATOR)
def on_parking_add(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to write a point on the parking lot; all get new state.

    The parking lot itself is in the facilitator's snapshot only.
    """
    services.add_parking(conn.workshop_id, payload.get("text"), payload.get("goal_id"))


@event("decision:record", roles=FACILITATOR)
def on_decision_record(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to record the goal's proposed ambition level or inriktningsmål.

    Every audience gets the goal in the phase "beslut" with the recorded text.
    """
    services.record_decision(conn.workshop_id, payload.get("goal_id"), payload)


@event("participant:update", roles=FACILITATOR)
def on_participant_update(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to make a participant an observer, or to remove them.

    A removed participant's phones get ``removed`` and are disconnected; otherwise that
    person's phones get ``own:changed`` and fetch their own state again.
    """
    removed = payload.get("removed")
    participant = services.set_participant(
        conn.workshop_id,
        domain.parse_id(payload.get("id")),
        role=payload.get("role"),
        removed=bool(removed) if removed is not None else None,
    )
    for sid in sids_of_participant(participant.id):
        if participant.removed:
            socketio.emit("removed", {}, to=sid)
            disconnect(sid=sid)
            forget(sid)
        else:
            socketio.emit("own:changed", {}, to=sid)


@event("screen:page", roles=FACILITATOR)
def on_screen_page(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator with ``page`` (0-based) or ``delta`` (±1); all get the page.

    The presenter decides how many items fit on a page and clamps the number to its pages.
    """
    services.set_screen_page(conn.workshop_id, payload.get("page"), payload.get("delta"))


@event("screen:focus", roles=FACILITATOR)
def on_screen_focus(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to show one proposal as the whole slide (``proposal_id``) or,
    with ``null``, the list again; all audiences get ``screen.focus``."""
    services.set_screen_focus(conn.workshop_id, payload.get("proposal_id"))


@event("screen:auto", roles=FACILITATOR)
def on_screen_auto(conn: Connection, payload: dict[str, Any]) -> None:
    """Sent by the facilitator to turn the presenter's own page-turning on or off (``on``)."""
    services.set_screen_auto(conn.workshop_id, payload.get("on"))
