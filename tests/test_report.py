"""Constellation figures (:mod:`twin.report.figures`) and ``twin report``, on three hours of phase 1.

June is phase 1's eclipse season, so three hours hold about two umbra passes of every satellite.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import twin
from twin.report import figures

ISS_TLE = Path(__file__).resolve().parent.parent / "assets" / "tle" / "iss-2019-12-09.tle"
PERIHELION_FLUX_RATIO = 1.035  # (1 au / 0.9833 au)^2: the most sunlight a year gives above the 1 au value
ADDITIVE = ("satellites", "installed_power_MW", "generated_power_MW", "eclipse_loss_MW", "energy_stored_MWh",
            "compute_EFLOP", "jobs_completed", "jobs_missed")


def run_twin(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "twin", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def run():
    """Phase 1, every satellite, 3 h at 60 s."""
    return twin.run_scenario(twin.load_scenario("phase1"), duration_s=3 * 3600, step_s=60)


@pytest.fixture(scope="module")
def representatives_run():
    """Phase 1, each sub-center's chief standing for its satellites, 3 h at 60 s."""
    return twin.run_scenario(twin.load_scenario("phase1"), duration_s=3 * 3600, step_s=60, representatives=True)


@pytest.fixture(scope="module")
def stored_run(run, tmp_path_factory):
    return twin.save(run, tmp_path_factory.mktemp("report") / "phase1.zarr")


@pytest.mark.parametrize("by", ["subcenter", "owner"])
def test_total_is_the_sum_of_the_rows(run, by):
    total = figures.summary(run, "total").loc["total"]
    rows = figures.summary(run, by)
    for column in ADDITIVE:
        assert rows[column].sum() == pytest.approx(total[column], rel=1e-12), column
    assert rows["min_battery_soc"].min() == total["min_battery_soc"]
    assert rows["max_payload_temperature_K"].max() == total["max_payload_temperature_K"]


def test_rows_name_every_subcenter_and_member(run):
    assert list(figures.summary(run, "subcenter").index) == ["CC1-001", "CC1-002", "CC1-003", "EXP-001"]
    assert list(figures.summary(run, "owner").index) == ["BAIST", "M02", "M03"]
    assert figures.summary(run, "owner")["satellites"].tolist() == [9, 8, 8]


def test_time_series_rows_add_up_to_the_fleet(run):
    total = figures.time_series(run, "total")
    members = figures.time_series(run, "owner")
    assert members["generated_power"].dims == ("member", "time")
    for name in ("generated_power", "eclipse_loss_power", "used_power", "energy_stored", "compute_throughput",
                 "jobs_completed", "jobs_missed"):
        np.testing.assert_allclose(members[name].sum("member", skipna=False), total[name], rtol=1e-12)
        assert total[name].attrs["units"]
    fleet_w = run["generated_power"].astype(np.float64).sum("sat")[1:]  # the run may store float32
    np.testing.assert_allclose(total["generated_power"][1:], fleet_w, rtol=1e-12)


def test_generated_power_and_eclipse_loss_are_consistent(run):
    """Array output generated plus output lost to the shadow is the full-Sun output: both >= 0, their sum
    steady over the run (only the Sun distance, beta angle and cell temperature move it) and below the
    installed power at the most generous Sun distance of the year."""
    series = figures.time_series(run, "total").isel(time=slice(1, None))
    generated, lost = series["generated_power"].values, series["eclipse_loss_power"].values
    assert (generated >= 0).all() and (lost >= 0).all()
    assert (lost > 0).any() and (lost == 0).any(), "three hours of June hold both sunlight and eclipses"
    full_sun = generated + lost
    assert full_sun.max() / full_sun.min() - 1 < 1e-3
    assert full_sun.max() <= run.attrs["installed_power_w"] * PERIHELION_FLUX_RATIO
    total = figures.summary(run, "total").loc["total"]
    assert 0 < total["eclipse_loss_percent"] < 100
    assert total["eclipse_loss_MW"] == pytest.approx(lost.mean() / 1e6, rel=1e-12)  # uniform steps


def test_figures_follow_the_engine_totals(run):
    """Jobs counted step by step add up to the scheduler's own totals; means over a uniform grid are plain means."""
    total = figures.summary(run, "total").loc["total"]
    assert total["jobs_completed"] == run.attrs["compute_completed_jobs"]
    assert total["jobs_missed"] == run.attrs["compute_missed_jobs"]
    assert total["installed_power_MW"] == pytest.approx(run.attrs["installed_power_w"] / 1e6, rel=1e-12)
    fleet_w = run["generated_power"].astype(np.float64).sum("sat")[1:]  # the run may store float32
    assert total["generated_power_MW"] == pytest.approx(float(fleet_w.mean()) / 1e6, rel=1e-12)
    flop = float((run["compute_throughput"][:, 1:].astype(np.float64) * 60.0).sum())
    assert total["compute_EFLOP"] == pytest.approx(flop / 1e18, rel=1e-12)


def test_representatives_run_gives_the_full_run_figures(run, representatives_run):
    """Sub-center members fly within a kilometre of their chief on the same bus: they enter and leave the
    Earth's shadow within a fraction of a second of it and see the same Sun, so the chief weighted by
    ``represents`` gives the fleet's power and sunlight to well within 1 %."""
    full = figures.summary(run, "total").loc["total"]
    chiefs = figures.summary(representatives_run, "total").loc["total"]
    assert chiefs["satellites"] == full["satellites"] == 25
    assert chiefs["installed_power_MW"] == pytest.approx(full["installed_power_MW"], rel=1e-12)
    assert chiefs["generated_power_MW"] == pytest.approx(full["generated_power_MW"], rel=0.01)
    assert abs(chiefs["sunlit_fraction"] - full["sunlit_fraction"]) < 0.01
    assert chiefs["energy_stored_MWh"] == pytest.approx(full["energy_stored_MWh"], rel=0.01)
    rows = figures.summary(representatives_run, "subcenter")
    assert rows["satellites"].tolist() == [8, 8, 8, 1]


