"""The phone page must load quickly on a weak mobile network: at most 60 KB on the wire."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import Devices, create_workshop, join, open_proposals

pytestmark = pytest.mark.browser

BUDGET = 60 * 1024


def test_participant_page_transfers_at_most_60_kb(
    devices: Devices, facilitator: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    fac = facilitator
    workshop = create_workshop(fac, start=True)
    fac.goto(workshop.console)
    expect(fac.locator("#conn")).to_have_attribute("data-state", "online")
    open_proposals(fac)
    phone = devices.page("iphone")
    join(phone, workshop.join)

    # Measure a fresh load of the page: nothing from the cache, every byte on the wire counted
    # (headers included), the Socket.IO handshake and the first state push too.
    cdp = phone.context.new_cdp_session(phone)
    sizes: dict[str, float] = {}
    urls: dict[str, str] = {}
    frames: list[int] = []
    cdp.on(
        "Network.requestWillBeSent", lambda e: urls.update({e["requestId"]: e["request"]["url"]})
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.update({e["requestId"]: e["encodedDataLength"]}),
    )
    cdp.on("Network.webSocketFrameReceived", lambda e: frames.append(_frame(e)))
    # The WebSocket upgrade (101) never reaches loadingFinished: count its headers here.
    cdp.on(
        "Network.webSocketWillSendHandshakeRequest",
        lambda e: frames.append(_headers(e["request"]["headers"])),
    )
    cdp.on(
        "Network.webSocketHandshakeResponseReceived",
        lambda e: frames.append(_headers(e["response"]["headers"])),
    )
    cdp.on("Network.webSocketFrameSent", lambda e: frames.append(_frame(e)))
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    encodings: dict[str, str] = {}
    phone.on(
        "response",
        lambda r: encodings.update({r.url: r.headers.get("content-encoding", "")}),
    )

    phone.goto(workshop.room)
    expect(phone.locator("#conn")).to_have_attribute("data-state", "online")
    expect(phone.locator("#sec-forslag")).to_be_visible()
    expect(phone.locator("#published")).to_contain_text("Inga förslag visas för alla än")
    phone.wait_for_load_state("networkidle")

    http = int(sum(sizes.values()))
    socket = sum(frames)
    total = http + socket
    lines = [
        f"{int(size):>7} B  {urls.get(rid, rid)}"
        for rid, size in sizes.items()
        if not urls.get(rid, "").startswith("data:")
    ]
    with capsys.disabled():
        print(
            f"\nParticipant page on the wire: {total} B ({total / 1024:.1f} KB) = "
            f"{http} B over HTTP in {len(sizes)} responses + {socket} B in "
            f"{len(frames)} WebSocket frames and handshake headers"
        )
        print("\n".join(lines))
    assert any("socket.io" in url and "transport=polling" in url for url in urls.values())
    assert total <= BUDGET, "\n".join(lines)
    for url, encoding in encodings.items():
        if url.endswith((".css", ".js")) or url.rstrip("/").endswith(workshop.room):
            assert encoding in ("br", "gzip"), f"{url} was sent uncompressed"


def _frame(event: dict[str, Any]) -> int:
    return len(event["response"]["payloadData"].encode())


def _headers(headers: dict[str, str]) -> int:
    return 40 + sum(len(f"{name}: {value}\r\n".encode()) for name, value in headers.items())


def test_compression_leaves_socketio_and_the_docx_export_working(
    devices: Devices, facilitator: Page
) -> None:
    fac = facilitator
    workshop = create_workshop(fac)
    asks = {"Accept-Encoding": "br, gzip, deflate"}
    docx = fac.request.get(f"/f/{workshop.id}/export.docx", headers=asks)
    assert docx.ok
    assert "content-encoding" not in docx.headers
    assert docx.body()[:2] == b"PK"
    markdown = fac.request.get(f"/f/{workshop.id}/export.md", headers=asks)
    assert markdown.ok and "Förslag till beslut" in markdown.text()
    polling = fac.request.get("/socket.io/?EIO=4&transport=polling", headers=asks)
    assert polling.ok
    assert polling.text().startswith('0{"sid":')
    page = fac.request.get("/", headers=asks)
    assert page.headers.get("content-encoding") in ("br", "gzip")
    assert "Gå med i en dialog" in page.text()
