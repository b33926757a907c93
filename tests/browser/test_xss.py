"""Hostile text from a participant stays text on every page: phone, projector, console, summary.

The payloads would set ``window.__xss`` if any page put them into the DOM as markup (innerHTML,
an attribute, a link). They go in as a named-mode display name and as proposal fields, then
every page that shows them is checked: the flag is unset and the text appears literally.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    Devices,
    create_workshop,
    join,
    open_proposals,
    open_vote,
    propose,
    publish_all,
    record_decision,
    reveal,
)

pytestmark = pytest.mark.browser

NAME = "<img src=x onerror=window.__xss=1>"
WHAT = "<script>window.__xss=1</script> minst 200 bostäder"
INDICATOR = '"><svg onload=window.__xss=1>'
RESOURCES = "javascript:window.__xss=1"
RESPONSIBLE = '<a href="javascript:window.__xss=1">klicka</a>'
DECISION = "<iframe srcdoc='<script>parent.__xss=1</script>'></iframe> beslut"
PAYLOADS = (NAME, WHAT, INDICATOR, RESOURCES, RESPONSIBLE)


def assert_inert(page: Page, *texts: str) -> None:
    """No payload ran, none became an element or a javascript: link, and each shows as text."""
    page.wait_for_timeout(300)  # let onerror/onload handlers of any injected element fire
    assert page.evaluate("window.__xss") is None, page.url
    assert page.locator('a[href^="javascript:"]').count() == 0, page.url
    assert page.locator("img[src=x], svg[onload], iframe[srcdoc]").count() == 0, page.url
    for text in texts:
        expect(page.locator("body")).to_contain_text(text)


def test_participant_text_is_never_markup(devices: Devices, facilitator: Page) -> None:
    fac = facilitator
    workshop = create_workshop(fac, named=True, start=True)
    phone = devices.page("iphone")
    join(phone, workshop.join, name=NAME)

    fac.goto(workshop.console)
    expect(fac.locator("#conn")).to_have_attribute("data-state", "online")
    open_proposals(fac)
    label = propose(phone, WHAT, indicator=INDICATOR, resources=RESOURCES, responsible=RESPONSIBLE)
    publish_all(fac, label)
    assert_inert(fac, NAME, WHAT, INDICATOR, RESOURCES, RESPONSIBLE)
    assert_inert(phone, WHAT, INDICATOR, RESOURCES, RESPONSIBLE)

    projector = fac.context.new_page()
    projector.goto(workshop.presenter)
    assert_inert(projector, WHAT)

    # The console's decision form appears at the decision step (Resultat) only.
    open_vote(fac, "ja_nej")
    reveal(fac)
    record_decision(fac, label, DECISION)
    assert_inert(fac, DECISION)
    expect(phone.locator("body")).to_contain_text(DECISION)
    assert_inert(phone, DECISION)
    expect(projector.locator("body")).to_contain_text(DECISION)
    assert_inert(projector, DECISION)

    fac.goto(workshop.summary)
    fac.locator("details").first.evaluate("node => { node.open = true; }")
    assert_inert(fac, WHAT, INDICATOR, RESOURCES, DECISION)
    for payload in PAYLOADS:
        assert payload in fac.locator("body").inner_text() or payload == NAME
