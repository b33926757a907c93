"""Configuration from the environment, with defaults that work on a laptop."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path
from typing import Any


def _interface_addresses() -> list[str]:
    """Read the IPv4 address of each network interface (Linux), sending no traffic."""
    try:
        import fcntl
        import struct
    except ImportError:  # not Linux
        return []
    addresses = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _index, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                reply = fcntl.ioctl(probe.fileno(), 0x8915, request)  # SIOCGIFADDR
            except OSError:
                continue  # an interface without an IPv4 address
            addresses.append(socket.inet_ntoa(reply[20:24]))
    return addresses


def lan_address() -> str:
    """Guess this machine's LAN address so phones on the same network can reach it."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    candidates = [str(info[4][0]) for info in infos] + _interface_addresses()
    for address in candidates:
        if not address.startswith("127."):
            return address
    return "127.0.0.1"


def secret_key(instance_path: Path) -> str:
    """Return SECRET_KEY, or one generated once and kept in the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance_path / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: Path) -> dict[str, Any]:
    """The configuration from the environment; reads and writes nothing on disk."""
    port = int(os.environ.get("PORT", "5000"))
    host = os.environ.get("HOST", "0.0.0.0")
    public = os.environ.get("PUBLIC_URL") or f"http://{lan_address()}:{port}"
    return {
        # Unset: generated into the instance folder when the app starts (``app.start``), not
        # when a command line only loads the app to list its commands.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
        or f"sqlite:///{instance_path / 'malverkstad.db'}",
        # Never write SQL parameters (ballots, tokens) to a log or an error message.
        "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True},
        "HOST": host,
        "PORT": port,
        "PUBLIC_URL": public.rstrip("/"),
        "FACILITATOR_USERNAME": os.environ.get("FACILITATOR_USERNAME", "samtalsledare"),
        "FACILITATOR_PASSWORD": os.environ.get("FACILITATOR_PASSWORD") or None,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": public.startswith("https://"),
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 14,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        # Form tokens live as long as the session: a console left open for a long meeting
        # still works, and logging out (which clears the session) ends them.
        "WTF_CSRF_TIME_LIMIT": None,
        "RETENTION_DAYS": int(os.environ.get("RETENTION_DAYS", "90")),
        # A running server purges again every PURGE_INTERVAL seconds (once a day), so one that
        # runs for months still erases on time; 0: only at start-up and by the purge command.
        "PURGE_INTERVAL": float(os.environ.get("PURGE_INTERVAL", str(24 * 60 * 60))),
        "BABEL_DEFAULT_LOCALE": "sv",
        "LANGUAGES": ["sv", "en"],
        # Follow-up: the latest value of a KPI from Kolada's open API, only when enabled.
        "KOLADA_ENABLED": os.environ.get("KOLADA_ENABLED", "") == "1",
        "KOLADA_MUNICIPALITY": os.environ.get("KOLADA_MUNICIPALITY", "0665"),
        "KOLADA_URL": os.environ.get("KOLADA_URL", "https://api.kolada.se/v2"),
        "KOLADA_TIMEOUT": float(os.environ.get("KOLADA_TIMEOUT", "3")),
        # Socket.IO server: "threading" (Werkzeug + simple-websocket, no extra packages) or
        # "gevent" (the production server; see README "Running for a large room").
        "ASYNC_MODE": os.environ.get("ASYNC_MODE", "threading"),
        # run.py's access log (one line per HTTP request on stdout, the Engine.IO sid redacted);
        # "0" turns it off in gevent mode (Werkzeug always logs its requests).
        "ACCESS_LOG": os.environ.get("ACCESS_LOG", "1") != "0",
        # Live pushes per workshop: the first change goes out at once, later ones at most once
        # per PUSH_INTERVAL seconds (0 sends every change synchronously, as the tests do).
        "PUSH_INTERVAL": float(os.environ.get("PUSH_INTERVAL", "0.25")),
        # Per Socket.IO connection: events per second, and the burst allowed on top.
        "EVENT_RATE": float(os.environ.get("EVENT_RATE", "20")),
        "EVENT_BURST": int(os.environ.get("EVENT_BURST", "40")),
        # Group commit of ballots: those that arrive while a batch is being written share the
        # next transaction (at most VOTE_BATCH_MAX). VOTE_BATCH_WINDOW (seconds) lets a batch
        # wait that long for more; 0 writes a lone ballot at once (batches form under load).
        "VOTE_BATCH_MAX": int(os.environ.get("VOTE_BATCH_MAX", "256")),
        "VOTE_BATCH_WINDOW": float(os.environ.get("VOTE_BATCH_WINDOW", "0")),
        # Per socket, every frame of any kind (events, acks, unknown names, bad packets): twice
        # the event limits, so a fast client first gets the "rate_limited" answer; frames beyond
        # these are dropped unread (workshop/live/transport.py).
        "FRAME_RATE": float(os.environ.get("FRAME_RATE", "40")),
        "FRAME_BURST": int(os.environ.get("FRAME_BURST", "80")),
        # Per socket: what may wait for a client that does not read (a push it has not taken).
        # Past either bound the socket is closed. A phone's snapshot is ~10 KB, the console's a
        # few hundred KB; a phone that stops reading is otherwise only closed by the ping timeout.
        "SEND_QUEUE_MAX_BYTES": int(os.environ.get("SEND_QUEUE_MAX_BYTES", str(4 * 1024 * 1024))),
        "SEND_QUEUE_MAX_PACKETS": int(os.environ.get("SEND_QUEUE_MAX_PACKETS", "1000")),
        # SQLite's durability: NORMAL survives the server being killed, FULL also a power cut
        # (one fsync per commit, a few ms each, which caps the votes per second).
        "SQLITE_SYNCHRONOUS": os.environ.get("SQLITE_SYNCHRONOUS", "NORMAL"),
        # Largest Socket.IO message accepted (bytes); the largest legitimate one, a decision
        # with 30 reservations of 1000 characters, is about 70 KB.
        "MAX_MESSAGE_SIZE": int(os.environ.get("MAX_MESSAGE_SIZE", str(128 * 1024))),
        # Several server processes: Redis carries Socket.IO's messages between them and holds
        # who is connected, the push lock and the last pushed seq (docs/deploy.md). Unset: one
        # process keeps all of that in memory, as before.
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Names this installation's keys and channel, so two installations can share a Redis.
        "REDIS_PREFIX": os.environ.get("REDIS_PREFIX", "malverkstad"),
        # Seconds between a worker's heartbeats in Redis; after three missed ones the other
        # workers forget its sockets (a worker that was killed no longer counts as online).
        "REDIS_HEARTBEAT": float(os.environ.get("REDIS_HEARTBEAT", "10")),
        # Requests that take a join code (GET /j/<code>, the QR code, the start page's form), per
        # client address: a burst of JOIN_CODE_BURST, refilled at JOIN_CODE_RATE per second, then
        # 429 (workshop/web/throttle.py). A whole room behind one NAT address joins within the
        # burst; a guesser gets 2 codes/s instead of ~400 (25⁶ ≈ 244 million codes).
        "JOIN_CODE_RATE": float(os.environ.get("JOIN_CODE_RATE", "2")),
        "JOIN_CODE_BURST": int(os.environ.get("JOIN_CODE_BURST", "120")),
        # Proposal caps (0: no limit), so one phone cannot flood a goal, the console's snapshot
        # or the export: per phone per goal and in the whole dialogue, per goal, per dialogue.
        # The facilitator's own proposals are not capped. See docs/deploy.md "Caps".
        "PROPOSALS_PER_PHONE_GOAL": int(os.environ.get("PROPOSALS_PER_PHONE_GOAL", "5")),
        "PROPOSALS_PER_PHONE": int(os.environ.get("PROPOSALS_PER_PHONE", "30")),
        "PROPOSALS_PER_GOAL": int(os.environ.get("PROPOSALS_PER_GOAL", "100")),
        "PROPOSALS_PER_WORKSHOP": int(os.environ.get("PROPOSALS_PER_WORKSHOP", "400")),
        # New participants (a join without a known phone cookie), "<count>/<seconds>" (0: no
        # limit): per client address (a 15-person committee joins well within it; raise it when
        # a whole hall shares one address, e.g. guest Wi-Fi behind NAT) and per dialogue (a
        # medborgardialog of a thousand people gets in within two minutes). Each server process
        # counts its own unless REDIS_URL is set.
        "JOIN_LIMIT_PER_ADDRESS": os.environ.get("JOIN_LIMIT_PER_ADDRESS", "20/600"),
        "JOIN_LIMIT_PER_WORKSHOP": os.environ.get("JOIN_LIMIT_PER_WORKSHOP", "600/60"),
        # A phone's or presenter's state:get on top of EVENT_RATE: per second, and the burst
        # (a client asks after connecting, on a missed push and when its role changes).
        "STATE_GET_RATE": float(os.environ.get("STATE_GET_RATE", "2")),
        "STATE_GET_BURST": int(os.environ.get("STATE_GET_BURST", "10")),
        # A phone's or console's state:get is served from a snapshot at most this many seconds
        # old (and of the current seq), so a client asking in a loop costs one build per interval.
        "STATE_CACHE_SECONDS": float(os.environ.get("STATE_CACHE_SECONDS", "1")),
        # Behind a reverse proxy: trust this many proxies' X-Forwarded-For/-Proto/-Host/-Port
        # (the client's address for the login lock-out, https for cookies). 0: none.
        "PROXY_FIX": int(os.environ.get("PROXY_FIX", "0") or 0),
    }
