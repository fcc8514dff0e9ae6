"""Forecast from now: the twin run forward from the fleet's live state, and what will cross a limit and when.

The live state (:func:`live_state`) is the assimilated state's last step (:mod:`twin.telemetry.assimilation`):
the battery and temperatures measured there (the model's where a packet was lost), the health the telemetry
shows (an array giving less than the model predicts over the window: ``array_degraded`` by the measured
shortfall; a satellite silent at the end: ``satellite_lost``), the work it is doing (each satellite's compute
utilisation measured over the window, assumed to go on: the ground cannot see the jobs queued on board) and the
modes operators commanded (compute caps, the payload off, heaters: :class:`twin.subsystems.modes.ModeChange`). :func:`forecast` runs
the twin from there for a number of orbits and lists every limit crossing: the XTCE alarm ranges of the
telemetry (as the alarms use them) and each satellite's own battery floor and payload maximum temperature.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from twin.operations.alarms import LIMITED, limit_runs
from twin.orbit.design import circular_orbit_period_s
from twin.scenario import Fault
from twin.subsystems.modes import HEATERS_THERMOSTAT, ModeChange

FORECAST_STEP_S = 60.0
HEALTHY_ARRAY_FRACTION = 0.95  # assumption: an array giving at least 95 % of the model (6 sigma of the noise: 4 %) is whole
SUNLIT_FRACTION = 0.2  # steps where the model gives at least this share of the installed power count for the array's health
COLUMNS = ["satellite", "subcenter", "variable", "severity", "crosses_at", "in_s", "worst", "limit", "units"]


@dataclass
class LiveState:
    """Where the fleet is at ``start`` (UTC): battery state of charge (sat,), node temperatures (sat, 2: payload,
    bus) in K, compute utilisation (sat,; mean measured over the window), the faults the telemetry shows and the
    commanded modes."""

    start: np.datetime64
    battery_soc: np.ndarray
    temperature: np.ndarray
    compute_utilization: np.ndarray
    faults: list[Fault] = field(default_factory=list)
    modes: list[ModeChange] = field(default_factory=list)


@dataclass
class Forecast:
    """The twin's run from the live state and its limit crossings (one row per satellite, variable and severity)."""

    state: LiveState
    run: xr.Dataset
    crossings: pd.DataFrame


def orbital_period_s(scenario) -> float:
    """Period (s) of the scenario's circular orbit at its altitude."""
    return float(circular_orbit_period_s(scenario.orbit.altitude_km))


def array_health(state: xr.Dataset) -> np.ndarray:
    """Measured over predicted array output of each satellite over the sunlit steps of ``state`` (sat,; NaN: none)."""
    measured = state["generated_power"].values.astype(float)
    residual = state["generated_power_residual"].values.astype(float)
    predicted = measured - residual
    sunlit = np.isfinite(residual) & (predicted > SUNLIT_FRACTION * state["installed_power"].values[:, None])
    total = np.where(sunlit, predicted, 0.0).sum(axis=1)
    return np.where(total > 0, np.where(sunlit, measured, 0.0).sum(axis=1) / np.where(total > 0, total, 1.0), np.nan)


def live_state(state: xr.Dataset, anomalies: pd.DataFrame, scenario, commands=()) -> LiveState:
    """The live state at the last step of an assimilated ``state`` with its ``anomalies``, and the modes of the
    executed ``commands`` (:class:`twin.operations.queue.Command`)."""
    names = [str(name) for name in state["sat"].values]
    start = state["time"].values[-1].astype("datetime64[ns]")
    epoch = np.datetime64(scenario.epoch.utc.isot, "ns")
    faults = []
    health = array_health(state)
    for row in np.flatnonzero(health < HEALTHY_ARRAY_FRACTION):
        faults.append(Fault(names[row], "array_degraded", 0.0, float(np.clip(1.0 - health[row], 0.0, 1.0))))
    silent = anomalies[(anomalies["variable"] == "telemetry_lost") & (anomalies["end"] >= state["time"].values[-2])]
    faults += [Fault(satellite, "satellite_lost", 0.0, 1.0) for satellite in sorted(set(silent["satellite"]))]
    modes = []
    for command in commands:
        if command.status not in ("executed", "verified"):
            continue
        at_s = float((np.datetime64(command.stages["executed"], "ns") - epoch) / np.timedelta64(1, "s"))
        modes += _mode_changes(command.name, command.arguments, command.spacecraft_id - 1, at_s)
    measured = np.where(np.isfinite(state["compute_utilization_residual"].values),
                        state["compute_utilization"].values.astype(float), np.nan)
    with np.errstate(invalid="ignore"):
        utilization = np.nanmean(np.where(np.isfinite(measured), measured, np.nan), axis=1)
    return LiveState(start, state["battery_soc"].values[:, -1].astype(float),
                     state["temperature"].values[:, -1, :].astype(float), utilization, faults, modes)


