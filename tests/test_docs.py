"""The API reference (``docs/api``, Sphinx autodoc + numpydoc) builds from the docstrings with no warning
and no network (the examples in it run as doctests: ``pytest --doctest-modules twin``)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx", reason="the docs extra is not installed (pip install '.[docs]')")
pytest.importorskip("numpydoc", reason="the docs extra is not installed (pip install '.[docs]')")

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_api_reference_builds_without_warnings(tmp_path):
    result = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-b", "html", "-W", "--keep-going", "-q",
                             str(ROOT / "docs" / "api"), str(tmp_path)], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    page = (tmp_path / "index.html").read_text()
    for documented in ("twin.accessor.TwinAccessor.power_margins", "twin.orbit.poliastro_bridge.from_poliastro",
                       "twin.run.simulate.run_scenario", "twin.telemetry.anomalies.find_anomalies"):
        assert f'id="{documented}"' in page, documented
