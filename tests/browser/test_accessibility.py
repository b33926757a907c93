"""WCAG 2.1 AA in the browser: axe-core on every page in each of its states, keyboard-only use,
reflow at 320 CSS px, announced live changes, reduced motion and the accessibility statement."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from .conftest import (
    ERROR_STATUS,
    Devices,
    Workshop,
    ballot_item,
    cast,
    create_workshop,
    join,
    login,
    open_proposals,
    open_vote,
    propose,
    publish_all,
    record_decision,
    reveal,
    select_goal,
)

pytestmark = pytest.mark.browser

AXE = Axe()
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
STATEMENT = "/tillganglighet"

# One ballot per vote method, by the position of the proposal on the ballot.
METHODS: list[tuple[str, list[Any]]] = [
    ("ja_nej", ["ja", "nej"]),
    ("betyg", ["4", "2"]),
    ("prickar", [2, 1]),
    ("gradering", ["1", "5"]),
    ("kriterier", [{"paverkbart": "ja", "matbart": "delvis", "resurser": "nej"}]),
]


@dataclass
class Audit:
    """Collect axe violations over many page states; report them all at the end."""

    found: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)

    def check(self, page: Page, state: str) -> None:
        self.states.append(state)
        results = AXE.run(page, options=AXE_OPTIONS)
        for violation in results.response["violations"]:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
            self.found.append(
                f"{state} ({page.url}): {violation['id']} [{violation['impact']}] "
                f"{violation['help']} – {targets[:5]}"
            )
        footer_link = page.locator(f'footer a[href="{STATEMENT}"]')
        if footer_link.count() != 1 or not footer_link.is_visible():
            self.found.append(f"{state} ({page.url}): no footer link to {STATEMENT}")

    def assert_clean(self) -> None:
        assert not self.found, f"{len(self.found)} problems in {len(self.states)} states:\n" + (
            "\n".join(self.found)
        )


def focus_is_visible(page: Page) -> bool:
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el || el === document.body) return false;
          const style = getComputedStyle(el);
          const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
          return outline || style.boxShadow !== "none";
        }"""
    )


