"""Eclipses of a run's satellites: intervals in the umbra or in any shadow, and the fraction of time lit.

Each function takes a twin dataset holding the orbit layer (``position``, ``sun_position``,
``illumination``); the accessor (``run.twin``) answers with them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from twin.intervals import threshold_intervals
from twin.orbit.sunlight import shadow_margins_rad

UMBRA = 1e-9  # illumination below this is umbra (the conical model gives exactly 0 there)


def seconds_since_start(run: xr.Dataset) -> np.ndarray:
    """Seconds of each step since the run's first."""
    times = run["time"].values
    return (times - times[0]) / np.timedelta64(1, "s")


def eclipse_intervals(run: xr.Dataset, sat: str, kind: str = "umbra") -> pd.DataFrame:
    """Eclipses of one satellite: ``start``, ``end`` (UTC), ``duration_s`` and ``complete``.

    ``kind="umbra"`` gives the time in full shadow; ``kind="shadow"`` the time with any part
    of the Sun hidden (umbra and penumbra). Edges are the zeros of a smooth shadow margin
    (:func:`twin.orbit.sunlight.shadow_margins_rad`), interpolated by the quadratic through three
    steps: within a second of an independent ray-traced computation at 30 s steps
    (``tests/test_eclipse_season.py``), worse only for grazing eclipses of a few minutes.
    """
    kinds = ("umbra", "shadow")
    if kind not in kinds:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(kinds)}")
    if sat not in run.indexes["sat"]:
        raise KeyError(f"sat: {sat!r} is not a satellite of this run")
    position_m = run["position"].sel(sat=sat).values
    margin = shadow_margins_rad(position_m, run["sun_position"].values)[kinds.index(kind)]
    shadowed = threshold_intervals(seconds_since_start(run), -margin[None, :], np.zeros(1))  # in shadow: margin < 0
    start = run["time"].values[0]
    result = pd.DataFrame({
        "start": start + np.round(shadowed["start_s"] * 1e9).astype("timedelta64[ns]"),
        "end": start + np.round(shadowed["end_s"] * 1e9).astype("timedelta64[ns]"),
        "duration_s": shadowed["end_s"] - shadowed["start_s"],
        "complete": shadowed["start_observed"] & shadowed["end_observed"],
    })
    result.attrs["units"] = {"duration_s": "s"}
    return result


def sunlit_fraction(run: xr.Dataset) -> xr.DataArray:
    """Time-averaged fraction of the solar disk visible, per satellite (1 = never shadowed)."""
    fraction = run["illumination"].mean("time")
    fraction.attrs = {"long_name": "sunlit fraction (mean illumination over the run)", "units": "1"}
    return fraction.rename("sunlit_fraction")


def umbra_fraction(run: xr.Dataset) -> xr.DataArray:
    """Fraction of the steps each satellite spends in the umbra."""
    fraction = (run["illumination"] < UMBRA).mean("time")
    fraction.attrs = {"long_name": "fraction of time in umbra", "units": "1"}
    return fraction.rename("umbra_fraction")
