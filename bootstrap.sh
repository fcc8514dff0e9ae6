#!/usr/bin/env bash
# Set up the twin on a fresh machine, then run the demo twin on the built-in phase-1 scenario:
# creates .venv, installs the twin with its 3D, web and test extras, simulates a day, stores and describes it.
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

# The 3D view renders off-screen through Mesa's EGL (viz/offscreen.py); on Debian or Ubuntu, install it
# if missing (elsewhere: any OpenGL driver, or a display, will do).
if command -v dpkg >/dev/null && ! dpkg -s libegl1 libegl-mesa0 libgl1-mesa-dri >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    libegl1 libegl-mesa0 libgl1-mesa-dri || echo "bootstrap: could not install Mesa EGL; twin render needs it" >&2
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[all]'

.venv/bin/twin demo --out out/demo.zarr --overwrite   # a run again replaces the last demo run
