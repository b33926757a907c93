"""Who may do what: every HTTP route and every Socket.IO event against every role.

The route and event tables are checked against the app itself, so a new route or event without
an entry here fails until someone decides who may use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient

from workshop import services
from workshop.extensions import db, socketio
from workshop.models import Participant

from .builders import Dialogue, login
from .conftest import PASSWORD, Phone, received, received_pushes, table_rows

# --- HTTP -----------------------------------------------------------------------------------

HTTP_ROLES = ("anonymous", "participant", "other_participant", "facilitator")


@dataclass(frozen=True)
class Expect:
    """The status and redirect a role gets; ``refused`` ones must change nothing."""

    status: int
    location: str | re.Pattern[str] | None = None
    refused: bool = False


OK = Expect(200)
LOGIN = Expect(302, "/login?next={path}", refused=True)
NOT_FOUND = Expect(404, refused=True)
# A failed login changes something on purpose: it is counted (lockout) and logged.
WRONG_PASSWORD = Expect(401)
TO_JOIN = Expect(302, "/j/{code}", refused=True)
NEW_WORKSHOP = Expect(302, re.compile(r"/f/\d+/redigera"))


def to(location: str) -> Expect:
    return Expect(302, location)


def everyone(expect: Expect) -> dict[str, Expect]:
    return dict.fromkeys(HTTP_ROLES, expect)


def facilitator_only(expect: Expect) -> dict[str, Expect]:
    return {**everyone(LOGIN), "facilitator": expect}


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    path: str
    expect: dict[str, Expect]
    data: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = [
    Route("main.index", "GET", "/", everyone(OK)),
    Route("main.index_join", "POST", "/", everyone(to("/j/{code}")), {"code": "{code}"}),
    Route("main.healthz", "GET", "/healthz", everyone(OK)),
    Route("main.readyz", "GET", "/readyz", everyone(OK)),
    Route("main.set_language", "GET", "/sprak/en", everyone(to("/"))),
    Route("main.accessibility", "GET", "/tillganglighet", everyone(OK)),
    Route("main.privacy", "GET", "/integritet", everyone(OK)),
    Route("auth.login", "GET", "/login", everyone(OK)),
    Route(
        "auth.login",
        "POST",
        "/login",
        everyone(WRONG_PASSWORD),
        {"username": "samtalsledare", "password": "gissat"},
    ),
    Route("auth.logout", "POST", "/logout", everyone(to("/"))),
    Route("facilitator.workshops", "GET", "/f/", facilitator_only(OK)),
    Route("facilitator.create_from_template", "POST", "/f/ny-mall", facilitator_only(NEW_WORKSHOP)),
    Route(
        "facilitator.create",
        "POST",
        "/f/ny",
        facilitator_only(NEW_WORKSHOP),
        {"title": "Kapad dialog", "goals": "Arbete och fritid; 1; Ett mål"},
    ),
    Route("facilitator.edit", "GET", "/f/{wid}/redigera", facilitator_only(OK)),
    Route(
        "facilitator.edit",
        "POST",
        "/f/{wid}/redigera",
        facilitator_only(to("/f/{wid}/redigera")),
        {"title": "Kapad", "follow_up_dates": "2019-04-30", "mode": "namn"},
    ),
    Route(
        "facilitator.add_goal",
        "POST",
        "/f/{wid}/mal",
        facilitator_only(to("/f/{wid}/redigera#mal")),
        {"area": "Internt perspektiv", "number": "9", "text": "Inskjutet mål"},
    ),
    Route(
        "facilitator.update_goal",
        "POST",
        "/f/{wid}/mal/{gid}",
        facilitator_only(to("/f/{wid}/redigera#mal-{gid}")),
        {"action": "delete"},
    ),
    Route(
        "facilitator.set_status",
        "POST",
        "/f/{wid}/status",
        facilitator_only(to("/f/{wid}")),
        {"action": "start"},
    ),
    Route("facilitator.console", "GET", "/f/{wid}", facilitator_only(OK)),
    Route("facilitator.summary", "GET", "/f/{wid}/sammanstallning", facilitator_only(OK)),
    Route("facilitator.download", "GET", "/f/{wid}/export.docx", facilitator_only(OK)),
    Route("facilitator.download", "GET", "/f/{wid}/export.md", facilitator_only(OK)),
    Route("facilitator.download", "GET", "/f/{wid}/export.pdf", facilitator_only(OK)),
    Route("facilitator.download", "GET", "/f/{wid}/export.xlsx", facilitator_only(OK)),
    Route("facilitator.download", "GET", "/f/{wid}/export.csv", facilitator_only(OK)),
    Route("facilitator.download", "GET", "/f/{wid}/export.json", facilitator_only(OK)),
    Route("facilitator.log_download", "GET", "/f/{wid}/logg.docx", facilitator_only(OK)),
    Route("facilitator.log_download", "GET", "/f/{wid}/logg.pdf", facilitator_only(OK)),
    Route("facilitator.log_download", "GET", "/f/{wid}/logg.csv", facilitator_only(OK)),
    # Without a file the import is refused and changes nothing (tests/test_formats.py imports).
    Route(
        "facilitator.import_archive",
        "POST",
        "/f/importera",
        facilitator_only(Expect(400, refused=True)),
    ),
    Route("facilitator.follow_up", "GET", "/f/{wid}/uppfoljning", facilitator_only(OK)),
    # The goal is not decided yet, so even the facilitator's follow-up is refused.
    Route(
        "facilitator.save_follow_up",
        "POST",
        "/f/{wid}/uppfoljning/{gid}",
        facilitator_only(Expect(400, refused=True)),
        {"checkpoint": "2019-04-30", "value": "7 %", "forecast": "uppfylls"},
    ),
    Route(
        "facilitator.kolada_value",
        "GET",
        "/f/{wid}/uppfoljning/{gid}/kolada",
        facilitator_only(OK),
    ),
    Route(
        "facilitator.follow_up_download",
        "GET",
        "/f/{wid}/uppfoljning.docx",
        facilitator_only(OK),
    ),
    Route(
        "facilitator.follow_up_download", "GET", "/f/{wid}/uppfoljning.pdf", facilitator_only(OK)
    ),
    Route("facilitator.audit_log", "GET", "/f/{wid}/logg", facilitator_only(OK)),
    Route(
        "facilitator.erase_personal_data",
        "POST",
        "/f/{wid}/radera-personuppgifter",
        facilitator_only(to("/f/{wid}/sammanstallning")),
        {"confirm": "ja"},
    ),
    Route(
        "facilitator.delete_workshop",
        "POST",
        "/f/{wid}/radera",
        facilitator_only(to("/f/")),
        {"confirm": "ja"},
    ),
    Route("presenter.screen", "GET", "/f/{wid}/skarm", facilitator_only(OK)),
    Route("presenter.screen_by_key", "GET", "/skarm/{key}", everyone(OK)),
    Route("presenter.screen_by_key", "GET", "/skarm/{wrong_key}", everyone(NOT_FOUND)),
    Route("presenter.qr", "GET", "/qr/{code}.svg", everyone(OK)),
    Route(
        "participant.join",
        "GET",
        "/j/{code}",
        {**everyone(OK), "participant": to("/w/{code}")},
    ),
    Route("participant.join", "POST", "/j/{code}", everyone(to("/w/{code}"))),
    Route(
        "participant.room",
        "GET",
        "/w/{code}",
        {**everyone(TO_JOIN), "participant": OK},
    ),
]


def http_client(app: Flask, role: str) -> tuple[dict[str, Any], FlaskClient]:
    """Create a draft workshop (and another one), and an HTTP client acting as ``role``."""
    with app.app_context():
        mine = services.create_from_template()
        other = services.create_from_template()
        values = {
            "wid": mine.id,
            "gid": mine.goals[1].id,
            "code": mine.join_code,
            "key": mine.screen_key,
            "wrong_key": other.screen_key[::-1],
        }
        other_code = other.join_code
    client = app.test_client()
    if role == "participant":
        assert client.post(f"/j/{values['code']}").status_code == 302
    elif role == "other_participant":
        assert client.post(f"/j/{other_code}").status_code == 302
    elif role == "facilitator":
        login = {"username": "samtalsledare", "password": PASSWORD}
        assert client.post("/login", data=login).status_code == 302
    return values, client


def test_route_table_covers_every_route(app: Flask) -> None:
    """List every route of the app, with each method, in the authorization table."""
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert {(route.endpoint, route.method) for route in ROUTES} == routes
    for route in ROUTES:
        assert set(route.expect) == set(HTTP_ROLES), route.id


@pytest.mark.parametrize("role", HTTP_ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=[route.id for route in ROUTES])
def test_http_authorization(app: Flask, route: Route, role: str) -> None:
    """Give each role exactly the access the table says; a refusal changes nothing."""
    values, client = http_client(app, role)
    path = route.path.format(**values)
    adapter = app.url_map.bind("mote.example")
    assert adapter.match(path, method=route.method)[0] == route.endpoint
    data = {name: value.format(**values) for name, value in route.data.items()}
    expect = route.expect[role]
    before = table_rows(app)
    response = client.open(path, method=route.method, data=data)
    assert response.status_code == expect.status, response.get_data(as_text=True)[:2000]
    location = response.headers.get("Location")
    if isinstance(expect.location, re.Pattern):
        assert location is not None and expect.location.fullmatch(location), location
    elif expect.location is not None:
        assert location == expect.location.format(path=path, **values)
    else:
        assert location is None
    if expect.refused:
        assert table_rows(app) == before


# --- Socket.IO ------------------------------------------------------------------------------

SOCKET_ROLES = ("facilitator", "screen", "participant", "observer", "other_participant")
PROPOSAL = {"kind": "ambitionsniva", "what": "Minst 200 nya bostäder 2019"}


class Arena(Dialogue):
    """Workshop A running with its first goal at ``stage``; one socket per role.

    The other participant has joined workshop B and sends A's ids, as an attacker would.
    """

    screen: SocketIOTestClient

    def __init__(self, app: Flask, client: FlaskClient, stage: str) -> None:
        with app.app_context():
            a = services.create_from_template()
            b = services.create_from_template()
            workshop_id, self.other_id = a.id, b.id
            self.g1, self.g2 = a.goals[0].id, a.goals[1].id
            services.start_workshop(a.id)
            services.start_workshop(b.id)
        login(client)
        super().__init__(app, client, workshop_id, phones=3, screen=True)
        self.participant, self.observer, self.bystander = self.phones
        self.other = Phone(app, self.other_id)
        with app.app_context():
            ids = db.session.scalars(
                sa.select(Participant.id)
                .filter_by(workshop_id=self.workshop_id)
                .order_by(Participant.id)
            ).all()
        self.participant_id, self.observer_id, self.bystander_id = ids
        self.do("participant:update", id=self.observer_id, role="observator")
        self.do("phase:set", goal_id=self.g1, phase="forslag")
        self.p1 = self.participant.propose(self.g1, "Minst 200 nya bostäder")["proposal"]["id"]
        self.p2 = self.bystander.propose(self.g1, "Ny pendelparkering")["proposal"]["id"]
        self.p3 = self.do(
            "proposal:add", goal_id=self.g1, client_id="tjansteperson-1", proposal=PROPOSAL
        )["proposal"]["id"]
        self.do("proposal:hide", id=self.p3, reason="Dubblett")
        self.round_id = None
        if stage == "rostning":
            self.do("phase:set", goal_id=self.g1, phase="rostning", method="ja_nej")
            self.round_id = self.state()["vote"]["round_id"]
        elif stage == "stangd":
            self.do("workshop:close")
        self.sockets = {
            "facilitator": self.fac,
            "screen": self.screen,
            "participant": self.participant.sio,
            "observer": self.observer.sio,
            "bystander": self.bystander.sio,
            "other_participant": self.other.sio,
        }
        self.secrets = {
            "participant": self.participant.secret,
            "observer": self.observer.secret,
            "other_participant": self.other.secret,
        }

    def state(self) -> dict[str, Any]:
        """Return the facilitator's full snapshot of workshop A, without the clock."""
        return {k: v for k, v in super().state().items() if k != "server_now"}

    def drain(self) -> None:
        for sock in self.sockets.values():
            if sock.is_connected():
                sock.get_received()


