"""A whole dialogue in real browsers: a laptop console, a projector and three phones.

The phones find the dialogue the way people in the room do: by the QR code on the projector,
decoded here from a screenshot of the presenter page.
"""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from .conftest import (
    Devices,
    Server,
    ballot_item,
    cast,
    create_workshop,
    join,
    open_proposals,
    open_vote,
    proposal_card,
    propose,
    publish_all,
    record_decision,
    reveal,
    select_goal,
)

pytestmark = pytest.mark.browser

GOAL_1_DECISION = "Minst 200 nya bostäder per år 2019–2022, varav 50 hyresrätter"
GOAL_2_DECISION = "Minst 150 praktikplatser per år i kommunens verksamheter till 2022"


def scan_qr(screen: Page) -> list[str]:
    """Decode every QR code in a screenshot of the page, like a phone camera would."""
    image = Image.open(io.BytesIO(screen.screenshot()))
    return [result.text for result in zxingcpp.read_barcodes(image)]


def expect_answered(pages: list[Page], answered: int, total: int) -> None:
    for page in pages:
        expect(page.locator("#vote-progress")).to_have_text(f"{answered} av {total} har svarat")


def expect_no_results(phones: list[Page], *, first_round: bool = False) -> None:
    """Before the reveal a phone shows no results region (and, in the first round, its DOM
    holds no tally at all; later it may keep an earlier goal's revealed results, hidden)."""
    for phone in phones:
        expect(phone.locator("#sec-resultat")).to_be_hidden()
        if first_round:
            expect(phone.locator("#results > *")).to_have_count(0)


def expect_results(phones: list[Page], *labels: str) -> None:
    for phone in phones:
        expect(phone.locator("#sec-resultat")).to_be_visible()
        expect(phone.locator("#results .results")).to_be_visible()
        for label in labels:
            expect(phone.locator("#results .results-text")).to_contain_text(label)


def docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def test_dialogue_with_phones_projector_and_console(
    devices: Devices, facilitator: Page, server: Server, tmp_path: Path
) -> None:
    fac = facilitator
    workshop = create_workshop(fac)

    # --- The projector shows the lobby with the QR code; the phones scan it -----------------
    screen = devices.page("presenter", storage_state=fac.context.storage_state())
    screen.goto(workshop.presenter)
    expect(screen.locator("#conn")).to_have_attribute("data-state", "online")
    expect(screen.locator("#screen-message")).to_have_text(
        "Dialogen börjar snart. Gå med redan nu!"
    )
    screen.wait_for_function(
        "() => { const img = document.querySelector('.screen-join__qr');"
        " return img.complete && img.naturalWidth > 0; }"
    )
    join_url = f"{server.url}{workshop.join}"
    assert scan_qr(screen) == [join_url]

    phones = [devices.page("iphone"), devices.page("iphone"), devices.page("android")]
    anna, bertil, cecilia = phones
    for phone in phones:
        join(phone, scan_qr(screen)[0])
        expect(phone.locator("#waiting-msg")).to_contain_text("har inte startat dialogen")
        expect(phone.locator("#mode-notice")).to_contain_text("Anonym åsiktsmätning")

    # --- The facilitator starts; goal 1 opens for proposals ---------------------------------
    fac.goto(workshop.console)
    expect(fac.locator("#conn")).to_have_attribute("data-state", "online")
    expect(fac.locator("#people-count")).to_contain_text("3 röstar")
    fac.locator("#ws-start").click()
    expect(fac.locator("#goal-box [data-goal=number]")).to_have_text("Mål 1")
    for phone in phones:
        expect(phone.locator("#waiting-msg")).to_contain_text("har inte öppnat det här målet")
    open_proposals(fac)
    for phone in phones:
        expect(phone.locator("#sec-forslag")).to_be_visible()
        expect(phone.locator("#goal-title")).to_contain_text("Hållbar tillväxt")
    expect(screen.locator("#screen-title")).to_contain_text("1. Hållbar tillväxt")

    f_housing = propose(
        anna,
        "Minst 200 nya bostäder per år 2019–2022",
        indicator="Antal färdigställda bostäder (SCB)",
        target_value="200 per år",
        target_date="2022-12-31",
    )
    f_parking = propose(bertil, "Pendelparkering vid stationen i Skillingaryd senast 2020")
    f_duplicate = propose(cecilia, "200 nya bostäder varje år")
    # Nothing reaches the phones or the projector before the facilitator publishes it.
    expect(fac.locator("#proposals > li.proposal")).to_have_count(3)
    expect(anna.locator("#published")).to_contain_text("Inga förslag visas för alla än")
    expect(screen.locator("#cards")).to_contain_text("Förslagen visas här")

    # Moderation: hide the duplicate with a reason, then publish the rest.
    proposal_card(fac, f_duplicate).get_by_role("button", name=f"Dölj… {f_duplicate}").click()
    fac.locator("#hide-form #hide-reason").select_option(label="Dubblett")
    fac.locator("#hide-form").get_by_role("button", name="Dölj förslaget").click()
    expect(proposal_card(fac, f_duplicate)).to_contain_text("Skäl: Dubblett")
    publish_all(fac, f_housing, f_parking)
    for phone in phones:
        published = phone.locator("#published .proposal__label")
        expect(published).to_have_text([f_housing, f_parking])
    expect(screen.locator("#cards .proposal__label")).to_have_text([f_housing, f_parking])

    # --- Goal 1: ja/nej ----------------------------------------------------------------------
    expect_no_results(phones, first_round=True)
    open_vote(fac, "ja_nej")
    for phone in phones:
        expect(phone.locator("#sec-rostning")).to_be_visible()
        expect(ballot_item(phone, f_housing)).to_be_visible()
        expect(ballot_item(phone, f_duplicate)).to_have_count(0)
    expect_answered([*phones, screen, fac], 0, 3)
    expect_no_results(phones, first_round=True)

    cast(anna, {f_housing: "ja", f_parking: "nej"})
    expect_answered([*phones, screen, fac], 1, 3)
    cast(bertil, {f_housing: "ja", f_parking: "ja"})
    expect_answered([*phones, screen, fac], 2, 3)
    # The console sees the live tally, the phones still see nothing of it.
    expect(fac.locator("#tally-box")).to_be_visible()
    expect(fac.locator("#tally-label")).to_contain_text("Endast för dig")
    expect_no_results(phones, first_round=True)
    cast(cecilia, {f_housing: "avstar", f_parking: "ja"})
    expect_answered([*phones, screen, fac], 3, 3)
    expect_no_results(phones, first_round=True)
    expect(screen.locator("#screen-results")).to_be_hidden()

    reveal(fac)
    expect_results(phones, f_housing, f_parking)
    expect(screen.locator("#screen-results")).to_be_visible()
    expect(screen.locator("#results")).to_contain_text(f"Starkast stöd: {f_housing}")

    record_decision(
        fac,
        f_housing,
        GOAL_1_DECISION,
        indicator="Antal färdigställda bostäder (SCB)",
        target_value="200 per år",
    )
    for phone in phones:
        expect(phone.locator("#decision")).to_contain_text(GOAL_1_DECISION)
    expect(screen.locator("#decision")).to_contain_text(GOAL_1_DECISION)
    expect(fac.locator("#agenda")).to_contain_text("beslut sparat")

    # --- Goal 2: merge two proposals, then dot voting ----------------------------------------
    select_goal(fac, 2)
    for phone in phones:
        expect(phone.locator("#goal-title")).to_contain_text("egen försörjning")
        expect(phone.locator("#waiting-msg")).to_contain_text("har inte öppnat det här målet")
    open_proposals(fac)
    f_trainee = propose(anna, "Fler praktikplatser i kommunen")
    f_summer = propose(bertil, "Fler platser för feriepraktik")
    f_support = propose(cecilia, "Andelen med försörjningsstöd ska minska till 3 %")
    expect(fac.locator("#proposals > li.proposal")).to_have_count(3)
    for label in (f_trainee, f_summer):
        fac.get_by_label(f"Markera {label} för sammanslagning").check()
    fac.locator("#merge-start").click()
    merge = fac.locator("#merge-dialog")
    expect(merge).to_be_visible()
    what = merge.locator("#merge-what-row")
    expect(what).to_contain_text("Skiljer sig")
    what.get_by_role("radio", name="Alla ihop").check()
    expect(merge.locator("#merge-what")).to_have_value(
        "Fler praktikplatser i kommunen\nFler platser för feriepraktik"
    )
    merge.locator("#merge-what").fill(GOAL_2_DECISION)
    merge.get_by_role("button", name="Spara det sammanslagna förslaget").click()
    expect(merge).to_be_hidden()
    merged = fac.locator("#proposals > li.proposal.proposal--aktiv", has_text=GOAL_2_DECISION)
    expect(merged).to_have_count(1)
    f_merged = merged.locator(".proposal__label").inner_text()
    expect(proposal_card(fac, f_trainee)).to_contain_text("Sammanslaget i")
    publish_all(fac, f_support, f_merged)
    for phone in phones:
        expect(phone.locator("#published .proposal__label")).to_have_text([f_support, f_merged])

    open_vote(fac, "prickar", budget=3)
    expect_answered([*phones, screen, fac], 0, 3)
    expect(anna.locator("#budget")).to_have_text("3 av 3 poäng kvar")
    expect_no_results(phones)
    cast(anna, {f_merged: 2, f_support: 1})
    expect(anna.locator("#budget")).to_have_text("0 av 3 poäng kvar")
    expect(ballot_item(anna, f_merged).locator("[data-dots=plus]")).to_be_disabled()
    expect_answered([*phones, screen, fac], 1, 3)
    cast(bertil, {f_merged: 3})
    cast(cecilia, {f_support: 3})
    expect_answered([*phones, screen, fac], 3, 3)
    expect_no_results(phones)

    reveal(fac)
    expect_results(phones, f_merged, f_support)
    expect(bertil.locator("#results .results-text")).to_contain_text(f"{f_merged}: 5 poäng")
    record_decision(fac, f_merged, GOAL_2_DECISION, indicator="Antal praktikplatser")
    for phone in phones:
        expect(phone.locator("#decision")).to_contain_text(GOAL_2_DECISION)

    # --- The export ---------------------------------------------------------------------------
    fac.goto(workshop.summary)
    expect(fac.locator("article.document")).to_contain_text(GOAL_1_DECISION)
    expect(fac.locator("article.document")).to_contain_text(GOAL_2_DECISION)
    with fac.expect_download() as download_info:
        fac.get_by_role("link", name="Ladda ned som Word (DOCX)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".docx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = docx_text(saved)
    assert GOAL_1_DECISION in text
    assert GOAL_2_DECISION in text
    assert "Förslag till beslut" in text
    assert "Dubblett" in text  # the hidden proposal stays in the appendix with its reason
