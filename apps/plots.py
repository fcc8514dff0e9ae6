"""Time-series plots (hvplot on the twin's xarray data) for the fleet, a sub-center, a member or one satellite,
and the same figures of several runs overlaid on hours since each run's start."""

from __future__ import annotations

import functools

import holoviews as hv
import hvplot.xarray  # noqa: F401  (registers .hvplot on xarray objects)
import numpy as np
import panel as pn
import xarray as xr

from .kpis import FLOP_S_PER_PFLOP_S, GROUP_DIMS, W_PER_KW, W_PER_MW
from .runs import RunData

J_PER_MWH = 3.6e9
PLOT_HEIGHT_PX = 230
AGGREGATE_ABOVE_ORBITS = 8  # longer spans are drawn per orbit: 8 orbits (about 13 h) are some 800 steps at 60 s
# Canvas, not WebGL: lines of a few hundred points draw faster so on a machine with no GPU
LINE_OPTIONS = {"responsive": True, "height": PLOT_HEIGHT_PX, "grid": True, "legend": "top_left",
                "backend_opts": {"plot.output_backend": "canvas"}}
# LINE_OPTIONS for HoloViews elements made here (the orbit bands)
BAND_OPTIONS = {"responsive": True, "height": PLOT_HEIGHT_PX, "show_grid": True,
                "backend_opts": {"plot.output_backend": "canvas"}}


def _line(values: xr.DataArray, label: str, ylabel: str, x: str = "time", period_s: float | None = None):
    """``values`` over ``x`` as a line; over more than :data:`AGGREGATE_ABOVE_ORBITS` orbits of ``period_s``, the
    mean of each orbit as a line over its min/max band (every step of a week drew a solid block)."""
    if period_s is not None and _orbits(values["time"].values, period_s) > AGGREGATE_ABOVE_ORBITS:
        return _orbit_band(values, label, ylabel, period_s)
    return values.reset_coords(drop=True).rename(label).hvplot.line(x=x, label=label, ylabel=ylabel, **LINE_OPTIONS)


def _orbits(times: np.ndarray, period_s: float) -> float:
    """How many orbits of ``period_s`` the span of ``times`` holds."""
    return float((times[-1] - times[0]) / np.timedelta64(1, "s")) / period_s if len(times) > 1 else 0.0


