"""Start Målverkstad on the embedded database with the "KS mål 2019" workshop ready.

With ``ASYNC_MODE=gevent`` (``pip install -e ".[production]"``) it serves on gevent's WSGI server
with WebSocket support, the production mode; otherwise on Werkzeug with simple-websocket.
"""

from __future__ import annotations

import os

if os.environ.get("ASYNC_MODE") == "gevent":  # patch before anything imports socket/threading
    from gevent import monkey

    monkey.patch_all()

import io  # noqa: E402

import qrcode  # noqa: E402

from workshop import create_app, queries, services, serving  # noqa: E402
from workshop.extensions import socketio  # noqa: E402


def banner(app, workshop, password: str | None) -> str:  # noqa: ANN001 - script helper
    """Describe where to go, for the facilitator and for the phones."""
    public = app.config["PUBLIC_URL"]
    join = f"{public}/j/{workshop.join_code}"
    user = app.config["FACILITATOR_USERNAME"]
    if password:
        login = f"användarnamn {user}, lösenord {password}  (visas bara den här gången)"
    elif app.config["FACILITATOR_PASSWORD"]:
        login = f"användarnamn {user}, lösenordet i FACILITATOR_PASSWORD"
    else:
        login = (
            f"användarnamn {user}, lösenordet som skrevs ut vid första starten "
            "(eller starta med FACILITATOR_PASSWORD=... för att sätta ett nytt)"
        )
    qr = qrcode.QRCode(border=1)
    qr.add_data(join)
    art = io.StringIO()
    qr.print_ascii(out=art, invert=True)
    return "\n".join(
        [
            "",
            "Målverkstad är igång.",
            f"  Samtalsledare: {public}/login",
            f"    Logga in med {login}.",
            f"    Konsol för {workshop.title}: {public}/f/{workshop.id}",
            f"    Presentationsvy (projektor): {public}/f/{workshop.id}/skarm",
            f"  Deltagare går med på telefonen: {join}  (kod {workshop.join_code})",
            art.getvalue(),
        ]
    )


def main() -> None:
    app = create_app()
    with app.app_context():
        password = services.ensure_first_facilitator(
            app.config["FACILITATOR_USERNAME"], app.config["FACILITATOR_PASSWORD"]
        )
        workshop = (
            next((w for w in queries.list_workshops() if w.dnr == "KS 2018/109"), None)
            or services.create_from_template()
        )
        print(banner(app, workshop, password), flush=True)
    host, port = app.config["HOST"], app.config["PORT"]
    if app.config["ASYNC_MODE"] == "gevent":
        serving.serve_gevent(app, host, port, access_log=app.config["ACCESS_LOG"])
    else:
        serving.redact_werkzeug_log()
        socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
