"""Phones on a weak network: losing the connection mid-vote, coming back, reloading a draft."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    Devices,
    ballot_item,
    cast,
    create_workshop,
    join,
    open_proposals,
    open_vote,
    propose,
    publish_all,
    reveal,
)

pytestmark = pytest.mark.browser

# What chromium logs while a page is offline and its socket keeps trying to reconnect.
OFFLINE_ERRORS = (
    r"ERR_INTERNET_DISCONNECTED",
    r"ERR_NETWORK_CHANGED",
    r"WebSocket connection to .* failed",
)
PENDING = "Inte skickad – försöker igen"
PROPOSAL_PENDING = "Inte skickad än – skickas när anslutningen är tillbaka"
SAVED = "Din röst är registrerad – du kan ändra den tills röstningen stängs"


def go_offline(devices: Devices, phone: Page) -> None:
    guard = devices.guard(phone.context)
    for pattern in OFFLINE_ERRORS:
        guard.allow(pattern)
    phone.context.set_offline(True)
    conn = phone.locator("#conn")
    expect(conn).to_have_attribute("data-state", "offline")
    expect(conn).to_have_text("Återansluter…")


def go_online(phone: Page) -> None:
    phone.context.set_offline(False)
    conn = phone.locator("#conn")
    expect(conn).to_have_attribute("data-state", "online")
    expect(conn).to_have_text("Ansluten")


def voting_room(devices: Devices, fac: Page) -> tuple[list[Page], str, str]:
    """Two phones in an open ja/nej vote on two published proposals."""
    workshop = create_workshop(fac, start=True)
    fac.goto(workshop.console)
    expect(fac.locator("#conn")).to_have_attribute("data-state", "online")
    phones = [devices.page("iphone"), devices.page("android")]
    for phone in phones:
        join(phone, workshop.join)
    open_proposals(fac)
    first = propose(phones[0], "Fler företag ska starta i kommunen")
    second = propose(phones[1], "Ett nytt industriområde ska vara planlagt 2020")
    publish_all(fac, first, second)
    open_vote(fac, "ja_nej")
    for phone in phones:
        expect(phone.locator("#vote-progress")).to_have_text("0 av 2 har svarat")
    return phones, first, second


def test_vote_made_offline_is_sent_on_reconnect(devices: Devices, facilitator: Page) -> None:
    fac = facilitator
    (phone, other), first, second = voting_room(devices, fac)

    go_offline(devices, phone)
    ballot_item(phone, first).locator('input[value="ja"]').tap()
    ballot_item(phone, second).locator('input[value="avstar"]').tap()
    expect(phone.locator("#ballot-status")).to_have_text(PENDING)
    for label in (first, second):
        expect(ballot_item(phone, label).locator(".receipt")).to_have_text(PENDING)

    # Meanwhile the room goes on: the other phone votes.
    cast(other, {first: "nej"})
    expect(fac.locator("#vote-progress")).to_have_text("1 av 2 har svarat")
    expect(phone.locator("#vote-progress")).to_have_text("0 av 2 har svarat")  # not told yet

    go_online(phone)
    expect(phone.locator("#ballot-status")).to_have_text(SAVED)
    for label in (first, second):
        expect(ballot_item(phone, label).locator(".receipt")).to_have_text("Registrerad ✓")
    # The phone shows the current state, and its vote counts.
    expect(phone.locator("#vote-progress")).to_have_text("2 av 2 har svarat")
    expect(other.locator("#vote-progress")).to_have_text("2 av 2 har svarat")
    expect(fac.locator("#vote-progress")).to_have_text("2 av 2 har svarat")
    reveal(fac)
    expect(phone.locator("#results .results-text")).to_contain_text(
        "2 röster lämnades", ignore_case=True
    )


def test_phone_catches_up_after_missing_the_reveal(devices: Devices, facilitator: Page) -> None:
    fac = facilitator
    (phone, other), first, _second = voting_room(devices, fac)
    cast(phone, {first: "ja"})

    go_offline(devices, phone)
    cast(other, {first: "ja"})
    reveal(fac)
    expect(other.locator("#sec-resultat")).to_be_visible()
    expect(phone.locator("#sec-rostning")).to_be_visible()  # still the old picture
    expect(phone.locator("#sec-resultat")).to_be_hidden()

    go_online(phone)
    expect(phone.locator("#sec-rostning")).to_be_hidden()
    expect(phone.locator("#sec-resultat")).to_be_visible()
    expect(phone.locator("#phase-badge")).to_have_text("Resultat")
    expect(phone.locator("#results .results-text")).to_contain_text(first)


def test_vote_made_offline_after_the_vote_closed_is_reported(
    devices: Devices, facilitator: Page
) -> None:
    fac = facilitator
    (phone, _other), first, _second = voting_room(devices, fac)

    go_offline(devices, phone)
    ballot_item(phone, first).locator('input[value="ja"]').tap()
    expect(phone.locator("#ballot-status")).to_have_text(PENDING)
    reveal(fac)

    go_online(phone)
    expect(phone.locator("#sec-resultat")).to_be_visible()
    expect(phone.locator("#sec-resultat")).to_contain_text("Din röst skickades inte")
    expect(fac.locator("#vote-progress")).to_have_text("0 av 2 har svarat")


def test_typed_proposal_survives_reload_and_going_offline(
    devices: Devices, facilitator: Page
) -> None:
    fac = facilitator
    workshop = create_workshop(fac, start=True)
    fac.goto(workshop.console)
    expect(fac.locator("#conn")).to_have_attribute("data-state", "online")
    phone = devices.page("iphone")
    join(phone, workshop.join)
    open_proposals(fac)

    form = phone.locator("#proposal-form")
    form.locator('[name="what"]').fill("Sjukfrånvaron ska minska till 6 %")
    form.locator("#pf-more > summary").tap()  # "Fler uppgifter"
    form.locator('[name="indicator"]').fill("Kolada N00090")
    form.locator('[name="target_date"]').fill("2019-12-31")
    form.locator('[name="criteria.matbart"][value="ja"]').check()
    phone.reload()
    expect(phone.locator("#conn")).to_have_attribute("data-state", "online")
    expect(form.locator('[name="what"]')).to_have_value("Sjukfrånvaron ska minska till 6 %")
    expect(form.locator("#pf-more")).to_have_attribute("open", "")  # the draft's extras in sight
    expect(form.locator('[name="indicator"]')).to_have_value("Kolada N00090")
    expect(form.locator('[name="target_date"]')).to_have_value("2019-12-31")
    expect(form.locator('[name="criteria.matbart"][value="ja"]')).to_be_checked()

    # Sent while offline, it waits and goes out once the phone is back, exactly once.
    go_offline(devices, phone)
    phone.locator("#proposal-submit").tap()
    expect(phone.locator("#proposal-status")).to_have_text(PROPOSAL_PENDING)
    go_online(phone)
    expect(phone.locator("#proposal-status")).to_contain_text("Tack! Ditt förslag F1 är skickat")
    expect(form.locator('[name="what"]')).to_have_value("")
    expect(fac.locator("#proposals > li.proposal")).to_have_count(1)
    expect(fac.locator("#prop-F1")).to_contain_text("Sjukfrånvaron ska minska till 6 %")
    expect(phone.locator("#my-proposals")).to_contain_text("Sjukfrånvaron ska minska till 6 %")
    phone.reload()
    expect(phone.locator("#conn")).to_have_attribute("data-state", "online")
    expect(form.locator('[name="what"]')).to_have_value("")
