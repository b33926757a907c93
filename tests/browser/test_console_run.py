"""The console's run view (issue 13, part 5): one primary button names the next step, a goal's
plain path takes at most five clicks, and the page never scrolls on a laptop screen.

The facilitator's clicks are counted twice: by the test (every click it makes) and by the page
(every trusted click the console receives), so a helper that clicks behind the test's back is
caught as well.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    Devices,
    cast,
    console_ready,
    create_workshop,
    current_phase,
    join,
    proposal_card,
    propose,
    record_decision,
)
from .test_accessibility import Audit, focus_is_visible, press_until

pytestmark = pytest.mark.browser

SHOTS = Path("/work/shots/console")
LAPTOPS = ({"width": 1366, "height": 768}, {"width": 1280, "height": 720})

COUNT_CLICKS = """() => {
  window.mvClicks = 0;
  document.addEventListener("click", (event) => {
    if (event.isTrusted) window.mvClicks += 1;
  }, true);
}"""


def overflow(page: Page) -> dict[str, int]:
    return page.evaluate(
        """() => ({
          scrollHeight: document.documentElement.scrollHeight, innerHeight,
          scrollWidth: document.documentElement.scrollWidth, innerWidth,
        })"""
    )


BELOW = """() => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().bottom + scrollY > innerHeight + 1)
  .filter((el) => !el.parentElement.closest(".console-col, .run-panel"))
  .slice(0, 5).map((el) => el.tagName + "#" + el.id + "." + el.className + " "
    + Math.round(el.getBoundingClientRect().bottom + scrollY))"""


def below(page: Page) -> list[str]:
    """The outermost elements reaching below the window, to say why a page scrolls."""
    return page.evaluate(BELOW)


def in_view(page: Page, selector: str) -> bool:
    """The element's whole box lies inside the window (not merely somewhere on the page)."""
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert size is not None
    return (
        box is not None
        and box["width"] > 0
        and box["y"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] + box["width"] <= size["width"]
    )


class Run:
    """The facilitator's side of the test: clicks the primary button and checks each step."""

    def __init__(self, fac: Page, audit: Audit, problems: list[str]) -> None:
        self.fac = fac
        self.audit = audit
        self.problems = problems
        self.clicks = 0

    def press(self, text: str) -> None:
        button = self.fac.locator("#next-step")
        expect(button).to_have_text(text)
        button.click()
        self.clicks += 1

    def check(self, step: str, primary: str | None) -> None:
        """At every laptop size: no page scroll, the counts and the primary button in view."""
        fac = self.fac
        if primary is not None:
            expect(fac.locator("#next-step")).to_have_text(primary)
            expect(fac.locator("#next-step")).to_have_class(
                "button button--primary run-next__button"
            )
        self.audit.check(fac, f"console run, {step}")
        SHOTS.mkdir(parents=True, exist_ok=True)
        for size in LAPTOPS:
            fac.set_viewport_size(size)
            measured = overflow(fac)
            label = f"{step} at {size['width']}×{size['height']}"
            if measured["scrollHeight"] > measured["innerHeight"]:
                self.problems.append(f"{label}: page scrolls, {measured}, {below(fac)}")
            if measured["scrollWidth"] > measured["innerWidth"]:
                self.problems.append(f"{label}: page scrolls sideways, {measured}")
            for selector in ("#online-count", "#next-step" if primary else "#phase-steps"):
                if not in_view(fac, selector):
                    self.problems.append(f"{label}: {selector} is not in view")
            fac.screenshot(path=str(SHOTS / f"{step}-{size['width']}x{size['height']}.png"))
        fac.set_viewport_size(LAPTOPS[0])


