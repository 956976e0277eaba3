#!/usr/bin/env bash
# Installs everything sim2real needs on a fresh Debian machine: the system libraries for headless
# rendering (EGL/Mesa or OSMesa for MuJoCo; LLVM 19 for Mitsuba's CPU path tracer, whose LLVM 15
# in Debian crashes it; libusb for pyrealsense2's import), a Python 3.11 virtual environment and
# the package with its test extras.
# Safe to re-run: apt runs only when a package is missing, pip only installs what changed.
set -euo pipefail
VENV="${1:-.venv}"

# postgresql: the protocol tests start a throwaway server; chromium: the console's browser tests
APT_PACKAGES=(libegl1 libgl1-mesa-dri libosmesa6 libllvm19 libusb-1.0-0 postgresql chromium)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "installing system packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

PYTHON_BIN="${PYTHON_BIN:-python3.11}"
command -v "$PYTHON_BIN" >/dev/null 2>&1 || PYTHON_BIN=python3
"$PYTHON_BIN" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
    || { echo "sim2real needs Python 3.11 (found $("$PYTHON_BIN" --version))"; exit 1; }

[ -x "$VENV/bin/python" ] || "$PYTHON_BIN" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# torch first and pinned: the CPU build of 2.13.0 installs from this machine's disk, whereas an
# unpinned resolution through another package would fetch a multi-GB CUDA build.
"$VENV/bin/python" -m pip install -q "torch==2.13.0"
# Playwright drives Debian's chromium (/usr/bin/chromium); it must never fetch a browser of its own
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$VENV/bin/python" -m pip install -q -e ".[test]"
# openpi's own websocket client, the peer the serving tests talk to. Its metadata pins numpy<2
# (for openpi's JAX stack), which would downgrade ours; its client code runs on numpy 2, so it
# is installed without its dependencies (it needs only msgpack and websockets, which we have).
"$VENV/bin/python" -m pip install -q --no-deps "openpi-client==0.1.2"
echo "sim2real installed in $VENV"