def active(page: Page) -> str:
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          return el ? el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
            + (el.name ? "[name=" + el.name + "]" : "")
            + (el.value && el.type === "radio" ? "[value=" + el.value + "]" : "") : "";
        }"""
    )


def press_until(page: Page, key: str, selector: str, limit: int = 80) -> None:
    """Press key (Tab or Shift+Tab) until the focused element matches selector, checking that
    every element on the way shows its focus."""
    for _ in range(limit):
        page.keyboard.press(key)
        assert focus_is_visible(page), f"focus not visible on {active(page)} ({page.url})"
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{key} never reached {selector}; stuck at {active(page)}")


def horizontal_overflow(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


# --- The room every live-page test plays in ------------------------------------------------


@dataclass
class Room:
    workshop: Workshop
    fac: Page
    phones: list[Page]


def room(devices: Devices, fac: Page, phones: list[str], *, start: bool = True) -> Room:
    workshop = create_workshop(fac, start=start)
    fac.goto(workshop.console)
    expect(fac.locator("#conn")).to_have_attribute("data-state", "online")
    pages = [devices.page(kind) for kind in phones]
    for phone in pages:
        join(phone, workshop.join)
    return Room(workshop, fac, pages)


# --- axe on every page, in each state -----------------------------------------------------


def test_public_pages_have_no_violations(devices: Devices) -> None:
    audit = Audit()
    phone = devices.page("iphone", allow=(ERROR_STATUS,))
    phone.goto("/")
    audit.check(phone, "landing")
    phone.get_by_label("Kod").fill("QQQQQQ")
    phone.get_by_role("button", name="Gå vidare").tap()
    expect(phone.locator("#code-error")).to_be_visible()
    audit.check(phone, "landing, wrong code")
    phone.goto("/login")
    audit.check(phone, "login")
    phone.get_by_label("Användarnamn").fill("samtalsledare")
    phone.get_by_label("Lösenord").fill("fel")
    phone.get_by_role("button", name="Logga in").tap()
    expect(phone.locator(".error-summary")).to_be_visible()
    audit.check(phone, "login error")
    for path, state in ((STATEMENT, "accessibility statement"), ("/integritet", "privacy")):
        phone.goto(path)
        audit.check(phone, state)
    response = phone.goto("/finns-inte")
    assert response is not None and response.status == 404
    audit.check(phone, "404")
    phone.goto("/j/QQQQQQ")
    audit.check(phone, "join with an unknown code")
    audit.assert_clean()


def test_facilitator_pages_have_no_violations(devices: Devices, facilitator: Page) -> None:
    audit = Audit()
    fac = facilitator
    devices.guard(fac.context).allow(ERROR_STATUS)  # the forms answer 400 on purpose here
    workshop = create_workshop(fac)
    fac.goto("/f/")
    audit.check(fac, "workshops")
    fac.get_by_role("button", name="Skapa dialogen").click()
    expect(fac.locator(".error-summary")).to_be_visible()
    audit.check(fac, "workshops, new workshop without a title")
    fac.goto(workshop.edit)
    audit.check(fac, "edit (draft)")
    fac.locator("#title").fill("")
    fac.get_by_role("button", name="Spara uppgifterna").click()
    expect(fac.locator(".error-summary")).to_be_visible()
    audit.check(fac, "edit with an error")
    fac.goto(workshop.console)
    expect(fac.locator("#conn")).to_have_attribute("data-state", "online")
    audit.check(fac, "console before the start")
    fac.goto(workshop.summary)
    audit.check(fac, "summary, nothing decided")
    fac.goto(workshop.edit)
    fac.get_by_role("button", name="Starta dialogen").click()
    fac.goto(workshop.edit)
    audit.check(fac, "edit (running)")
    audit.assert_clean()


def test_join_pages_have_no_violations(devices: Devices, facilitator: Page) -> None:
    audit = Audit()
    anonymous = create_workshop(facilitator)
    named = create_workshop(facilitator, named=True)
    phone = devices.page("iphone", allow=(ERROR_STATUS,))
    phone.goto(anonymous.join)
    audit.check(phone, "join, anonymous")
    phone.goto(named.join)
    expect(phone.locator("#mode-notice")).to_contain_text("öppen med namn")
    audit.check(phone, "join, named")
    phone.get_by_role("button", name="Gå med", exact=True).tap()
    expect(phone.locator("#name-error")).to_be_visible()
    audit.check(phone, "join, named, without a name")
    phone.get_by_label("Ditt namn").fill("Anna Andersson")
    phone.get_by_role("button", name="Gå med", exact=True).tap()
    expect(phone.locator("#conn")).to_have_attribute("data-state", "online")
    audit.check(phone, "participant, named, waiting")
    audit.assert_clean()


def test_live_pages_have_no_violations_in_any_state(devices: Devices, facilitator: Page) -> None:
    audit = Audit()
    fac = facilitator
    screen = devices.page("presenter", storage_state=fac.context.storage_state())
    the_room = room(devices, fac, ["iphone", "android"], start=False)
    workshop, (phone, other) = the_room.workshop, the_room.phones
    screen.goto(workshop.presenter)
    expect(screen.locator("#conn")).to_have_attribute("data-state", "online")
    audit.check(screen, "presenter, lobby")
    expect(phone.locator("#waiting-msg")).to_contain_text("har inte startat")
    audit.check(phone, "participant, waiting for the start")
    fac.locator("#ws-start").click()
    expect(phone.locator("#waiting-msg")).to_contain_text("har inte öppnat")
    audit.check(phone, "participant, waiting for the goal")
    audit.check(screen, "presenter, goal not started")

    for number, (method, answers) in enumerate(METHODS, start=1):
        if number > 1:
            select_goal(fac, number)
        open_proposals(fac)
        if number == 1:
            audit.check(phone, "participant, proposal form")
            phone.locator("#proposal-submit").tap()
            expect(phone.locator("#proposal-form .form-error")).to_be_visible()
            expect(phone.locator("#pf-what-error")).to_be_visible()
            audit.check(phone, "participant, proposal form with errors")
            phone.locator('#proposal-form [name="kind"][value="inriktningsmal"]').check()
            phone.locator("#proposal-submit").tap()
            expect(phone.locator("#pf-rationale-error")).to_be_visible()
            audit.check(phone, "participant, inriktningsmål form with errors")
            phone.locator('#proposal-form [name="kind"][value="ambitionsniva"]').check()
        labels = [
            propose(phone, f"Mål {number}: minst 10 % bättre till 2022", indicator="Kolada"),
            propose(other, f"Mål {number}: en tydlig plan före 30 april"),
        ]
        if number == 1:
            audit.check(phone, "participant, proposal sent")
            audit.check(fac, "console, proposals")
            fac.get_by_role("button", name=f"Dölj… {labels[1]}").click()
            audit.check(fac, "console, hide form open")
            fac.locator("#hide-form [data-cancel]").click()
            fac.get_by_role("button", name=f"Redigera {labels[1]}").click()
            audit.check(fac, "console, edit form open")
            fac.locator("#edit-form [data-cancel]").click()
            fac.locator("#add-box > summary").click()
            audit.check(fac, "console, own proposal form open")
            fac.locator("#add-box > summary").click()
        publish_all(fac, *labels)
        expect(phone.locator("#published .proposal")).to_have_count(2)
        if number == 1:
            audit.check(phone, "participant, published proposals")
            audit.check(screen, "presenter, proposals")
        open_vote(fac, method, budget=3 if method == "prickar" else None)
        expect(ballot_item(phone, labels[0])).to_be_visible()
        audit.check(phone, f"participant, voting ({method})")
        cast(phone, dict(zip(labels, answers, strict=False)))
        audit.check(phone, f"participant, voted ({method})")
        expect(fac.locator("#tally-box")).to_be_visible()
        audit.check(fac, f"console, voting with live tally ({method})")
        if number == 1:
            audit.check(screen, "presenter, voting")
        reveal(fac)
        expect(phone.locator("#sec-resultat")).to_be_visible()
        expect(screen.locator("#screen-results")).to_be_visible()
        audit.check(phone, f"participant, results ({method})")
        audit.check(screen, f"presenter, results ({method})")
        if number == 1:
            audit.check(fac, "console, results and decision form")
            fac.locator("#dissent-add").click()
            audit.check(fac, "console, decision form with a dissent row")
            fac.locator("#dissent-list textarea").fill("Reservation mot ambitionsnivån")
            record_decision(fac, labels[0], "Beslutad ambitionsnivå för mål 1")
            expect(phone.locator("#decision")).to_contain_text("Beslutad ambitionsnivå")
            audit.check(phone, "participant, decision")
            audit.check(screen, "presenter, decision")
            audit.check(fac, "console, decision recorded")

    fac.goto(workshop.summary)
    audit.check(fac, "summary")
    fac.goto(workshop.console)
    fac.once("dialog", lambda dialog: dialog.accept())
    fac.locator("#ws-close").click()
    expect(phone.locator("#end-msg")).to_be_visible()
    audit.check(phone, "participant, dialogue closed")
    audit.check(screen, "presenter, dialogue closed")
    audit.assert_clean()


def test_the_checks_find_what_they_look_for(devices: Devices) -> None:
    """Guard the guards: a broken page must fail axe, the reflow and the focus checks."""
    phone = devices.page("narrow")
    phone.goto("/")
    # Built through the DOM (the Content-Security-Policy forbids inline style attributes).
    phone.evaluate(
        """() => {
          const main = document.querySelector("main");
          const img = document.createElement("img");
          img.src = "/static/favicon.svg";
          const wide = document.createElement("p");
          wide.textContent = "Bred";
          wide.style.width = "500px";
          const button = document.createElement("button");
          button.id = "ringless";
          button.textContent = "Knapp";
          button.style.outline = "none";
          button.style.boxShadow = "none";
          main.append(img, wide, button);
          document.querySelector("footer").remove();
        }"""
    )
    audit = Audit()
    audit.check(phone, "landing, broken on purpose")
    problems = "\n".join(audit.found)
    assert "image-alt" in problems
    assert "no footer link" in problems
    assert horizontal_overflow(phone) > 320
    phone.locator("#ringless").focus()
    assert not focus_is_visible(phone)


# --- Keyboard only ------------------------------------------------------------------------


def test_keyboard_only_join_propose_and_vote(devices: Devices, facilitator: Page) -> None:
    fac = facilitator
    workshop = create_workshop(fac, start=True)
    fac.goto(workshop.console)
    expect(fac.locator("#conn")).to_have_attribute("data-state", "online")
    open_proposals(fac)
    phone = devices.page("iphone")
    keys = phone.keyboard

    phone.goto("/")
    press_until(phone, "Tab", "#code")
    keys.type(workshop.code.lower())
    keys.press("Enter")
    expect(phone).to_have_url(re.compile(rf"/j/{workshop.code}$"))
    press_until(phone, "Tab", "form button[type=submit]")
    keys.press("Enter")
    expect(phone.locator("#conn")).to_have_attribute("data-state", "online")
    expect(phone.locator("#sec-forslag")).to_be_visible()

    press_until(phone, "Tab", "#pf-what")
    keys.type("Fler ska ha en egen försörjning 2020")
    press_until(phone, "Tab", "#pf-more > summary")  # "Fler uppgifter" opens by keyboard
    keys.press("Enter")
    press_until(phone, "Tab", "#pf-baseline_value")
    press_until(phone, "Shift+Tab", "#pf-indicator")
    keys.type("Kolada N31807")
    # Tab enters a radio group at its checked radio ("Ej bedömt"); arrows choose within it.
    press_until(phone, "Tab", "#pf-criteria-matbart-none")
    keys.press("ArrowRight")
    expect(phone.locator("#pf-criteria-matbart-ja")).to_be_checked()
    assert focus_is_visible(phone)
    press_until(phone, "Tab", "#proposal-submit")
    keys.press("Enter")
    expect(phone.locator("#proposal-status")).to_contain_text("Tack! Ditt förslag F1 är skickat")

    publish_all(fac, "F1")
    open_vote(fac, "ja_nej")
    expect(phone.locator("#sec-rostning")).to_be_visible()
    press_until(phone, "Tab", 'input[name^="v-"]')
    keys.press("Space")  # choosing is voting: no separate submit button
    expect(phone.locator('.ballot-item input[value="ja"]')).to_be_checked()
    expect(phone.locator(".ballot-item .receipt")).to_have_text("Registrerad ✓")
    # Arrow keys move within the radio group, as in any native group; the change is sent.
    keys.press("ArrowRight")
    expect(phone.locator('.ballot-item input[value="nej"]')).to_be_checked()
    expect(phone.locator("#ballot-status")).to_have_text(
        "Din röst är registrerad – du kan ändra den tills röstningen stängs"
    )
    expect(phone.locator(".ballot-item .receipt")).to_have_text("Registrerad ✓")
    expect(fac.locator("#vote-progress")).to_have_text("1 av 1 har svarat")


def test_skip_link_is_first_and_visible_on_focus(devices: Devices) -> None:
    phone = devices.page("iphone")
    phone.goto("/")
    phone.keyboard.press("Tab")
    skip = phone.locator(".skip-link")
    expect(skip).to_be_focused()
    assert focus_is_visible(phone)
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0, "the skip link stays off screen when focused"
    phone.keyboard.press("Enter")
    expect(phone.locator("#main")).to_be_focused()


# --- Reflow at 320 CSS px ------------------------------------------------------------------


def test_no_horizontal_scrolling_at_320_px(devices: Devices) -> None:
    narrow = devices.page("narrow", allow=(ERROR_STATUS,))
    wide: list[str] = []
    check = _checker(narrow, wide)

    for path, state in (
        ("/", "landing"),
        ("/login", "login"),
        (STATEMENT, "accessibility statement"),
        ("/integritet", "privacy"),
        ("/finns-inte", "404"),
    ):
        narrow.goto(path)
        check(state)

    login(narrow)
    check("workshops")
    workshop = create_workshop(narrow)
    named = create_workshop(narrow, named=True)
    check("edit, named mode saved")
    narrow.goto(workshop.edit)
    check("edit")
    narrow.goto(workshop.summary)
    check("summary")
    narrow.goto(workshop.presenter)
    check("presenter, lobby")
    # The console on a 320 px screen; the phone pages in a context of their own.
    narrow.goto(workshop.console)
    expect(narrow.locator("#conn")).to_have_attribute("data-state", "online")
    narrow.locator("#ws-start").tap()
    open_proposals(narrow)
    check("console, proposals")

    phone = devices.page("narrow")
    phone.goto(named.join)
    check_phone = _checker(phone, wide)
    check_phone("join, named")
    phone.goto(workshop.join)
    check_phone("join, anonymous")
    join(phone, workshop.join)
    expect(phone.locator("#sec-forslag")).to_be_visible()
    check_phone("participant, proposal form")
    phone.locator("#proposal-submit").tap()
    expect(phone.locator("#pf-what-error")).to_be_visible()
    check_phone("participant, proposal errors")
    label = propose(
        phone,
        "Andelen invånare med egen försörjning ska öka till 2022 enligt Kolada",
        indicator="N31807",
    )
    other = propose(phone, "Ett långt ord: arbetsmarknadsintroduktionsverksamhetsplanering")
    publish_all(narrow, label, other)
    check("console, published proposals")
    for number, (method, answers) in enumerate(METHODS, start=1):
        if number > 1:
            narrow.get_by_role("button", name=f"Välj mål {number}", exact=True).tap()
            open_proposals(narrow)
            label = propose(phone, f"Förslag för mål {number}")
            other = propose(phone, f"Ett annat förslag för mål {number}")
            publish_all(narrow, label, other)
        open_vote(narrow, method, budget=3 if method == "prickar" else None)
        expect(ballot_item(phone, label)).to_be_visible()
        check_phone(f"participant, voting ({method})")
        cast(phone, dict(zip([label, other], answers, strict=False)))
        check("console, voting")
        reveal(narrow)
        expect(phone.locator("#sec-resultat")).to_be_visible()
        check_phone(f"participant, results ({method})")
        check(f"console, results ({method})")
    narrow.goto(workshop.presenter)
    check("presenter, results")
    assert not wide, "\n".join(wide)


def _checker(page: Page, problems: list[str]) -> Any:
    def check(state: str) -> None:
        width = horizontal_overflow(page)
        if width > 320:
            problems.append(f"{state} ({page.url}): {width} px wide")
        if page.locator(f'footer a[href="{STATEMENT}"]').count() != 1:
            problems.append(f"{state}: no footer link to {STATEMENT}")

    return check


# --- Live regions and motion ------------------------------------------------------------------


def test_live_counts_and_phase_changes_are_announced(devices: Devices, facilitator: Page) -> None:
    fac = facilitator
    the_room = room(devices, fac, ["iphone", "android"])
    phone, other = the_room.phones
    screen = devices.page("presenter", storage_state=fac.context.storage_state())
    screen.goto(the_room.workshop.presenter)
    expect(screen.locator("#conn")).to_have_attribute("data-state", "online")

    for page in (phone, screen, fac):
        expect(page.locator("#announcer")).to_have_attribute("aria-live", "polite")
        expect(page.locator("#vote-progress")).to_have_attribute("aria-live", "polite")
        expect(page.locator("#conn")).to_have_attribute("role", "status")
    expect(fac.locator("#phase-live")).to_have_attribute("aria-live", "polite")
    expect(fac.locator("#people-count")).to_have_attribute("aria-live", "polite")

    open_proposals(fac)
    expect(phone.locator("#announcer")).to_have_text("Mål 1. Nu: Förslag")
    expect(fac.locator("#phase-live")).to_have_text("Nu: Förslag")
    first = propose(phone, "Fler nya företag per år")
    publish_all(fac, first)
    open_vote(fac, "ja_nej")
    expect(phone.locator("#announcer")).to_have_text("Mål 1. Nu: Röstning")
    expect(fac.locator("#phase-live")).to_have_text("Nu: Röstning")
    for page in (phone, other, screen, fac):
        expect(page.locator("#vote-progress")).to_have_text("0 av 2 har svarat")
    cast(other, {first: "ja"})
    for page in (phone, other, screen, fac):
        expect(page.locator("#vote-progress")).to_have_text("1 av 2 har svarat")
    reveal(fac)
    expect(phone.locator("#announcer")).to_have_text("Mål 1. Nu: Resultat")
    expect(fac.locator("#phase-live")).to_have_text("Nu: Resultat")

    # Joining and leaving changes the count the facilitator hears.
    expect(fac.locator("#people-count")).to_contain_text("2 röstar")
    late = devices.page("android")
    join(late, the_room.workshop.join)
    expect(fac.locator("#people-count")).to_contain_text("3 röstar")


ANIMATED = """() => {
  const seconds = value => Math.max(...value.split(",").map(part => {
    part = part.trim();
    return part.endsWith("ms") ? parseFloat(part) / 1000 : parseFloat(part) || 0;
  }));
  const moving = [];
  for (const el of document.querySelectorAll("*")) {
    const style = getComputedStyle(el);
    const longest = Math.max(seconds(style.transitionDuration), seconds(style.animationDuration));
    if (longest > 0.01) moving.push((el.className || el.tagName) + ": " + longest + "s");
  }
  return moving;
}"""


def test_motion_respects_reduced_motion(devices: Devices, facilitator: Page) -> None:
    fac = facilitator
    workshop = create_workshop(fac, start=True)
    fac.goto(workshop.console)
    expect(fac.locator("#conn")).to_have_attribute("data-state", "online")
    still = devices.page("iphone", reduced_motion="reduce")
    moving = devices.page("android", reduced_motion="no-preference")
    for phone in (still, moving):
        join(phone, workshop.join)
    open_proposals(fac)
    label = propose(still, "Sjukfrånvaron ska minska")
    publish_all(fac, label)
    open_vote(fac, "ja_nej")
    cast(still, {label: "ja"})
    reveal(fac)
    for phone in (still, moving):
        expect(phone.locator("#results .bar__fill").first).to_be_attached()

    # Without the preference the result bars do animate, so the check below has something to see.
    assert any("bar__fill" in item for item in moving.evaluate(ANIMATED))
    assert still.evaluate(ANIMATED) == []
    duration = still.locator("#results .bar__fill").first.evaluate(
        "el => getComputedStyle(el).transitionDuration"
    )
    assert duration == "0s"
    screen = devices.page("presenter", reduced_motion="reduce")
    screen.context.add_cookies(fac.context.cookies())
    screen.goto(workshop.presenter)
    expect(screen.locator("#results .bar__fill").first).to_be_attached()
    assert screen.evaluate(ANIMATED) == []
