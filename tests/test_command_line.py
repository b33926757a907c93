"""The command line and the server run as a service: help creates nothing, an operator migrates
an empty database himself, a generated password stays out of the log, and the retention purge
runs again while the server runs.

Each command runs as ``flask --app workshop`` or ``python -m workshop`` (the ``malverkstad``
group) in a temporary working directory, on this checkout's code.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from workshop import create_app, serving
from workshop.db import schema_is_current
from workshop.models import Workshop

from .conftest import Databases
from .processes import free_port, start_run_py, stop_process

REPO = Path(__file__).resolve().parents[1]
FLASK = [sys.executable, "-m", "flask", "--app", "workshop"]
MALVERKSTAD = [sys.executable, "-m", "workshop"]


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command with this checkout first on the path and nothing of the caller's set-up."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    result = subprocess.run(
        args,
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.parametrize(
    "args",
    [
        [*FLASK, "--help"],
        [*FLASK, "purge", "--help"],
        [*FLASK, "db", "upgrade", "--help"],
        [*MALVERKSTAD, "serve", "--help"],
        [*MALVERKSTAD, "--version"],
    ],
    ids=lambda args: " ".join(["flask" if "flask" in args else "malverkstad", *args[-2:]]),
)
def test_help_creates_nothing(tmp_path: Path, args: list[str]) -> None:
    instance = tmp_path / "instance"
    result = run(args, tmp_path, INSTANCE_PATH=str(instance))
    assert "Usage:" in result.stdout or "Målverkstad, version" in result.stdout
    assert "Traceback" not in result.stderr
    # No instance folder, no SQLite database, no secret key: nothing at all.
    assert list(tmp_path.iterdir()) == []


def test_the_malverkstad_group_lists_serve_and_the_app_commands(tmp_path: Path) -> None:
    listed = run([*MALVERKSTAD, "--help"], tmp_path, INSTANCE_PATH=str(tmp_path / "i")).stdout
    for command in ("serve", "db", "create-facilitator", "purge", "create-ks2019", "shell"):
        assert f"  {command} " in listed
    assert "  run " not in listed  # Flask's development server: `serve` is the way to serve
    assert list(tmp_path.iterdir()) == []  # listing loaded the app, which created nothing


@pytest.mark.parametrize("command", [FLASK, MALVERKSTAD], ids=["flask", "malverkstad"])
def test_operator_upgrades_an_empty_database_with_migrate_on_start_off(
    tmp_path: Path, databases: Databases, command: list[str]
) -> None:
    url = databases.new(tmp_path, migrated=False)
    try:
        env = {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": url,
            "MIGRATE_ON_START": "0",
            "RETENTION_DAYS": "90",  # the purge at start must wait for the schema
        }
        # Before the upgrade a command that needs the schema says what to run, in one line.
        early = subprocess.run(
            [*command, "purge"],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO), **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert early.returncode == 1
        assert "Kör först: malverkstad db upgrade" in early.stderr
        assert "Traceback" not in early.stderr + early.stdout
        run([*command, "db", "upgrade"], tmp_path, **env)
        current = run([*command, "db", "current"], tmp_path, **env)
        assert "(head)" in current.stdout
        purged = run([*command, "purge"], tmp_path, **env)
        assert "Gallrade deltagaruppgifter i 0 dialoger" in purged.stdout
    finally:
        databases.drop(url)


def test_an_app_on_an_empty_database_without_migrating_skips_the_purge(
    tmp_path: Path, databases: Databases
) -> None:
    url = databases.new(tmp_path, migrated=False)
    try:
        app: Flask = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "MIGRATE_ON_START": False}
        )
        assert app.config["RETENTION_DAYS"] == 90
        with app.app_context():
            assert not schema_is_current()
    finally:
        databases.drop(url)


def test_a_generated_first_password_goes_to_an_owner_only_file_not_into_the_log(
    tmp_path: Path,
) -> None:
    """Started as a service is (its output a file, not a terminal), the server writes the first
    password to a file only its owner can read and names that file; the log has neither the
    password nor the QR code's art, and the password in the file logs in."""
    instance = tmp_path / "instance"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    clean = {k: v for k, v in os.environ.items() if k not in ("FACILITATOR_PASSWORD", "SECRET_KEY")}
    env = {
        **clean,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'service.db'}",
        "INSTANCE_PATH": str(instance),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PUBLIC_URL": url,
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "journal.log"
    process = start_run_py(env, log, url)
    try:
        password_file = instance / serving.PASSWORD_FILE
        password = password_file.read_text().strip()
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        output = log.read_text()
        assert password not in output
        assert f"lösenordet i {password_file}" in output
        assert "█" not in output and "▀" not in output  # no QR art in a journal
        assert re.search(r"\(kod [A-Z0-9]{6}\)", output)  # the join code is still there

        session = requests.Session()
        session.trust_env = False  # loopback only
        page = session.get(f"{url}/login", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = session.post(
            f"{url}/login",
            data={"username": "samtalsledare", "password": password, "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302 and "/login" not in response.headers["Location"]
    finally:
        stop_process(process)


def test_a_running_server_purges_again_on_its_interval(tmp_path: Path) -> None:
    """The purge at start-up is not the only one: a server that keeps running erases a dialogue
    as soon as it passes RETENTION_DAYS, on the next PURGE_INTERVAL."""
    database = tmp_path / "service.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PUBLIC_URL": url,
        "FACILITATOR_PASSWORD": "purge-lösenord-3",
        "PYTHONUNBUFFERED": "1",
        "RETENTION_DAYS": "7",
        "PURGE_INTERVAL": "0.5",
    }
    process = start_run_py(env, tmp_path / "server.log", url)
    engine = sa.create_engine(f"sqlite:///{database}", poolclass=sa.NullPool)
    table = Workshop.__table__
    try:
        with engine.begin() as connection:  # the KS mål 2019 dialogue, made 10 days ago
            connection.execute(
                table.update().values(created_at=sa.func.datetime("now", "-10 days"))
            )
        deadline = time.monotonic() + 20
        erased = None
        while erased is None and time.monotonic() < deadline:
            time.sleep(0.2)
            with engine.connect() as connection:
                erased = connection.scalar(sa.select(table.c.erased_at))
        assert erased is not None, (tmp_path / "server.log").read_text()
    finally:
        stop_process(process)
        engine.dispose()
