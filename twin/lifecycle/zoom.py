"""A window of a build-up at full resolution: the engine's run (:mod:`twin.subsystems.engine`) of the fleet as the
build-up left it at the window's start.

Each sub-center's chief stands for the satellites of it in service at that date (``represents``: the failed, the
disposed of, those not yet launched or still commissioning are left out), and its array is degraded by what the
build-up's ageing left of it (an ``array_degraded`` fault from the start, so the engine's own ageing from launch is
not counted twice), its battery's capacity by the fade the build-up left (calendar and cycles: the mean over the
satellites in service, which start the window full). The orbits are designed at the window's start as the scenario
designs them (the build-up's orbits are kept on station).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr
from astropy.time import Time

from twin.orbit.constellation import design_fleet
from twin.run.plan import RunPlan, run_attrs, run_span
from twin.scenario import Fault, Scenario, ScenarioError
from twin.timegrid import time_grid


def zoom_plan(run: xr.Dataset, scenario: Scenario, start: Time, duration_s: float | None = None,
              step_s: float | None = None) -> RunPlan:
    """The plan of a full-resolution run of ``scenario``'s fleet from ``start`` for ``duration_s`` at ``step_s``
    (default: the scenario's) in the state the build-up ``run`` of it stored at its last step at or before ``start``.

    Raises ``ValueError`` naming ``start`` outside the build-up, or when no satellite is in service then.
    """
    times = run["time"].values
    at = np.datetime64(start.utc.isot, "ns")
    if not times[0] <= at <= times[-1]:
        raise ValueError(f"start: {start.utc.isot} is outside the build-up run ({str(times[0])[:10]} to "
                         f"{str(times[-1])[:10]})")
    index = int(np.searchsorted(times, at, side="right") - 1)
    serving = run["serving_satellites"].values[:, index].astype(np.int32)
    if serving.sum() == 0:
        raise ValueError(f"start: no satellite is in service at {start.utc.isot}")
    array_left = np.nan_to_num(run["array_output_fraction"].values[:, index].astype(float), nan=1.0)
    battery_left = np.nan_to_num(run["battery_capacity_fraction"].values[:, index].astype(float), nan=1.0)
    window = dataclasses.replace(scenario, epoch=start, faults=(), lifecycle=None,
                                 subcenters=tuple(dataclasses.replace(group, launch="") for group in scenario.subcenters))
    start, duration_s, step_s = run_span(window, start, duration_s, step_s)
    fleet = design_fleet(window).chiefs_only()
    if not np.array_equal(fleet.names, run["sat"].values):
        raise ScenarioError(f"scenario: {scenario.name!r} is not the scenario of this build-up run")
    fleet.represents = serving
    faults = tuple(Fault(subcenter, "array_degraded", 0.0, float(1.0 - left))
                   for subcenter, left, count in zip(fleet.subcenter, array_left, serving) if count and left < 1.0)
    return RunPlan(fleet, start, time_grid(start, duration_s, step_s), run_attrs(window, step_s, True), window,
                   subsystems=True, representatives=True, faults=faults, battery_left=battery_left)
