"""The Constellation tab lists a stored run's conjunctions (saved beside it by ``twin conjunctions --save``), in a
real browser: a sortable table with readable headers, and a row chosen looks at its satellite at its TCA."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from test_dashboard import TIMEOUT_MS, USERS, served

import twin
from apps.auth import UserBook
from apps.conjunctions_panel import HEADERS, NO_CATALOGUE, NOT_SAVED, ConjunctionsPanel, conjunction_rows
from apps.dashboard import DashboardConfig
from apps.runs import SPAN_S, STEP_S, RunData
from twin.cli import main
from twin.safety.saved import read_saved_conjunctions, saved_conjunctions_path

SUBSET = Path(__file__).parent / "data" / "catalog-subset-2026-03-19.tle"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
START = "2026-03-19 00:00:00 UTC"


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, phase1):
    """Phase 1 placed at the catalogue's epoch for 3 h, stored, and screened against the catalogue's subset with
    ``--save``."""
    path = tmp_path_factory.mktemp("runs")
    run = twin.run_scenario(phase1, start=twin.timegrid.parse_time("2026-03-19T00:00:00Z"), duration_s=3 * 3600.0,
                            step_s=60.0)
    twin.save(run, path / "march.zarr")
    assert main(["conjunctions", str(path / "march.zarr"), "--catalog", str(SUBSET), "--threshold-km", "50",
                 "--save"]) == 0
    return path


@pytest.fixture(scope="module")
def saved(runs_dir):
    table, summary = read_saved_conjunctions(saved_conjunctions_path(runs_dir / "march.zarr"))
    assert len(table) > 5 and summary["threshold_km"] == "50.0"
    return table


def test_the_saved_screen_reads_back_as_written(runs_dir, saved, capsys):
    """``--save`` keeps the screen's every column; a second ``--save`` is refused before screening unless
    ``--overwrite``."""
    from twin.safety import read_catalog, screen

    expected = screen(twin.open_run(runs_dir / "march.zarr"), read_catalog(SUBSET), threshold_km=50.0).conjunctions
    assert list(saved["primary"]) == list(expected["primary"]) and list(saved["secondary"]) == list(expected["secondary"])
    assert np.allclose(saved["miss_distance_km"], expected["miss_distance_km"], rtol=1e-8, atol=0)
    assert (np.abs(saved["tca"].to_numpy() - expected["tca"].to_numpy()) < np.timedelta64(1, "us")).all()
    assert (saved["short_encounter"] == expected["short_encounter"]).all()
    capsys.readouterr()
    assert main(["conjunctions", str(runs_dir / "march.zarr"), "--catalog", str(SUBSET), "--save"]) == 2
    assert capsys.readouterr().err == (f"twin: error: --save: '{saved_conjunctions_path(runs_dir / 'march.zarr')}' "
                                       "already holds a saved conjunction screen; --overwrite replaces it\n")


def test_a_run_without_a_saved_screen_says_how_to_make_one(runs_dir, saved):
    panel = ConjunctionsPanel(lambda satellite, tca: None)
    panel.show(RunData(twin.open_run(runs_dir / "march.zarr"), "simulated here"))
    assert panel.note.object == NOT_SAVED and not panel.table.visible
    rows = conjunction_rows(saved)
    assert list(rows.columns) == list(HEADERS.values())
    assert rows["Miss km"].is_monotonic_increasing and set(rows["2-D Pc valid"]) <= {"yes", "no (slow encounter)"}


def test_the_table_says_the_method_of_each_pc(saved):
    """2-D where the short-encounter assumption holds; a slow encounter's Monte Carlo with its samples and interval."""
    table = saved.copy()
    closest = table["miss_distance_km"].idxmin()
    table.loc[closest, ["short_encounter", "collision_probability_method", "collision_probability_low",
                        "collision_probability_high", "monte_carlo_samples"]] = [False, "ALFANO_MC-2009", 1.1e-2, 1.4e-2, 20000]
    rows = conjunction_rows(table)
    assert rows.loc[0, "Pc method"] == "Monte Carlo, 20,000 samples, 95 % 1.1e-02-1.4e-02"
    assert rows.loc[0, "2-D Pc valid"] == "no (slow encounter)" and set(rows.loc[1:, "Pc method"]) == {"2-D (Foster)"}


