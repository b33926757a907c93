#!/usr/bin/env bash
# Install Målverkstad into .venv and start it on the embedded SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
ensure_venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
exec .venv/bin/python run.py
