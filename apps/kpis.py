"""The dashboard's key figures, at the time shown and over the whole run, for the fleet, a sub-center or a member.

Whole-run figures are :func:`twin.figures.summary`'s; figures at a time are read from
:func:`twin.figures.time_series` (powers and rates are means over the step ending at that time,
so the first time has none). Satellites healthy (not lost to a fault) and data delivered to the
ground are the same weighted sums over :func:`twin.figures.grouping`'s rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .runs import RunData

W_PER_MW = 1e6
FLOP_S_PER_PFLOP_S = 1e15
FLOP_S_PER_EFLOP_S = 1e18
BITS_PER_GBIT = 1e9
GROUP_DIMS = {"total": None, "subcenter": "cluster", "owner": "member"}


@dataclass(frozen=True)
class Kpi:
    """One key figure: its name, its value at the time shown and over the whole run (formatted, with units)."""

    label: str
    at_time: str
    whole_run: str


def _number(value: float, spec: str, unit: str = "") -> str:
    """``value`` formatted by ``spec`` (``"d"``: a whole number with thousands separators), then ``unit``; NaN: n/a."""
    if value is None or math.isnan(float(value)):
        return "n/a"
    text = f"{round(float(value)):,}" if spec == "d" else f"{float(value):{spec}}"
    return f"{text} {unit}" if unit else text


def _flop_rate(flop_s: float) -> str:
    """A compute rate in PFLOP/s, or EFLOP/s from 1000 PFLOP/s on."""
    if flop_s >= FLOP_S_PER_EFLOP_S:
        return _number(flop_s / FLOP_S_PER_EFLOP_S, ".4g", "EFLOP/s")
    return _number(flop_s / FLOP_S_PER_PFLOP_S, ".4g", "PFLOP/s")


def _group(values: xr.Dataset | xr.DataArray, by: str, name: str):
    dim = GROUP_DIMS[by]
    return values if dim is None else values.sel({dim: name})


def _weighted(data: RunData, by: str, name: str, variable: str, weights: str) -> np.ndarray:
    """Sum over the group's satellites (``weights="satellites"``, each counted ``represents`` times) or
    sub-centers (``"clusters"``) of a (sat or cluster, time) variable, at every time."""
    groups = data.grouping(by)
    matrix = getattr(groups, weights)
    dim = "sat" if weights == "satellites" else "cluster"
    row = list(groups.names).index(name)
    return np.asarray(xr.dot(matrix.isel(group=row), data.run[variable].astype(float), dim=dim))


def key_figures(data: RunData, index: int, by: str = "total", name: str = "total") -> list[Kpi]:
    """The key figures of the fleet (``by="total"``), sub-center or member ``name`` at time ``index`` and over the run."""
    row = data.summary(by).loc[name]
    series = _group(data.series(by), by, name)
    at = lambda variable: float(series[variable].values[index])
    satellites = int(row["satellites"])
    healthy = data.cached(("healthy", by, name), lambda: _weighted(data, by, name, "alive", "satellites"))
    figures = [
        Kpi("Installed power", _number(row["installed_power_MW"], ".3f", "MW"),
            _number(row["installed_power_MW"], ".3f", "MW")),
        Kpi("Delivered power", _number(at("delivered_power") / W_PER_MW, ".3f", "MW"),
            _number(row["delivered_power_MW"], ".3f", "MW mean")),
        Kpi("Sunlit fraction", _number(at("sunlit_fraction"), ".3f"), _number(row["sunlit_fraction"], ".3f", "mean")),
        Kpi("Compute delivered", _flop_rate(at("compute_throughput")), _number(row["compute_EFLOP"], ".4g", "EFLOP")),
        Kpi("Compute utilisation", _number(at("utilization"), ".3f"), _number(row["utilization"], ".3f", "mean")),
        Kpi("Jobs done", f"{int(series['jobs_completed'].values[: index + 1].sum()):,} so far",
            f"{int(row['jobs_completed']):,}"),
        Kpi("Jobs missed", f"{int(series['jobs_missed'].values[: index + 1].sum()):,} so far",
            f"{int(row['jobs_missed']):,}"),
    ]
    if data.has_network:
        delivered = data.cached(("downlinked", by, name),
                                       lambda: _weighted(data, by, name, "downlink_data_delivered", "clusters"))
        figures.append(Kpi("Data downlinked", _number(delivered[index] / BITS_PER_GBIT, ",.1f", "Gbit so far"),
                           _number(delivered[-1] / BITS_PER_GBIT, ",.1f", "Gbit")))
    figures.append(Kpi("Satellites healthy", f"{healthy[index]:,.0f} of {satellites:,}",
                       f"{healthy.min():,.0f} of {satellites:,} at the lowest"))
    return figures


def figures_table(runs: dict[str, RunData]):
    """Whole-run fleet figures of each run (label -> run) as rows, with ``twin report``'s columns and formats.

    With two runs, a last row gives the second minus the first.
    """
    import pandas as pd

    from twin.cli import REPORT_COLUMNS

    rows = {label: data.summary("total").iloc[0] for label, data in runs.items()}
    if len(rows) == 2:
        first, second = rows.values()
        first_label, second_label = rows
        rows[f"change ({second_label} - {first_label})"] = second - first
    header = lambda name, unit: f"{name} ({unit})" if unit else name
    table = {header(name, unit): [_number(row[column], spec) for row in rows.values()]
             for column, name, unit, spec in REPORT_COLUMNS}
    return pd.DataFrame(table, index=pd.Index(list(rows), name="run"))
