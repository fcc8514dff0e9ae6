"""The twin meets the measurements: measured where measured, modelled elsewhere, and the residuals.

The model is a fault-free twin run over the telemetry's span (or a trailing window of it,
:func:`twin.telemetry.store.select_since`) on the reporting grid, started from the measured battery and temperatures and driven
by the measured compute utilisation (:func:`model_run`): the work the fleet really did sets the
loads, so power and thermal residuals point at the hardware, not at a scheduler's different
choices. Each stored
packet lands on the grid step nearest its time code (within half a step); a GNSS fix is carried
to that step exactly enough (second order, gravity only: under a metre for 5 s) and rotated to
GCRS. For each variable the assimilated dataset holds the state (the measurement where one
exists, the model elsewhere, in the model's dtype) and the residual, measured minus predicted (NaN where
nothing came); every variable is written as the twin dataset's catalogue has it (:mod:`twin.dataset.catalogue`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from twin.constants import EARTH_MU_KM3_S2, EARTH_ROTATION_RAD_S
from twin.dataset.layout import as_variable
from twin.orbit.frames import gcrs_to_itrs
from twin.telemetry.upset_counter import with_upset_rates
from twin.telemetry.virtual_fleet import bus_voltage_v

NODES = ("payload", "bus")
KINDS = ("gnss", "power", "thermal", "compute")
SCALAR_VARIABLES = {  # assimilated variable: (packet kind, how it is measured)
    "generated_power": "power", "used_power": "power", "battery_soc": "power",
    "compute_utilization": "compute", "throttle": "compute",
}


class AssimilationError(ValueError):
    """The measurements cannot be laid on the model run (no overlap, unknown satellites...)."""


def _grid_cells(group: xr.Dataset, times: np.ndarray, sat_count: int):
    """Rows of ``group`` that fall on the grid: their satellite row, step index and offset (s)."""
    step_ns = (times[1] - times[0]).astype(np.int64)
    time_ns = group["time"].values.astype("datetime64[ns]").astype(np.int64)
    index = np.rint((time_ns - times[0].astype(np.int64)) / step_ns).astype(np.int64)
    rows = group["spacecraft_id"].values.astype(np.int64) - 1
    on_grid = (index >= 0) & (index < times.size) & (rows >= 0) & (rows < sat_count)
    offset_s = (time_ns - times[0].astype(np.int64) - index * step_ns) / 1e9
    keep = np.flatnonzero(on_grid)
    return rows[keep], index[keep], offset_s[keep], keep


def _scatter(shape, rows, steps, values) -> np.ndarray:
    grid = np.full(shape, np.nan)
    grid[rows, steps] = values
    return grid


def gnss_positions_gcrs_m(group: xr.Dataset, times: np.ndarray, sat_count: int) -> np.ndarray:
    """GNSS fixes (ITRS) as GCRS positions at the grid steps (sat, time, 3), NaN where none."""
    rows, steps, offset_s, keep = _grid_cells(group, times, sat_count)
    position = np.stack([group[f"position_{a}_m"].values[keep] for a in "xyz"], axis=-1)
    velocity = np.stack([group[f"velocity_{a}_m_s"].values[keep] for a in "xyz"], axis=-1)
    fix_times = times[steps] + (offset_s * 1e9).astype("timedelta64[ns]")
    unique_times, which = np.unique(fix_times, return_inverse=True)
    to_gcrs = gcrs_to_itrs(unique_times).swapaxes(-1, -2)[which]            # (fix, 3, 3)
    omega = np.array([0.0, 0.0, EARTH_ROTATION_RAD_S])
    position_gcrs = np.einsum("fij,fj->fi", to_gcrs, position)
    velocity_gcrs = np.einsum("fij,fj->fi", to_gcrs, velocity + np.cross(omega, position))
    radius = np.linalg.norm(position_gcrs, axis=-1, keepdims=True)
    gravity = -EARTH_MU_KM3_S2 * 1e9 * position_gcrs / radius**3
    dt = -offset_s[:, None]  # from the fix back (or on) to its grid step
    at_step = position_gcrs + velocity_gcrs * dt + 0.5 * gravity * dt**2
    grid = np.full((sat_count, times.size, 3), np.nan)
    grid[rows, steps] = at_step
    return grid


def measured_on_grid(groups: dict[str, xr.Dataset], model: xr.Dataset, sensors: dict) -> dict[str, np.ndarray]:
    """Every measured variable of the twin on the model's (sat, time) grid, NaN where nothing came."""
    times = model["time"].values.astype("datetime64[ns]")
    sat_count = model.sizes["sat"]
    shape = (sat_count, times.size)
    measured = {f"{kind}_reported": np.zeros(shape, bool) for kind in KINDS}
    cells = {}
    for kind in KINDS:
        rows, steps, _, keep = _grid_cells(groups[kind], times, sat_count)
        cells[kind] = (rows, steps, keep)
        measured[f"{kind}_reported"][rows, steps] = True

    def grid(kind: str, values: np.ndarray) -> np.ndarray:
        rows, steps, keep = cells[kind]
        return _scatter(shape, rows, steps, values[keep])

    power = groups["power"]
    bus_v = bus_voltage_v(model["installed_power"].values, sensors)
    row_of_packet = np.clip(power["spacecraft_id"].values.astype(np.int64) - 1, 0, sat_count - 1)
    measured["generated_power"] = grid("power", power["array_voltage_v"].values * power["array_current_a"].values)
    measured["used_power"] = grid("power", bus_v[row_of_packet] * power["load_current_a"].values)
    measured["battery_soc"] = grid("power", power["battery_soc"].values)
    measured["temperature"] = np.stack([grid("thermal", groups["thermal"][f"{node}_temperature_k"].values)
                                        for node in NODES], axis=-1)
    for name in ("compute_utilization", "throttle", "memory_errors"):
        measured[name] = grid("compute", groups["compute"][name].values)
    measured["position"] = gnss_positions_gcrs_m(groups["gnss"], times, sat_count)
    return measured


