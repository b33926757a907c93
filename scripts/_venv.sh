# Shared by run.sh and test.sh: create .venv with Python 3.11+, installing Debian's venv if needed.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_venv() {
    if [ -x .venv/bin/python ]; then return; fi
    if ! python3 -m venv .venv 2>/dev/null; then
        rm -rf .venv
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
        python3 -m venv .venv
    fi
}
