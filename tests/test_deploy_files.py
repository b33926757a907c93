"""The files in deploy/ are what Debian's tools accept, and the backup steps of docs/deploy.md work.

- ``deploy/malverkstad@.service``: ``systemd-analyze verify`` (on a copy whose ExecStart names an
  executable that exists here: verify insists on it) and ``systemd-analyze security --offline``
  on the file as shipped, whose overall exposure must stay at or below 3.0.
- ``deploy/nginx.conf``: ``nginx -t`` with a temporary main configuration that includes the
  site, which differs from the shipped one only in its certificate paths (a throw-away
  self-signed certificate made with openssl).
- ``deploy/env.example``: names every variable of the guide's environment file, each one the
  app reads, and nothing that would break the units (``PORT``).
- Backup and restore (docs/deploy.md "6. Backups"): ``pg_dump --format=custom`` of a database
  with a whole dialogue made through the services, ``pg_restore`` into a new database, and the
  same rows in every table; PostgreSQL only.

A test whose binary is missing is skipped; scripts/test.sh installs them (systemd, openssl,
nginx-light, postgresql).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from workshop import create_app, services
from workshop.extensions import db

from .builders import build_workshop
from .conftest import Databases

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
UNIT = DEPLOY / "malverkstad@.service"
SITE = DEPLOY / "nginx.conf"
ENV = DEPLOY / "env.example"
GUIDE = REPO / "docs" / "deploy.md"
EXEC_START = "ExecStart=/opt/malverkstad/venv/bin/malverkstad serve"
MAX_EXPOSURE = 3.0
# The variables of the environment file docs/deploy.md printed before it moved to
# deploy/env.example: the example must keep every one of them.
GUIDE_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "ASYNC_MODE",
    "HOST",
    "PUBLIC_URL",
    "SECRET_KEY",
    "PROXY_FIX",
    "INSTANCE_PATH",
    "FACILITATOR_USERNAME",
    "FACILITATOR_PASSWORD",
)
# The backup and restore commands as docs/deploy.md prints them (without sudo and the paths).
DUMP = ("pg_dump", "--format=custom")
RESTORE = ("pg_restore", "--exit-on-error", "--single-transaction")


def binary(name: str, *fallbacks: str) -> str:
    """The path of ``name``, or skip the test that needs it."""
    found = shutil.which(name) or next((f for f in fallbacks if os.path.exists(f)), None)
    if found is None:
        pytest.skip(f"needs {name} (scripts/test.sh installs it)")
    return found


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """The lines that differ between two texts of the same length in lines."""
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


# --- systemd -------------------------------------------------------------------------------


def test_unit_runs_the_console_script_as_its_own_user() -> None:
    """What docs/deploy.md promises about the unit, line by line."""
    lines = UNIT.read_text().splitlines()
    for line in (
        EXEC_START,
        "User=malverkstad",
        "Group=malverkstad",
        "UMask=0077",
        "EnvironmentFile=/etc/malverkstad.env",
        "Environment=PORT=%i",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/malverkstad",
        "CapabilityBoundingSet=",
        "TimeoutStopSec=10",
    ):
        assert line in lines, line


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """``verify`` finds no error; only ExecStart's binary is swapped for one that exists here."""
    analyze = binary("systemd-analyze")
    shipped = UNIT.read_text()
    local = shipped.replace(EXEC_START, f"ExecStart={binary('true', '/bin/true')} serve")
    changes = changed_lines(shipped, local)
    assert len(changes) == 1 and changes[0][0] == EXEC_START, changes
    (tmp_path / "malverkstad@8001.service").write_text(local)
    check = subprocess.run(
        [analyze, "verify", "--man=no", "malverkstad@8001.service"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0 and not check.stderr.strip(), check.stderr


def test_unit_exposure_is_at_most_3(tmp_path: Path) -> None:
    """``systemd-analyze security`` on the shipped file scores it 3.0 or lower ("OK")."""
    analyze = binary("systemd-analyze")
    unit = tmp_path / "malverkstad@8001.service"
    shutil.copyfile(UNIT, unit)
    check = subprocess.run(
        [analyze, "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", check.stdout)
    assert found, check.stdout + check.stderr
    assert float(found[1]) <= MAX_EXPOSURE, check.stdout


MDWE_PROBE = r"""
import ctypes, io, os, sys, tempfile
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
    sys.exit(77)
from gevent import monkey
monkey.patch_all()
os.environ.update(INSTANCE_PATH=tempfile.mkdtemp(), ASYNC_MODE="gevent")
import urllib.request
import psycopg  # noqa: F401  (loads libpq)
from gevent.pywsgi import WSGIServer
from workshop import create_app
from workshop.documents import pdf
app = create_app({"SECRET_KEY": "probe"})
assert pdf.to_pdf("<html lang=sv><body><h1>Målverkstad</h1></body></html>").startswith(b"%PDF")
server = WSGIServer(("127.0.0.1", 0), app, log=None)
server.start()
assert b'"ok"' in urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/healthz").read()
print("ok")
"""


def test_memory_deny_write_execute_leaves_the_worker_working(tmp_path: Path) -> None:
    """The unit's ``MemoryDenyWriteExecute=yes`` does not break gevent, WeasyPrint or psycopg.

    The kernel's own W^X switch (``PR_SET_MDWE``, Linux 6.3) refuses what systemd's filter
    refuses (writable-and-executable mappings, making memory executable later) in a process
    that imports gevent and the app, renders a PDF through WeasyPrint's cffi and serves a
    request. systemd 252 applies it with seccomp, which also refuses ``mprotect(PROT_EXEC)``
    on memory that already was executable; nothing here does that either (checked once under
    strace).
    """
    pytest.importorskip("gevent")
    probe = subprocess.run(
        [sys.executable, "-c", MDWE_PROBE],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    if probe.returncode == 77:
        pytest.skip("the kernel has no PR_SET_MDWE (Linux 6.3 or later)")
    assert probe.returncode == 0 and probe.stdout.strip() == "ok", probe.stderr[-3000:]
    assert "MemoryDenyWriteExecute=yes" in UNIT.read_text().splitlines()


# --- nginx ---------------------------------------------------------------------------------


def test_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    """The shipped site, TLS included, is valid for Debian's nginx (only the certificate moves)."""
    nginx = binary("nginx", "/usr/sbin/nginx")
    openssl = binary("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=dialog.example.se", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    shipped = SITE.read_text()
    for needed in (
        "    ip_hash;",
        "        proxy_set_header Upgrade $http_upgrade;",
        "        proxy_set_header Connection $connection_upgrade;",
        "    listen 443 ssl;",
        "    ssl_protocols TLSv1.2 TLSv1.3;",
    ):
        assert needed in shipped.splitlines(), needed
    site = re.sub(r"(?m)^(    ssl_certificate +)\S+;$", rf"\g<1>{cert};", shipped)
    site = re.sub(r"(?m)^(    ssl_certificate_key +)\S+;$", rf"\g<1>{key};", site)
    assert [new.split()[0] for _old, new in changed_lines(shipped, site)] == [
        "ssl_certificate",
        "ssl_certificate_key",
    ]
    (tmp_path / "site.conf").write_text(site)
    # Everything nginx writes stays in tmp_path; the site is included as a site file would be.
    temp = "".join(
        f"    {kind}_temp_path {tmp_path / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n"
        "events {}\n"
        f"http {{\n    access_log off;\n{temp}    include {tmp_path / 'site.conf'};\n}}\n"
    )
    check = subprocess.run(
        [nginx, "-t", "-c", str(main), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr


# --- the environment file ------------------------------------------------------------------


def read_by_app() -> set[str]:
    """Every environment variable a module of the app reads by name."""
    pattern = re.compile(r"""environ(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]*)["']""")
    return {
        name
        for path in (REPO / "workshop").rglob("*.py")
        for name in pattern.findall(path.read_text())
    }


def example_settings() -> dict[str, str]:
    """The assignments of deploy/env.example, which must all be systemd ``NAME=value`` lines."""
    settings = {}
    for line in ENV.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        assert equals and re.fullmatch(r"[A-Z][A-Z0-9_]*", name), line
        assert name not in settings, f"{name} is set twice"
        settings[name] = value
    return settings


def test_env_example_names_the_guides_variables() -> None:
    settings = example_settings()
    app_reads = read_by_app()
    for name in GUIDE_ENV:
        assert name in app_reads, f"the app no longer reads {name}"
        assert name in settings, f"deploy/env.example does not set {name}"
    # A misspelt name would be silently ignored by the app.
    assert set(settings) <= app_reads, set(settings) - app_reads
    # EnvironmentFile= wins over the unit's Environment=PORT=%i: every worker on one port.
    assert "PORT" not in settings
    assert settings["ASYNC_MODE"] == "gevent"
    # Placeholders only: no secret is shipped.
    assert settings["SECRET_KEY"].startswith("<") and "<password>" in settings["DATABASE_URL"]


def test_guide_points_at_the_deploy_files() -> None:
    guide = GUIDE.read_text()
    for path in ("deploy/malverkstad@.service", "deploy/nginx.conf", "deploy/env.example"):
        assert path in guide, path


# --- PostgreSQL backup and restore ---------------------------------------------------------


def every_row(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Each table of the public schema (alembic_version included) with its rows, sorted."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            names = sa.inspect(connection).get_table_names()
            return {
                name: sorted(
                    (tuple(row) for row in connection.execute(sa.text(f'SELECT * FROM "{name}"'))),
                    key=repr,
                )
                for name in names
            }
    finally:
        engine.dispose()


def sequences(url: str) -> dict[str, int | None]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
                )
            )
            return {name: value for name, value in rows}
    finally:
        engine.dispose()


def test_pg_dump_and_restore_keep_every_row(
    databases: Databases, app: Flask, database_url: str, tmp_path: Path
) -> None:
    """The guide's backup, restored into a new database, has the same rows in every table."""
    server = databases.server
    if server is None:
        pytest.skip("PostgreSQL's pg_dump and pg_restore: runs with TEST_DATABASE=postgresql")
    guide = GUIDE.read_text()
    assert " ".join(DUMP) in guide and " ".join(RESTORE) in guide
    wid = build_workshop(app)
    source = every_row(database_url)
    for table in ("workshop", "proposal", "ballot", "decision"):
        assert source.get(table), f"no rows in {table}: {sorted(source)}"

    connect = ["--host=127.0.0.1", f"--port={server.port}", "--username=postgres"]
    dump = tmp_path / "malverkstad.dump"
    database = sa.make_url(database_url).database or ""
    subprocess.run(
        [str(server.bin / DUMP[0]), *DUMP[1:], *connect, f"--file={dump}", database],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    restored_name = f"{database}_restored"
    subprocess.run(
        [str(server.bin / "createdb"), *connect, restored_name],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    restored = server.url(restored_name)
    try:
        subprocess.run(
            [str(server.bin / RESTORE[0]), *RESTORE[1:], *connect, f"--dbname={restored_name}",
             str(dump)],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        copy = every_row(restored)
        assert sorted(copy) == sorted(source)
        for table, rows in source.items():
            assert len(copy[table]) == len(rows), table
            assert copy[table] == rows, table
        assert sequences(restored) == sequences(database_url)

        # The app runs on the restored database: at the newest migration, new ids follow on.
        again = create_app(
            {"TESTING": True, "SQLALCHEMY_DATABASE_URI": restored, "SECRET_KEY": "test"}
        )
        with again.app_context():
            assert services.create_from_template().id > wid
            db.session.remove()
            db.engine.dispose()
    finally:
        databases.drop(restored)
