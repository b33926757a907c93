"""Logging in and out (the facilitator's account)."""

from __future__ import annotations

from typing import Any

from flask import g, redirect, render_template, request, session, url_for

from .. import services
from ..domain import DomainError
from ..live import disconnect_facilitator
from .common import auth, safe_next, translate


@auth.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error, status = None, 200
    if request.method == "POST":
        try:
            account = services.login(
                request.form.get("username", ""),
                request.form.get("password", ""),
                request.remote_addr or "",
            )
        except services.LoginLocked as exc:
            error, status = translate(exc), 429
        except DomainError as exc:
            error, status = translate(exc), 401
        else:
            _fresh_session()
            session["facilitator_id"] = account.id
            session["fv"] = account.session_version
            session.permanent = True
            return redirect(safe_next(request.form.get("next")))
    next_page = request.form.get("next", "") if request.method == "POST" else ""
    next_page = next_page or request.args.get("next", "")
    return render_template("login.html", error=error, next=next_page), status


def _fresh_session() -> None:
    """Start a new session (new form token, nothing left from before), keeping the language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@auth.post("/logout")
def logout() -> Any:
    """End the facilitator's sessions everywhere: this one, other browsers, and live sockets."""
    if g.facilitator is not None:
        services.logout(g.facilitator.id)
        disconnect_facilitator(g.facilitator.id)
        _fresh_session()
    return redirect(url_for("main.index"))
