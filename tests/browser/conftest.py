"""The browser suite: the real server (``python run.py``) driven through Debian's chromium.

One server and one browser serve the whole session. Every test opens its own browser contexts
(each with its own cookies, like separate devices) and creates its own workshop, so no test
depends on another's order. Every context fails its test when a page asks anything of another
origin (no CDN, fonts or trackers) or reports an error in the console.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from ..processes import free_port, start_run_py, stop_process

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
USERNAME = "samtalsledare"
PASSWORD = "webbläsar-lösenord-42"
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)

# Each context is one kind of device. Phones have touch and a mobile viewport; "narrow" is the
# smallest width WCAG's reflow criterion asks for (320 CSS px).
DEVICES: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1366, "height": 768}},
    "presenter": {"viewport": {"width": 1920, "height": 1080}},
    "iphone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 3,
    },
    "android": {
        "viewport": {"width": 360, "height": 800},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 3,
    },
    "narrow": {
        "viewport": {"width": 320, "height": 640},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}


# --- The server -------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, databases: Any) -> Iterator[Server]:
    """Start ``python run.py`` as the README does, on a free port and a temporary instance,
    on a fresh database of the session's kind (SQLite, or PostgreSQL with ``--database``)."""
    instance = tmp_path_factory.mktemp("instance")
    database = databases.new(instance, migrated=False)  # run.py migrates it, as in production
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PUBLIC_URL": url,
        "FACILITATOR_USERNAME": USERNAME,
        "FACILITATOR_PASSWORD": PASSWORD,
        "SECRET_KEY": "browser-suite-secret",
        "PYTHONUNBUFFERED": "1",
        # Every phone of the whole browser session joins from 127.0.0.1, as a hall behind one
        # NAT address would (docs/deploy.md: lift it there); tests/test_caps.py tests the limit.
        "JOIN_LIMIT_PER_ADDRESS": "0",
    }
    log = instance / "server.log"
    process = start_run_py(env, log, url)
    try:
        yield Server(url=url, log=log, process=process)
    finally:
        stop_process(process)


# --- The browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}"


LOCAL_SCHEMES = ("data:", "blob:", "about:")


@dataclass
class Guard:
    """Record what a context's pages must not do: reach another origin or log an error."""

    context: BrowserContext
    origin: str
    allowed: list[re.Pattern[str]]
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self) -> None:
        self.context.on("request", lambda request: self._check_url(request.url))
        self.context.on("page", self._watch_page)
        self.context.on("console", self._console)
        self.context.on("weberror", lambda error: self.errors.append(f"pageerror: {error.error}"))

    def _watch_page(self, page: Page) -> None:
        page.on("websocket", lambda ws: self._check_url(ws.url))

    def _check_url(self, url: str) -> None:
        if url.startswith(LOCAL_SCHEMES):
            return
        if _origin(url) != self.origin:
            self.foreign.append(url)

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        if any(pattern.search(text) for pattern in self.allowed):
            return
        self.errors.append(f"console.error: {text} ({message.location.get('url', '')})")

    def allow(self, pattern: str) -> None:
        """Accept console errors matching pattern from now on (e.g. while offline)."""
        self.allowed.append(re.compile(pattern))

    def problems(self) -> list[str]:
        return [f"request to another origin: {url}" for url in self.foreign] + self.errors


# A page served with an error status (404, 401 ...) makes chromium log this line; tests that
# open such a page on purpose allow it.
ERROR_STATUS = r"Failed to load resource: the server responded with a status of (40[0-9]|410)"


class Devices:
    """Open browser contexts as devices; check every one of them when the test ends."""

    def __init__(self, browser: Browser, server: Server) -> None:
        self.browser = browser
        self.server = server
        self.guards: list[Guard] = []

    def context(
        self, device: str = "desktop", *, allow: tuple[str, ...] = (), **options: Any
    ) -> BrowserContext:
        settings = {
            "base_url": self.server.url,
            "locale": "sv-SE",
            **DEVICES[device],
            **options,
        }
        context = self.browser.new_context(**settings)
        context.set_default_timeout(TIMEOUT_MS)
        guard = Guard(context, _origin(self.server.url), [re.compile(p) for p in allow])
        guard.watch()
        self.guards.append(guard)
        return context

    def page(self, device: str = "desktop", **options: Any) -> Page:
        return self.context(device, **options).new_page()

    def guard(self, context: BrowserContext) -> Guard:
        return next(g for g in self.guards if g.context is context)

    def close(self) -> list[str]:
        problems: list[str] = []
        for guard in self.guards:
            problems.extend(guard.problems())
            try:
                guard.context.close()
            except Exception as exc:  # noqa: BLE001 - report, keep closing the others
                problems.append(f"closing a context failed: {exc}")
        return problems


