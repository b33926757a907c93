"""The wheel is the whole app: built, installed into a fresh venv outside the checkout, and run.

``pip wheel`` builds it (PyPI gives the build backend), a new venv in a temporary folder gets
it with ``--no-deps``, and its dependencies come from this interpreter's site-packages through a
``.pth`` line: a plain path there does not run that folder's own ``.pth`` files, so the
checkout's editable finder stays out and ``workshop`` can only come from the wheel. Then
``malverkstad serve`` runs from another temporary folder on a fresh database of the suite's
backend (SQLite, or PostgreSQL with ``--database=postgresql``), and a facilitator and a phone
go through it over HTTP and Socket.IO: pages, a static file, health, a vote, a DOCX export.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest

from .conftest import Databases
from .processes import REPO
from .test_durability import PASSWORD, Server, close, csrf, http, open_socket


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def outside_env() -> dict[str, str]:
    """The environment without anything that would put the checkout on the path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


PURELIB = "import sysconfig; print(sysconfig.get_paths()['purelib'])"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh venv with only the wheel installed into it."""
    root = tmp_path_factory.mktemp("wheel")
    assert REPO not in root.parents
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root), str(REPO)], root)
    (wheel,) = root.glob("malverkstad-*.whl")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], root)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    run([*pip, "install", "-q", "--no-deps", str(wheel)], root)
    purelib = run([str(python), "-c", PURELIB], root)
    Path(purelib.strip(), "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = run(
        [str(python), "-c", "import workshop; print(workshop.__file__)"], root, outside_env()
    )
    assert Path(where.strip()).is_relative_to(venv), where
    return venv / "bin"


@pytest.fixture
def server(installed: Path, tmp_path: Path, databases: Databases) -> Iterator[Server]:
    """``malverkstad serve`` from a folder outside the checkout, migrating its own database."""
    database = databases.new(tmp_path, migrated=False)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    running = Server(
        tmp_path / "instance",
        database,
        command=[str(installed / "malverkstad"), "serve"],
        cwd=workdir,
    )
    for name in ("PYTHONPATH", "VIRTUAL_ENV"):
        running.env.pop(name, None)
    (tmp_path / "instance").mkdir()  # the server's log goes there
    try:
        running.start()
        yield running
    finally:
        running.stop()
        databases.drop(database)


def test_the_installed_wheel_serves_a_dialogue_from_join_to_docx(server: Server) -> None:
    banner = server.log.read_text(errors="replace")
    workshop_id = int(re.search(r"/f/(\d+)\b", banner).group(1))
    code = re.search(r"\(kod ([A-Z0-9]+)\)", banner).group(1)
    facilitator, phone = http(), http()
    try:
        version = facilitator.get(f"{server.url}/healthz", timeout=10).json()["version"]
        start = facilitator.get(f"{server.url}/", timeout=10)
        assert start.status_code == 200 and f"Målverkstad {version}" in start.text
        script = facilitator.get(f"{server.url}/static/js/common.js", timeout=10)
        assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
        ready = facilitator.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["checked"] == ["database"]

        page = facilitator.get(f"{server.url}/login", timeout=10).text
        response = facilitator.post(
            f"{server.url}/login",
            data={"username": "samtalsledare", "password": PASSWORD, "csrf_token": csrf(page)},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text
        page = phone.get(f"{server.url}/j/{code}", timeout=10).text
        response = phone.post(
            f"{server.url}/j/{code}",
            data={"name": "", "csrf_token": csrf(page)},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text

        console = open_socket(server, facilitator, workshop=workshop_id, role="facilitator")
        try:
            assert console.call("workshop:start", {}, timeout=10)["ok"]
            goal_id = console.call("state:get", {}, timeout=10)["state"]["goal"]["id"]
            ack = console.call("phase:set", {"goal_id": goal_id, "phase": "forslag"}, timeout=10)
            assert ack["ok"], ack
            ack = console.call(
                "proposal:add",
                {
                    "goal_id": goal_id,
                    "client_id": secrets.token_hex(8),
                    "proposal": {"kind": "ambitionsniva", "what": "Sjukfrånvaron under 6 %"},
                },
                timeout=10,
            )
            assert ack["ok"], ack
            proposal_id = ack["proposal"]["id"]
            ack = console.call(
                "phase:set",
                {"goal_id": goal_id, "phase": "rostning", "method": "betyg"},
                timeout=10,
            )
            assert ack["ok"], ack
            round_id = console.call("state:get", {}, timeout=10)["state"]["vote"]["round_id"]

            member = open_socket(server, phone, workshop=workshop_id, role="people")
            try:
                secret = secrets.token_urlsafe(24)
                assert member.call("state:get", {"secret": secret}, timeout=10)["ok"]
                vote = {
                    "round_id": round_id,
                    "secret": secret,
                    "answers": {str(proposal_id): 5},
                    "vote_id": secrets.token_hex(8),
                    "rev": 1,
                }
                ack = member.call("vote:cast", vote, timeout=10)
                assert ack["ok"] and not ack["duplicate"], ack
            finally:
                close(member)
            ack = console.call("phase:set", {"goal_id": goal_id, "phase": "resultat"}, timeout=10)
            assert ack["ok"], ack
        finally:
            close(console)

        export = facilitator.get(f"{server.url}/f/{workshop_id}/export.docx", timeout=30)
        assert export.status_code == 200, export.text[:500]
        text = "\n".join(p.text for p in docx.Document(io.BytesIO(export.content)).paragraphs)
        assert "Förslag till beslut" in text
        tables = docx.Document(io.BytesIO(export.content)).tables
        cells = " ".join(c.text for t in tables for row in t.rows for c in row.cells)
        assert "Sjukfrånvaron under 6 %" in text + cells
    finally:
        facilitator.close()
        phone.close()
    assert "Traceback" not in server.log.read_text(errors="replace")