def test_plain_path_of_a_goal_takes_five_clicks_and_never_scrolls(
    devices: Devices, facilitator: Page
) -> None:
    fac = facilitator
    workshop = create_workshop(fac, start=True)
    console_ready(fac, workshop)
    phones = [devices.page("iphone"), devices.page("android")]
    for phone in phones:
        join(phone, workshop.join)
    # A phone's connect pushes, so the console counts both before anything else happens.
    expect(fac.locator("#online-count")).to_contain_text("2 anslutna")
    fac.evaluate(COUNT_CLICKS)
    audit, problems = Audit(), []
    run = Run(fac, audit, problems)
    decision = fac.locator("#decision-form")

    # Not started: the next step opens the goal for proposals.
    expect(fac.locator("#goal-box [data-goal=number]")).to_have_text("Mål 1")
    run.check("1-not-started", "Öppna för förslag")
    expect(decision).to_be_hidden()
    run.press("Öppna för förslag")
    current_phase(fac, "forslag")
    expect(fac.locator("#online-count")).to_have_text("2 anslutna · 2 kan rösta")

    # Förslag: two phones propose; the method is chosen beside the button.
    first = propose(phones[0], "Sjukfrånvaron ska minska till 6 % år 2022", indicator="Kolada")
    second = propose(phones[1], "Alla förvaltningar har en plan för arbetsmiljön före 30 april")
    third = propose(phones[0], "Medarbetarenkäten visar ökad trivsel varje år")
    for label in (first, second, third):
        expect(proposal_card(fac, label)).to_be_visible()
        expect(proposal_card(fac, label).locator(".badge--published")).to_have_count(0)
    expect(fac.locator("#vote-method")).to_be_visible()
    expect(fac.locator("#vote-method")).to_have_value("ja_nej")
    expect(fac.locator("#dot-budget")).to_be_hidden()
    fac.locator("#vote-method").select_option("prickar")
    expect(fac.locator("#dot-budget")).to_be_visible()
    fac.locator("#vote-method").select_option("ja_nej")  # choices, not clicks: not counted
    expect(decision).to_be_hidden()
    run.check("2-proposals", "Publicera och öppna röstningen")

    # One press publishes all three and opens the vote.
    run.press("Publicera och öppna röstningen")
    current_phase(fac, "rostning")
    for label in (first, second, third):
        expect(proposal_card(fac, label).locator(".badge--published")).to_be_visible()
    for phone in phones:
        cast(phone, {first: "ja", second: "nej", third: "nej"})
    expect(fac.locator(".run-counts")).to_contain_text("2 anslutna · 2 av 2 har svarat")
    expect(decision).to_be_hidden()
    expect(fac.locator("#vote-method")).to_be_hidden()
    run.check("3-voting", "Stäng och visa resultatet")

    # Resultat: the decision form appears, prefilled from the leading proposal.
    run.press("Stäng och visa resultatet")
    current_phase(fac, "resultat")
    expect(decision).to_be_visible()
    expect(fac.locator("#decision-proposal")).to_have_value(
        proposal_card(fac, first).get_attribute("data-id") or ""
    )
    expect(fac.locator("#df-what")).to_have_value("Sjukfrånvaron ska minska till 6 % år 2022")
    run.check("4-results", "Spara beslut")

    run.press("Spara beslut")
    current_phase(fac, "beslut")
    expect(fac.locator("#decision-current")).to_contain_text("Sjukfrånvaron ska minska till 6 %")
    expect(decision).to_be_hidden()
    expect(fac.locator("#decision-amend")).to_be_visible()
    run.check("5-decided", "Nästa mål")

    run.press("Nästa mål")
    expect(fac.locator("#goal-box [data-goal=number]")).to_have_text("Mål 2")
    expect(fac.locator("#next-step")).to_have_text("Öppna för förslag")
    expect(fac.locator("#agenda")).to_contain_text("beslut sparat")

    # Five clicks on the plain path, counted by the test and by the page.
    assert run.clicks == 5
    assert fac.evaluate("() => window.mvClicks") == run.clicks
    assert not problems, "\n".join(problems)

    # Back at goal 1 (K), the saved decision can still be changed, one click away.
    fac.locator("#agenda-h").click()
    fac.keyboard.press("k")
    expect(fac.locator("#goal-box [data-goal=number]")).to_have_text("Mål 1")
    expect(fac.locator("#next-step")).to_have_text("Nästa mål")
    expect(decision).to_be_hidden()
    record_decision(fac, None, "Sjukfrånvaron ska minska till 5,5 % år 2022")
    current_phase(fac, "beslut")
    expect(fac.locator("#decision-current")).to_contain_text("5,5 %")
    audit.check(fac, "console run, decision changed")
    audit.assert_clean()


