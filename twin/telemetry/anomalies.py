"""Anomaly flags: where a residual leaves its band for long enough, or a satellite falls silent.

Bands and persistence come from ``assets/telemetry/sensors.toml`` (``[bands.*]``, ``[silence]``);
excursions of one satellite and variable less than ``[anomalies] rejoin_s`` apart are one anomaly.
A step with no measurement neither starts nor ends an excursion: it carries the last verdict,
so a dropped packet does not split one fault into two flags. Each anomaly gives its satellite,
variable, first and last step beyond the band, and its size: the largest residual (signed).
A satellite whose corrected memory errors depart from its orbit's predicted upset rate (``[upsets]``,
:mod:`twin.telemetry.upset_counter`) is one more anomaly, ``upset_rate``: its size is measured over
predicted upsets, its band the ratio the test flags beyond.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import poisson

from twin.intervals import true_runs
from twin.telemetry.upset_counter import COUNTER_VARIABLE, RATE_VARIABLE, expected_upsets, upset_departures

COLUMNS = ["satellite", "subcenter", "variable", "start", "end", "duration_s", "size", "units", "band"]


def _carry_forward(verdict: np.ndarray) -> np.ndarray:
    """Fill NaN along the last axis with the last non-NaN value (False before the first)."""
    known = ~np.isnan(verdict)
    index = np.where(known, np.arange(verdict.shape[-1]), 0)
    np.maximum.accumulate(index, axis=-1, out=index)
    filled = np.take_along_axis(np.where(known, verdict, 0.0), index, axis=-1)
    return filled > 0.5


def _rejoin(rows: np.ndarray, first: np.ndarray, last: np.ndarray, gap_steps: int) -> list[tuple[int, int, int]]:
    """Join excursions of one row separated by at most ``gap_steps`` (an array fault pauses in eclipse)."""
    joined: list[list[int]] = []
    for row, start, stop in sorted(zip(rows.tolist(), first.tolist(), last.tolist())):
        if joined and joined[-1][0] == row and start - joined[-1][2] - 1 <= gap_steps:
            joined[-1][2] = stop
        else:
            joined.append([row, start, stop])
    return [tuple(run) for run in joined]


def band(state: xr.Dataset, settings: dict) -> np.ndarray:
    """The band of a residual for each satellite (sat, 1), from its ``[bands.*]`` ``settings``."""
    if "band_fraction_of_installed" in settings:
        return (settings["band_fraction_of_installed"] * state["installed_power"].values)[:, None]
    return np.full((state.sizes["sat"], 1), float(settings["band"]))


def monitored_residuals(state: xr.Dataset) -> dict[str, tuple[str, xr.DataArray]]:
    """Monitored residuals by display name: (band name, (sat, time) residual)."""
    residuals = {"position": ("position", state["position_residual"])}
    for name in ("generated_power", "used_power", "battery_soc"):
        residuals[name] = (name, state[f"{name}_residual"])
    for node in state["node"].values:
        residuals[f"temperature:{node}"] = ("temperature", state["temperature_residual"].sel(node=node))
    return residuals


def find_anomalies(state: xr.Dataset, sensors: dict) -> pd.DataFrame:
    """Every anomaly of an assimilated ``state`` (:func:`~.assimilation.assimilate`), in time order."""
    times = state["time"].values
    step_s = float((times[1] - times[0]) / np.timedelta64(1, "s"))
    names = state["sat"].values
    subcenters = state["subcenter"].values
    records = []
    for variable, (band_name, residual) in monitored_residuals(state).items():
        settings = sensors["bands"][band_name]
        limit = band(state, settings)
        values = residual.values
        verdict = np.where(np.isnan(values), np.nan, (np.abs(values) > limit).astype(float))
        rows, first, last = true_runs(_carry_forward(verdict))
        long_enough = (last - first + 1) * step_s >= settings["persistence_s"]
        rejoin_steps = int(sensors["anomalies"]["rejoin_s"] / step_s)
        for row, start, stop in _rejoin(rows[long_enough], first[long_enough], last[long_enough], rejoin_steps):
            window = values[row, start:stop + 1]
            peak = int(np.nanargmax(np.abs(window)))
            records.append((names[row], subcenters[row], variable, times[start], times[stop],
                            (stop - start + 1) * step_s, float(window[peak]), residual.attrs.get("units", ""),
                            float(limit[row, 0])))
    records.extend(_silences(state, sensors["silence"]["after_s"], step_s))
    if COUNTER_VARIABLE in state and RATE_VARIABLE in state:
        records.extend(_upset_departures(state, sensors["upsets"], sensors["anomalies"]["rejoin_s"]))
    table = pd.DataFrame.from_records(records, columns=COLUMNS)
    return table.sort_values(["start", "satellite", "variable"], ignore_index=True)


def _silences(state: xr.Dataset, after_s: float, step_s: float) -> list[tuple]:
    """Satellites that sent nothing for ``after_s`` while the model says they are alive."""
    reported = sum(state[f"{kind}_reported"].values.astype(bool) for kind in ("gnss", "power", "thermal", "compute"))
    heard = np.flatnonzero(reported.any(axis=0))
    if heard.size == 0:
        return []
    silent = (reported == 0) & state["alive"].values.astype(bool)
    silent[:, :heard[0]] = False   # before the telemetry began
    silent[:, heard[-1] + 1:] = False  # after it ended
    times = state["time"].values
    rows, first, last = true_runs(silent)
    long_enough = (last - first + 1) * step_s >= after_s
    return [(state["sat"].values[row], state["subcenter"].values[row], "telemetry_lost", times[start], times[stop],
             (stop - start + 1) * step_s, float((stop - start + 1) * step_s), "s", after_s)
            for row, start, stop in zip(rows[long_enough], first[long_enough], last[long_enough])]


def _upset_departures(state: xr.Dataset, settings: dict, rejoin_s: float) -> list[tuple]:
    """Satellites whose corrected upsets depart from the prediction (:func:`~.upset_counter.upset_departures`), over
    ``settings``' ``window_s`` at its ``false_alarm_probability``; flagged windows less than ``rejoin_s`` apart are one."""
    times = state["time"].values
    time_s = (times - times[0]) / np.timedelta64(1, "s")
    step_s = float(time_s[1] - time_s[0])
    window_steps = max(1, int(round(settings["window_s"] / step_s)))
    found = upset_departures(state[COUNTER_VARIABLE].values, expected_upsets(state[RATE_VARIABLE].values, time_s),
                             window_steps, settings["false_alarm_probability"])
    rows, first, last = true_runs(found["flagged"])
    records = []
    for row, start, stop in _rejoin(rows, first, last, int(rejoin_s // (window_steps * step_s))):
        measured = found["measured"][row, start:stop + 1].sum()
        predicted = max(found["predicted"][row, start:stop + 1].sum(), np.finfo(float).tiny)
        begin, end = found["first"][start], found["last"][stop]
        fewest_flagged = poisson.isf(settings["false_alarm_probability"] / 2, predicted) + 1
        critical = fewest_flagged / predicted
        records.append((state["sat"].values[row], state["subcenter"].values[row], "upset_rate", times[begin],
                        times[end], float(time_s[end] - time_s[begin] + step_s), float(measured / predicted), "1",
                        float(critical)))
    return records


def anomalies_of(state: xr.Dataset, sensors: dict | None = None) -> pd.DataFrame:
    """:func:`find_anomalies` of ``state``, which must be assimilated from telemetry; ``sensors`` by default the
    shipped bands (:func:`twin.telemetry.virtual_fleet.load_sensors`)."""
    from twin.telemetry.virtual_fleet import load_sensors

    missing = [name for name in ("position_residual", "generated_power_residual", "gnss_reported")
               if name not in state.variables]
    if missing:
        raise ValueError(f"run: has no {', '.join(missing)}; anomalies are found in a state assimilated from "
                         "telemetry (twin.telemetry.assimilation.assimilate)")
    return find_anomalies(state, load_sensors() if sensors is None else sensors)
