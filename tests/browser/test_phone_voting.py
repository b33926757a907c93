"""One-tap phones (issue 13, parts 2–4): every answer a large button and a tap is the vote, with a
receipt from the server's acknowledgement; the short proposal form; no lost draft."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    REGISTERED,
    VOTE_SAVED,
    Devices,
    answer,
    ballot_item,
    cast,
    create_workshop,
    join,
    open_proposals,
    open_vote,
    propose,
    publish_all,
    reveal,
    select_goal,
)
from .test_accessibility import Audit, horizontal_overflow
from .test_resilience import go_offline, go_online

pytestmark = pytest.mark.browser

SHOTS = Path("/work/shots/phone")
NOT_SENT = "Inte skickad – försöker igen"
CLOSED_DRAFT = "Förslagen är stängda för det här målet – ditt utkast finns kvar"
TOUCH = 44  # CSS px, WCAG 2.5.5 and the issue

# One ballot per method: the answers for the two proposals (by position).
METHODS: list[tuple[str, list[Any]]] = [
    ("ja_nej", ["ja", "avstar"]),
    ("betyg", ["5", "2"]),
    ("prickar", [2, 1]),
    ("gradering", ["1", "4"]),
    ("kriterier", [{"paverkbart": "ja", "matbart": "delvis", "resurser": "nej"}]),
]
# The answer controls a person taps: each radio's label (the radio covers it) and the dot buttons.
CONTROLS = ".ballot-item .choice.tap label, .ballot-item [data-dots]"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def small_controls(page: Page) -> list[str]:
    """Every answer control smaller than 44×44 CSS px, as "text: w×h"."""
    boxes = page.eval_on_selector_all(
        CONTROLS,
        """nodes => nodes.map(n => {
             const r = n.getBoundingClientRect();
             return [n.textContent.trim() || n.getAttribute('aria-label'), r.width, r.height];
           })""",
    )
    assert boxes, "no answer controls on the ballot"
    return [f"{t}: {w:.0f}×{h:.0f}" for t, w, h in boxes if w < TOUCH or h < TOUCH]


def room(devices: Devices, fac: Page) -> tuple[Any, list[Page]]:
    workshop = create_workshop(fac, start=True)
    fac.goto(workshop.console)
    expect(fac.locator("#conn")).to_have_attribute("data-state", "online")
    phones = [devices.page("iphone"), devices.page("android"), devices.page("narrow")]
    for phone in phones:
        join(phone, workshop.join)
    return workshop, phones


def one_yes_no_ballot(devices: Devices, fac: Page) -> tuple[Page, str]:
    """Three phones in the room, one published proposal (from the Android phone), a ja/nej
    vote open: the iPhone and the proposal's label."""
    _workshop, (iphone, android, _narrow) = room(devices, fac)
    open_proposals(fac)
    label = propose(android, "Fler företag ska starta i kommunen")
    publish_all(fac, label)
    open_vote(fac, "ja_nej")
    return iphone, label


def test_every_method_is_large_taps_and_sends_each_change(
    devices: Devices, facilitator: Page
) -> None:
    fac = facilitator
    _workshop, (iphone, android, narrow) = room(devices, fac)
    audit = Audit()
    for number, (method, answers) in enumerate(METHODS, start=1):
        if number > 1:
            select_goal(fac, number)
        open_proposals(fac)
        labels = [
            propose(iphone, f"Mål {number}: andelen ska öka till 75 %"),
            propose(android, f"Mål {number}: en plan före 30 april"),
        ]
        publish_all(fac, *labels)
        open_vote(fac, method, budget=3 if method == "prickar" else None)
        for phone, size in ((iphone, "390"), (android, "360"), (narrow, "320")):
            expect(ballot_item(phone, labels[0])).to_be_visible()
            assert small_controls(phone) == [], (method, size)
            assert horizontal_overflow(phone) <= int(size), (method, size)
        assert iphone.locator("#ballot-submit").count() == 0  # no separate submit button
        shot(iphone, f"{method}-390x844")
        shot(android, f"{method}-360x800")
        audit.check(iphone, f"phone, {method} ballot")

        cast(iphone, dict(zip(labels, answers, strict=False)))
        expect(fac.locator("#vote-progress")).to_have_text("1 av 3 har svarat")
        shot(iphone, f"{method}-receipt-390x844")
        audit.check(iphone, f"phone, {method} voted with receipts")
        # A change is just another tap (another revision), not a second ballot.
        first = ballot_item(iphone, labels[0])
        if method == "prickar":
            first.locator("[data-dots=minus]").tap()
            expect(iphone.locator("#budget")).to_have_text("1 av 3 poäng kvar")
        elif method == "kriterier":
            answer(iphone, labels[0], {"resurser": "ja"})
        else:
            other = {"ja_nej": "nej", "betyg": "3", "gradering": "2"}[method]
            answer(iphone, labels[0], other)
            expect(first.locator(f'input[value="{other}"]')).to_be_checked()
        expect(first.locator(".receipt")).to_have_text(REGISTERED)
        expect(iphone.locator("#ballot-status")).to_have_text(VOTE_SAVED)
        expect(fac.locator("#vote-progress")).to_have_text("1 av 3 har svarat")
        if method == "kriterier":
            # Two of three criteria: nothing is sent for that proposal yet.
            second = ballot_item(android, labels[0])
            answer(android, labels[0], {"paverkbart": "ja", "matbart": "nej"})
            expect(second.locator(".receipt")).to_have_text("")
            expect(fac.locator("#vote-progress")).to_have_text("1 av 3 har svarat")
            answer(android, labels[0], {"resurser": "delvis"})
            expect(second.locator(".receipt")).to_have_text(REGISTERED)
            expect(fac.locator("#vote-progress")).to_have_text("2 av 3 har svarat")
        reveal(fac)
        expect(iphone.locator("#sec-resultat")).to_be_visible()
    audit.assert_clean()


