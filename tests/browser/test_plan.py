"""The time plan in the browser: 90 minutes split over the eight goals on the console, a goal's
own minutes, the warnings, refused input, and the current goal's time left on the presenter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import Devices, console_ready, create_workshop
from .test_accessibility import Audit, horizontal_overflow

pytestmark = pytest.mark.browser

SHOTS = Path("/work/shots/plan")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def minutes_left(node: Locator) -> int:
    """The whole minutes the presenter says are left ("Målets tid: 11 min kvar")."""
    found = re.fullmatch(r"Målets tid: (\d+) min kvar", node.inner_text().strip())
    assert found, node.inner_text()
    return int(found.group(1))


# Goal 1 has been current (and using time) since the start: its used minutes are whatever the
# run took, so the lines are matched for the planned minutes, and used ones only as numbers.
def line_for(goal_planned: int, total_used: str = r"\d+") -> re.Pattern[str]:
    return re.compile(rf"Tid: {total_used} av 90 min · Mål 1: \d+ av {goal_planned} min")


def save(fac: Page) -> None:
    fac.get_by_role("button", name="Spara tidsplanen").click()


def test_ninety_minutes_are_split_and_the_presenter_shows_the_time_left(
    devices: Devices, facilitator: Page
) -> None:
    fac = facilitator
    workshop = create_workshop(fac, start=True)
    console_ready(fac, workshop)
    line = fac.locator("#plan-line")
    expect(line).to_have_text("Tid: ingen tidsplan")
    expect(fac.locator("#plan-editor")).to_be_hidden()
    shot(fac, "console-no-plan-1366")

    audit = Audit()
    toggle = fac.get_by_role("button", name="Tidsplan", exact=True)
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(fac.get_by_label("Tid för hela dialogen (minuter)")).to_be_focused()
    audit.check(fac, "editor open, no plan")

    fac.get_by_label("Tid för hela dialogen (minuter)").fill("90")
    save(fac)
    # 90 min over 8 goals: 11¼ min each, shown rounded.
    expect(line).to_have_text(line_for(11))
    expect(fac.locator("#plan-goals tr")).to_have_count(8)
    expect(fac.locator("#plan-goals .hint")).to_have_text(["jämn fördelning: 11 min"] * 8)
    audit.check(fac, "editor with 90 minutes")
    shot(fac, "console-90-min-1366")

    # The presenter (a projector in the same logged-in browser) shows the goal's time left.
    screen = fac.context.new_page()
    screen.set_viewport_size({"width": 1920, "height": 1080})
    screen.goto(workshop.presenter)
    goal_time = screen.locator("#goal-time")
    expect(goal_time).to_have_text(re.compile(r"Målets tid: \d+ min kvar"))
    assert 8 <= minutes_left(goal_time) <= 12  # 675 s planned, less what the run took
    box = goal_time.bounding_box()
    assert box is not None and box["width"] > 0 and box["y"] + box["height"] <= 1080
    shot(screen, "presenter-goal-time-1920")

    # Goal 2 gets 20 minutes of its own: the other seven share the 70 left, 10 each.
    fac.get_by_label("Mål 2", exact=True).fill("20")
    save(fac)
    expect(line).to_have_text(line_for(10))
    hints = fac.locator("#plan-goals .hint")
    expect(hints).to_have_text(["jämn fördelning: 10 min", ""] + ["jämn fördelning: 10 min"] * 6)
    expect(goal_time).not_to_have_text(re.compile(r" (1[1-9]|[2-9]\d) min kvar"))
    assert 6 <= minutes_left(goal_time) <= 10  # 600 s planned now

    # Bad input is refused with the reason, and nothing changes.
    fac.get_by_label("Tid för hela dialogen (minuter)").fill("2000")
    save(fac)
    error = fac.locator("#plan-error")
    expect(error).to_have_text("Ange ett helt antal minuter mellan 1 och 1440.")
    expect(line).to_have_text(line_for(10))
    audit.check(fac, "editor with a refused total")
    shot(fac, "console-refused-1366")

    # The rest no longer fits: goal 2's 20 minutes plus even shares cannot fit in 15.
    fac.get_by_label("Tid för hela dialogen (minuter)").fill("15")
    save(fac)
    expect(error).to_be_hidden()
    warn = fac.locator("#plan-warn")
    expect(warn).to_contain_text("Resten får inte plats")
    # The current goal without time runs over as soon as a second passes.
    fac.get_by_label("Mål 1", exact=True).fill("0")
    save(fac)
    expect(warn).to_contain_text("Mål 1 har gått över sin tid med 1 min.")
    expect(line).to_have_attribute("data-state", "over")
    expect(goal_time).to_have_text("Målets tid: 1 min över")
    audit.check(fac, "editor with warnings")
    shot(fac, "console-warnings-1366")
    shot(screen, "presenter-over-1920")

    # Removing the plan empties the line and hides the presenter's element.
    fac.get_by_role("button", name="Ta bort tidsplanen").click()
    expect(line).to_have_text("Tid: ingen tidsplan")
    expect(warn).to_have_text("")
    expect(goal_time).to_be_hidden()
    audit.assert_clean()


def test_the_editor_reflows_at_320_px(devices: Devices, facilitator: Page) -> None:
    fac = facilitator
    workshop = create_workshop(fac, start=True)
    fac.set_viewport_size({"width": 320, "height": 640})
    console_ready(fac, workshop)
    fac.get_by_role("button", name="Tidsplan", exact=True).click()
    fac.get_by_label("Tid för hela dialogen (minuter)").fill("90")
    fac.get_by_label("Tid för hela dialogen (minuter)").press("Enter")  # the keyboard saves
    expect(fac.locator("#plan-line")).to_have_text(line_for(11))
    assert horizontal_overflow(fac) <= 320  # the page's scrollWidth
    shot(fac, "console-editor-320")