@pytest.fixture(scope="module")
def dashboard(runs_dir):
    with served(DashboardConfig(runs_dir, UserBook.from_file(USERS))) as url:
        yield url


def test_the_constellation_tab_lists_the_runs_conjunctions(browser, dashboard, saved):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    assert context.request.post(f"{dashboard}/login", max_redirects=0,
                                form={"username": "viewer", "password": "viewer-demo"}).status == 302
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{dashboard}/?source=march.zarr")
    expect(page.locator(".twin-clock")).to_have_text(START)
    table = page.locator(".twin-conjunctions")
    rows = table.locator(".tabulator-row")
    expect(page.get_by_text(f"{len(saved)} conjunctions closer than 50.0 km, screened from 2026-03-19T00:00:00Z for 3 h "
                            "against 906 catalogue entries")).to_be_visible()
    expect(rows.first).to_be_visible()  # (Tabulator draws only the rows in view)
    for header in HEADERS.values():
        expect(table.locator(".tabulator-col-title", has_text=header).first).to_be_visible()
    closest = saved.sort_values("miss_distance_km").iloc[0]
    expect(rows.first).to_contain_text(closest["secondary"])
    expect(rows.first).to_contain_text(closest["primary"])

    page.screenshot(path=str(ARTIFACTS / "conjunctions-table.png"), full_page=True)
    # sortable: slowest first. Dispatched to the header itself: while the plots below are laid out, a click at its
    # place could land on a row drawn there for a moment
    header = table.locator(".tabulator-col-title", has_text="Relative speed km/s")
    header.dispatch_event("click")
    slowest = saved.sort_values("relative_speed_km_s").iloc[0]
    expect(rows.first).to_contain_text(f"{slowest['relative_speed_km_s']:.3f}")
    header.dispatch_event("click")  # again: fastest first, no longer the closest
    fastest = saved.sort_values("relative_speed_km_s").iloc[-1]
    assert fastest["primary"] != closest["primary"]
    expect(rows.first).to_contain_text(f"{fastest['relative_speed_km_s']:.3f}")

    def cell(column):  # of the first row; members of a sub-center tie at the speed shown
        return rows.first.locator(f'.tabulator-cell[tabulator-field="{column}"]').inner_text()

    satellite, tca = cell("Satellite"), np.datetime64(cell("TCA (UTC)").replace(" ", "T"), "s")
    speed = float(cell("Relative speed km/s"))
    assert speed == saved["relative_speed_km_s"].round(3).max()
    assert ((saved["primary"] == satellite) & (saved["relative_speed_km_s"].round(3) == speed)).sum() == 1
    rows.first.click()  # look at its satellite at its time of closest approach
    expect(page.get_by_label("Which")).to_have_value(satellite)
    nearest = (tca + np.timedelta64(30, "s")).astype("datetime64[m]")  # the 60-s step nearest the TCA
    expect(page.locator(".twin-clock").first).to_have_text(str(nearest).replace("T", " ") + ":00 UTC")
    page.screenshot(path=str(ARTIFACTS / "conjunctions-chosen.png"), full_page=True)
    context.close()


def test_a_screen_saved_before_the_monte_carlo_pc_reads_with_the_method_its_pc_had(saved, tmp_path):
    """A saved CSV without the method columns (written before them): 2-D Pc where it held, NONE where it did not."""
    old = saved.drop(columns=["collision_probability_method", "collision_probability_low", "collision_probability_high",
                              "monte_carlo_samples"])
    old.loc[old.index[0], "short_encounter"] = False
    path = tmp_path / "old.conjunctions.csv"
    path.write_text("# threshold_km = 50.0\n" + old.to_csv(index=False), encoding="utf-8")
    table, _ = read_saved_conjunctions(path)
    assert table["collision_probability_method"].tolist() == ["NONE"] + ["FOSTER-1992"] * (len(table) - 1)
    assert (table["collision_probability_high"] == table["collision_probability"]).all()
    assert (table["monte_carlo_samples"] == 0).all()


