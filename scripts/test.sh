#!/usr/bin/env bash
# Install the test dependencies (Debian's chromium included) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
# chromium for the browser tests, cairo to rasterise the QR code's SVG for the decoder,
# pango for WeasyPrint's PDF export, LibreOffice to prove the DOCX exports open, PostgreSQL's
# server for the second run, redis-server and nginx for the multi-worker test (the tests start
# their own in a temporary folder), systemd's systemd-analyze and openssl for the deploy files'
# checks (tests/test_deploy_files.py).
missing=()
for package in chromium fonts-dejavu-core libcairo2 libpango-1.0-0 libpangoft2-1.0-0 \
    libreoffice-writer-nogui postgresql redis-server nginx-light systemd openssl; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
ensure_venv
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[test]"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The whole suite on the embedded SQLite, then again on PostgreSQL; either failing fails.
echo "== pytest on SQLite"
TEST_DATABASE=sqlite .venv/bin/python -m pytest "$@"
echo "== pytest on PostgreSQL"
TEST_DATABASE=postgresql .venv/bin/python -m pytest "$@"
