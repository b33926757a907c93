"""The merge dialog in the console: where two proposals differ the facilitator picks per field
and per criterion, the dialog fits a 1366×768 laptop (scrolling inside), works by keyboard,
has no axe violations, and the merged proposal holds exactly what was picked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from .conftest import Devices, console_ready, create_workshop, open_proposals

pytestmark = pytest.mark.browser

SHOTS = Path("/work/shots/merge")
AXE = Axe()
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
FIRST = {
    "kind": "ambitionsniva",
    "what": "Fler bostäder i centrum",
    "target_value": "100",
    "target_date": "2020-12-31",
    "criteria": {"paverkbart": "ja", "matbart": "ja", "resurser": "nej"},
}
SECOND = {
    "kind": "ambitionsniva",
    "what": "Fler bostäder i centrum",
    "target_value": "90",
    "responsible": "Samhällsbyggnad",
    "criteria": {"paverkbart": "delvis", "matbart": "ja", "resurser": "ja"},
}

# A second facilitator socket in the page (same session cookie): proposals go in and the
# stored state comes out without depending on the console's other forms. It closes only once
# the pushes that follow the write went quiet (longer than PUSH_INTERVAL): closing while the
# threading server sends one races simple-websocket's close reply against that data frame,
# which Chromium reports as "Data frame received after close".
EMIT = """async ([workshop, event, payload]) => {
  const socket = window.io({ auth: { workshop, role: "facilitator" }, forceNew: true });
  let last = Date.now();
  socket.onAny(() => { last = Date.now(); });
  try {
    const ack = await new Promise((resolve) => socket.emit(event, payload, resolve));
    last = Date.now();
    const start = last;
    while (Date.now() - last < 600 && Date.now() - start < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return ack;
  } finally {
    socket.close();
  }
}"""


def emit(page: Page, workshop_id: int, event: str, **payload: Any) -> dict[str, Any]:
    ack = page.evaluate(EMIT, [workshop_id, event, payload])
    assert ack["ok"], ack
    return ack


def violations(page: Page) -> list[str]:
    results = AXE.run(page, options=AXE_OPTIONS)
    return [
        f"{v['id']}: {[' '.join(map(str, n['target'])) for n in v['nodes']][:5]}"
        for v in results.response["violations"]
    ]


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def two_proposals(fac: Page) -> int:
    workshop = create_workshop(fac, start=True)
    console_ready(fac, workshop)
    open_proposals(fac)
    goal_id = emit(fac, workshop.id, "state:get")["state"]["goal"]["id"]
    for n, proposal in enumerate((FIRST, SECOND)):
        emit(
            fac,
            workshop.id,
            "proposal:add",
            goal_id=goal_id,
            client_id=f"merge-test-{n}-0000",
            proposal=proposal,
        )
    expect(fac.locator("#proposals > li.proposal")).to_have_count(2)
    for label in ("F1", "F2"):
        fac.get_by_label(f"Markera {label} för sammanslagning").check()
    return workshop.id


def test_the_merge_form_keeps_what_the_facilitator_picks(devices: Devices) -> None:
    fac = devices.page("desktop")
    workshop_id = two_proposals(fac)
    opener = fac.locator("#merge-start")

    # Keyboard: the dialog opens on its heading and Escape returns to the button.
    opener.focus()
    fac.keyboard.press("Enter")
    dialog = fac.locator("#merge-dialog")
    expect(dialog).to_be_visible()
    expect(fac.locator("#merge-h")).to_be_focused()
    fac.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    opener.click()
    expect(dialog).to_be_visible()
    expect(fac.locator("#merge-sources")).to_have_text("Slår samman F1, F2.")
    expect(fac.locator("#merge-summary")).to_contain_text("5 av 13 fält skiljer sig")
    target = fac.locator("#merge-target_value-row")
    expect(target).to_contain_text("Skiljer sig")
    expect(target.get_by_role("radio", name="100 från F1")).not_to_be_checked()
    expect(target.get_by_role("radio", name="90 från F2")).not_to_be_checked()
    expect(fac.locator("#merge-target_value")).to_have_value("")
    # Agreeing fields are prefilled and say so.
    what = fac.locator("#merge-what-row")
    expect(what).to_contain_text("Lika i alla")
    expect(fac.locator("#merge-what")).to_have_value("Fler bostäder i centrum")
    matbart = fac.locator("#merge-criteria-matbart-row")
    expect(matbart.get_by_role("radio", name="Ja från F1, F2")).to_be_checked()

    # It fits the laptop: the dialog inside the viewport, its body scrolling, Save in view.
    box = dialog.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 768, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, box
    body = fac.locator("#merge-body")
    assert body.evaluate("b => b.scrollHeight > b.clientHeight")
    save = dialog.get_by_role("button", name="Spara det sammanslagna förslaget")
    save_box = save.bounding_box()
    assert save_box["y"] + save_box["height"] <= 768, save_box
    assert violations(fac) == []
    shoot(fac, "01-open-1366x768")

    # Saving before every difference has a choice is refused in the form.
    save.click()
    expect(dialog.locator(".form-error")).to_have_text(
        "Välj ett värde för varje fält som skiljer sig."
    )
    expect(target.locator(".field-error")).to_have_text("Välj ett av värdena eller skriv ett eget.")
    expect(fac.locator("#merge-criteria-resurser-row .field-error")).to_have_text(
        "Välj ett av svaren."
    )
    expect(fac.locator("#merge-target_value-0")).to_be_focused()
    assert violations(fac) == []
    shoot(fac, "02-unchosen-refused")

    # Pick: the second's target, the first's date, the second's criteria, an own responsible.
    target.get_by_role("radio", name="90 från F2").check()
    expect(fac.locator("#merge-target_value")).to_have_value("90")
    expect(target.locator(".field-error")).to_be_hidden()  # the choice answers the error
    fac.locator("#merge-target_date-row").get_by_role("radio", name="2020-12-31 från F1").check()
    for name, answer in (("paverkbart", "Delvis"), ("resurser", "Ja")):
        row = fac.locator(f"#merge-criteria-{name}-row")
        row.get_by_role("radio", name=f"{answer} från F2").check()
    fac.locator("#merge-responsible").fill("Bygg och miljö")
    expect(
        fac.locator("#merge-responsible-row").get_by_role("radio", name="Skriv ett eget värde")
    ).to_be_checked()
    body.evaluate("b => { b.scrollTop = b.scrollHeight; }")
    assert violations(fac) == []
    shoot(fac, "03-picked")
    save.click()
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    merged = fac.locator("#prop-F3")
    expect(merged).to_contain_text("Sammanslaget av")
    expect(merged).to_contain_text("F1")
    expect(merged).to_contain_text("F2")
    expect(fac.locator("#prop-F1")).to_contain_text("Sammanslaget i")
    shoot(fac, "04-merged")

    stored = {p["label"]: p for p in emit(fac, workshop_id, "state:get")["state"]["all_proposals"]}
    assert stored["F3"]["fields"]["target_value"] == "90"
    assert stored["F3"]["fields"]["target_date"] == "2020-12-31"
    assert stored["F3"]["fields"]["responsible"] == "Bygg och miljö"
    assert stored["F3"]["criteria"] == SECOND["criteria"]
    assert stored["F3"]["merged_from"] == ["F1", "F2"]
    assert stored["F1"]["fields"]["target_value"] == "100"  # the sources keep their texts


def test_the_merge_form_reflows_on_a_narrow_window(devices: Devices) -> None:
    fac = devices.page("desktop", viewport={"width": 320, "height": 640})
    two_proposals(fac)
    fac.locator("#merge-start").click()
    dialog = fac.locator("#merge-dialog")
    expect(dialog).to_be_visible()
    widths = dialog.evaluate("d => [d.scrollWidth, d.clientWidth, window.innerWidth]")
    assert widths[0] <= widths[1] and dialog.bounding_box()["width"] <= widths[2], widths
    assert violations(fac) == []
    shoot(fac, "05-open-320x640")
