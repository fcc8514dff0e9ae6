"""A 3D still of a run for a review (``twin review``): the constellation at the run's last step, coloured by owner,
rendered off-screen as PNG bytes. A build-up stores no orbits (one row per sub-center at coarse steps): its still
is its scenario's sub-center chiefs at its last date, propagated for that one instant."""

from __future__ import annotations

import numpy as np
import xarray as xr

from twin.scenario import Scenario

STILL_SIZE = (960, 540)  # pixels: two side by side fit a review page
STILL_VARIABLES = ("position", "velocity", "sun_position")


def constellation_at_end(run: xr.Dataset, scenario: Scenario) -> xr.Dataset:
    """The run's last step with what the scene draws; for a build-up, its chiefs' orbits at its last date."""
    if "position" in run:
        return run[[name for name in STILL_VARIABLES if name in run]].isel(time=[-1]).load()
    from twin.orbit.constellation import design_fleet
    from twin.run.simulate import run_orbits

    end_s = float((run["time"].values[-1] - np.datetime64(scenario.epoch.utc.isot, "ns")) / np.timedelta64(1, "s"))
    return run_orbits(design_fleet(scenario).chiefs_only(), scenario.epoch, np.array([end_s]), {"scenario": scenario.name})


def review_still_png(run: xr.Dataset, scenario: Scenario, size: tuple[int, int] = STILL_SIZE) -> bytes:
    """PNG bytes of ``run``'s constellation at its last step (``scenario``: the one it recorded, whose ground stations
    and relays are drawn too)."""
    from .scene import ConstellationScene

    scene = ConstellationScene(constellation_at_end(run, scenario), color_by="owner", scenario=scenario,
                               window_size=size, multi_samples=4)
    try:
        return scene.png_bytes()
    finally:
        scene.close()
