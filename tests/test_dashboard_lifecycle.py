"""The dashboard's Lifecycle tab (apps/lifecycle_tab.py): build-up runs listed apart from the runs of hours, the
built-in build-up run in the background worker and read again when unchanged, and in the browser the year slider
moving the cards to that year's figures as the store holds them.

The build-up here is the lifecycle scenario cut to its experimental satellite and phase 1, to 2029 at 30-day steps.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import twin
from apps.auth import UserBook
from apps.dashboard import DashboardConfig
from apps.runs import BUILT_IN_DIR, Catalogue, SourceError
from test_dashboard import TIMEOUT_MS, USERS, served
from test_lifecycle import small_text
from twin.report.buildup import buildup

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
STORE = "life.zarr"


@pytest.fixture(scope="module")
def built_up(tmp_path_factory):
    """A runs directory holding one stored build-up, made by the dashboard's worker as the built-in one is; the
    scenario file and the job."""
    folder = tmp_path_factory.mktemp("buildup")
    scenario = folder / "tiny.toml"
    scenario.write_text(small_text(groups=("EXP", "CC1"), end="2029-01-01", step="30d"), encoding="utf-8")
    runs = folder / "runs"
    runs.mkdir()
    catalogue = Catalogue(runs)
    try:
        job = catalogue.build_up("buildup:tiny", "tiny", str(scenario), runs / STORE)
        assert job.done.wait(600)
    finally:
        catalogue.shutdown()
    return runs, scenario, job


def test_the_build_up_runs_in_the_worker_and_is_read_again_when_unchanged(built_up, monkeypatch):
    import twin.lifecycle
    from apps.worker import _build_up

    runs, scenario, job = built_up
    assert job.error is None, job.error
    assert job.data.run.attrs["lifecycle"] == 1 and job.data.run.sizes["sat"] == 4  # EXP and CC1's three sub-centers
    assert (runs / STORE).is_dir()

    def run_again(*args, **kwargs):
        raise AssertionError("a complete build-up of the same scenario was run again")

    monkeypatch.setattr(twin.lifecycle, "run_lifecycle", run_again)
    again = _build_up("buildup:tiny", str(scenario), str(runs / STORE))
    assert again.identical(job.data.run)


def test_build_ups_are_the_lifecycle_tabs_sources_only(built_up, monkeypatch):
    runs, _, _ = built_up
    catalogue = Catalogue(runs)
    try:
        assert catalogue.buildup_sources() == {f"{STORE} (stored build-up)": f"run:{STORE}",
                                               "lifecycle (built-in build-up, 2025-2036)": "buildup:lifecycle"}
        assert set(catalogue.sources().values()) == {"scenario:phase1", "scenario:phase2", "scenario:phase3"}
        asked = []
        monkeypatch.setattr(catalogue, "build_up", lambda *args: asked.append(args))
        catalogue.job("buildup:lifecycle")  # the built-in build-up: run (or read) under the runs directory
        assert asked == [("buildup:lifecycle", "lifecycle", twin.load_scenario("lifecycle").source,
                          runs / BUILT_IN_DIR / "lifecycle.zarr")]
        with pytest.raises(SourceError, match="'buildup:phase1' is not a source of this dashboard"):
            catalogue.job("buildup:phase1")
    finally:
        catalogue.shutdown()


def _expected(store: Path, year: int) -> dict[str, str]:
    """The cards' values in ``year`` as the store holds them (twin.report.buildup's table)."""
    row = buildup(twin.open_run(store), "year").loc[str(year)]
    return {"Satellites in orbit (end of year)": f"{int(row['flying']):,}",
            "Satellites in service (end of year)": f"{int(row['serving']):,}",
            "Launches in the year": f"{int(row['launches']):,}",
            "Installed power (end of year)": f"{row['installed_mw']:,.1f} MW",
            "Compute delivered (year mean)": f"{row['compute_mcu']:,.2f} M capacity units"}


def test_lifecycle_tab_year_slider_moves_the_cards(browser, built_up):
    from playwright.sync_api import expect

    runs, _, _ = built_up
    expect.set_options(timeout=TIMEOUT_MS)
    with served(DashboardConfig(runs, UserBook.from_file(USERS))) as url:
        context = browser.new_context(viewport={"width": 1500, "height": 1100})
        response = context.request.post(f"{url}/login", max_redirects=0,
                                        form={"username": "viewer", "password": "viewer-demo"})
        assert response.status == 302
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{url}/?source=phase1")
        page.locator(".bk-tab", has_text="Lifecycle").click()
        card = lambda label: page.locator(".kpi", has_text=label).locator(".kpi-now")
        expect(page.locator(".kpi-title", has_text="Fleet in")).to_have_text(f"Fleet in 2025: {STORE}")
        for year in (2025, 2026, 2027, 2028):
            if year > 2025:
                page.locator(".twin-year .noUi-handle").press("ArrowRight")
                expect(page.locator(".kpi-title", has_text="Fleet in")).to_have_text(f"Fleet in {year}: {STORE}")
            for label, value in _expected(runs / STORE, year).items():
                expect(card(label)).to_have_text(value)
        assert _expected(runs / STORE, 2025) != _expected(runs / STORE, 2028)  # the cards did change
        expect(page.get_by_text("phase 1: 25 satellites by 2028-01-01: met, reached 2026-03")).to_be_visible()
        expect(page.locator("table", has_text="capacity units in service (millions)")).to_contain_text("BAIST")
        page.wait_for_function("(text) => [...Bokeh.documents[0].all_models].some((m) => m.text === text)",
                               arg="Capacity units in service by member (end of year)")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "lifecycle-tab.png"), full_page=True)
        context.close()
