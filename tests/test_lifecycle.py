"""The build-up in one run (twin.lifecycle): the lifecycle scenario, its bad input refused in one line, the accounting
of satellites, energy and members' shares at every step, and a run killed mid-way that resumes to what an
uninterrupted run stores."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import twin
from twin.cli import main
from twin.lifecycle import run_lifecycle
from twin.lifecycle.run import checkpoint_path, partial_path
from twin.report import buildup
from twin.scenario import SCENARIO_DIR, ScenarioError, load_scenario

LIFECYCLE_TEXT = (SCENARIO_DIR / "lifecycle.toml").read_text(encoding="utf-8")
ROOT = Path(__file__).resolve().parent.parent


def blocks(text: str) -> list[str]:
    """The file's tables, each from its header line to the next (the text before the first is the first block)."""
    return re.split(r"\n(?=\[)", text)


def small_text(groups=("EXP", "CC1", "CC2"), end="2031-06-01", radiation=True, **lifecycle) -> str:
    """The lifecycle scenario cut to ``groups`` (their launches and shares), ending at ``end``, with ``lifecycle``
    keys replaced (``failure_rate_per_year=0.3``), without its ``[radiation]`` if not ``radiation``."""
    kept = []
    for block in blocks(LIFECYCLE_TEXT):
        header = block.split("\n", 1)[0]
        if header == "[radiation]" and not radiation:
            continue
        group = re.search(r'^(?:name|group) = "([^"]+)"', block, re.M)
        if header in ("[[subcenters]]", "[[lifecycle.launches]]", "[[lifecycle.shares]]") and group[1] not in groups:
            continue
        kept.append(block)
    head, section = "\n".join(kept).split("\n[lifecycle]\n")
    section = re.sub(r'^end = "[^"]+"', f'end = "{end}"', section, flags=re.M)
    for name, value in lifecycle.items():
        section = re.sub(rf"^{name} = [^#\n]+", f"{name} = {value!r} ".replace("'", '"'), section, flags=re.M)
    return f"{head}\n[lifecycle]\n{section}"


