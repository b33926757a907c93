"""Kolada lookups, without internet: responses in Kolada's v2 data shape kept in tests/data,
served by an injected fetch function or a local http.server on 127.0.0.1 (also a slow one).

The files follow the documented v2 shape (``values[].period`` and ``values[].values[]`` per
gender); the numbers are illustrative, not a recording of Vaggeryd's figures.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from workshop import kolada
from workshop.extensions import db
from workshop.models import Workshop

from .builders import build_workshop

DATA = Path(__file__).resolve().parent / "data"
N00090 = (DATA / "kolada_N00090_0665.json").read_bytes()
EMPTY = (DATA / "kolada_empty.json").read_bytes()


def recorded(body: bytes, seen: list[str] | None = None) -> kolada.Fetch:
    def fetch(url: str, timeout: float) -> bytes:
        if seen is not None:
            seen.append(url)
        return body

    return fetch


def test_latest_year_with_a_total_value() -> None:
    seen: list[str] = []
    result = kolada.lookup("n00090", "0665", fetch=recorded(N00090, seen))
    assert seen == ["https://api.kolada.se/v2/data/kpi/N00090/municipality/0665"]
    assert result.value == kolada.KpiValue("N00090", "0665", 2017, 7.5)  # 2018 has no value
    assert kolada.format_value(result.value.value) == "7,5"
    assert kolada.format_value(12.0, ".") == "12"


def test_no_value_bad_answer_bad_kpi() -> None:
    assert kolada.lookup("N00090", fetch=recorded(EMPTY)).error == kolada.NO_VALUE
    assert kolada.lookup("N00090", fetch=recorded(b"<html>")).error == kolada.BAD_ANSWER
    assert kolada.lookup("N00090", fetch=recorded(b'{"values": 3}')).error == kolada.BAD_ANSWER
    assert kolada.lookup("sjuk", fetch=recorded(N00090)).error == kolada.BAD_KPI

    def broken(url: str, timeout: float) -> bytes:
        raise OSError("network is unreachable")

    assert kolada.lookup("N00090", fetch=broken).error == kolada.NOT_REACHED


class _Handler(http.server.BaseHTTPRequestHandler):
    delay = 0.0
    body = N00090

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        time.sleep(self.delay)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(self.body)))
            self.end_headers()
            self.wfile.write(self.body)
        except OSError:
            pass  # the client gave up

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Any]:
    """A local Kolada on 127.0.0.1; set ``handler.delay`` to make it slow."""

    class Handler(_Handler):
        pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.handler = Handler  # type: ignore[attr-defined]
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}/v2"  # type: ignore[attr-defined]
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_lookup_over_http(server: Any) -> None:
    result = kolada.lookup("N00090", "0665", base_url=server.base, timeout=2)
    assert result.value is not None and result.value.year == 2017


def test_a_slow_server_does_not_block(server: Any) -> None:
    server.handler.delay = 2.0
    # The server would answer with a value after 2 s: "not reached" means the client gave up
    # at its 0.3 s timeout instead of waiting.
    result = kolada.lookup("N00090", "0665", base_url=server.base, timeout=0.3)
    assert result.value is None
    assert result.error == kolada.NOT_REACHED


# --- In the follow-up view --------------------------------------------------------------------


def _goal2(app: Flask) -> tuple[int, int]:
    workshop_id = build_workshop(app)
    with app.app_context():
        return workshop_id, db.session.get(Workshop, workshop_id).goals[1].id


def test_off_unless_enabled(app: Flask, client: FlaskClient, auth: Any) -> None:
    workshop_id, goal_id = _goal2(app)
    auth.login()
    page = client.get(f"/f/{workshop_id}/uppfoljning").get_data(as_text=True)
    assert "Hämta senaste värde från Kolada" not in page
    response = client.get(f"/f/{workshop_id}/uppfoljning/{goal_id}/kolada?kpi=N00090")
    assert response.status_code == 200
    assert "Hämtning från Kolada är avstängd." in response.get_data(as_text=True)


def test_view_shows_value_and_source(app: Flask, client: FlaskClient, auth: Any) -> None:
    workshop_id, goal_id = _goal2(app)
    app.config.update(KOLADA_ENABLED=True, KOLADA_FETCH=recorded(N00090))
    auth.login()
    page = client.get(f"/f/{workshop_id}/uppfoljning").get_data(as_text=True)
    assert "Hämta senaste värde från Kolada" in page
    html = client.get(f"/f/{workshop_id}/uppfoljning/{goal_id}/kolada?kpi=N00090").get_data(
        as_text=True
    )
    assert "Senaste värde för N00090: 7,5 (2017)." in html
    assert "Källa: Kolada" in html
    assert 'value="7,5"' in html  # offered for the checkpoint still without a value


def test_view_survives_a_slow_kolada(
    app: Flask, client: FlaskClient, auth: Any, server: Any
) -> None:
    workshop_id, goal_id = _goal2(app)
    server.handler.delay = 2.0
    app.config.update(KOLADA_ENABLED=True, KOLADA_URL=server.base, KOLADA_TIMEOUT=0.3)
    auth.login()
    # The server answers with a real value after 2 s; the page saying Kolada could not be
    # reached shows it gave up at its timeout instead of waiting (no wall-clock assertion: a
    # loaded machine makes those flaky).
    response = client.get(f"/f/{workshop_id}/uppfoljning/{goal_id}/kolada?kpi=N00090")
    assert response.status_code == 200
    assert "Kolada kunde inte nås just nu." in response.get_data(as_text=True)
