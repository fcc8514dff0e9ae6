"""The Constellation tab lists a stored run's conjunctions (saved beside it by ``twin conjunctions --save``), in a
real browser: a sortable table with readable headers, and a row chosen looks at its satellite at its TCA."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from test_dashboard import TIMEOUT_MS, USERS, served

import twin
from apps.auth import UserBook
from apps.conjunctions_panel import HEADERS, NOT_SAVED, ConjunctionsPanel, conjunction_rows
from apps.dashboard import DashboardConfig
from apps.runs import RunData
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
