"""Issue 14, part 4: caps that keep one client from hurting the others.

Proposal caps (per phone per goal and in all, per goal, per workshop), the join limits per
address and per workshop, state:get's own rate and cache, and the attack: one phone spamming
proposals and flooding state:get while another phone votes. All in-process on 127.0.0.1.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from workshop import create_app, domain
from workshop.extensions import db
from workshop.live import rooms
from workshop.models import Participant, Proposal
from workshop.services import throttle

from .builders import Dialogue, emit_ack, login, start_workshop
from .conftest import Phone, alerts, connect, table_rows

# The longest proposal a phone may send: every field at its limit.
FULL = {
    "kind": "ambitionsniva",
    **{name: "x" * limit for name, limit in domain.PROPOSAL_LIMITS.items()},
    "baseline_year": "2018",
    "target_date": "2019-12-31",
    "criteria": {"paverkbart": "ja", "matbart": "ja", "resurser": "delvis"},
}


def stored(app: Flask) -> int:
    with app.app_context():
        db.session.remove()
        return db.session.scalar(sa.select(sa.func.count(Proposal.id))) or 0


def participants(app: Flask) -> int:
    with app.app_context():
        db.session.remove()
        return db.session.scalar(sa.select(sa.func.count(Participant.id))) or 0


def add(phone: Phone, goal_id: int, secret: str | None = None, **fields: Any) -> dict[str, Any]:
    """One proposal:add with a fresh client_id (``secret``: another key than the phone's).

    The ack comes back with the ``client_id`` it was sent with, for a resend.
    """
    client_id = secrets.token_hex(8)
    ack = phone.emit(
        "proposal:add",
        {
            "goal_id": goal_id,
            "client_id": client_id,
            "proposal": {"kind": "ambitionsniva", "what": "Fler bostäder", **fields},
            "secret": secret or phone.secret,
        },
    )
    return {**ack, "client_id": client_id}


@pytest.fixture
def dialogue(app: Flask, client: FlaskClient) -> Dialogue:
    """A running dialogue whose first goal takes proposals; no event rate limit, so each test
    sees the caps themselves refuse."""
    app.config["EVENT_RATE"] = 0
    login(client)
    dialogue = Dialogue(app, client, start_workshop(app))
    dialogue.open_proposals()
    return dialogue


def next_goal(dialogue: Dialogue) -> int:
    goal_id = dialogue.state()["agenda"][1]["id"]
    dialogue.do("goal:select", goal_id=goal_id)
    dialogue.do("phase:set", goal_id=goal_id, phase="forslag")
    return goal_id


# --- Proposals --------------------------------------------------------------------------------


def test_one_phone_adding_2000_proposals_is_refused_after_its_cap(
    app: Flask, dialogue: Dialogue
) -> None:
    """As fast as it can, under the default event rate (20/s, a burst of 40): the burst is
    refused by the cap, the rest by the rate; then without a rate limit, the cap alone."""
    app.config["EVENT_RATE"] = 20.0
    phone = dialogue.phone()
    acks = [add(phone, dialogue.goal_id, what=f"Förslag {n}") for n in range(2000)]
    assert [ack["ok"] for ack in acks[:5]] == [True] * 5
    codes = [ack["code"] for ack in acks[5:]]
    assert set(codes) == {"too_many_mine_goal", "rate_limited"}
    assert codes.count("too_many_mine_goal") >= 30
    refused = acks[5]
    assert refused["error"] == (
        "Du har redan lämnat 5 förslag för det här målet, mer än så tas inte emot."
    )
    app.config["EVENT_RATE"] = 0
    more = [add(phone, dialogue.goal_id)["code"] for _ in range(200)]
    assert set(more) == {"too_many_mine_goal"}
    assert stored(app) == 5  # nothing beyond the cap
    assert len(dialogue.state()["all_proposals"]) == 5

    # A resend of a stored proposal (its client_id) is still answered with it, not refused.
    resend = phone.emit(
        "proposal:add",
        {
            "goal_id": dialogue.goal_id,
            "client_id": acks[0]["client_id"],
            "proposal": {"kind": "ambitionsniva", "what": "Förslag 0"},
            "secret": phone.secret,
        },
    )
    assert (resend["ok"], resend["created"]) == (True, False)
    assert resend["proposal"]["label"] == "F1"


def test_the_refusal_is_translated_and_shown_by_the_phone(app: Flask, dialogue: Dialogue) -> None:
    phone = Phone(app, dialogue.workshop_id)
    phone.http.get("/sprak/en")
    phone.sio = connect(app, phone.http, dialogue.workshop_id, "people")  # reads English
    for _ in range(5):
        assert add(phone, dialogue.goal_id)["ok"]
    ack = add(phone, dialogue.goal_id)
    assert (ack["code"], ack["error"]) == (
        "too_many_mine_goal",
        "You have already made 5 proposals for this goal; no more are accepted.",
    )
    # The phone's form shows ack.error in its .form-error (MV.showErrors); nothing to add there.
    page = phone.http.get(f"/w/{phone.code}").get_data(as_text=True)
    assert 'class="form-error field-error" role="alert"' in page


def test_a_phone_has_a_cap_over_the_whole_dialogue(app: Flask, dialogue: Dialogue) -> None:
    app.config["PROPOSALS_PER_PHONE"] = 7
    phone = dialogue.phone()
    assert all(add(phone, dialogue.goal_id)["ok"] for _ in range(5))
    second = next_goal(dialogue)
    assert add(phone, second)["ok"] and add(phone, second)["ok"]
    ack = add(phone, second)
    assert (ack["code"], ack["error"]) == (
        "too_many_mine",
        "Du har redan lämnat 7 förslag i dialogen, mer än så tas inte emot.",
    )
    assert stored(app) == 7
    assert add(dialogue.phone(), second)["ok"]  # another phone is not affected


def test_new_secrets_do_not_escape_a_phones_caps(app: Flask, dialogue: Dialogue) -> None:
    """In anonymous mode a phone is known by its secret; the one bound at its first state:get
    is the only one it may propose with, so a new secret per proposal is refused, not a new
    author each time."""
    phone = dialogue.phone()
    before = table_rows(app)
    acks = [add(phone, dialogue.goal_id, secrets.token_urlsafe(24)) for _ in range(3)]
    assert {a["code"] for a in acks} == {"other_device"}
    assert acks[0]["error"].startswith("Du kan inte lämna förslag härifrån")
    assert table_rows(app) == before
    assert [add(phone, dialogue.goal_id)["ok"] for _ in range(6)].count(True) == 5


def test_a_goal_and_a_workshop_have_caps(app: Flask, dialogue: Dialogue) -> None:
    """Many phones together meet the goal's and the workshop's caps. The facilitator is not
    capped, and counts."""
    app.config.update(PROPOSALS_PER_GOAL=8, PROPOSALS_PER_WORKSHOP=12)
    phones = [dialogue.phone() for _ in range(4)]
    acks = [add(phones[n % 4], dialogue.goal_id) for n in range(12)]
    assert [a["ok"] for a in acks].count(True) == 8
    assert acks[8]["code"] == "too_many_goal"
    assert acks[8]["error"] == (
        "Målet har redan 8 förslag. Fler tas inte emot, tala med samtalsledaren."
    )
    emit_ack(
        dialogue.fac,
        "proposal:add",
        goal_id=dialogue.goal_id,
        client_id=secrets.token_hex(8),
        proposal={"kind": "ambitionsniva", "what": "Samtalsledarens förslag"},
    )
    assert stored(app) == 9

    second = next_goal(dialogue)
    acks = [add(phones[n % 4], second) for n in range(5)]
    assert [a["ok"] for a in acks] == [True, True, True, False, False]
    assert acks[3]["code"] == "too_many_workshop"
    assert acks[3]["error"] == (
        "Dialogen har redan 12 förslag. Fler tas inte emot, tala med samtalsledaren."
    )
    assert stored(app) == 12


def test_in_named_mode_a_phone_is_its_participant(app: Flask, client: FlaskClient) -> None:
    app.config["EVENT_RATE"] = 0
    login(client)
    dialogue = Dialogue(app, client, start_workshop(app, anonymous=False))
    dialogue.open_proposals()
    phone = dialogue.phone("Bo Berg")
    acks = [add(phone, dialogue.goal_id, secrets.token_urlsafe(24)) for _ in range(8)]
    assert [a["ok"] for a in acks].count(True) == 5
    assert acks[5]["code"] == "too_many_mine_goal"
    assert stored(app) == 5


def test_the_facilitators_snapshot_stays_bounded_by_the_caps(
    app: Flask, dialogue: Dialogue
) -> None:
    """2,000 full-length proposals made the console's state:get 17.3 MB (issue 14); at the
    caps (100 per goal) it is about 0.26 MB, whatever more is sent."""
    app.config["PUSH_INTERVAL"] = 0.25  # coalesced, as in production: not one push per add
    phones = [dialogue.phone() for _ in range(26)]
    for n in range(130):
        add(phones[n % 26], dialogue.goal_id, **FULL)
    assert stored(app) == 100
    started = time.monotonic()
    state = dialogue.state()
    took = time.monotonic() - started
    size = len(json.dumps(state))
    assert len(state["all_proposals"]) == 100
    assert size < 400_000, size
    assert took < 5, took


# --- state:get --------------------------------------------------------------------------------


def test_state_get_has_its_own_bucket_for_phones(
    app: Flask, dialogue: Dialogue, monkeypatch: Any
) -> None:
    phone = dialogue.phone()
    clock = [time.monotonic() + 10]  # full buckets, and a clock that stands still
    monkeypatch.setattr(rooms.time, "monotonic", lambda: clock[0])
    acks = [phone.emit("state:get", {"secret": phone.secret}) for _ in range(30)]
    assert all(ack["ok"] for ack in acks[:10])  # the burst of 10 (STATE_GET_BURST)
    assert {ack["code"] for ack in acks[10:]} == {"rate_limited"}
    assert acks[10]["error"] == (
        "Du skickar för många meddelanden. Vänta en stund och försök igen."
    )
    assert add(phone, dialogue.goal_id)["ok"]  # other events are not held back by it
    clock[0] += 0.5  # 2 a second (STATE_GET_RATE): one is back
    assert [phone.emit("state:get", {})["ok"] for _ in range(2)] == [True, False]
    assert all(dialogue.fac.emit("state:get", {}, callback=True)["ok"] for _ in range(30))


def test_state_get_answers_from_the_snapshot_of_the_current_seq(
    app: Flask, dialogue: Dialogue
) -> None:
    phone = dialogue.phone()
    first = phone.state()
    again = phone.state()
    assert again["state"]["seq"] == first["state"]["seq"]
    assert again["state"]["goal"] == first["state"]["goal"]
    assert "prev_seq" not in again["state"]
    ack = add(phone, dialogue.goal_id)
    after = phone.state()
    assert after["state"]["seq"] > first["state"]["seq"]
    assert [p["label"] for p in after["own"]["my_proposals"]] == [ack["proposal"]["label"]]
    assert after["state"]["people"]["online"] == 1
    assert dialogue.state()["all_proposals"][0]["label"] == ack["proposal"]["label"]


# --- Joining ----------------------------------------------------------------------------------


def join(http: FlaskClient, code: str, address: str, **headers: str) -> Any:
    return http.post(f"/j/{code}", environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_new_participants_are_limited_per_address(app: Flask, create_workshop: Any) -> None:
    app.config["JOIN_LIMIT_PER_ADDRESS"] = "3/600"
    workshop_id = create_workshop()
    code = Phone(app, workshop_id).code  # from 127.0.0.1
    phones = [app.test_client() for _ in range(4)]
    assert [join(p, code, "10.0.0.7").status_code for p in phones[:3]] == [302] * 3
    before = participants(app)
    response = join(phones[3], code, "10.0.0.7")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert alerts(response.get_data(as_text=True)) == (
        "Många nya deltagare har anslutit från samma nätverk på kort tid. "
        "Vänta några minuter och försök igen."
    )
    assert participants(app) == before  # nothing stored
    assert join(phones[0], code, "10.0.0.7").status_code == 302  # a known phone is not new
    assert join(app.test_client(), code, "10.0.0.8").status_code == 302  # another address
    english = app.test_client()
    english.get("/sprak/en")
    assert alerts(join(english, code, "10.0.0.7").get_data(as_text=True)) == (
        "Many new participants have joined from the same network in a short time. "
        "Wait a few minutes and try again."
    )


def test_new_participants_are_limited_per_workshop(app: Flask, create_workshop: Any) -> None:
    app.config["JOIN_LIMIT_PER_WORKSHOP"] = "4/60"
    workshop_id, other = create_workshop(), create_workshop(anonymous=False)
    code = Phone(app, workshop_id).code
    statuses = [join(app.test_client(), code, f"10.1.0.{n}").status_code for n in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    response = join(app.test_client(), code, "10.1.1.1")
    assert alerts(response.get_data(as_text=True)) == (
        "Väldigt många ansluter till dialogen just nu. Vänta en minut och försök igen."
    )
    # Another workshop has its own allowance; in named mode the message is not a name error.
    other_code = Phone(app, other, "Bo Berg").code
    named = app.test_client().post(
        f"/j/{other_code}", data={"name": "Ada"}, environ_base={"REMOTE_ADDR": "10.2.0.1"}
    )
    assert named.status_code == 302


def test_the_join_limit_counts_the_address_the_proxy_reports(
    app: Flask, create_workshop: Any
) -> None:
    """Behind a proxy (PROXY_FIX=1) every request comes from the proxy's address; the limit
    counts the client's, from X-Forwarded-For."""
    workshop_id = create_workshop()
    code = Phone(app, workshop_id).code
    behind = create_app({**app.config, "PROXY_FIX": 1, "JOIN_LIMIT_PER_ADDRESS": "2/600"})
    statuses = [
        join(behind.test_client(), code, "127.0.0.1", **{"X-Forwarded-For": address}).status_code
        for address in ("192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.2")
    ]
    assert statuses == [302, 302, 429, 302, 302]


def test_with_redis_the_join_limit_is_shared_and_survives_redis_going_away(
    app: Flask, tmp_path: Any
) -> None:
    """Several workers count in Redis (one fixed window per key); without Redis, locally."""
    redis = pytest.importorskip("redis")  # the "production" extra
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()
        app.config.update(REDIS_URL=url, JOIN_LIMIT_PER_ADDRESS="3/600")
        with app.app_context():
            allowed = [
                throttle.take("join-address", "10.9.0.1", "JOIN_LIMIT_PER_ADDRESS")
                for _ in range(3)
            ]
        second_worker = Flask("second")  # another app: its own in-memory buckets
        second_worker.config.update(app.config)
        with second_worker.app_context():
            refused = throttle.take("join-address", "10.9.0.1", "JOIN_LIMIT_PER_ADDRESS")
        assert allowed == [0.0, 0.0, 0.0] and refused > 0  # the same count for both
        server.terminate()
        server.wait(10)
        with app.app_context():  # Redis away: this process counts on its own
            local = [
                throttle.take("join-address", "10.9.0.2", "JOIN_LIMIT_PER_ADDRESS")
                for _ in range(4)
            ]
        assert local[:3] == [0.0, 0.0, 0.0] and local[3] > 0
    finally:
        server.kill()
        server.wait(10)


# --- The attack -------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def test_spam_and_a_state_get_flood_do_not_slow_another_phones_vote(
    app: Flask, dialogue: Dialogue
) -> None:
    """Issue 14: 2,000 full-length proposals, then one phone sending state:get 18 times a
    second, pushed another phone's vote acknowledgement to a p50 of 5.4 s. Here 20 phones send
    300 full-length proposals (one phone gets no further than 5), then one of them floods
    state:get at 18/s while another phone changes its vote 60 times: that phone's
    acknowledgement p95 stays under 200 ms."""
    spammers, voter = [dialogue.phone() for _ in range(20)], dialogue.phone()
    spammer = spammers[0]
    app.config["PUSH_INTERVAL"] = 0.25  # coalesced, as in production: not one push per add
    codes = [add(spammers[n % 20], dialogue.goal_id, **FULL).get("code") for n in range(300)]
    assert codes.count(None) == 100 and len(codes) - codes.count(None) == 200
    dialogue.do("phase:set", goal_id=dialogue.goal_id, phase="rostning", method="ja_nej")
    vote = dialogue.state()["vote"]
    assert len(vote["proposals"]) == 100
    app.config["EVENT_RATE"] = 20.0  # from here on the default event rate, as in production

    stop = threading.Event()
    flood: list[bool] = []

    flood_time: list[float] = []

    def flood_state() -> None:
        next_at = started_at = time.monotonic()
        while not stop.is_set():
            flood.append(spammer.emit("state:get", {"secret": spammer.secret})["ok"])
            next_at += 1 / 18
            time.sleep(max(0.0, next_at - time.monotonic()))
        flood_time.append(time.monotonic() - started_at)

    flooder = threading.Thread(target=flood_state)
    flooder.start()
    latencies = []
    try:
        time.sleep(0.5)
        for rev in range(1, 61):
            answers = {
                str(p["id"]): "ja" if (rev + n) % 2 else "nej"
                for n, p in enumerate(vote["proposals"][:10])
            }
            started = time.perf_counter()
            ack = voter.emit(
                "vote:cast",
                {
                    "round_id": vote["round_id"],
                    "secret": voter.secret,
                    "answers": answers,
                    "vote_id": secrets.token_hex(8),
                    "rev": rev,
                },
            )
            latencies.append(time.perf_counter() - started)
            assert ack["ok"] and ack["rev"] == rev, ack
            time.sleep(0.05)
    finally:
        stop.set()
        flooder.join()
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    rate = len(flood) / flood_time[0]
    print(f"vote ack p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms; flood {rate:.1f}/s")
    assert p95 < 0.2, (p50, p95)
    assert True in flood and False in flood  # some answered, the rest refused cheaply
    # The flood kept its pace: each answer was cheap (before the cache and state:get's bucket
    # one took about 400 ms here, so this in-process client managed 3 a second).
    assert rate > 12, rate
