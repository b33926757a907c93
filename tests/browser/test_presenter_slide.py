"""The presenter as a slide: every state fits the screen at projector sizes, long lists page.

The room is built through Socket.IO from the console's and the phones' own pages (the same
events their scripts send), so the test spends its time on the presenter, which it looks at
in every state at 1920×1080, 1280×720 and 1024×768. Screenshots go to /work/shots/screen/.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from workshop.domain.proposals import PROPOSAL_LIMITS

from .conftest import Devices, Workshop, create_workshop, join
from .test_accessibility import Audit

SIZES = [(1920, 1080), (1280, 720), (1024, 768)]
SHOTS = Path("/work/shots/screen")
METHODS = ["ja_nej", "betyg", "prickar", "gradering", "kriterier"]
PHONES = 4

# Send an event from a page on a socket of its own (the page's cookies say who it is).
EMIT = """async ([auth, event, payload]) => {
  window.__testSockets = window.__testSockets || {};
  const key = JSON.stringify(auth);
  if (!window.__testSockets[key]) {
    const socket = io({ auth });
    await new Promise((ok, fail) => {
      socket.once("connect", ok);
      socket.once("connect_error", fail);
    });
    window.__testSockets[key] = socket;
  }
  return await new Promise((ok) => window.__testSockets[key].emit(event, payload, ok));
}"""

# Everything the slide shows must fit: no page scroll either way, and every visible item of
# the stage inside the stage (paged, not cut).
FIT = """() => {
  const doc = document.documentElement;
  const stage = document.getElementById("stage").getBoundingClientRect();
  const cut = [];
  for (const node of document.querySelectorAll(
      "#cards > li, #results .result, #decision > .slide-item, #focus-card .card")) {
    const box = node.getBoundingClientRect();
    if (box.height === 0) continue;
    if (box.bottom > stage.bottom + 1 || box.right > stage.right + 1) {
      cut.push(node.textContent.slice(0, 40));
    }
  }
  return { height: doc.scrollHeight, width: doc.scrollWidth, cut };
}"""

# Text in the slide smaller than 2.2 % of the viewport's height (the strip below is not slide).
SMALL_TEXT = """() => {
  const min = innerHeight * 0.022 - 0.05;
  const small = [];
  for (const node of document.querySelectorAll("#main *")) {
    const own = [...node.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
    const box = node.getBoundingClientRect();
    if (!own || box.width < 2 || box.height < 2) continue;
    const size = parseFloat(getComputedStyle(node).fontSize);
    if (size < min) small.push(`${node.tagName}.${node.className} ${size.toFixed(1)}px`);
  }
  return small;
}"""

# Visible elements the connection badge overlaps (its own ancestors aside).
OVERLAPS = """() => {
  const badge = document.getElementById("conn");
  const b = badge.getBoundingClientRect();
  return [...document.querySelectorAll("body *")].filter((node) => {
    if (node === badge || node.contains(badge) || badge.contains(node)) return false;
    const r = node.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    return r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom;
  }).map((node) => node.tagName + "#" + node.id + "." + node.className);
}"""

# Each visible bar: its track's width, its fill's width, and the count beside it.
BARS = """(root) => [...document.querySelectorAll(root + " .result .bar-row")]
  .filter((row) => row.getBoundingClientRect().height > 0)
  .map((row) => ({
    track: row.querySelector(".bar").getBoundingClientRect().width,
    left: row.querySelector(".bar").getBoundingClientRect().left,
    fill: row.querySelector(".bar__fill").getBoundingClientRect().width,
    count: parseInt(row.querySelector(".bar-row__value").textContent, 10),
  }))"""


def longest(n: int, field: str) -> str:
    words = f"F{n} {field}: andelen invånare med egen försörjning ska öka i hela kommunen "
    return (words * 20)[: PROPOSAL_LIMITS[field]].rstrip()


def long_proposal(n: int) -> dict[str, str]:
    fields = {f: longest(n, f) for f in PROPOSAL_LIMITS if f not in ("rationale",)}
    fields.update(baseline_year="2018", target_date="2022-12-31", kind="ambitionsniva")
    return fields


class Room:
    """The console page and the phones, emitting events; the presenter watched at three sizes."""

    def __init__(self, devices: Devices, fac: Page) -> None:
        self.fac = fac
        self.workshop: Workshop = create_workshop(fac)
        fac.goto(self.workshop.console)
        expect(fac.locator("#conn")).to_have_attribute("data-state", "online")
        self.screen = devices.page("presenter", storage_state=fac.context.storage_state())
        self.devices = devices
        self.phones: list[tuple[Page, str]] = []
        self.audit = Audit()
        self.seen: list[str] = []

    def do(self, event: str, **payload: Any) -> dict[str, Any]:
        auth = {"workshop": self.workshop.id, "role": "facilitator"}
        ack = self.fac.evaluate(EMIT, [auth, event, payload])
        assert ack["ok"], (event, ack)
        return ack

    def add_phone(self) -> None:
        phone = self.devices.page("iphone")
        join(phone, self.workshop.join)
        # The page's own secret, which its first state:get bound to this person.
        key = f"mv-secret-{self.workshop.id}"
        phone.wait_for_function("k => !!localStorage.getItem(k)", arg=key)
        self.phones.append((phone, phone.evaluate("k => localStorage.getItem(k)", key)))

    def vote(self, phone: int, answers: dict[int, Any]) -> None:
        page, secret = self.phones[phone]
        round_id = self.do("state:get")["state"]["vote"]["round_id"]
        auth = {"workshop": self.workshop.id, "role": "people"}
        payload = {
            "round_id": round_id,
            "secret": secret,
            "answers": {str(k): v for k, v in answers.items()},
        }
        ack = page.evaluate(EMIT, [auth, "vote:cast", payload])
        for _ in range(20):  # until the page's own first state:get has bound its secret
            if ack.get("code") != "unbound":
                break
            page.wait_for_timeout(100)
            ack = page.evaluate(EMIT, [auth, "vote:cast", payload])
        assert ack["ok"], ack

    def goal(self, number: int, count: int = 12) -> list[int]:
        """Open goal ``number`` for proposals with ``count`` of the longest and publish them."""
        goal_id = self.do("state:get")["state"]["agenda"][number - 1]["id"]
        self.do("goal:select", goal_id=goal_id)
        self.do("phase:set", goal_id=goal_id, phase="forslag")
        ids = [
            self.do(
                "proposal:add",
                goal_id=goal_id,
                client_id=f"lang-{number}-{n}-{secrets.token_hex(4)}",
                proposal=long_proposal(n),
            )["proposal"]["id"]
            for n in range(1, count + 1)
        ]
        self.do("proposal:publish", ids=ids, published=True)
        self.goal_id = goal_id
        return ids

    def look(self, state: str, *, paged: str | None = None, total: int = 0) -> None:
        """At each size: fits, type large enough, a screenshot; with ``paged`` (the items'
        label selector), turn every page with the keyboard and see all ``total`` items."""
        screen = self.screen
        SHOTS.mkdir(parents=True, exist_ok=True)
        for width, height in SIZES:
            screen.set_viewport_size({"width": width, "height": height})
            screen.wait_for_function(
                "([w, h]) => innerWidth === w && innerHeight === h", arg=[width, height]
            )
            screen.wait_for_timeout(150)  # the presenter measures again after a resize
            if paged:
                labels = self.page_through(paged, total, f"{state} {width}×{height}")
                assert len(labels) == total, (state, width, labels)
                for _ in range(total):
                    screen.keyboard.press("PageUp")  # the screenshot shows the first page
            name = re.sub(r"[^a-z0-9]+", "-", state.lower()).strip("-")
            screen.screenshot(path=str(SHOTS / f"{name}-{width}x{height}.png"))
            fit = screen.evaluate(FIT)
            where = f"{state} at {width}×{height}"
            assert fit["height"] <= height, (where, fit)
            assert fit["width"] <= width, (where, fit)
            assert fit["cut"] == [], (where, fit)
            assert screen.evaluate(SMALL_TEXT) == [], where
        screen.set_viewport_size({"width": 1920, "height": 1080})
        self.audit.check(screen, f"presenter, {state}")

    def page_through(self, selector: str, total: int, where: str) -> set[str]:
        """Go to the first page, then press → until the last: every item's label is seen."""
        screen = self.screen
        for _ in range(total):
            screen.keyboard.press("PageUp")
        seen: set[str] = set()
        label = screen.locator("[data-pager-label]:visible")
        for _ in range(total + 1):
            expect(screen.locator(f"{selector}:visible").first).to_be_visible()
            visible = screen.locator(f"{selector}:visible").all_inner_texts()
            seen.update(text.strip() for text in visible)
            text = label.inner_text() if label.count() else ""
            if text:
                found = re.search(r"(\d+)(?:–(\d+))? av (\d+)", text)
                assert found, (where, text)
                assert int(found.group(3)) == total, (where, text)
                if int(found.group(2) or found.group(1)) == total:
                    break
            else:
                break  # one page holds them all
            screen.keyboard.press("ArrowRight")
            expect(label).not_to_have_text(text)
        return seen


def test_every_presenter_state_fits_at_projector_sizes(devices: Devices, facilitator: Page) -> None:
    room = Room(devices, facilitator)
    screen = room.screen
    screen.goto(room.workshop.presenter)
    expect(screen.locator("#conn")).to_have_attribute("data-state", "online")
    expect(screen.locator("#lobby-online")).to_have_text("0 anslutna")
    for _ in range(PHONES):
        room.add_phone()
    expect(screen.locator("#lobby-online")).to_have_text(f"{PHONES} anslutna")
    expect(screen.locator(".screen-join__code")).to_have_text(room.workshop.code)
    expect(screen.locator(".screen-join__url")).to_contain_text(room.workshop.join)
    # A kiosk: no site navigation, a quiet way back, a connection badge that covers nothing.
    expect(screen.locator(".site-header, .site-nav")).to_have_count(0)
    expect(screen.get_by_text("Logga ut")).to_have_count(0)
    expect(screen.get_by_role("link", name="Till konsolen")).to_have_attribute(
        "href", room.workshop.console
    )
    room.look("lobby")
    assert screen.evaluate(OVERLAPS) == []

    room.do("workshop:start")
    for number, method in enumerate(METHODS, start=1):
        ids = room.goal(number)
        expect(screen.locator("#cards > li")).to_have_count(12)
        if number == 1:
            room.look("forslag 12 longest", paged="#cards .proposal__label", total=12)
            # The console pages too (its controls); focus shows one proposal as the slide.
            fac = room.fac
            room.do("screen:page", page=0)
            first = screen.locator("#cards > li:visible .proposal__label").first.inner_text()
            fac.get_by_role("button", name="Nästa sida").click()
            expect(screen.locator("#cards > li:visible .proposal__label").first).not_to_have_text(
                first
            )
            expect(fac.locator("#screen-controls-status")).to_have_text("Skärmen visar sida 2.")
            fac.get_by_label("Bläddra automatiskt").check()
            expect(fac.get_by_label("Bläddra automatiskt")).to_be_checked()
            assert room.do("state:get")["state"]["screen"]["auto"] is True
            fac.get_by_label("Bläddra automatiskt").uncheck()
            fac.get_by_label("Visa i fokus").select_option(str(ids[4]))
            expect(fac.locator("#screen-controls-status")).to_have_text("I fokus på skärmen: F5")
            room.audit.check(fac, "console with the presenter's controls")
            expect(screen.locator("#screen-focus")).to_be_visible()
            expect(screen.locator("#focus-card .proposal__label")).to_have_text("F5")
            expect(screen.locator("#screen-proposals")).to_be_hidden()
            room.look("forslag focus")
            fac.get_by_label("Visa i fokus").select_option("")
            expect(screen.locator("#screen-proposals")).to_be_visible()
        room.do(
            "phase:set",
            goal_id=room.goal_id,
            phase="rostning",
            method=method,
            **({"dot_budget": 3} if method == "prickar" else {}),
        )
        expect(screen.locator("#vote-progress")).to_have_text(f"0 av {PHONES} har svarat")
        cast_votes(room, method, ids)
        expect(screen.locator("#vote-progress")).to_have_text(f"{PHONES} av {PHONES} har svarat")
        room.look(f"rostning {method}", paged="#cards .proposal__label", total=12)
        room.do("phase:set", goal_id=room.goal_id, phase="resultat")
        expect(screen.locator("#screen-results")).to_be_visible()
        room.look(f"resultat {method}", paged="#results .result__title", total=12)
        if method in ("ja_nej", "gradering", "kriterier"):
            check_bars(screen, "#results")
            phone = room.phones[0][0]  # the phone's results share the chart code
            expect(phone.locator("#sec-resultat")).to_be_visible()
            check_bars(phone, "#results")
            if method == "ja_nej":
                phone.screenshot(path=str(SHOTS / "phone-results-ja-nej.png"), full_page=True)
        if number == 1:
            room.do(
                "decision:record",
                goal_id=room.goal_id,
                kind="ambitionsniva",
                proposal_id=ids[2],
                **{k: v for k, v in long_proposal(3).items() if k != "kind"},
                dissent=[
                    {"text": longest(d, "what")[:300], "name": "", "consent": False}
                    for d in range(1, 6)
                ],
            )
            expect(screen.locator("#screen-decision")).to_be_visible()
            room.look("beslut")
        if number == 2:
            room.do(
                "decision:record",
                goal_id=room.goal_id,
                kind="inriktningsmal",
                rationale=longest(1, "rationale"),
            )
            expect(screen.locator("#decision")).to_contain_text("Inriktningsmål")
            room.look("beslut inriktningsmal")

    room.do("workshop:close")
    expect(screen.locator("#screen-message")).to_have_text("Dialogen är avslutad")
    room.look("stangd")
    room.audit.assert_clean()


def cast_votes(room: Room, method: str, ids: list[int]) -> None:
    """Votes that give equal and double counts: F1 2 ja / 2 nej, F2 2 ja, F3 4 ja ..."""
    values = {
        "ja_nej": ["ja", "nej"],
        "betyg": ["5", "3"],
        "prickar": [1, 1],
        "gradering": ["1", "5"],
        "kriterier": [
            {"paverkbart": "ja", "matbart": "ja", "resurser": "nej"},
            {"paverkbart": "nej", "matbart": "delvis", "resurser": "nej"},
        ],
    }[method]
    for phone in range(PHONES):
        first, second = values[0], values[1]
        answers = {ids[0]: first if phone < 2 else second, ids[2]: first}
        if phone < 2:
            answers[ids[1]] = first
        if method == "prickar":
            answers = {ids[0]: 1, ids[2]: 1, **({ids[1]: 1} if phone < 2 else {})}
        room.vote(phone, answers)


def check_bars(page: Page, root: str) -> None:
    """On the first page: one track for all bars, fills proportional to counts (±1 px)."""
    for _ in range(12):
        page.keyboard.press("PageUp")
    expect(page.locator(f"{root} .result:visible .result__title").first).to_contain_text("F1")
    ballots = int(
        re.search(r"(\d+) har röstat", page.locator(f"{root} .result__count").inner_text())[1]
    )
    bars = page.evaluate(BARS, root)
    assert len(bars) >= 3, bars
    tracks = {round(bar["track"]) for bar in bars}
    assert max(tracks) - min(tracks) <= 1, bars
    assert max(b["left"] for b in bars) - min(b["left"] for b in bars) <= 1, bars
    for bar in bars:
        assert abs(bar["fill"] - bar["track"] * bar["count"] / ballots) <= 1, (bar, ballots)
    by_count: dict[int, list[float]] = {}
    for bar in bars:
        by_count.setdefault(bar["count"], []).append(bar["fill"])
    assert any(len(fills) > 1 for count, fills in by_count.items() if count), by_count
    for fills in by_count.values():
        assert max(fills) - min(fills) <= 1, by_count
