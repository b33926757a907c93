"""The live room's pages: the presenter's screen and the participant's join form and phone page."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, redirect, render_template, request, session, url_for

from .. import domain, queries, services
from ..domain import DomainError
from ..extensions import db
from ..live import push_state
from ..models import Workshop
from .common import join_url, login_required, participant, presenter, translate, workshop_or_404
from .throttle import throttled

# --- presenter ------------------------------------------------------------------------------


@presenter.get("/f/<int:workshop_id>/skarm")
@login_required
def screen(workshop_id: int) -> str:
    workshop = workshop_or_404(workshop_id)
    return _presenter_page(workshop, screen_key="")


@presenter.get("/skarm/<key>")
def screen_by_key(key: str) -> str:
    workshop = db.session.scalar(sa.select(Workshop).filter_by(screen_key=key))
    if workshop is None:
        abort(404)
    return _presenter_page(workshop, screen_key=key)


def _presenter_page(workshop: Workshop, screen_key: str) -> str:
    return render_template(
        "presenter.html",
        workshop=workshop,
        join_url=join_url(workshop),
        screen_key=screen_key,
        criteria=domain.CRITERIA_LABELS,
        gradients=domain.GRADIENT_LABELS,
    )


# --- participant ----------------------------------------------------------------------------


def _token(workshop: Workshop) -> str | None:
    return (session.get("p") or {}).get(str(workshop.id))


def _closed_page(exc: DomainError) -> tuple[str, int]:
    status = 404 if exc.code == "not_found" else 410 if exc.code == "closed" else 403
    return render_template("error.html", message=translate(exc), join_again=True), status


@participant.route("/j/<code>", methods=["GET", "POST"])
@throttled("join_code", methods=("GET",))
def join(code: str) -> Any:
    try:
        workshop = services.find_by_code(code)
    except DomainError as exc:
        return _closed_page(exc)
    if workshop.join_code != code:
        return redirect(url_for("participant.join", code=workshop.join_code))
    existing = queries.participant_for(workshop.id, _token(workshop))
    if request.method == "GET":
        if existing is not None and not existing.left:
            return redirect(url_for("participant.room", code=code))
        return render_template("join.html", workshop=workshop, form={}, fields={})
    try:
        person = services.join(
            workshop,
            _token(workshop),
            request.form.get("name"),
            # The client's address, or the proxy's view of it with PROXY_FIX (config.py).
            address=request.remote_addr or "",
        )
    except services.JoinThrottled as exc:
        page = render_template(
            "join.html", workshop=workshop, error=translate(exc), fields={}, form=request.form
        )
        return page, 429, {"Retry-After": str(exc.retry_after)}
    except DomainError as exc:
        if exc.code == "forbidden":
            return _closed_page(exc)
        return (
            render_template(
                "join.html",
                workshop=workshop,
                error=translate(exc),
                fields={"name": translate(exc)},
                form=request.form,
            ),
            400,
        )
    tokens = dict(session.get("p") or {})
    tokens[str(workshop.id)] = person.token
    session["p"] = tokens
    session.permanent = True
    push_state(workshop.id)
    return redirect(url_for("participant.room", code=code))


@participant.get("/w/<code>")
def room(code: str) -> Any:
    try:
        workshop = services.find_by_code(code)
    except DomainError as exc:
        return _closed_page(exc)
    person = queries.participant_for(workshop.id, _token(workshop))
    if person is None or person.left:
        return redirect(url_for("participant.join", code=code))
    return render_template(
        "participant.html",
        workshop=workshop,
        person=person,
        methods=domain.VOTE_METHOD_LABELS,
        criteria=domain.CRITERIA_LABELS,
        gradients=domain.GRADIENT_LABELS,
        limits=domain.PROPOSAL_LIMITS,
    )