# --- Screening the runs the dashboard simulates, and the other object drawn in 3D --------------------------------

def _scenario_request(name: str, duration_s: float = SPAN_S):
    from apps.runs import scenario_run_options, scenario_tables
    from apps.worker import RunRequest

    scenario = twin.load_scenario(name)
    return RunRequest(scenario_tables(scenario), scenario.source, duration_s, STEP_S, *scenario_run_options(scenario))


@pytest.fixture(scope="module")
def screened_phase1():
    """Phase 1 as the dashboard simulates it (its epoch, 2026-06-01, 74 days from the catalogue's), screened as the
    Screen button does at 50 km: placed at the catalogue's epoch, run there, and screened."""
    from apps.run_screening import screen_request

    reports = []
    result = screen_request(_scenario_request("phase1"), str(SUBSET), 50.0, lambda done, total: reports.append(done / total))
    assert reports[-1] == pytest.approx(2 / 3) and reports == sorted(reports)
    return result


def test_a_run_far_from_the_catalogues_epoch_is_placed_at_it_and_screened(screened_phase1):
    from twin.safety import place_scenario, read_catalog, screen

    catalog = read_catalog(SUBSET)
    assert screened_phase1.placed_epoch == catalog.epoch.isot[:19] + "Z" == "2026-03-19T06:13:00Z"
    times = screened_phase1.placed_run["time"].values
    assert str(times[0])[:19] == "2026-03-19T06:13:00" and (times[-1] - times[0]) == np.timedelta64(int(SPAN_S), "s")
    placed = place_scenario(twin.load_scenario("phase1"), catalog.epoch)
    expected = screen(placed, catalog, duration_s=SPAN_S, threshold_km=50.0).conjunctions  # the CLI's way
    found = screened_phase1.screening.conjunctions
    assert len(found) == len(expected) > 5 and list(found["secondary"]) == list(expected["secondary"])
    assert np.allclose(found["miss_distance_km"], expected["miss_distance_km"], rtol=0, atol=1e-9)


def test_a_run_near_the_catalogues_epoch_is_screened_as_it_is():
    from apps.run_screening import screen_request

    request = _scenario_request("phase1", 3600.0)
    request.tables["scenario"]["epoch"] = "2026-03-25T00:00:00Z"  # 6 days after the catalogue's epoch
    result = screen_request(request, str(SUBSET), 50.0, lambda done, total: None)
    assert result.placed_run is None and result.placed_epoch is None
    assert result.screening.summary["start"] == "2026-03-25T00:00:00Z"


