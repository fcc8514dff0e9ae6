"""Input the twin cannot use ends in one line naming what is wrong, exit status 2, no traceback: a TLE
with a corrupted digit, a scenario that is not UTF-8 or numbers more satellites than SGP4 can, a run
too large for memory, a file that is not a run, a damaged measurement store or run; and a closed
pipe ends a command quietly."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

import twin
from twin.orbit.constellation import TleChecksumWarning, read_tle_file
from twin.dataset import open_run, save
from twin.run.memory import RunTooLargeError, check_run_fits
from twin.scenario import SCENARIO_DIR, load_scenario
from twin.telemetry.store import COMMIT_FILE, MeasurementStore

ISS_TLE = Path(__file__).resolve().parent.parent / "assets" / "tle" / "iss-2019-12-09.tle"


def run_twin(*args, cwd=None, stdout=subprocess.PIPE):
    return subprocess.run([sys.executable, "-m", "twin", *args], stdout=stdout, stderr=subprocess.PIPE, text=True,
                          cwd=cwd, timeout=300)


def error_line(result: subprocess.CompletedProcess) -> str:
    """The last line of stderr, checked to be the one-line error of a refused command."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


# --------------------------------------------------------------------------- TLE checksums (item 14)

def corrupted_tle(tmp_path: Path) -> Path:
    """The ISS TLE with one digit of line 2's inclination changed (51.6439 -> 51.6449): its checksum no longer adds up."""
    path = tmp_path / "iss.tle"
    path.write_text(ISS_TLE.read_text().replace("51.6439", "51.6449"))
    return path


def test_a_tle_with_a_corrupted_digit_is_refused_naming_the_line(tmp_path):
    out = tmp_path / "iss.nc"
    result = run_twin("simulate", str(corrupted_tle(tmp_path)), "--duration", "1h", "--out", str(out))
    assert error_line(result) == ("twin: error: tle line 3: checksum 2 does not match the line's digits, which add "
                                  "up to 3 (a corrupted digit?); --no-checksum accepts it")
    assert not out.exists()