@pytest.fixture(scope="module")
def small_scenario(tmp_path_factory) -> Path:
    """Phases 1 and 2 built up to mid-2031 at 7-day steps, with failures, disposals and replacements made frequent."""
    path = tmp_path_factory.mktemp("lifecycle") / "small.toml"
    path.write_text(small_text(failure_rate_per_year=0.3, design_life_years=2.5, replacement_every_days=60.0,
                               step="7d"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small_store(small_scenario, tmp_path_factory) -> Path:
    return run_lifecycle(load_scenario(small_scenario), tmp_path_factory.mktemp("run") / "small.zarr", chunk_steps=10)


@pytest.fixture(scope="module")
def small_run(small_store):
    return twin.open_run(small_store).load()


def test_the_lifecycle_scenario_builds_phase_3_launch_by_launch():
    scenario = twin.load_scenario("lifecycle")
    assert scenario.satellite_count == twin.load_scenario("phase3").satellite_count
    launched = {}
    for launch in scenario.lifecycle.launches:
        launched[launch.group] = launched.get(launch.group, 0) + launch.subcenters
    assert launched == {group.name: group.count for group in scenario.subcenters}
    assert [target.name for target in scenario.lifecycle.targets] == ["phase 1", "phase 2", "phase 3"]


@pytest.mark.parametrize("edit, message", [
    (lambda text: text.replace('date = "2025-12"', 'date = "2024-06"'),
     "lifecycle.launches[0].date: '2024-06' is before the scenario epoch (2025-01-01T00:00:00.000)"),
    (lambda text: text.replace("percent = 28.0", "percent = 128.0"),
     "lifecycle.shares[0].percent: 128.0 is out of range; it must be at most 100.0"),
    (lambda text: text.replace("percent = 28.0", "percent = 20.0"),
     "lifecycle.shares: the shares of CC2 add up to 92 %, not 100 %"),
    (lambda text: text.replace('name = "CC2"', 'name = "CC1-002"').replace('group = "CC2"', 'group = "CC1-002"'),
     "subcenters[2].name: 'CC1-002' overlaps the sub-center names of group 'CC1' (CC1-001, CC1-001-01...)"),
    (lambda text: text.replace("subcenters = 3 ", "subcenters = 4 "),
     "lifecycle.launches[1].subcenters: 4 overlaps sub-centers of CC1 launched before: the group has 1 fewer than "
     "launched"),
    (lambda text: text.replace('end = "2036-12-31"', 'end = "2035-06-01"'),
     "lifecycle.launches[24].date: '2035-06' is not before lifecycle.end (2035-06-01)"),
])
def test_bad_lifecycle_input_is_refused_in_one_line_naming_the_field(tmp_path, capsys, edit, message):
    path = tmp_path / "bad.toml"
    path.write_text(edit(LIFECYCLE_TEXT), encoding="utf-8")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert str(raised.value) == message
    assert main(["simulate", str(path), "--out", str(tmp_path / "bad.zarr")]) == 2
    assert capsys.readouterr().err == f"twin: error: {message}\n"
    assert not (tmp_path / "bad.zarr").exists()


def test_launched_satellites_are_flying_failed_or_disposed_at_every_date(small_run):
    launched = small_run["launched_satellites"]
    accounted = small_run["flying_satellites"] + small_run["failed_satellites"] + small_run["disposed_satellites"]
    xr.testing.assert_equal(launched, accounted)
    assert int(launched[:, -1].sum()) > 765  # replacements went up
    assert int(small_run["failed_satellites"][:, -1].sum()) > 0 and int(small_run["disposed_satellites"][:, -1].sum()) > 0
    assert (small_run["serving_satellites"] <= small_run["flying_satellites"]).all()
    assert int(small_run["launches"].sum()) > len(load_scenario("lifecycle").lifecycle.launches[:7])


def test_the_energy_identity_holds_every_step(small_run):
    steps = small_run.isel(time=slice(1, None))
    generated = steps["subcenter_generated_power"]
    spent = steps["subcenter_used_power"] + steps["subcenter_battery_loss_power"] + steps["subcenter_curtailed_power"]
    np.testing.assert_allclose(spent.values, generated.values, rtol=1e-12, atol=1e-6)
    assert (steps["subcenter_curtailed_power"] >= -1e-6).all()
    assert float(steps["subcenter_battery_loss_power"].sum()) > 0  # the eclipse seasons
    assert np.isnan(small_run["subcenter_generated_power"][:, 0]).all()  # no step ends at the epoch
    delivered, offered = steps["subcenter_compute_delivered"], steps["subcenter_compute_offered"]
    assert (delivered <= offered * (1 + 1e-12)).all()


def test_members_shares_sum_to_the_fleet(small_run):
    np.testing.assert_allclose(small_run["member_share"].sum("member").values, 1.0)
    by_member = (small_run["member_share"] * small_run["flying_satellites"]).sum("sat")
    np.testing.assert_allclose(by_member.sum("member").values, small_run["flying_satellites"].sum("sat").values)
    capacity = buildup.member_capacity(small_run)
    fleet = (small_run["serving_satellites"] * small_run["installed_compute"]).sum("sat")
    np.testing.assert_allclose(capacity.sum("member").values, fleet.values)
    cc2 = small_run["group"] == "CC2"
    assert float(small_run["member_share"].sel(member="BAIST").where(cc2).max()) == pytest.approx(0.28)


def test_the_run_is_in_the_catalogue(small_run):
    from test_catalogue import differences

    assert differences(small_run) == []


def test_figures_by_year_and_targets(small_run):
    table = buildup.buildup(small_run, "year")
    assert list(table.index) == ["2025", "2026", "2027", "2028", "2029", "2030", "2031"]
    assert table.loc["2025", "launches"] == 1 and table.loc["2027", "flying"] <= 25
    assert len(buildup.buildup(small_run, "quarter")) == 26
    outcomes = {outcome.name: outcome for outcome in buildup.targets(small_run)}
    assert outcomes["phase 3"].reached is None and not outcomes["phase 3"].met
    assert outcomes["phase 3"].line().startswith("phase 3: 1 GW by 2036-01-01: missed by ")


def killed_mid_run(scenario: Path, out: Path) -> None:
    """Start the build-up of ``scenario`` into ``out`` in a process of its own and kill it after two checkpoints."""
    code = ("import sys; from twin.lifecycle import run_lifecycle; from twin.scenario import load_scenario; "
            "run_lifecycle(load_scenario(sys.argv[1]), sys.argv[2], chunk_steps=10)")
    process = subprocess.Popen([sys.executable, "-c", code, str(scenario), str(out)], cwd=ROOT)
    checkpoint = checkpoint_path(partial_path(out))
    deadline, seen = time.monotonic() + 300, 0
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if checkpoint.exists():
                with np.load(checkpoint) as saved:
                    seen = int(saved["next_step"])
                if seen >= 20:
                    break
            time.sleep(0.05)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert 20 <= seen < 200 and not out.exists()


def test_a_killed_run_resumes_and_stores_what_an_uninterrupted_run_does(small_scenario, small_run, tmp_path, capsys):
    out = tmp_path / "resumed.zarr"
    killed_mid_run(small_scenario, out)
    notes = []
    run_lifecycle(load_scenario(small_scenario), out, note=notes.append)
    assert len(notes) == 1 and notes[0].startswith(".resumed.zarr.twin-lifecycle.zarr: resumed at step ")
    assert not partial_path(out).exists() and not checkpoint_path(partial_path(out)).exists()
    xr.testing.assert_identical(twin.open_run(out).load(), small_run)


def test_twin_simulate_runs_the_build_up_and_twin_lifecycle_prints_it(small_scenario, tmp_path, capsys):
    out = tmp_path / "life.zarr"
    assert main(["simulate", str(small_scenario), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out} (24 sub-centers x " in printed and "targets:" in printed
    assert main(["lifecycle", str(out), "--by", "quarter", "--members"]) == 0
    printed = capsys.readouterr().out
    assert "2030-Q4" in printed and "BAIST" in printed and "phase 2: 765 satellites by 2031-01-01: " in printed
    assert main(["report", str(out), "--by", "owner"]) == 0  # twin report reads a build-up run as twin lifecycle does
    printed = capsys.readouterr().out
    assert "targets:" in printed and "capacity units in service by member" in printed
    assert main(["lifecycle", str(tmp_path / "none.zarr")]) == 2
    assert capsys.readouterr().err.startswith("twin: error: run: ")


def test_a_day_zoomed_from_the_build_up_matches_its_orbit_average(small_scenario, small_store, tmp_path, capsys):
    """A day of June 2030 at 60 s from the build-up's state (satellites in service, array ageing) generates within
    2 % of what the build-up's orbit average says for each sub-center then, and uses within 3 % for the fleet."""
    run = twin.open_run(small_store).load()
    step = int(np.searchsorted(run["time"].values, np.datetime64("2030-06-15"), side="right") - 1)
    start = str(run["time"].values[step])[:19] + "Z"
    out = tmp_path / "day.zarr"
    assert main(["simulate", str(small_scenario), "--from", str(small_store), "--start", start, "--duration", "1d",
                 "--out", str(out), "--quiet"]) == 0
    day = twin.open_run(out).load()
    serving = run["serving_satellites"].values[:, step]
    np.testing.assert_array_equal(day["represents"].values, serving)
    generated = (day["generated_power"][:, 1:].mean("time") * day["represents"]).values
    expected = run["subcenter_generated_power"].values[:, step]
    flying = serving > 0
    assert flying.sum() >= 20
    np.testing.assert_allclose(generated[flying], expected[flying], rtol=0.02)
    used = float((day["used_power"][:, 1:].mean("time") * day["represents"]).sum())
    assert used == pytest.approx(float(run["subcenter_used_power"].values[:, step].sum()), rel=0.03)
    # the batteries start full at the capacity the build-up's ageing left them (calendar and cycle fade)
    left = run["battery_capacity_fraction"].values[:, step]
    new_j = twin.load_scenario(small_scenario).buses
    capacity_j = np.array([new_j[bus].battery_capacity_wh * 3600.0 for bus in day["bus"].values])
    assert left[flying].max() < 1.0 and left[flying].min() < 0.97
    np.testing.assert_allclose(day["battery_energy"].values[flying, 0], (capacity_j * left)[flying], rtol=1e-6)


def test_a_window_needs_its_start_and_a_build_up_run(small_scenario, small_store, tmp_path, capsys):
    out = tmp_path / "w.zarr"
    assert main(["simulate", str(small_scenario), "--from", str(small_store), "--duration", "1h", "--out", str(out)]) == 2
    assert capsys.readouterr().err == "twin: error: --start: a window of a build-up (--from) needs its start\n"
    assert main(["simulate", str(small_scenario), "--from", str(small_store), "--start", "2040-01-01T00:00:00Z",
                 "--out", str(out)]) == 2
    assert capsys.readouterr().err == ("twin: error: start: 2040-01-01T00:00:00.000 is outside the build-up run "
                                       "(2025-01-01 to 2031-05-28)\n")
    assert not out.exists()


def dose_run(tmp_path, radiation: str) -> xr.Dataset:
    """Phase 1 built up to mid-2031 at 30-day steps without random failures, disposal or replacement, with the
    ``[radiation]`` section ``radiation`` (empty: none)."""
    tmp_path.mkdir()
    path = tmp_path / "dose.toml"
    path.write_text(small_text(groups=("EXP", "CC1"), radiation=False, failure_rate_per_year=0.0,
                               design_life_years=20.0, replacement_every_days=0.0, step="30d") + radiation,
                    encoding="utf-8")
    return twin.open_run(run_lifecycle(load_scenario(path), tmp_path / "dose.zarr")).load()


def test_dose_failures_grow_with_age_and_vanish_without_dose():
    from twin.lifecycle.dose import DoseFailures
    from twin.radiation import HardwareHealth

    health = HardwareHealth()
    model = DoseFailures(np.array([2.92e3 / 3.15576e7, 0.0]), health)  # 2.92 krad a year (780 km, 2 mm); none
    year_s = 3.15576e7
    ages = np.arange(8) * year_s
    dosed = model.failing(np.zeros(7, int), ages[:-1], ages[1:])
    assert (np.diff(dosed[1:]) > 0).all() and dosed[-1] == pytest.approx(0.0678, abs=5e-4)
    before, after = health.failed_by_dose(2.92e3 * 6), health.failed_by_dose(2.92e3 * 7)
    assert dosed[-1] == pytest.approx((after - before) / (1 - before), rel=1e-9)
    np.testing.assert_array_equal(model.failing(np.ones(7, int), ages[:-1], ages[1:]), 0.0)


def test_radiation_adds_failures_by_dose_late_in_life(tmp_path):
    """With [radiation] (parts failing at a median 5 krad(Si), 2.6 krad a year at 750 km behind 2 mm) satellites fail
    by dose, more in their second year than their first; without it, none fail (no random failures here)."""
    none = dose_run(tmp_path / "none", "")
    assert int(none["failed_satellites"].sum()) == 0
    dosed = dose_run(tmp_path / "dose", "\n[radiation]\ndose_median_krad = 5.0\n")
    accounted = dosed["flying_satellites"] + dosed["failed_satellites"] + dosed["disposed_satellites"]
    xr.testing.assert_equal(dosed["launched_satellites"], accounted)
    failed = dosed["failed_satellites"].sum("sat")
    at = lambda date: int(failed.sel(time=date, method="nearest"))
    first_year, second_year = at("2027-03-01") - at("2026-03-01"), at("2028-03-01") - at("2027-03-01")
    assert 0 < first_year < second_year
    assert at("2031-05-01") > 20  # of 25: a median of 5 krad is reached in under two years


def test_a_month_of_2035_zoomed_from_the_build_up_matches_it(tmp_path):
    """June 2035 of the whole build-up (144 sub-centers, built at 5-day steps), zoomed at 600 s with the
    engine from the build-up's state on June 1 (satellites in service, array and battery ageing): the satellites of
    each sub-center whose state holds over the month generate within 2 % of the build-up's orbit averages, the fleet
    uses within 3 % of it, and the batteries start at the capacity the build-up left them."""
    path = tmp_path / "to2035.toml"
    path.write_text(small_text(groups=("EXP", "CC1", "CC2", "DC3"), end="2036-01-01", step="5d"), encoding="utf-8")
    store = run_lifecycle(load_scenario(path), tmp_path / "to2035.zarr")
    out = tmp_path / "june2035.zarr"
    assert main(["simulate", str(path), "--from", str(store), "--start", "2035-06-01T00:00:00Z", "--duration", "30d",
                 "--step", "600s", "--out", str(out), "--quiet"]) == 0
    run, month = twin.open_run(store).load(), twin.open_run(out).load()
    step = int(np.searchsorted(run["time"].values, np.datetime64("2035-06-01"), side="right") - 1)
    serving = run["serving_satellites"].values[:, step]
    np.testing.assert_array_equal(month["represents"].values, serving)
    assert (serving > 0).sum() == 144 - 18  # launched in June (commissioning), September and December 2035: not yet
    over = run.sel(time=slice("2035-06-02", "2035-07-01"))
    # the window holds June 1's fleet; compare the sub-centers whose satellites in service and arrays stay as they
    # were over the month (CC2's first four are disposed of at 7 years in June and replaced by new satellites)
    steady = ((over["serving_satellites"] == serving[:, None]).all("time")
              & (abs(over["array_output_fraction"] - run["array_output_fraction"][:, step]) < 2e-3).all("time")).values
    flying = (serving > 0) & steady
    assert flying.sum() >= 100  # 105 of the 126 in service: others lose a satellite or two to failures
    per_satellite = lambda name: (over[name] / over["serving_satellites"]).mean("time").values
    generated = month["generated_power"][:, 1:].mean("time").values
    np.testing.assert_allclose(generated[flying], per_satellite("subcenter_generated_power")[flying], rtol=0.02)
    # the fleet's scheduler places work where it fits (not the build-up's offered load on every sub-center): the
    # fleet's use is compared (959 against 980 MW when written)
    used = float((month["used_power"][:, 1:].mean("time") * month["represents"]).sum())
    assert used == pytest.approx(float(over["subcenter_used_power"].sum("sat").mean()), rel=0.03)
    buses = load_scenario(path).buses
    capacity_j = np.array([buses[bus].battery_capacity_wh * 3600.0 for bus in month["bus"].values])
    left = run["battery_capacity_fraction"].values[:, step]
    np.testing.assert_allclose(month["battery_energy"].values[flying, 0], (capacity_j * left)[flying], rtol=1e-6)


def test_a_review_of_two_build_ups_shows_each_in_3d(small_store, tmp_path, capsys):
    """A build-up stores no orbits: its 3D still is its sub-centers' chiefs at its last date."""
    out = tmp_path / "review.html"
    assert main(["review", str(small_store), str(small_store), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.count(f"<img alt='{small_store} in 3D'") == 2 and page.count("data:image/png;base64,") == 4
