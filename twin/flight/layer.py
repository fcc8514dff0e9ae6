"""The flight variables of a run: air density, drag and radiation-pressure accelerations per satellite and step.

NRLMSIS 2.1 costs about 40 µs a point, so it is evaluated at one satellite of each sub-center (its first
row) at every step; the sub-center's other satellites, within a few kilometres of it, get that density
scaled to their own altitude by the local scale height ``H = 5 km / ln(rho(h) / rho(h + 5 km))``
(1 km off at H = 60 km: 1.7 % from the density itself, far less from the scaling), which changes slowly
along the orbit and is evaluated every 10 minutes and interpolated in time. Drag and
radiation pressure are :mod:`twin.flight.forces` on the run's positions, velocities, Sun and illumination,
with each satellite's bus (:func:`twin.flight.spacecraft.spacecraft_of_buses`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from twin.dataset.layout import as_variable
from twin.flight.atmosphere import density_kg_m3
from twin.flight.forces import drag_acceleration_m_s2, srp_acceleration_m_s2
from twin.flight.space_weather import predicted_indices, scenario_indices
from twin.flight.spacecraft import spacecraft_of_buses
from twin.scenario import Scenario

FLIGHT_VARIABLES = ("atmospheric_density", "drag_acceleration", "srp_acceleration")
SCALE_HEIGHT_STEP_KM = 5.0
SCALE_HEIGHT_EVERY_S = 600.0
SAT_STEPS_PER_CHUNK = 500_000  # satellite-steps of forces computed at once (about 0.1 GB of float64 vectors)


def atmospheric_density(run: xr.Dataset, indices_at=predicted_indices) -> np.ndarray:
    """Air density (kg/m3, (sat, time)) at the run's satellites: NRLMSIS at each sub-center's first satellite,
    scaled to the others by the local scale height."""
    times = run["time"].values
    _, first, sub_center_of = np.unique(run["subcenter"].values.astype(str), return_index=True, return_inverse=True)
    sub_center_of = sub_center_of.reshape(-1)
    altitude_km = run["altitude"].values.astype(float) / 1e3
    reference_km = altitude_km[first]
    latitude, longitude = run["latitude"].values[first], run["longitude"].values[first]
    at_reference = density_kg_m3(times[None, :], latitude, longitude, reference_km, indices_at(times))
    scale_height_km = _interpolated_in_time(times, lambda steps: SCALE_HEIGHT_STEP_KM / np.log(
        at_reference[:, steps] / density_kg_m3(times[None, steps], latitude[:, steps], longitude[:, steps],
                                               reference_km[:, steps] + SCALE_HEIGHT_STEP_KM, indices_at(times[steps]))))
    return at_reference[sub_center_of] * np.exp(-(altitude_km - reference_km[sub_center_of])
                                                / scale_height_km[sub_center_of])


def _interpolated_in_time(times: np.ndarray, values_at) -> np.ndarray:
    """``values_at(steps)`` (rows, len(steps)) evaluated every :data:`SCALE_HEIGHT_EVERY_S` and at the last step,
    linearly interpolated to every step of ``times``: (rows, time)."""
    seconds = (times - times[0]) / np.timedelta64(1, "s")
    step_s = float(np.median(np.diff(seconds))) if seconds.size > 1 else 1.0
    steps = np.unique(np.append(np.arange(0, seconds.size, max(1, round(SCALE_HEIGHT_EVERY_S / step_s))),
                                seconds.size - 1))
    sampled = values_at(steps)
    if steps.size == 1:
        return np.repeat(sampled, seconds.size, axis=1)
    right = np.clip(np.searchsorted(seconds[steps], seconds, side="right"), 1, steps.size - 1)
    share = (seconds - seconds[steps][right - 1]) / (seconds[steps][right] - seconds[steps][right - 1])
    return sampled[:, right - 1] * (1.0 - share) + sampled[:, right] * share


def flight_variables(run: xr.Dataset, scenario: Scenario, indices_at=None) -> dict[str, np.ndarray]:
    """:data:`FLIGHT_VARIABLES` of ``run`` (a scenario's run with its orbit layer), each (sat, time); the indices
    are ``indices_at(times)``, by default those the scenario's ``[flight]`` asks for."""
    craft = spacecraft_of_buses(run["sat"].values, run["bus"].values, scenario.buses)
    density = atmospheric_density(run, indices_at or scenario_indices(scenario.flight))
    drag, srp = np.empty(density.shape), np.empty(density.shape)
    sun_m = run["sun_position"].values[None, :, :]
    rows = max(1, SAT_STEPS_PER_CHUNK // max(1, run.sizes["time"]))
    for begin in range(0, run.sizes["sat"], rows):
        chunk = slice(begin, begin + rows)
        part = craft.take(np.arange(run.sizes["sat"])[chunk])
        position = run["position"].isel(sat=chunk).values
        velocity = run["velocity"].isel(sat=chunk).values.astype(float)
        drag[chunk] = np.linalg.norm(drag_acceleration_m_s2(part, position, velocity, sun_m, density[chunk]), axis=-1)
        srp[chunk] = np.linalg.norm(srp_acceleration_m_s2(part, position, velocity, sun_m,
                                                          run["illumination"].isel(sat=chunk).values.astype(float)), axis=-1)
    return {"atmospheric_density": density, "drag_acceleration": drag, "srp_acceleration": srp}


def add_flight(run: xr.Dataset, scenario: Scenario, indices_at=None) -> xr.Dataset:
    """``run`` with :data:`FLIGHT_VARIABLES` added (catalogued: :mod:`twin.dataset.catalogue`)."""
    return run.assign({name: as_variable(name, values) for name, values in
                       flight_variables(run, scenario, indices_at).items()})