def test_no_checksum_accepts_it_with_a_warning(tmp_path):
    out = tmp_path / "iss.nc"
    result = run_twin("simulate", str(corrupted_tle(tmp_path)), "--duration", "1h", "--quiet", "--no-checksum",
                      "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "twin: warning: tle line 3: checksum 2 does not match" in result.stderr
    assert open_run(out).sizes["sat"] == 1


def test_read_tle_file_checks_every_line():
    text = ISS_TLE.read_text()
    assert read_tle_file(text)[0][0] == "ISS (ZARYA)"
    with pytest.raises(ValueError, match=r"tle line 2: checksum 1 does not match the line's digits, which add up to 2"):
        read_tle_file(text.replace("38792-4", "38793-4"))
    with pytest.raises(ValueError, match=r"tle line 3: .* is not 69 columns ending in a checksum digit"):
        read_tle_file(text.replace("202482", "20248"))
    with pytest.warns(TleChecksumWarning, match="tle line 3"):
        [(_, _, line2)] = read_tle_file(text.replace("51.6439", "51.6449"), check_checksums=False)
    assert "51.6449" in line2


# ------------------------------------------------------------------------------ scenarios (item 15)

def test_a_scenario_that_is_not_utf8_names_the_line(tmp_path):
    scenario = tmp_path / "latin1.toml"
    text = (SCENARIO_DIR / "phase1.toml").read_text(encoding="utf-8")
    scenario.write_bytes(text.replace('name = "phase1"', 'name = "phase1"\n# caf\xe9', 1).encode("latin-1"))
    line = text[:text.index('name = "phase1"')].count("\n") + 2
    assert error_line(run_twin("simulate", str(scenario), "--out", str(tmp_path / "x.zarr"))) == \
        f"twin: error: scenario: {str(scenario)!r} is not UTF-8 text: line {line} has the byte 0xe9"


def with_cc1(count: int, satellites: int) -> str:
    """Phase 1's scenario text with ``count`` CC1 sub-centers of ``satellites`` satellites."""
    text = (SCENARIO_DIR / "phase1.toml").read_text()
    head, cc1, tail = text.partition('name = "CC1"')
    tail = re.sub(r"^count = \d+", f"count = {count}", tail, count=1, flags=re.M)
    tail = re.sub(r"^satellites = \d+", f"satellites = {satellites}", tail, count=1, flags=re.M)
    return head + cc1 + tail


def test_more_satellites_than_sgp4_can_number_is_refused_saying_the_limit(tmp_path):
    scenario = tmp_path / "huge.toml"
    scenario.write_text(with_cc1(341, 1000))  # 341,001 satellites: the 341st sub-center's chief would be number 340,002
    assert error_line(run_twin("simulate", str(scenario), "--out", str(tmp_path / "x.zarr"))) == \
        ("twin: error: subcenters: 341,001 satellites are more than SGP4 can number; its satellite numbers (Alpha-5) "
         "go up to 339,999")
    (tmp_path / "largest.toml").write_text(with_cc1(339, 1000))  # 339,001 satellites: allowed
    assert load_scenario(tmp_path / "largest.toml").satellite_count == 339_001


def test_a_run_that_would_not_fit_in_memory_is_refused_before_allocating(tmp_path):
    out = tmp_path / "decade.zarr"
    line = error_line(run_twin("simulate", "phase3", "--duration", "3650d", "--out", str(out)))
    assert line.startswith("twin: error: memory: a run of 10,485 satellites x 5,256,001 steps needs about 12.5 TB "
                           "(1.6 x its 7.8 TB of arrays) and ")
    assert line.endswith(" is available: use a longer --step, a shorter --duration, --representatives (the chiefs "
                         "only) or --workers N (written to disk as it runs)")
    assert not out.exists()


def test_the_memory_estimate_is_the_arrays_a_run_holds(phase1, phase1_run, monkeypatch):
    """The bytes counted before a run are those of the run's variables once made (phase 1, 6 h)."""
    from twin.run import memory
    from twin.run.plan import RunPlan

    held = sum(variable.nbytes for variable in phase1_run.data_vars.values())
    plan = RunPlan.of(phase1, duration_s=6 * 3600, step_s=60)
    counted = memory.run_array_bytes(plan)
    assert counted == held
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: int(memory.PEAK_PER_ARRAY_BYTE * held) - 1)
    with pytest.raises(RunTooLargeError, match=r"a run of 25 satellites x 361 steps needs about 2.1 MB \(1.6 x its 1.3 MB"):
        twin.run_scenario(phase1, duration_s=6 * 3600, step_s=60)
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: int(memory.PEAK_PER_ARRAY_BYTE * held) + 1)
    check_run_fits(plan)


def test_the_memory_estimate_of_a_flight_run_counts_its_flight_variables(phase1, monkeypatch):
    """A ``--flight`` run's air density, drag and radiation pressure are counted before it runs, so a flight run too
    big for memory is refused as any other (phase 1, 2 h of orbits)."""
    from twin.run import memory
    from twin.run.plan import RunPlan

    run = twin.run_scenario(phase1, duration_s=2 * 3600, step_s=60, subsystems=False, flight=True)
    held = sum(variable.nbytes for variable in run.data_vars.values())
    plan = RunPlan.of(phase1, duration_s=2 * 3600, step_s=60, subsystems=False, flight=True)
    assert memory.run_array_bytes(plan) == held
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: int(memory.PEAK_PER_ARRAY_BYTE * held) - 1)
    with pytest.raises(RunTooLargeError, match=r"^memory: a run of 25 satellites x 121 steps needs about "):
        twin.run_scenario(phase1, duration_s=2 * 3600, step_s=60, subsystems=False, flight=True)


# ---------------------------------------------------------------------------- not a run (item 15)