@pytest.fixture
def devices(browser: Browser, server: Server) -> Iterator[Devices]:
    start = server.log.stat().st_size
    opened = Devices(browser, server)
    yield opened
    problems = opened.close()
    with server.log.open("rb") as log:
        log.seek(start)
        output = log.read().decode(errors="replace")
    if "Traceback" in output:
        problems.append("the server logged an exception:\n" + output[output.index("Traceback") :])
    if problems:
        pytest.fail("The pages broke the rules:\n" + "\n".join(problems), pytrace=False)


# --- The facilitator --------------------------------------------------------------------------


@dataclass
class Workshop:
    id: int
    code: str

    @property
    def console(self) -> str:
        return f"/f/{self.id}"

    @property
    def presenter(self) -> str:
        return f"/f/{self.id}/skarm"

    @property
    def edit(self) -> str:
        return f"/f/{self.id}/redigera"

    @property
    def summary(self) -> str:
        return f"/f/{self.id}/sammanstallning"

    @property
    def join(self) -> str:
        return f"/j/{self.code}"

    @property
    def room(self) -> str:
        return f"/w/{self.code}"


def login(page: Page) -> None:
    """Log the page's context in as the facilitator through the login form."""
    page.goto("/login")
    page.get_by_label("Användarnamn").fill(USERNAME)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page).to_have_url(re.compile(r"/f/$"))


def csrf_token(html: str) -> dict[str, str]:
    """The form field carrying the page's CSRF token, as a dict to merge into a form post."""
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return {"csrf_token": found.group(1)} if found else {}


def create_workshop(page: Page, *, named: bool = False, start: bool = False) -> Workshop:
    """Create a KS mål 2019 workshop with the context's facilitator session (logs in if needed).

    It posts with the page's request context, which shares the cookies; only ``named`` uses the
    edit form and so moves the page.
    """
    listing = page.request.get("/f/", max_redirects=0)
    if listing.status != 200:
        login(page)
        listing = page.request.get("/f/", max_redirects=0)
    token = csrf_token(listing.text())
    response = page.request.post("/f/ny-mall", form=token, max_redirects=0)
    assert response.status == 302, response.text()
    workshop_id = int(re.search(r"/f/(\d+)/redigera", response.headers["location"]).group(1))
    edit = page.request.get(f"/f/{workshop_id}/redigera").text()
    code = re.search(r'<span class="code">([A-Z0-9]+)</span>', edit).group(1)
    workshop = Workshop(workshop_id, code)
    if named:
        # Through the edit form, as a facilitator would (this navigates the page).
        page.goto(workshop.edit)
        page.locator("#mode-namn").check()
        page.get_by_role("button", name="Spara uppgifterna").click()
        expect(page.locator(".flash")).to_contain_text("Uppgifterna är sparade")
    if start:
        started = page.request.post(
            f"/f/{workshop_id}/status", form={"action": "start", **token}, max_redirects=0
        )
        assert started.status == 302, started.text()
    return workshop


@pytest.fixture
def facilitator(devices: Devices) -> Page:
    """A logged-in facilitator on a 1366×768 laptop."""
    page = devices.page("desktop")
    login(page)
    return page


# --- Driving the pages ------------------------------------------------------------------------


def join(phone: Page, url: str, name: str | None = None) -> None:
    """Open the join page, type a name in named mode, and join."""
    phone.goto(url)
    if name is not None:
        phone.get_by_label("Ditt namn").fill(name)
    phone.get_by_role("button", name="Gå med", exact=True).tap()
    expect(phone).to_have_url(re.compile(r"/w/[A-Z0-9]+$"))
    expect(phone.locator("#conn")).to_have_attribute("data-state", "online")


def console_ready(fac: Page, workshop: Workshop) -> None:
    """Open the console and wait until it is connected and has rendered the server's state."""
    fac.goto(workshop.console)
    expect(fac.locator("#conn")).to_have_attribute("data-state", "online")
    expect(fac.locator("#online-count")).not_to_be_empty()


def next_step(fac: Page, text: str) -> None:
    """Press the console's one primary button, once it names the expected step."""
    button = fac.locator("#next-step")
    expect(button).to_have_text(text)
    button.click()


def current_phase(fac: Page, phase: str) -> None:
    expect(fac.locator('#phase-steps [aria-current="step"]')).to_have_attribute("data-phase", phase)


def open_proposals(fac: Page) -> None:
    next_step(fac, "Öppna för förslag")
    current_phase(fac, "forslag")