@dataclass(frozen=True)
class Event:
    name: str
    stage: str
    payload: Any  # a function of the Arena and the sender's secret
    expect: dict[str, str]  # role -> "ok" or the refusal code
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.name}{' ' + self.label if self.label else ''}"


def only_facilitator() -> dict[str, str]:
    return {**dict.fromkeys(SOCKET_ROLES, "forbidden"), "facilitator": "ok"}


EVENTS = [
    Event(
        "state:get",
        "forslag",
        lambda a, secret: {"secret": secret},
        dict.fromkeys(SOCKET_ROLES, "ok"),
    ),
    Event(
        "proposal:add",
        "forslag",
        lambda a, secret: {
            "goal_id": a.g1,
            "client_id": "nytt-forslag-1",
            "proposal": PROPOSAL,
            "secret": secret or "x" * 24,
        },
        {
            "facilitator": "ok",
            "screen": "forbidden",
            "participant": "ok",
            "observer": "ok",
            "other_participant": "not_found",
        },
    ),
    Event(
        "vote:cast",
        "rostning",
        lambda a, secret: {
            "round_id": a.round_id,
            "secret": secret or "x" * 24,
            "answers": {str(a.p1): "ja", str(a.p2): "nej"},
        },
        {
            "facilitator": "forbidden",
            "screen": "forbidden",
            "participant": "ok",
            "observer": "forbidden",
            "other_participant": "not_found",
        },
    ),
    Event(
        "proposal:typing",
        "forslag",
        lambda a, secret: {"goal_id": a.g1, "typing": True},
        {
            "facilitator": "forbidden",
            "screen": "forbidden",
            "participant": "ok",
            "observer": "ok",
            "other_participant": "ok",  # not counted: g1 is not workshop B's goal
        },
    ),
    Event(
        "parking:draft",
        "rostning",
        lambda a, secret: {"goal_id": a.g1, "text": "Ett utkast", "client_id": "utkast-12345"},
        {
            "facilitator": "forbidden",
            "screen": "forbidden",
            "participant": "ok",
            "observer": "ok",
            "other_participant": "not_found",
        },
    ),
    Event(
        "participant:leave",
        "forslag",
        lambda a, secret: {},
        {
            "facilitator": "forbidden",
            "screen": "forbidden",
            "participant": "ok",
            "observer": "ok",
            "other_participant": "ok",  # leaves workshop B; A must not change
        },
    ),
    Event("workshop:start", "forslag", lambda a, secret: {}, only_facilitator()),
    Event("workshop:close", "forslag", lambda a, secret: {}, only_facilitator()),
    Event("workshop:reopen", "stangd", lambda a, secret: {}, only_facilitator()),
    Event("goal:select", "forslag", lambda a, secret: {"goal_id": a.g2}, only_facilitator()),
    Event(
        "phase:set",
        "rostning",
        lambda a, secret: {"goal_id": a.g1, "phase": "resultat"},
        only_facilitator(),
        "reveal",
    ),
    Event(
        "phase:set",
        "forslag",
        lambda a, secret: {"goal_id": a.g1, "phase": "rostning", "method": "ja_nej"},
        only_facilitator(),
        "open vote",
    ),
    Event(
        "phase:set",
        "forslag",
        lambda a, secret: {"goal_id": a.g2, "phase": "forslag"},
        only_facilitator(),
        "other goal",
    ),
    Event(
        "timer:set",
        "forslag",
        lambda a, secret: {"action": "start", "seconds": 120},
        only_facilitator(),
    ),
    Event("plan:set", "forslag", lambda a, secret: {"minutes": 90}, only_facilitator()),
    Event(
        "plan:goal",
        "forslag",
        lambda a, secret: {"goal_id": a.g1, "minutes": 10},
        only_facilitator(),
    ),
    Event(
        "proposal:edit",
        "forslag",
        lambda a, secret: {"id": a.p1, "proposal": {**PROPOSAL, "what": "Omskrivet"}},
        only_facilitator(),
    ),
    Event(
        "proposal:merge",
        "forslag",
        lambda a, secret: {"ids": [a.p1, a.p2], "proposal": PROPOSAL},
        only_facilitator(),
    ),
    Event(
        "proposal:merge_preview",
        "forslag",
        lambda a, secret: {"ids": [a.p1, a.p2]},
        only_facilitator(),
    ),
    Event(
        "proposal:hide",
        "forslag",
        lambda a, secret: {"id": a.p1, "reason": "Dubblett"},
        only_facilitator(),
    ),
    Event("proposal:restore", "forslag", lambda a, secret: {"id": a.p3}, only_facilitator()),
    Event("proposal:park", "forslag", lambda a, secret: {"id": a.p1}, only_facilitator()),
    Event(
        "proposal:publish",
        "forslag",
        lambda a, secret: {"ids": [a.p1, a.p2], "published": True},
        only_facilitator(),
    ),
    Event(
        "parking:add",
        "forslag",
        lambda a, secret: {"text": "Se över lokalbidragen", "goal_id": a.g1},
        only_facilitator(),
    ),
    Event(
        "decision:record",
        "forslag",
        lambda a, secret: {
            "goal_id": a.g1,
            "kind": "ambitionsniva",
            "proposal_id": a.p1,
            "what": "Minst 200 nya bostäder färdigställs under 2019",
        },
        only_facilitator(),
    ),
    Event(
        "participant:update",
        "forslag",
        lambda a, secret: {"id": a.bystander_id, "role": "observator"},
        only_facilitator(),
        "make observer",
    ),
    Event(
        "participant:update",
        "forslag",
        lambda a, secret: {"id": a.observer_id, "role": "deltagare"},
        only_facilitator(),
        "make voter",
    ),
    Event(
        "participant:update",
        "forslag",
        lambda a, secret: {"id": a.bystander_id, "removed": True},
        only_facilitator(),
        "remove",
    ),
    Event("screen:page", "forslag", lambda a, secret: {"delta": 1}, only_facilitator()),
    Event("screen:focus", "rostning", lambda a, secret: {"proposal_id": a.p1}, only_facilitator()),
    Event("screen:auto", "forslag", lambda a, secret: {"on": True}, only_facilitator()),
]


