"""Time-series plots (hvplot on the twin's xarray data) for the fleet, a sub-center, a member or one satellite,
and the same figures of several runs overlaid on hours since each run's start."""

from __future__ import annotations

import holoviews as hv
import hvplot.xarray  # noqa: F401  (registers .hvplot on xarray objects)
import numpy as np
import panel as pn
import xarray as xr

from .kpis import FLOP_S_PER_PFLOP_S, GROUP_DIMS, W_PER_KW, W_PER_MW
from .runs import RunData

J_PER_MWH = 3.6e9
PLOT_HEIGHT_PX = 230
# Canvas, not WebGL: lines of a few hundred points draw faster so on a machine with no GPU
LINE_OPTIONS = {"responsive": True, "height": PLOT_HEIGHT_PX, "grid": True, "legend": "top_left",
                "backend_opts": {"plot.output_backend": "canvas"}}


def _line(values: xr.DataArray, label: str, ylabel: str, x: str = "time") -> hv.Curve:
    return values.reset_coords(drop=True).rename(label).hvplot.line(x=x, label=label, ylabel=ylabel, **LINE_OPTIONS)


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
    return [
        (_line(series["generated_power"] / W_PER_MW, "generated", "MW")
         * _line(series["used_power"] / W_PER_MW, "used", "MW")
         * _line(series["used_compute_power"] / W_PER_MW, "used by compute", "MW")
         * _line(series["curtailed_power"] / W_PER_MW, "curtailed", "MW")
         * _line(series["eclipse_loss_power"] / W_PER_MW, "lost to shadow", "MW")).opts(title=f"Power, {title}"),
        (_line(series["energy_stored"] / J_PER_MWH, "stored", "MWh")).opts(title=f"Battery energy, {title}"),
        (_line(series["utilization"], "utilised", "fraction of installed")
         * _line(series["throttle"], "throttled", "fraction of installed")
         * _line(series["sunlit_fraction"], "sunlit", "fraction of installed")).opts(
            title=f"Compute and sunlight, {title}", ylabel="fraction"),
        (_line(series["jobs_completed"], "done", "jobs per step")
         * _line(series["jobs_missed"], "missed", "jobs per step")).opts(title=f"Jobs, {title}"),
    ]


def satellite_plots(data: RunData, sat: str) -> list[hv.Overlay]:
    """Array output and load, battery charge, temperatures, and compute over time of satellite ``sat``."""
    one = data.run.sel(sat=sat)
    nodes = [str(node) for node in data.run["node"].values]
    temperatures = hv.Overlay([_line(one["temperature"].sel(node=node), node, "K") for node in nodes])
    return [
        (_line(one["generated_power"] / W_PER_KW, "generated", "kW")
         * _line(one["used_power"] / W_PER_KW, "used", "kW")
         * _line(one["curtailed_power"] / W_PER_KW, "curtailed", "kW")).opts(title=f"Power, {sat}"),
        (_line(one["battery_soc"], "state of charge", "fraction")
         * _line(one["illumination"], "sunlit", "fraction")).opts(title=f"Battery and sunlight, {sat}"),
        temperatures.opts(title=f"Temperatures, {sat}"),
        (_line(one["compute_utilization"], "utilised", "fraction of installed")
         * _line(one["throttle"], "throttled", "fraction of installed")).opts(title=f"Compute, {sat}"),
    ]


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
