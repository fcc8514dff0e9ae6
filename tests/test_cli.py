"""The twin command line, run as a user runs it: a real process, its output and exit status."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import twin

ISS_TLE = Path(__file__).resolve().parent.parent / "assets" / "tle" / "iss-2019-12-09.tle"


def run_twin(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "twin", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_simulate_then_info(tmp_path):
    out = tmp_path / "run.zarr"
    result = run_twin("simulate", "phase1", "--start", "2026-06-01T00:00:00Z", "--duration", "3h", "--step", "60s",
                      "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and out.is_dir()
    run = twin.open_run(out)
    assert run.sizes["time"] == 181 and run.sizes["sat"] == 25
    info = run_twin("info", str(out))
    assert info.returncode == 0, info.stderr
    for expected in ("phase1", "25 in 4 sub-centers", "illumination", "sunlit fraction"):
        assert expected in info.stdout


def test_the_demo_runs_and_describes_its_run(tmp_path):
    """``twin demo`` is what the README's first command runs; it once failed on an option only simulate has."""
    out = tmp_path / "demo.zarr"
    result = run_twin("demo", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert twin.open_run(out).sizes["sat"] == 25
    assert "longest umbra of" in result.stdout and "ground contacts:" in result.stdout


def test_simulate_a_tle_file_to_netcdf(tmp_path):
    out = tmp_path / "iss.nc"
    result = run_twin("simulate", str(ISS_TLE), "--duration", "2h", "--step", "5min", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert twin.open_run(out).sizes["time"] == 25


@pytest.mark.parametrize("args, message", [
    (["simulate", "phase9", "--out", "x.zarr"], "scenario: 'phase9'"),
    (["simulate", "phase1", "--duration", "5q", "--out", "x.zarr"], "--duration: '5q'"),
    (["simulate", "phase1", "--step", "1h", "--duration", "10min", "--out", "x.zarr"], "--step"),
    (["simulate", "phase1", "--start", "tomorrow", "--out", "x.zarr"], "--start: 'tomorrow'"),
    (["simulate", "phase1", "--out", "x.csv"], "--out: 'x.csv'"),
    (["info", "missing.zarr"], "missing.zarr"),
])
def test_user_errors_are_one_line_with_status_2(tmp_path, args, message):
    result = run_twin(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("twin: error: ") and message in lines[-1], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.zarr").exists()


def test_bad_scenario_file_names_field_and_value(tmp_path):
    scenario = tmp_path / "bad.toml"
    text = (Path(twin.scenario.SCENARIO_DIR) / "phase1.toml").read_text()
    scenario.write_text(text.replace("ltan_hours = 18.0", "ltan_hours = 25.0"))
    result = run_twin("simulate", str(scenario), "--out", str(tmp_path / "x.zarr"))
    assert result.returncode == 2
    assert "orbit.ltan_hours: 25.0" in result.stderr and "Traceback" not in result.stderr


def test_network_without_a_links_section_is_refused_before_running(tmp_path):
    scenario = tmp_path / "no-links.toml"
    text = (Path(twin.scenario.SCENARIO_DIR) / "phase1.toml").read_text()
    scenario.write_text(re.sub(r"^\[links\]\n(?:[^\[].*\n|\n)*", "", text, flags=re.M))
    result = run_twin("simulate", str(scenario), "--duration", "1h", "--network", "--out", str(tmp_path / "x.zarr"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == "twin: error: --network: the scenario has no [links] section"
    assert not (tmp_path / "x.zarr").exists()


def test_scenarios_lists_the_phases_and_the_build_up():
    result = run_twin("scenarios")
    assert result.returncode == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["lifecycle", "phase1", "phase2", "phase3"]