def select_goal(fac: Page, number: int) -> None:
    """Move to a goal from the agenda (the run's "Nästa mål" is next_goal)."""
    fac.get_by_role("button", name=f"Välj mål {number}", exact=True).click()
    expect(fac.locator("#goal-box [data-goal=number]")).to_have_text(f"Mål {number}")


def propose(phone: Page, what: str, **fields: str) -> str:
    """Send a proposal from the phone's form; return its label (F1, F2 ...)."""
    form = phone.locator("#proposal-form")
    form.locator('[name="what"]').fill(what)
    for name, value in fields.items():
        field = form.locator(f'[name="{name}"]')
        more = form.locator("#pf-more")
        if not field.is_visible() and more.count() and more.get_attribute("open") is None:
            more.locator("> summary").tap()  # the optional fields are under "Fler uppgifter"
        field.fill(value)
    phone.locator("#proposal-submit").tap()
    status = phone.locator("#proposal-status")
    expect(status).to_contain_text("Tack!")
    return re.search(r"förslag (F\d+)", status.inner_text()).group(1)


def proposal_card(fac: Page, label: str) -> Any:
    return fac.locator(f"#prop-{label}")


def publish_all(fac: Page, *labels: str) -> None:
    """Publish every active proposal, once the console lists the given ones (pushes may trail
    the phones' acks), and wait until they show as published."""
    for label in labels:
        expect(proposal_card(fac, label)).to_be_visible()
    fac.locator("#publish-all").click()
    for label in labels:
        expect(proposal_card(fac, label).locator(".badge--published")).to_be_visible()


def open_vote(fac: Page, method: str, budget: int | None = None) -> None:
    """Choose the method beside the primary button and press it: it publishes every active
    proposal not yet shown and opens the vote."""
    form = fac.locator("#next-form")
    form.locator("#vote-method").select_option(method)
    if budget is not None:
        form.locator("#dot-budget").fill(str(budget))
    next_step(fac, "Publicera och öppna röstningen")
    current_phase(fac, "rostning")


def reveal(fac: Page) -> None:
    next_step(fac, "Stäng och visa resultatet")
    current_phase(fac, "resultat")


def next_goal(fac: Page, number: int) -> None:
    next_step(fac, "Nästa mål")
    expect(fac.locator("#goal-box [data-goal=number]")).to_have_text(f"Mål {number}")


def ballot_item(phone: Page, label: str) -> Any:
    return phone.locator(f'.ballot-item[data-label="{label}"]')


REGISTERED = "Registrerad ✓"
VOTE_SAVED = "Din röst är registrerad – du kan ändra den tills röstningen stängs"


def answer(phone: Page, label: str, value: Any) -> None:
    """Tap one answer on the phone's ballot (a tap is the vote): a radio value, a dot count
    (taps on +), or {criterion: assessment} for kriteriebedömning."""
    item = ballot_item(phone, label)
    if isinstance(value, int) and item.locator("[data-dots=plus]").count():
        for _ in range(value):
            item.locator("[data-dots=plus]").tap()
    elif isinstance(value, dict):
        for criterion, choice in value.items():
            item.locator(f'input[name$="-{criterion}"][value="{choice}"]').tap()
    else:
        item.locator(f'input[value="{value}"]').tap()


def cast(phone: Page, answers: dict[str, Any]) -> None:
    """Vote on the phone by tapping the answers; wait until the server has acknowledged each
    one (every answered proposal shows its receipt)."""
    for label, value in answers.items():
        answer(phone, label, value)
    for label in answers:
        expect(ballot_item(phone, label).locator(".receipt")).to_have_text(REGISTERED)
    expect(phone.locator("#ballot-status")).to_have_text(VOTE_SAVED)


def record_decision(fac: Page, label: str | None, what: str, **fields: str) -> None:
    """Fill the console's decision form (from a proposal, if given) and save it: with the
    primary button at Resultat, with the form's own button when amending at Beslut."""
    form = fac.locator("#decision-form")
    amend = fac.locator("#decision-amend")
    if amend.is_visible() and amend.get_attribute("aria-expanded") != "true":
        amend.click()
    expect(form).to_be_visible()
    if label:
        select = form.locator("#decision-proposal")
        value = select.locator("option", has_text=f"{label} –").first.get_attribute("value")
        select.select_option(value)
    form.locator("#df-what").fill(what)
    for name, value in fields.items():
        form.locator(f'[name="{name}"]').fill(value)
    resave = form.locator("#decision-resave")
    if resave.is_visible():
        resave.click()
    else:
        next_step(fac, "Spara beslut")
    expect(form.locator("[data-status]")).to_contain_text("Beslutet är sparat")