# Events that answer the sender only and change nothing.
READ_ONLY = frozenset({"state:get", "proposal:merge_preview"})


def test_event_table_covers_every_event(app: Flask) -> None:
    """List every registered Socket.IO event in the authorization table."""
    registered = set(socketio.server.handlers["/"]) - {"connect", "disconnect"}
    assert {event.name for event in EVENTS} == registered
    for event in EVENTS:
        assert set(event.expect) == set(SOCKET_ROLES), event.id


@pytest.mark.parametrize("role", SOCKET_ROLES)
@pytest.mark.parametrize("event", EVENTS, ids=[event.id for event in EVENTS])
def test_event_authorization(app: Flask, client: FlaskClient, event: Event, role: str) -> None:
    """Let only the table's roles use an event; a refused event changes and sends nothing."""
    arena = Arena(app, client, event.stage)
    payload = event.payload(arena, arena.secrets.get(role))
    before = arena.state()
    arena.drain()
    ack = arena.sockets[role].emit(event.name, payload, callback=True)
    expected = event.expect[role]
    after = arena.state()
    if expected == "ok":
        assert ack["ok"] is True, ack
        if event.name not in READ_ONLY and role != "other_participant":
            assert after != before, "an allowed event should have changed something"
        else:
            assert after == before
    else:
        assert ack["ok"] is False, ack
        assert ack["code"] == expected, ack
        assert ack["error"]
        assert after == before
        for name, sock in arena.sockets.items():
            if sock.is_connected():
                assert received(sock) == [], f"{name} was sent state after a refused event"