@pytest.mark.parametrize("make, message", [
    (lambda path: path.with_suffix(".nc").write_text("hello"), "is not a NetCDF file the twin can read"),
    (lambda path: xr.Dataset({"a": ("x", [1, 2])}).to_netcdf(path.with_suffix(".nc")),
     "is not a twin run (its attributes have neither twin_run_format nor a title beginning 'Orbital data center twin')"),
    (lambda path: xr.Dataset({"a": ("x", [1, 2])}).to_zarr(path.with_suffix(".zarr"), zarr_format=2, consolidated=True),
     "is not a twin run"),
    (lambda path: MeasurementStore(path.with_suffix(".zarr")), "is not a Zarr store written by the twin"),
])
def test_info_and_report_on_a_file_that_is_not_a_run(tmp_path, make, message):
    make(tmp_path / "other")
    [path] = tmp_path.iterdir()
    for command in ("info", "report"):
        line = error_line(run_twin(command, str(path)))
        assert line.startswith(f"twin: error: run: {str(path)!r} ") and message in line


def test_a_truncated_commit_record_is_named(tmp_path):
    store = tmp_path / "tm.zarr"
    MeasurementStore(store)
    commit = store / COMMIT_FILE
    commit.write_text(commit.read_text()[:30])
    for command in (["telemetry", "status", str(store)], ["telemetry", "assess", "phase1", "--store", str(store)]):
        line = error_line(run_twin(*command))
        assert line.startswith(f"twin: error: store: {str(commit)!r} is damaged (") and "line" in line


# ------------------------------------------------------------------------- damaged runs (item 15)

@pytest.fixture
def stored(phase1_run, tmp_path):
    """Phase 1 for an hour, stored by twin.save (every chunk written)."""
    return save(phase1_run.isel(time=slice(0, 61)), tmp_path / "run.zarr")


def test_a_deleted_chunk_is_named_not_shown_as_nan(stored):
    (stored / "generated_power" / "0.0").unlink()
    message = f"twin: error: run: {str(stored)!r} is damaged: variable 'generated_power' has 1 of its 1 chunks missing (deleted?)"
    for command in ("report", "info"):
        assert error_line(run_twin(command, str(stored))) == message
    with pytest.raises(twin.dataset.RunDamagedError, match="generated_power"):
        open_run(stored)


def test_a_run_stores_every_chunk_even_one_of_fill_values(phase1_run, tmp_path):
    """A chunk of zeros (every satellite lost: ``alive`` 0) is written too, or a deleted one could not be told apart."""
    run = phase1_run.isel(time=slice(0, 61))
    stored = save(run.assign(alive=run["alive"] * 0), tmp_path / "lost.zarr")
    assert (stored / "alive" / "0.0").is_file()
    assert int(open_run(stored)["alive"].sum()) == 0


def test_a_damaged_chunk_is_named_by_report_render_and_contacts(stored, tmp_path):
    intact = shutil.copytree(stored, tmp_path / "intact.zarr")
    (stored / "generated_power" / "0.0").write_bytes(b"not blosc")
    message = (f"twin: error: run: {str(stored)!r} is damaged: variable 'generated_power', chunk 0.0: "
               "error during blosc decompression")
    for command in (["report", str(stored)], ["render", str(stored), "--color-by", "generated_power", "--out", str(tmp_path / "view.png")]):
        assert error_line(run_twin(*command)).startswith(message)
    assert not (tmp_path / "view.png").exists()
    (intact / "position" / "0.0.0").write_bytes(b"not blosc")
    assert error_line(run_twin("contacts", str(intact), "--station", "40,116")).startswith(
        f"twin: error: run: {str(intact)!r} is damaged: variable 'position', chunk 0.0.0: ")


# ---------------------------------------------------------------------------- closed pipe (item 15)

def test_a_reader_that_closes_the_pipe_ends_the_command_quietly(stored):
    """``twin contacts RUN ... | head -1``: head exits, the next write meets a closed pipe."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    try:
        result = run_twin("contacts", str(stored), "--station", "40,116", stdout=write_end)
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert result.stderr == ""