def test_report_prints_the_table(stored_run):
    result = run_twin("report", str(stored_run), "--by", "owner")
    assert result.returncode == 0, result.stderr
    header, names, units, *rows = result.stdout.splitlines()
    assert header.startswith("phase1: 2026-06-01T00:00:00Z to 2026-06-01T03:00:00Z (3 h), step 60 s, full run")
    assert names.split()[:4] == ["power", "sats", "installed", "generated"] and "MW" in units
    for kind in ("used", "compute", "comms", "heaters", "bus", "curtailed", "shed", "battery loss"):
        assert f" {kind} " in names, kind
    assert "delivered" not in result.stdout.split("network")[0]  # array output is generated, not delivered
    assert [row.split()[0] for row in rows[:4]] == ["total", "BAIST", "M02", "M03"]
    assert rows[0].split()[1] == "25"
    compute_names, compute_units, *compute_rows = rows[4:]
    assert compute_names.split()[:3] == ["compute", "sats", "compute"] and "EFLOP" in compute_units
    assert [row.split()[0] for row in compute_rows[:4]] == ["total", "BAIST", "M02", "M03"]
    assert result.stdout.count("energy (fleet, mean over the run): generated ") == 1


def test_report_top_keeps_the_largest_rows(stored_run):
    result = run_twin("report", str(stored_run), "--by", "subcenter", "--top", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[3:5]] == ["total", "CC1-001"]
    assert [line.split()[0] for line in lines[8:10]] == ["total", "CC1-001"]
    assert any("2 more sub-centers not shown" in line for line in lines)


@pytest.fixture(scope="module")
def orbit_only_run(tmp_path_factory):
    """A TLE run: orbits and sunlight, no power or compute."""
    path = tmp_path_factory.mktemp("tle") / "iss.nc"
    result = run_twin("simulate", str(ISS_TLE), "--duration", "1h", "--step", "10min", "--out", str(path))
    assert result.returncode == 0, result.stderr
    return path


@pytest.mark.parametrize("which, message", [
    ("missing", "missing.zarr"),
    ("not a store", "is not a Zarr store"),
    ("orbit only", "has no generated_power"),
])
def test_report_errors_are_one_line_with_status_2(tmp_path, orbit_only_run, which, message):
    (tmp_path / "empty.zarr").mkdir()
    path = {"missing": "missing.zarr", "not a store": "empty.zarr", "orbit only": str(orbit_only_run)}[which]
    result = run_twin("report", path, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("twin: error: ") and message in lines[0], result.stderr
    assert result.stdout == ""


def test_simulate_representatives_writes_the_figures(tmp_path):
    out = tmp_path / "chiefs.zarr"
    result = run_twin("simulate", "phase1", "--duration", "2h", "--representatives", "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("wrote") and "4 satellites x 121 steps" in lines[0]
    assert "(2 h), step 60 s, representatives run: 4 chiefs stand for 25 satellites" in lines[1]
    assert lines[4].split()[:2] == ["total", "25"] and lines[7].split()[:2] == ["total", "25"]  # power; compute
    assert lines[-1].startswith("warnings: none")
    stored = twin.open_run(out)
    assert int(stored["represents"].sum()) == 25 and stored.attrs["representatives"] == 1


def test_simulate_refuses_representatives_of_a_tle_file(tmp_path):
    result = run_twin("simulate", str(ISS_TLE), "--representatives", "--out", str(tmp_path / "x.nc"))
    assert result.returncode == 2 and "--representatives" in result.stderr
    assert not (tmp_path / "x.nc").exists()


@pytest.fixture(scope="module")
def phase3_representatives():
    """Phase 3, each sub-center's chief standing for its satellites, 2 h at 60 s."""
    return twin.run_scenario(twin.load_scenario("phase3"), duration_s=2 * 3600, step_s=60, representatives=True)


@pytest.mark.parametrize("which", ["phase1 full", "phase3 representatives"])
def test_generated_is_used_plus_curtailed_plus_battery_losses_plus_storage(run, phase3_representatives, which):
    """The first law over a run, as the report shows it: every joule the arrays generated was used by a load
    (compute, comms, heaters, bus), curtailed, lost in the battery or stored; "delivered" array output once
    counted curtailed energy as if it were used. Per satellite, used = the sum of its kinds."""
    chosen = run if which == "phase1 full" else phase3_representatives
    total = figures.summary(chosen, "total").loc["total"]
    parts = total["used_power_MW"] + total["curtailed_power_MW"] + total["battery_loss_MW"] + total["stored_change_MW"]
    assert total["generated_power_MW"] == pytest.approx(parts, rel=1e-7)
    kinds = sum(total[f"used_{kind}_MW"] for kind in ("compute", "comms", "heaters", "bus"))
    assert total["used_power_MW"] == pytest.approx(kinds, rel=1e-6)
    by_kind = sum(chosen[f"used_{kind}_power"].values[:, 1:].astype(float)
                  for kind in ("compute", "comms", "heater", "bus"))
    np.testing.assert_allclose(chosen["used_power"].values[:, 1:], by_kind, rtol=1e-6)
    assert total["curtailed_power_MW"] > 0 and total["used_compute_MW"] > 0
    assert "left over" in figures.energy_identity(total)
