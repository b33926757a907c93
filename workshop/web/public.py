"""The public pages: the start page and its join form, health, language, statements, QR code."""

from __future__ import annotations

import io
from typing import Any

import qrcode
import qrcode.image.svg
import sqlalchemy as sa
from flask import Response, abort, current_app, redirect, render_template, request, session, url_for

from .. import domain, health, resources, services
from ..domain import DomainError, WorkshopStatus
from ..extensions import db
from ..models import Workshop
from .common import join_url, main, presenter, safe_next, translate
from .throttle import throttled


@main.get("/")
def index() -> str:
    return render_template("index.html")


@main.post("/")
@throttled("join_code", methods=("POST",))  # the form tells whether a code exists, too
def index_join() -> Any:
    code = domain.normalise_join_code(request.form.get("code", ""))
    try:
        services.find_by_code(code)
    except DomainError as exc:
        status = 404 if exc.code == "not_found" else 410
        return render_template("index.html", error=translate(exc), code=code), status
    return redirect(url_for("participant.join", code=code))


@main.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    """Liveness: the process answers and reaches its database; ``/readyz`` checks all parts."""
    version = resources.version()
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        return {"status": "error", "database": "unreachable", "version": version}, 503
    return {"status": "ok", "database": "ok", "version": version}, 200


@main.get("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    """Readiness: 200 when the database and (with ``REDIS_URL``) Redis answer, else 503 naming
    the parts that do not."""
    checked, failing = health.readiness(current_app.config)
    body = {"ok": not failing, "checked": checked, "failing": failing}
    return {**body, "version": resources.version()}, 503 if failing else 200


@main.get("/sprak/<code>")
def set_language(code: str) -> Any:
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        session.permanent = True
    return redirect(safe_next(request.args.get("next")) if request.args.get("next") else "/")


@main.get("/tillganglighet")
def accessibility() -> str:
    return render_template("accessibility.html")


@main.get("/integritet")
def privacy() -> str:
    return render_template("privacy.html")


# On the presenter blueprint (its endpoint is ``presenter.qr``), but public: anyone may scan it.
@presenter.get("/qr/<code>.svg")
@throttled("join_code")
def qr(code: str) -> Response:
    """Serve the join QR code as SVG; it only encodes the public join URL.

    Only for a dialogue that takes participants: a closed one answers 404 like an unknown code,
    so the QR route tells no more than ``/j`` does.
    """
    workshop = db.session.scalar(sa.select(Workshop).filter_by(join_code=code))
    if workshop is None or workshop.status == WorkshopStatus.CLOSED:
        abort(404)
    image = qrcode.make(
        join_url(workshop),
        image_factory=qrcode.image.svg.SvgPathFillImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=4,
    )
    buffer = io.BytesIO()
    image.save(buffer)
    return Response(
        buffer.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "no-cache"}
    )
