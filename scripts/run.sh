#!/usr/bin/env bash
# Install Målverkstad into .venv and start it on the embedded SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
# WeasyPrint (the PDF export) needs pango and the DejaVu fonts it embeds; install only if missing.
missing=()
for package in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
ensure_venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
exec .venv/bin/python run.py
