"""``twin radiation RUN``: the fleet's and each sub-center's dose, upsets, SAA time and capacity lost, and by altitude."""

import numpy as np
import pytest

import twin
from twin.cli import main
from twin.constants import JULIAN_YEAR_S, SECONDS_PER_DAY
from twin.radiation import HardwareHealth, RadiationSettings, radiation_layer
from twin.report.radiation import radiation_summary, run_radiation


@pytest.fixture(scope="module")
def stored_orbits(tmp_path_factory):
    """Phase 1's representatives for 6 h (orbit layer only), stored."""
    run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=6 * 3600, step_s=60, subsystems=False,
                            representatives=True)
    return run, twin.save(run, tmp_path_factory.mktemp("radiation") / "orbits.zarr")


def test_the_figures_of_a_run_are_its_layers_per_satellite_weighted_by_what_each_row_stands_for(stored_orbits):
    run, _ = stored_orbits
    layer = radiation_layer(run)
    table = radiation_summary(run_radiation(run))
    represents = run["represents"].values.astype(float)
    assert represents.sum() == 25 and list(table.index[:2]) == ["fleet", "CC1-001"]
    span_s = 6 * 3600.0
    dose_krad_per_year = layer["total_dose"].values[:, -1] * 100 / span_s * JULIAN_YEAR_S / 1e3
    upsets_per_day = layer["seu_rate"].values.mean(axis=1) * SECONDS_PER_DAY
    fleet = table.loc["fleet"]
    assert fleet.satellites == 25
    np.testing.assert_allclose(fleet.dose_krad_per_year, np.sum(represents * dose_krad_per_year) / 25, rtol=1e-6)
    np.testing.assert_allclose(fleet.upsets_per_day, np.sum(represents * upsets_per_day), rtol=1e-5)
    chief = list(run.sat.values).index("CC1-001-01")
    np.testing.assert_allclose(table.loc["CC1-001"].upsets_per_day, 8 * upsets_per_day[chief], rtol=1e-5)
    np.testing.assert_allclose(table.loc["CC1-001"].dose_krad_per_year, dose_krad_per_year[chief], rtol=1e-6)
    in_saa = np.mean(layer["proton_flux"].values >= 1.0, axis=1)
    np.testing.assert_allclose(fleet.saa_time_percent, 100 * np.sum(represents * in_saa) / 25, rtol=1e-9)
    lost = HardwareHealth().capacity_lost_fraction(dose_krad_per_year * 1e3, JULIAN_YEAR_S)
    np.testing.assert_allclose(fleet.capacity_lost_percent_per_year, 100 * np.sum(represents * lost) / 25, rtol=1e-6)


def test_the_command_prints_the_fleet_the_subcenters_and_the_altitudes(stored_orbits, capsys):
    _, path = stored_orbits
    assert main(["radiation", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "AP8/AE8 MIN behind 2 mm of aluminium (computed with the defaults)" in printed
    lines = printed.splitlines()
    assert [line.split()[0] for line in lines if line.split() and line.split()[0] in ("fleet", "CC1-003", "EXP-001")] \
        == ["fleet", "CC1-003", "EXP-001"]
    assert [line.split()[:2] for line in lines if line.endswith(tuple("0123456789")) and " km " in line] == \
        [["700", "km"], ["750", "km"], ["800", "km"]]
    assert main(["radiation", str(path), "--by", "total", "--shielding-mm", "10", "--solar", "max"]) == 0
    printed = capsys.readouterr().out
    assert "AP8/AE8 MAX behind 10 mm of aluminium (computed with the options)" in printed and "CC1-001" not in printed


def test_a_run_of_a_scenario_with_radiation_is_read_as_stored(tmp_path, capsys):
    text = (twin.scenario.SCENARIO_DIR / "phase1.toml").read_text() + '\n[radiation]\nsolar = "max"\nshielding_mm = 5.0\n'
    (tmp_path / "shielded.toml").write_text(text)
    assert main(["simulate", str(tmp_path / "shielded.toml"), "--duration", "2h", "--step", "120s",
                 "--out", str(tmp_path / "run.zarr")]) == 0
    capsys.readouterr()
    stored = twin.open_run(tmp_path / "run.zarr")
    radiation = run_radiation(stored)
    assert radiation.source == "the run's radiation layer"
    assert radiation.settings == RadiationSettings("max", 5.0)
    assert main(["radiation", str(tmp_path / "run.zarr")]) == 0
    assert "AP8/AE8 MAX behind 5 mm of aluminium (the run's radiation layer)" in capsys.readouterr().out


@pytest.mark.parametrize("options, message", [
    (["--shielding-mm", "30"], "twin: error: shielding_mm: 30.0 is outside the physical range [0.05, 20] mm of "
                               "aluminium (what the dose-depth table covers)\n"),
    (["--shielding-mm", "nan"], "twin: error: shielding_mm: nan is outside the physical range [0.05, 20] mm of "
                                "aluminium (what the dose-depth table covers)\n"),
])
def test_a_shielding_out_of_range_is_refused_in_one_line(stored_orbits, capsys, options, message):
    _, path = stored_orbits
    assert main(["radiation", str(path), *options]) == 2
    assert capsys.readouterr().err == message


def test_a_missing_run_is_refused_in_one_line(tmp_path, capsys):
    assert main(["radiation", str(tmp_path / "none.zarr")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("twin: error: ") and "none.zarr" in error and error.count("\n") == 1


def test_a_scenario_with_radiation_runs_on_a_dask_cluster_from_the_command_line(tmp_path):
    pytest.importorskip("distributed")
    text = (twin.scenario.SCENARIO_DIR / "phase1.toml").read_text() + "\n[radiation]\nshielding_mm = 1.0\n"
    (tmp_path / "shielded.toml").write_text(text)
    assert main(["simulate", str(tmp_path / "shielded.toml"), "--duration", "1h", "--step", "120s", "--workers", "2",
                 "--quiet", "--out", str(tmp_path / "run.zarr")]) == 0
    stored = twin.open_run(tmp_path / "run.zarr")
    assert stored.attrs["radiation_shielding_mm"] == 1.0
    assert float(stored["total_dose"].isel(time=-1).min()) > 0 and float(stored["capacity_lost"].max()) > 0