def _mode_changes(name: str, arguments: dict, row: int, at_s: float) -> list[ModeChange]:
    """The operating modes a command sets (as the virtual fleet's on-board software executes it)."""
    if name == "set_compute_cap":
        return [ModeChange(row, at_s, compute_cap=arguments["compute_cap"])]
    if name == "safe_mode":
        return [ModeChange(row, at_s, payload_on=not arguments["enter"])]
    if name == "heaters":
        return [ModeChange(row, at_s, heater_mode=int(arguments.get("heater_mode", HEATERS_THERMOSTAT)))]
    if name == "payload_restart":
        return [ModeChange(row, at_s, payload_on=False, until_s=at_s + arguments["off_s"])]
    return []  # a manoeuvre changes the orbit, not a mode


def run_from_live(scenario, live: LiveState, duration_s: float, step_s: float = FORECAST_STEP_S, modes=(),
                  progress=None, network: bool = False) -> xr.Dataset:
    """The twin from the live state ``live`` for ``duration_s`` (s) at ``step_s`` (s): its measured battery and
    temperatures, the faults the telemetry shows, the modes in force and ``modes`` planned besides, each satellite
    working as measured (a what-if "forked from live"); the run's ``started_from`` attribute says so."""
    from astropy.time import Time

    from twin.run.simulate import run_scenario
    from twin.timegrid import time_grid

    steps = time_grid(None, duration_s, step_s).size
    run = run_scenario(scenario, start=Time(live.start, scale="utc"), duration_s=duration_s, step_s=step_s,
                       faults=live.faults, modes=[*live.modes, *modes], workload=np.repeat(
                           live.compute_utilization[:, None], steps, axis=1),
                       initial_state={"battery_soc": live.battery_soc, "temperature": live.temperature},
                       progress=progress, network=network)
    run.attrs["started_from"] = f"live state at {str(live.start)[:19]} UTC"
    return run


def forecast(scenario, live: LiveState, orbits: float = 2.0, step_s: float = FORECAST_STEP_S,
             modes: list[ModeChange] = ()) -> Forecast:
    """The twin from ``live`` for ``orbits`` orbits at ``step_s``, with ``modes`` planned besides those in force
    (a what-if: "if I cap compute now..."), and its limit crossings."""
    if not orbits > 0:
        raise ValueError(f"orbits: {orbits!r} must be a positive number of orbits")
    run = run_from_live(scenario, live, orbits * orbital_period_s(scenario), step_s, modes)
    return Forecast(live, run, limit_crossings(run))


def limit_crossings(run: xr.Dataset) -> pd.DataFrame:
    """Every limit each satellite of ``run`` crosses: the XTCE alarm ranges and its own battery floor and payload
    maximum temperature (critical), with when it first crosses and its worst value."""
    from twin.telemetry.packets import layouts_by_name

    layouts = layouts_by_name()
    times = run["time"].values
    names, subcenters = run["sat"].values, run["subcenter"].values
    records = []
    own = {"battery_soc": ((("critical", run["battery_floor_soc"].values[:, None] + 1e-3, np.inf),), "1"),
           "temperature:payload": ((("critical", -np.inf, run["payload_max_temperature"].values[:, None]),), "K")}
    for variable, kind, parameter, values_of, _ in LIMITED:
        values = values_of(run).values.astype(float)
        field = layouts[kind].field(parameter)
        for ranges, units in ((field.alarm_ranges, field.units), own.get(variable, ((), ""))):
            for row, start, _, severity, worst, limit in limit_runs(values, ranges):
                records.append((str(names[row]), str(subcenters[row]), variable, severity, times[start],
                                float((times[start] - times[0]) / np.timedelta64(1, "s")), worst, limit, units))
    table = pd.DataFrame.from_records(records, columns=COLUMNS)
    if table.empty:
        return table
    table["limit"] = table["limit"].astype(float)
    first = table.sort_values("crosses_at").groupby(["satellite", "variable", "severity"], sort=False).head(1)
    return first.sort_values(["crosses_at", "satellite"], ignore_index=True)