def orbit_statistics(values: xr.DataArray, period_s: float) -> dict[str, np.ndarray]:
    """Mean, min and max of ``values`` (over ``time``) in each orbit of ``period_s`` from the first time, NaNs left
    out: ``time`` (the middle of each orbit), ``mean``, ``min``, ``max``, ``steps`` (values counted) and ``orbit``."""
    times = values["time"].values
    seconds = (times - times[0]) / np.timedelta64(1, "s")
    orbit = np.floor(seconds / period_s).astype(int)
    starts = np.flatnonzero(np.diff(orbit, prepend=-1))
    numbers = np.asarray(values.values, float)
    finite = np.isfinite(numbers)
    steps = np.add.reduceat(finite.astype(int), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.add.reduceat(np.where(finite, numbers, 0.0), starts) / steps
    middle = times[0] + ((orbit[starts] + 0.5) * period_s * 1e9).astype("timedelta64[ns]")
    return {"time": np.minimum(middle, times[-1]), "mean": np.where(steps > 0, mean, np.nan),
            "min": np.fmin.reduceat(numbers, starts), "max": np.fmax.reduceat(numbers, starts), "steps": steps,
            "orbit": orbit[starts] + 1}


def _orbit_band(values: xr.DataArray, label: str, ylabel: str, period_s: float) -> hv.Overlay:
    """The mean of each orbit as a line over its min/max band; the hover says what was aggregated, over what."""
    stats = orbit_statistics(values, period_s)
    what = [f"orbit {orbit} ({period_s / 60:.1f} min): mean of {steps} steps" for orbit, steps in
            zip(stats["orbit"], stats["steps"])]
    band = hv.Area((stats["time"], stats["min"], stats["max"]), kdims=["time"], vdims=["min", "max"],
                   label=f"{label} (orbit min-max)").opts(alpha=0.25, line_alpha=0, **BAND_OPTIONS)
    line = hv.Curve((stats["time"], stats["mean"], stats["min"], stats["max"], what), kdims=["time"],
                    vdims=[hv.Dimension("mean", label=ylabel), "min", "max", "aggregated"],
                    label=f"{label} (orbit mean)").opts(
        tools=["hover"], hover_formatters={"@time": "datetime"}, ylabel=ylabel, **BAND_OPTIONS,
        hover_tooltips=[("time (UTC)", "@time{%F %H:%M}"), (f"{label}, orbit mean", "@mean"), ("min", "@min"),
                        ("max", "@max"), ("aggregated", "@aggregated")])
    return band * line


def plot_panes(plots: list) -> list[pn.pane.HoloViews]:
    """``plots`` as panes, each on axes of its own. Panel links the axes of the plots of a page whose dimensions
    share a name, and every comparison plot's y is named after the runs: the exported review drew each on the first
    plot's range (a utilisation on a power axis, a 0.2 MW fleet on 0-80 MW)."""
    return [pn.pane.HoloViews(plot, linked_axes=False) for plot in plots]


def group_plots(data: RunData, by: str = "total", name: str = "total") -> list[hv.Overlay]:
    """Power, stored energy and sunlight, compute, and jobs over time of the fleet, sub-center or member ``name``.

    Made once per run and group, and shared by every session that shows them (each session's page
    still renders them to Bokeh itself): a tenth of the server's time to build a page.
    """
    return data.cached(("group_plots", by, name), lambda: _group_plots(data, by, name))


def _group_plots(data: RunData, by: str, name: str) -> list[hv.Overlay]:
    series = data.series(by)
    if GROUP_DIMS[by] is not None:
        series = series.sel({GROUP_DIMS[by]: name})
    title = "fleet" if by == "total" else name
    line = functools.partial(_line, period_s=run_orbit_period_s(data))
    return [
        _overlay([line(series["generated_power"] / W_PER_MW, "generated", "MW"),
                  line(series["used_power"] / W_PER_MW, "used", "MW"),
                  line(series["used_compute_power"] / W_PER_MW, "used by compute", "MW"),
                  line(series["curtailed_power"] / W_PER_MW, "curtailed", "MW"),
                  line(series["eclipse_loss_power"] / W_PER_MW, "lost to shadow", "MW")], title=f"Power, {title}"),
        _overlay([line(series["energy_stored"] / J_PER_MWH, "stored", "MWh")], title=f"Battery energy, {title}"),
        _overlay([line(series["utilization"], "utilised", "fraction of installed"),
                  line(series["throttle"], "throttled", "fraction of installed"),
                  line(series["sunlit_fraction"], "sunlit", "fraction of installed")],
                 title=f"Compute and sunlight, {title}", ylabel="fraction"),
        _overlay([line(series["jobs_completed"], "done", "jobs per step"),
                  line(series["jobs_missed"], "missed", "jobs per step")], title=f"Jobs, {title}"),
    ]


def satellite_plots(data: RunData, sat: str) -> list[hv.Overlay]:
    """Array output and load, battery charge, temperatures, and compute over time of satellite ``sat``."""
    one = data.run.sel(sat=sat)
    nodes = [str(node) for node in data.run["node"].values]
    line = functools.partial(_line, period_s=run_orbit_period_s(data))
    return [
        _overlay([line(one["generated_power"] / W_PER_KW, "generated", "kW"),
                  line(one["used_power"] / W_PER_KW, "used", "kW"),
                  line(one["curtailed_power"] / W_PER_KW, "curtailed", "kW")], title=f"Power, {sat}"),
        _overlay([line(one["battery_soc"], "state of charge", "fraction"),
                  line(one["illumination"], "sunlit", "fraction")], title=f"Battery and sunlight, {sat}"),
        _overlay([line(one["temperature"].sel(node=node), node, "K") for node in nodes], title=f"Temperatures, {sat}"),
        _overlay([line(one["compute_utilization"], "utilised", "fraction of installed"),
                  line(one["throttle"], "throttled", "fraction of installed")], title=f"Compute, {sat}"),
    ]


def run_orbit_period_s(data: RunData) -> float:
    """The period (s) of a circular orbit at the run's mean altitude at its first time."""
    from twin.orbit.design import circular_orbit_period_s

    return data.cached(("orbit_period_s",), lambda: float(circular_orbit_period_s(
        float(np.nanmean(data.run["altitude"].isel(time=0).values)) / 1e3)))


def _overlay(lines: list, **options) -> hv.Overlay:
    """``lines`` (curves, or orbit bands with their mean lines) on one plot; a band and its line in one colour."""
    plot = hv.Overlay([element for line in lines for element in (line if isinstance(line, hv.Overlay) else [line])])
    if any(isinstance(element, hv.Area) for element in plot):
        colours = hv.Cycle.default_cycles["default_colors"]
        for index, line in enumerate(lines):
            for element in (line if isinstance(line, hv.Overlay) else [line]):
                element.opts(color=colours[index % len(colours)])
    return plot.opts(**options)


def hours_since_start(run: xr.Dataset) -> xr.DataArray:
    """Hours since the run's first time, per time: the common axis of runs with different epochs."""
    times = run["time"].values
    return xr.DataArray((times - times[0]) / np.timedelta64(1, "h"), dims="time")


COMPARED = (  # variable of the fleet series, scale, title, unit
    ("generated_power", W_PER_MW, "Generated power", "MW"),
    ("used_power", W_PER_MW, "Used power", "MW"),
    ("compute_throughput", FLOP_S_PER_PFLOP_S, "Compute delivered", "PFLOP/s"),
    ("utilization", 1.0, "Compute utilisation", "fraction of installed"),
    ("sunlit_fraction", 1.0, "Sunlit fraction", "fraction"),
)
LOG_SCALE_SPREAD = 30.0  # runs whose means differ more than this share a log axis (phase 1 beside phase 3)


def comparison_plots(runs: dict[str, RunData]) -> list[hv.Overlay]:
    """Fleet figures of each run (label -> run) overlaid on hours since each run's start."""
    plots = []
    for variable, scale, title, unit in COMPARED:
        curves, means = [], []
        for label, data in runs.items():
            values = (data.series("total")[variable] / scale).assign_coords(hours=hours_since_start(data.run))
            curves.append(_line(values.swap_dims(time="hours").drop_vars("time"), label, unit, x="hours"))
            means.append(float(values.mean()))
        logy = min(means) > 0 and max(means) / min(means) > LOG_SCALE_SPREAD
        plots.append(hv.Overlay(curves).opts(title=title, xlabel="hours since start", logy=logy))
    return plots