def test_a_yes_no_vote_is_one_tap_and_the_receipt_follows_the_ack(
    devices: Devices, facilitator: Page
) -> None:
    fac = facilitator
    iphone, label = one_yes_no_ballot(devices, fac)
    item = ballot_item(iphone, label)
    expect(item.locator(".receipt")).to_have_text("")
    taps = iphone.evaluate(
        """() => { window.__taps = 0;
                   document.addEventListener('pointerup', () => { window.__taps += 1; }, true);
                   return window.__taps; }"""
    )
    item.locator('input[value="ja"]').tap()
    expect(item.locator(".receipt")).to_have_text(REGISTERED)
    expect(fac.locator("#vote-progress")).to_have_text("1 av 3 har svarat")
    taps = iphone.evaluate("() => window.__taps")
    assert taps == 1
    expect(item.locator('input[value="ja"]')).to_be_checked()
    label_box = item.locator('label[for$="-ja"]')
    colors = label_box.evaluate("n => getComputedStyle(n).backgroundColor")
    assert colors != "rgb(255, 255, 255)"  # the chosen answer is highlighted

    # Offline: the change waits, says so, and goes out once on reconnect.
    go_offline(devices, iphone)
    item.locator('input[value="nej"]').tap()
    expect(item.locator(".receipt")).to_have_text(NOT_SENT)
    expect(iphone.locator("#ballot-status")).to_have_text(NOT_SENT)
    shot(iphone, "offline-390x844")
    audit = Audit()
    audit.check(iphone, "phone, vote not sent (offline)")
    go_online(iphone)
    expect(item.locator(".receipt")).to_have_text(REGISTERED)
    expect(fac.locator("#vote-progress")).to_have_text("1 av 3 har svarat")
    reveal(fac)
    # Exactly one ballot, holding the change made offline.
    expect(iphone.locator("#results .results-text")).to_contain_text("1 röster lämnades")
    expect(iphone.locator("#results")).to_contain_text("Nej")
    audit.assert_clean()


def form_height(page: Page) -> float:
    return page.locator("#proposal-form").evaluate("n => n.getBoundingClientRect().height")


def test_proposal_form_required_part_fits_two_screens(devices: Devices, facilitator: Page) -> None:
    fac = facilitator
    workshop = create_workshop(fac, start=True)
    fac.goto(workshop.console)
    expect(fac.locator("#conn")).to_have_attribute("data-state", "online")
    open_proposals(fac)
    phone = devices.page("iphone")
    join(phone, workshop.join)
    expect(phone.locator("#sec-forslag")).to_be_visible()
    more = phone.locator("#pf-more")
    expect(more).not_to_have_attribute("open", "")
    expect(phone.locator("#pf-what")).to_be_visible()
    expect(phone.locator("#pf-target_value")).to_be_visible()
    expect(phone.locator("#pf-target_date")).to_be_visible()
    expect(phone.locator("#pf-indicator")).to_be_hidden()
    expect(phone.locator("#pf-criteria-matbart-ja")).to_be_hidden()
    collapsed = form_height(phone)
    print(f"proposal form, required part: {collapsed:.0f} px at 390×844")
    assert collapsed <= 2 * 844
    shot(phone, "form-collapsed-390x844")
    audit = Audit()
    audit.check(phone, "phone, short proposal form")

    more.locator("> summary").tap()
    expect(phone.locator("#pf-indicator")).to_be_visible()
    phone.locator("#pf-indicator").fill("Kolada N00090")
    phone.locator('[name="criteria.matbart"][value="ja"]').check()
    expanded = form_height(phone)
    print(f"proposal form, with Fler uppgifter open: {expanded:.0f} px")
    shot(phone, "form-expanded-390x844")
    audit.check(phone, "phone, proposal form with Fler uppgifter")
    # The extras are kept in the draft: a reload brings them back, open.
    phone.reload()
    expect(phone.locator("#conn")).to_have_attribute("data-state", "online")
    expect(more).to_have_attribute("open", "")
    expect(phone.locator("#pf-indicator")).to_have_value("Kolada N00090")

    phone.locator('#proposal-form [name="kind"][value="inriktningsmal"]').check()
    more.locator("> summary").tap()
    expect(more).not_to_have_attribute("open", "")
    direction = form_height(phone)
    print(f"proposal form, inriktningsmål: {direction:.0f} px")
    assert direction <= 844 * 1.5
    expect(phone.locator("#pf-what")).to_be_hidden()
    shot(phone, "form-inriktningsmal-390x844")
    audit.assert_clean()


