"""The dashboard's time-series plots: a span of many orbits is drawn per orbit (mean line over a min/max band)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import twin


@pytest.fixture(scope="module")
def day_run(phase1):
    """Phase 1 for a day at 5 min: about 15 orbits."""
    return twin.run_scenario(phase1, duration_s=86400, step_s=300)


def test_orbit_statistics_are_each_orbits_mean_min_and_max():
    from apps.plots import orbit_statistics

    times = np.datetime64("2026-06-01T00:00") + np.arange(0, 3 * 6000, 60).astype("timedelta64[s]")
    values = xr.DataArray(np.arange(times.size, dtype=float), dims="time", coords={"time": times})
    values[0] = np.nan  # a mean over the step before the first: left out
    stats = orbit_statistics(values, 6000.0)
    assert list(stats["orbit"]) == [1, 2, 3] and list(stats["steps"]) == [99, 100, 100]
    np.testing.assert_allclose(stats["mean"], [50.0, 149.5, 249.5])
    np.testing.assert_allclose(stats["min"], [1.0, 100.0, 200.0])
    np.testing.assert_allclose(stats["max"], [99.0, 199.0, 299.0])
    assert stats["time"][1] == times[0] + np.timedelta64(9000, "s")  # the middle of the second orbit


def test_a_day_is_drawn_per_orbit_and_the_hover_says_so(day_run):
    """Every step of a long run drew a solid block: over more than 8 orbits each line is the orbit's mean over its
    min/max band, and the hover names the orbit, its period and the steps it averages."""
    import holoviews as hv
    import panel as pn
    from bokeh.models import ColumnDataSource, HoverTool

    from apps.plots import group_plots, run_orbit_period_s, satellite_plots
    from apps.runs import RunData

    data = RunData(day_run, "phase1 day")
    period_s = run_orbit_period_s(data)
    assert 5920 < period_s < 6060  # 98.7-100.9 min: 700-800 km
    orbits = int(np.ceil(86400 / period_s))
    sat = str(day_run["sat"].values[0])
    for plot in [*group_plots(data), *satellite_plots(data, sat)]:
        areas = [element for element in plot if isinstance(element, hv.Area)]
        curves = [element for element in plot if type(element) is hv.Curve]  # an Area is a Curve too
        assert areas and len(areas) == len(curves), plot
        assert all(len(curve) in (orbits, orbits + 1) for curve in curves), [len(curve) for curve in curves]
        for area, curve in zip(areas, curves):
            assert area.opts.get().kwargs["color"] == curve.opts.get().kwargs["color"]  # a band in its line's colour
    generated = group_plots(data)[0].get(1)
    expected = day_run["generated_power"].sum("sat").values[1:] / 1e6
    assert generated.dimension_values("min").min() == pytest.approx(np.nanmin(expected))
    assert generated.dimension_values("max").max() == pytest.approx(np.nanmax(expected))

    model = pn.pane.HoloViews(group_plots(data)[0]).get_root()
    tooltips = [tool.tooltips for tool in model.select({"type": HoverTool})]
    assert any(("aggregated", "@{aggregated}") in tips for tips in tooltips), tooltips
    texts = [text for source in model.select({"type": ColumnDataSource}) if "aggregated" in source.data
             for text in source.data["aggregated"]]
    first_orbit = data.series("total")["curtailed_power"].sel(time=slice(None, day_run["time"].values[0]
                                                                             + np.timedelta64(int(period_s), "s")))
    steps = int(np.isfinite(first_orbit.values).sum())  # 5-min steps in the first 100 minutes, less a NaN first mean
    assert steps in (20, 21)
    assert f"orbit 1 ({period_s / 60:.1f} min): mean of {steps} steps" in texts, texts[:2]


def test_a_few_orbits_keep_every_step(phase1_run):
    from apps.plots import group_plots
    from apps.runs import RunData

    plot = group_plots(RunData(phase1_run, "phase1"))[0]
    assert all(len(curve) == phase1_run.sizes["time"] for curve in plot)