def test_shortcuts_work_but_not_while_typing(devices: Devices, facilitator: Page) -> None:
    fac = facilitator
    workshop = create_workshop(fac, start=True)
    console_ready(fac, workshop)
    phone = devices.page("iphone")
    join(phone, workshop.join)
    expect(fac.locator("#shortcuts")).to_contain_text("nästa steg")
    number = fac.locator("#goal-box [data-goal=number]")
    expect(number).to_have_text("Mål 1")

    # Typing in a field, or with a modifier key, fires nothing.
    parking = fac.locator("#parking-text")
    parking.click()
    parking.press_sequentially("njkp")
    parking.press("ArrowRight")
    expect(parking).to_have_value("njkp")
    fac.locator("#vote-method").focus()
    fac.keyboard.press("n")
    fac.locator("#timer-minutes").focus()
    fac.keyboard.press("j")
    fac.locator("#next-step").focus()
    fac.keyboard.press("Control+ArrowRight")
    fac.keyboard.press("Alt+n")
    expect(number).to_have_text("Mål 1")
    expect(fac.locator("#next-step")).to_have_text("Öppna för förslag")
    assert len(fac.context.pages) == 1

    # Outside a field they do what the page says.
    fac.locator("#agenda-h").click()
    fac.keyboard.press("n")
    current_phase(fac, "forslag")
    fac.keyboard.press("j")
    expect(number).to_have_text("Mål 2")
    fac.keyboard.press("ArrowRight")
    expect(number).to_have_text("Mål 3")
    fac.keyboard.press("k")
    expect(number).to_have_text("Mål 2")
    fac.keyboard.press("ArrowLeft")
    expect(number).to_have_text("Mål 1")
    with fac.context.expect_page() as opened:
        fac.keyboard.press("p")
    assert opened.value.url.endswith(f"/f/{workshop.id}/skarm")
    opened.value.close()

    # Many proposals scroll inside their own panel, never the page. Two phones: one phone may
    # make at most 5 proposals per goal (PROPOSALS_PER_PHONE_GOAL).
    other = devices.page("android")
    join(other, workshop.join)
    for i in range(8):
        propose((phone, other)[i % 2], f"Förslag nummer {i + 1}: " + "en längre motivering " * 8)
    expect(fac.locator("#proposals > li.proposal")).to_have_count(8)
    panel = fac.locator("#proposals-section")
    sizes = panel.evaluate("el => [el.scrollHeight, el.clientHeight]")
    assert sizes[0] > sizes[1], sizes
    measured = overflow(fac)
    assert measured["scrollHeight"] <= measured["innerHeight"], measured
    SHOTS.mkdir(parents=True, exist_ok=True)
    fac.screenshot(path=str(SHOTS / "2-proposals-many-1366x768.png"))
    audit = Audit()
    audit.check(fac, "console run, eight proposals")
    audit.assert_clean()


def test_the_next_step_is_reachable_by_keyboard(devices: Devices, facilitator: Page) -> None:
    fac = facilitator
    workshop = create_workshop(fac, start=True)
    console_ready(fac, workshop)
    fac.locator("body").evaluate("el => el.focus()")
    press_until(fac, "Tab", "#next-step")
    assert focus_is_visible(fac)
    assert in_view(fac, "#next-step")
    fac.keyboard.press("Enter")
    current_phase(fac, "forslag")
    # The method choice sits right before the button: reachable backwards too.
    expect(fac.locator("#next-step")).to_have_text("Publicera och öppna röstningen")
    expect(fac.locator("#next-step")).to_be_focused()
    press_until(fac, "Shift+Tab", "#vote-method")
    press_until(fac, "Tab", "#proposals-section button, #proposals-section summary")