def test_the_scene_draws_the_other_object_at_tca(screened_phase1):
    """The closest conjunction's other object: two actors more (its track, both objects at TCA), the two at TCA as far
    apart as the screen says in the screen's own relative position (TEME turned into the scene's GCRS), the fleet
    satellite where the run has it at TCA; removed again."""
    from twin.orbit.frames import EarthOrientation
    from astropy.time import Time
    from viz.encounter import TRACK_SAMPLES, WINDOW_S
    from twin.safety.long_encounter import kepler_propagate
    from viz.scene import ConstellationScene

    run, screening = screened_phase1.placed_run, screened_phase1.screening
    panel = ConjunctionsPanel(lambda satellite, tca: None)
    panel.show_screening(screened_phase1)
    closest = int(np.argmin(screening.conjunctions["miss_distance_km"].to_numpy()))
    encounter = panel.encounter(closest)
    scene = ConstellationScene(run, window_size=(320, 240))
    before = len(scene.plotter.renderer.actors)
    scene.show_encounter(encounter)
    assert len(scene.plotter.renderer.actors) == before + 2
    satellite_km, other_km = scene.encounter_positions_km()
    to_gcrs = EarthOrientation(Time(encounter.tca, scale="utc"), np.zeros(1)).teme_to_gcrs[0]
    relative_km = to_gcrs @ (screening.states[closest, 1, :3] - screening.states[closest, 0, :3])
    assert np.allclose(other_km - satellite_km, relative_km, rtol=0, atol=1e-6)
    assert np.linalg.norm(other_km - satellite_km) == pytest.approx(screening.conjunctions["miss_distance_km"].iloc[closest], abs=1e-6)
    # the fleet satellite at TCA: the run's state at the nearest step, carried to the TCA (< 30 s), within 50 m
    times = run["time"].values
    step = int(np.argmin(np.abs(times - encounter.tca)))
    row = list(run["sat"].values).index(encounter.primary)
    carried = kepler_propagate(run["position"].values[row, step] / 1e3, run["velocity"].values[row, step] / 1e3,
                               (encounter.tca - times[step]) / np.timedelta64(1, "s"))[0]
    assert np.linalg.norm(carried - satellite_km) < 0.05
    track = scene._encounter_actors[0].mapper.dataset.points
    assert len(track) == TRACK_SAMPLES and np.linalg.norm(track[TRACK_SAMPLES // 2] - other_km) < 1e-6
    speed_km_s, radius_km = (np.linalg.norm(screening.states[closest, 1, k:k + 3]) for k in (3, 0))
    chord_km = 2 * radius_km * np.sin(WINDOW_S * speed_km_s / radius_km)  # of a circular orbit, +-WINDOW_S about TCA
    assert np.linalg.norm(track[-1] - track[0]) == pytest.approx(chord_km, rel=0.01)
    scene.clear_encounter()
    assert len(scene.plotter.renderer.actors) == before and scene.encounter_positions_km().shape == (0, 3)
    scene.close()


def test_a_repeated_screen_request_starts_one_job(tmp_path):
    """Two requests of the same screen while it runs share one job in the worker, and a stored run is not offered
    (its conjunctions are the saved ones)."""
    from apps.runs import Catalogue, SourceError

    catalogue = Catalogue(tmp_path)
    try:
        run_job = catalogue.job("scenario:phase1")
        assert run_job.done.wait(300) and run_job.error is None
        started = []
        start = catalogue.simulator.start
        catalogue.simulator.start = lambda *args: started.append(args[0]) or start(*args)
        first = catalogue.screen("scenario:phase1", SUBSET, 50.0)
        second = catalogue.screen("scenario:phase1", SUBSET, 50.0)
        assert first is second and not first.done.is_set() and len(started) == 1
        assert first.label == f"screening {run_job.label} against {SUBSET.name} and itself"
        assert first.done.wait(300) and first.error is None, first.error
        assert catalogue.screen("scenario:phase1", SUBSET, 50.0) is first and len(started) == 1
        assert len(first.screened.screening.conjunctions) > 5 and first.data.run["time"].values[0] == \
            np.datetime64("2026-03-19T06:13:00")
        other = catalogue.screen("scenario:phase1", None, 50.0)  # against itself only: another screen
        assert other is not first and len(started) == 2
        with pytest.raises(SourceError, match="'run:march.zarr' is not a run this dashboard simulated"):
            catalogue.screen("run:march.zarr", SUBSET, 50.0)
    finally:
        catalogue.shutdown()


def test_without_a_catalogue_the_tab_says_so_in_one_line(phase1_run):
    panel = ConjunctionsPanel(lambda satellite, tca: None, on_screen=lambda threshold_km: None, catalog=None)
    panel.show(RunData(phase1_run, "simulated here"), screenable=True)
    assert panel.screening_row.visible and panel.offer.object == NO_CATALOGUE and "\n" not in NO_CATALOGUE
    with_catalog = ConjunctionsPanel(lambda satellite, tca: None, on_screen=lambda threshold_km: None, catalog=SUBSET)
    with_catalog.show(RunData(phase1_run, "simulated here"), screenable=True)
    assert SUBSET.name in with_catalog.offer.object
    with_catalog.show(RunData(phase1_run, "stored"), screenable=False)  # a stored run: its saved screen only
    assert not with_catalog.screening_row.visible


def test_serve_names_a_catalogue_that_is_not_a_file(tmp_path, capsys):
    assert main(["serve", "--users", str(USERS), "--catalog", str(tmp_path / "none.tle")]) == 2
    assert capsys.readouterr().err == f"twin: error: --catalog: '{tmp_path / 'none.tle'}' is not a file\n"