def test_participant_cannot_steer_the_dialogue(app: Flask, client: FlaskClient) -> None:
    """Refuse a phone's attempt to reveal the tally, even with the facilitator's payload."""
    arena = Arena(app, client, "rostning")
    ballot = {str(arena.p1): "ja", str(arena.p2): "ja"}
    assert arena.participant.vote(arena.round_id, ballot)["ok"]
    before = arena.state()
    ack = arena.participant.emit("phase:set", {"goal_id": arena.g1, "phase": "resultat"})
    assert ack == {
        "ok": False,
        "code": "forbidden",
        "error": "Endast samtalsledaren får göra detta.",
        "fields": {},
    }
    assert arena.state() == before
    state = arena.participant.state()["state"]
    assert state["vote"]["open"] is True
    assert state["results"] is None


# --- Connecting -----------------------------------------------------------------------------


FACILITATOR_AUTH = {"workshop": "A", "role": "facilitator"}

# (label, whose cookie the socket carries, auth with "A"/"B"/"A.key"/"B.key" filled in, connects)
ATTEMPTS = [
    ("facilitator", "facilitator", FACILITATOR_AUTH, True),
    ("facilitator anonymous", "none", FACILITATOR_AUTH, False),
    ("facilitator phone", "phone", FACILITATOR_AUTH, False),
    ("people", "phone", {"workshop": "A", "role": "people"}, True),
    ("people other workshop", "phone", {"workshop": "B", "role": "people"}, False),
    ("people anonymous", "none", {"workshop": "A", "role": "people"}, False),
    ("people as facilitator", "facilitator", {"workshop": "A", "role": "people"}, False),
    ("screen key", "none", {"workshop": "A", "role": "screen", "key": "A.key"}, True),
    ("screen logged in", "facilitator", {"workshop": "A", "role": "screen"}, True),
    ("screen wrong key", "none", {"workshop": "A", "role": "screen", "key": "fel"}, False),
    ("screen other key", "phone", {"workshop": "A", "role": "screen", "key": "B.key"}, False),
    ("screen no key", "phone", {"workshop": "A", "role": "screen"}, False),
    ("screen null key", "none", {"workshop": "A", "role": "screen", "key": None}, False),
    ("screen empty key", "none", {"workshop": "A", "role": "screen", "key": ""}, False),
    ("unknown role", "facilitator", {"workshop": "A", "role": "admin"}, False),
    ("no role", "facilitator", {"workshop": "A"}, False),
    ("unknown workshop", "facilitator", {"workshop": 9999, "role": "facilitator"}, False),
    ("bad workshop", "facilitator", {"workshop": "ett", "role": "facilitator"}, False),
    ("no auth", "facilitator", None, False),
    ("auth not a dict", "facilitator", ["facilitator"], False),
]