def measurement_span(groups: dict[str, xr.Dataset]) -> tuple[np.datetime64, np.datetime64]:
    """First and last packet time over all groups."""
    times = [group["time"].values for group in groups.values() if group.sizes["record"]]
    if not times:
        raise AssimilationError("measurements: the store holds no packet yet")
    return min(t.min() for t in times), max(t.max() for t in times)


def initial_state(groups: dict[str, xr.Dataset], times: np.ndarray, sat_count: int) -> dict[str, np.ndarray]:
    """Battery state of charge (sat,) and node temperatures (sat, 2) measured at the first grid step (NaN: none)."""
    def at_first_step(kind: str, column: str) -> np.ndarray:
        rows, steps, _, keep = _grid_cells(groups[kind], times, sat_count)
        values = np.full(sat_count, np.nan)
        first = steps == 0
        values[rows[first]] = groups[kind][column].values[keep][first]
        return values

    return {"battery_soc": at_first_step("power", "battery_soc"),
            "temperature": np.stack([at_first_step("thermal", f"{node}_temperature_k") for node in NODES], axis=-1)}


def model_run(scenario, groups: dict[str, xr.Dataset], sensors: dict, progress=None) -> xr.Dataset:
    """The fault-free twin over the measurements' span, one reporting interval per step, started from
    the battery and temperatures measured at the first packet's time and driven by the measured
    compute utilisation; with the upset rates the memory-error counter is checked against
    (:func:`twin.telemetry.upset_counter.with_upset_rates`)."""
    from astropy.time import Time

    from twin.run.simulate import run_scenario
    from twin.timegrid import time_grid

    interval_s = float(sensors["reporting"]["interval_s"])
    start, last = measurement_span(groups)
    duration_s = float((last - start) / np.timedelta64(1, "s"))
    if duration_s < interval_s:
        raise AssimilationError(f"measurements: {duration_s:g} s of telemetry; the twin needs at least one "
                                f"reporting interval ({interval_s:g} s)")
    times = start + (time_grid(None, duration_s, interval_s) * 1e9).astype("timedelta64[ns]")
    sat_count = scenario.satellite_count  # the fleet is designed once, by the run
    rows, steps, _, keep = _grid_cells(groups["compute"], times, sat_count)
    workload = _scatter((sat_count, times.size), rows, steps, groups["compute"]["compute_utilization"].values[keep])
    return with_upset_rates(run_scenario(scenario, start=Time(start, scale="utc"), duration_s=duration_s,
                                         step_s=interval_s, workload=workload,
                                         initial_state=initial_state(groups, times, sat_count), progress=progress))


def assimilate(model: xr.Dataset, groups: dict[str, xr.Dataset], sensors: dict) -> xr.Dataset:
    """The twin's state from ``model`` (a fault-free run on the reporting grid) and stored measurements."""
    if model.sizes["time"] < 2:
        raise AssimilationError("model: the run needs at least two time steps")
    measured = measured_on_grid(groups, model, sensors)
    if not any(measured[f"{kind}_reported"].any() for kind in KINDS):
        raise AssimilationError(
            f"measurements: none falls within the run {model['time'].values[0]} to {model['time'].values[-1]} "
            f"for its {model.sizes['sat']} satellites")
    state = model.copy()
    for kind in KINDS:
        state[f"{kind}_reported"] = as_variable(f"{kind}_reported", measured[f"{kind}_reported"])
    for name in (*SCALAR_VARIABLES, "temperature", "position"):
        predicted = model[name].values.astype(np.float64)
        observed = measured[name]
        state[name] = as_variable(name, np.where(np.isnan(observed), predicted, observed))
        if name == "position":
            state["position_residual"] = as_variable("position_residual", np.linalg.norm(observed - predicted, axis=-1))
        else:
            state[f"{name}_residual"] = as_variable(f"{name}_residual", observed - predicted)
    state["memory_errors"] = as_variable("memory_errors", measured["memory_errors"])
    state.attrs["assimilated"] = "measurements where they exist, the fault-free model elsewhere"
    return state
