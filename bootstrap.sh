#!/usr/bin/env bash
# Set up the twin on a fresh machine, then run the demo twin on the built-in phase-1 scenario:
# installs Mesa EGL and Chromium with apt where missing (Debian/Ubuntu), creates .venv, installs the twin with all its
# extras (3D, web, tests, notebooks, docs), simulates a day, stores and describes it.
# Needs Python 3.11 or newer (set PYTHON=/path/to/python to choose one) and access to PyPI.
set -euo pipefail
cd "$(dirname "$0")"

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3 python3.11 python3.12 python3.13; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      python=$candidate; break
    fi
  done
fi
[ -n "$python" ] || { echo "bootstrap: no Python 3.11 or newer found; set PYTHON" >&2; exit 1; }

# On Debian or Ubuntu, what the twin needs beside Python, installed with apt (sudo when not root) if missing:
# Mesa's EGL, through which the 3D view renders off-screen (viz/offscreen.py; elsewhere any OpenGL driver or a
# display will do), and the distribution's Chromium, which the dashboard's browser tests drive through Playwright
# (tests/conftest.py; Playwright never downloads a browser here). Without them those tests are skipped.
apt_install() {  # apt_install "WHAT IS LOST WITHOUT THEM" PACKAGE...: the Debian packages not yet installed
  local lost=$1; shift
  command -v dpkg >/dev/null || return 0
  dpkg -s "$@" >/dev/null 2>&1 && return 0
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; } \
    || echo "bootstrap: could not install $*: $lost" >&2
}
apt_install "twin render needs Mesa's EGL" libegl1 libegl-mesa0 libgl1-mesa-dri
apt_install "the browser tests will be skipped" chromium

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[all]'

.venv/bin/twin demo --out out/demo.zarr --overwrite   # a run again replaces the last demo run
