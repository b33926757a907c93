"""The files in deploy/ are what Debian's tools accept.

- ``deploy/nginx.conf``: ``nginx -t`` with a temporary main configuration that includes the
  site, which differs from the shipped one only in its certificate paths (a throw-away
  self-signed certificate made with openssl).
- ``deploy/env.example``: names every variable of the guide's environment file, each one the
  app reads, and nothing that would break the units (``PORT``).

A test whose binary is missing is skipped; scripts/test.sh installs them (openssl,
nginx-light).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
SITE = DEPLOY / "nginx.conf"
ENV = DEPLOY / "env.example"
GUIDE = REPO / "docs" / "deploy.md"
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
    for path in ("deploy/nginx.conf", "deploy/env.example"):
        assert path in guide, path
