#!/usr/bin/env bash
# The poliastro bridge on Python 3.10: poliastro 0.17 (archived) installs only on Python < 3.11 with
# astropy < 6 and numpy < 2. Builds .venv310 from scratch with the twin's poliastro, test and notebooks
# extras (about a minute from PyPI), then runs the bridge's tests and doctests and the poliastro notebook.
set -euo pipefail
cd "$(dirname "$0")/.."

# Python 3.10: $PYTHON310, else the newest 3.10 under pyenv, else python3.10 on the PATH.
python=""
pyenv_pythons=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10.*/bin/python 2>/dev/null | sort -rV || true)
for candidate in ${PYTHON310:-} $pyenv_pythons python3.10; do
  if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
    python=$candidate; break
  fi
done
[ -n "$python" ] || { echo "poliastro.sh: no Python 3.10 found; set PYTHON310" >&2; exit 1; }

rm -rf .venv310
"$python" -m venv .venv310
.venv310/bin/python -m pip install --quiet --upgrade pip
.venv310/bin/python -m pip install --quiet -e '.[poliastro,test,notebooks]'
.venv310/bin/python -c 'import poliastro; print("poliastro", poliastro.__version__)'
.venv310/bin/python -m pytest tests/test_poliastro_bridge.py twin/orbit/poliastro_bridge.py \
  "tests/test_notebooks.py::test_notebook_runs_and_ends_on_a_physical_check[poliastro_design_check]"