def test_a_draft_typed_while_proposals_close_is_kept_and_can_be_parked(
    devices: Devices, facilitator: Page
) -> None:
    fac = facilitator
    workshop, (iphone, android, _narrow) = room(devices, fac)
    open_proposals(fac)
    label = propose(android, "Fler företag ska starta i kommunen")
    publish_all(fac, label)
    typing = fac.locator("#typing-count")
    expect(typing).to_be_hidden()
    draft = "Ett nytt industriområde ska vara planlagt"
    iphone.locator("#pf-what").press_sequentially(draft)
    expect(typing).to_have_text("1 skriver ett förslag")  # a count, never who
    open_vote(fac, "ja_nej")
    expect(typing).to_be_hidden()  # proposals are closed: nobody is counted

    box = iphone.locator("#draft-kept")
    expect(box).to_be_visible()
    expect(box).to_contain_text(CLOSED_DRAFT)
    expect(iphone.locator("#draft-kept-text")).to_have_text(draft)
    expect(ballot_item(iphone, label)).to_be_visible()
    shot(iphone, "draft-kept-390x844")
    audit = Audit()
    audit.check(iphone, "phone, draft kept after proposals closed")
    assert horizontal_overflow(_narrow) <= 320
    # Keeping it survives a reload too; sending it parks it for the facilitator.
    iphone.reload()
    expect(iphone.locator("#conn")).to_have_attribute("data-state", "online")
    expect(iphone.locator("#draft-kept-text")).to_have_text(draft)
    iphone.get_by_role("button", name="Skicka till frågor att ta vidare").tap()
    expect(iphone.locator("#draft-kept-status")).to_have_text(
        "Utkastet ligger nu bland frågorna att ta vidare. Tack!"
    )
    expect(iphone.get_by_role("button", name="Skicka till frågor att ta vidare")).to_be_hidden()
    shot(iphone, "draft-parked-390x844")
    audit.check(iphone, "phone, draft parked")
    expect(fac.locator("#parking")).to_contain_text(draft)
    expect(fac.locator("#parking li")).to_have_count(1)
    cast(iphone, {label: "ja"})  # the ballot still works next to it
    summary = fac.context.new_page()
    summary.goto(workshop.summary)
    expect(summary.locator("body")).to_contain_text(draft)
    audit.assert_clean()


def test_keeping_a_draft_brings_it_back_when_proposals_reopen(
    devices: Devices, facilitator: Page
) -> None:
    fac = facilitator
    _workshop, (iphone, android, _narrow) = room(devices, fac)
    open_proposals(fac)
    label = propose(android, "Fler företag ska starta i kommunen")
    publish_all(fac, label)
    iphone.locator("#pf-what").fill("Halvskrivet förslag")
    open_vote(fac, "ja_nej")
    iphone.get_by_role("button", name="Behåll utkastet").tap()
    expect(iphone.locator("#draft-kept-status")).to_have_text(
        "Utkastet finns kvar i formuläret om förslagen öppnas igen."
    )
    expect(iphone.get_by_role("button", name="Behåll utkastet")).to_be_hidden()
    expect(fac.locator("#parking")).not_to_contain_text("Halvskrivet")
    shot(iphone, "draft-kept-chosen-360x800")


def test_a_browser_that_lost_its_secret_follows_but_cannot_vote_twice(
    devices: Devices, facilitator: Page
) -> None:
    """Cleared storage, cookie kept (the same person): the phone's new secret is not bound to
    the person, so a tap is refused with a message saying why; the first ballot stays."""
    fac = facilitator
    iphone, label = one_yes_no_ballot(devices, fac)
    item = ballot_item(iphone, label)
    item.locator('input[value="ja"]').tap()
    expect(item.locator(".receipt")).to_have_text(REGISTERED)
    expect(fac.locator("#vote-progress")).to_have_text("1 av 3 har svarat")

    iphone.evaluate("() => localStorage.clear()")
    iphone.reload()
    item = ballot_item(iphone, label)
    expect(item).to_be_visible()
    item.locator('input[value="nej"]').tap()
    alert = iphone.locator("#ballot-form [role=alert], #ballot-form .error").first
    expect(alert).to_contain_text("Du kan inte rösta härifrån")
    expect(item.locator(".receipt")).not_to_have_text(REGISTERED)
    shot(iphone, "other-device-390x844")
    audit = Audit()
    audit.check(iphone, "phone, vote refused: another browser's secret")
    expect(fac.locator("#vote-progress")).to_have_text("1 av 3 har svarat")
    reveal(fac)
    expect(iphone.locator("#results .results-text")).to_contain_text("1 röster lämnades")
    expect(iphone.locator("#results")).to_contain_text("Ja")
    audit.assert_clean()