@pytest.mark.parametrize(
    ("cookie", "auth", "connects"),
    [pytest.param(*attempt[1:], id=attempt[0]) for attempt in ATTEMPTS],
)
def test_connect_checks_the_role(
    app: Flask, client: FlaskClient, cookie: str, auth: Any, connects: bool
) -> None:
    """Connect only with a role the cookie or presenter key proves."""
    with app.app_context():
        a = services.create_from_template()
        b = services.create_from_template()
        services.start_workshop(a.id)
        services.start_workshop(b.id)
        fill = {"A": a.id, "B": b.id, "A.key": a.screen_key, "B.key": b.screen_key}
        code = a.join_code
    if isinstance(auth, dict):
        auth = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in auth.items()}
    if cookie == "facilitator":
        login = {"username": "samtalsledare", "password": PASSWORD}
        assert client.post("/login", data=login).status_code == 302
    elif cookie == "phone":
        assert client.post(f"/j/{code}").status_code == 302
    sock = socketio.test_client(app, flask_test_client=client, auth=auth)
    assert sock.is_connected() is connects
    if connects:
        assert sock.emit("state:get", {}, callback=True)["ok"] is True


# --- The tally stays hidden until it is revealed ----------------------------------------------


def test_open_vote_tally_reaches_only_the_facilitator(app: Flask, client: FlaskClient) -> None:
    """Keep the live tally from phones and the screen until the facilitator reveals it."""
    arena = Arena(app, client, "rostning")
    arena.drain()
    ballot = {str(arena.p1): "ja", str(arena.p2): "nej"}
    assert arena.participant.vote(arena.round_id, ballot)["ok"]

    for name in ("screen", "participant", "observer", "bystander"):
        pushed = received_pushes(arena.sockets[name])
        assert pushed, f"{name} got no push after the vote"
        for event, payload in pushed:
            # Only the count changed: the compact push, which has no room for a tally.
            assert event == "count", event
            assert "live_tally" not in payload and "results" not in payload
            assert payload["vote"] == {"answered": 1, "total": 2}
    fac_pushed = received(arena.fac)
    assert fac_pushed[-1]["live_tally"]["ballots"] == 1

    for ack in (
        arena.participant.state(),
        arena.screen.emit("state:get", {}, callback=True),
        arena.observer.state(),
    ):
        state = ack["state"]
        assert state["vote"]["open"] is True
        assert state["results"] is None
        assert "live_tally" not in state
    facilitator = arena.state()
    assert facilitator["results"] is None
    counts = facilitator["live_tally"]["proposals"]
    assert {p["proposal_id"]: p["counts"]["ja"] for p in counts} == {arena.p1: 1, arena.p2: 0}

    arena.do("phase:set", goal_id=arena.g1, phase="resultat")
    revealed = arena.screen.emit("state:get", {}, callback=True)["state"]
    assert revealed["results"]["ballots"] == 1
    assert "live_tally" not in revealed
