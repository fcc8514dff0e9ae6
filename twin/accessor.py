"""The ``twin`` accessor: common questions asked of a twin dataset, in a line each.

>>> import twin
>>> run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=3 * 3600, step_s=60)
>>> fraction = run.twin.sunlit_fraction()
>>> fraction.attrs["units"]
'1'
>>> bool((fraction > 0.5).all())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .intervals import threshold_intervals
from .sunlight import shadow_margins_rad

UMBRA = 1e-9  # illumination below this is umbra (the conical model gives exactly 0 there)


@xr.register_dataset_accessor("twin")
class TwinAccessor:
    """Questions of a twin dataset: ``dataset.twin.eclipse_intervals("SAT")``, ``dataset.twin.sunlit_fraction()``."""

    def __init__(self, dataset: xr.Dataset):
        self._dataset = dataset

    def _seconds(self) -> np.ndarray:
        times = self._dataset["time"].values
        return (times - times[0]) / np.timedelta64(1, "s")

    def eclipse_intervals(self, sat: str, kind: str = "umbra") -> pd.DataFrame:
        """Eclipses of one satellite: ``start``, ``end`` (UTC), ``duration_s`` and ``complete``.

        ``kind="umbra"`` gives the time in full shadow; ``kind="shadow"`` the time with any part
        of the Sun hidden (umbra and penumbra). Edges are the zeros of a smooth shadow margin
        (:func:`twin.sunlight.shadow_margins_rad`), interpolated by the quadratic through three
        steps: within a second of an independent ray-traced computation at 30 s steps
        (``tests/test_eclipse_season.py``), worse only for grazing eclipses of a few minutes.
        """
        kinds = ("umbra", "shadow")
        if kind not in kinds:
            raise ValueError(f"kind: {kind!r} is not one of {', '.join(kinds)}")
        if sat not in self._dataset.indexes["sat"]:
            raise KeyError(f"sat: {sat!r} is not a satellite of this run")
        position_m = self._dataset["position"].sel(sat=sat).values
        margin = shadow_margins_rad(position_m, self._dataset["sun_position"].values)[kinds.index(kind)]
        shadowed = threshold_intervals(self._seconds(), -margin[None, :], np.zeros(1))  # in shadow: margin < 0
        start = self._dataset["time"].values[0]
        result = pd.DataFrame({
            "start": start + np.round(shadowed["start_s"] * 1e9).astype("timedelta64[ns]"),
            "end": start + np.round(shadowed["end_s"] * 1e9).astype("timedelta64[ns]"),
            "duration_s": shadowed["end_s"] - shadowed["start_s"],
            "complete": shadowed["start_observed"] & shadowed["end_observed"],
        })
        result.attrs["units"] = {"duration_s": "s"}
        return result

    def sunlit_fraction(self) -> xr.DataArray:
        """Time-averaged fraction of the solar disk visible, per satellite (1 = never shadowed)."""
        fraction = self._dataset["illumination"].mean("time")
        fraction.attrs = {"long_name": "sunlit fraction (mean illumination over the run)", "units": "1"}
        return fraction.rename("sunlit_fraction")

    def umbra_fraction(self) -> xr.DataArray:
        """Fraction of the steps each satellite spends in the umbra."""
        fraction = (self._dataset["illumination"] < UMBRA).mean("time")
        fraction.attrs = {"long_name": "fraction of time in umbra", "units": "1"}
        return fraction.rename("umbra_fraction")

    def subcenter(self, name: str) -> xr.Dataset:
        """The satellites of one sub-center."""
        selection = self._dataset["subcenter"] == name
        if not bool(selection.any()):
            raise KeyError(f"subcenter: {name!r} is not a sub-center of this run")
        return self._dataset.sel(sat=selection)

    def summary(self) -> dict:
        """Headline numbers of the run: satellites, sub-centers, steps, span, sunlit fraction, beta range."""
        dataset = self._dataset
        times = dataset["time"].values
        return {
            "scenario": dataset.attrs.get("scenario", ""),
            "satellites": int(dataset.sizes["sat"]),
            "subcenters": int(np.unique(dataset["subcenter"].values).size),
            "owners": int(np.unique(dataset["owner"].values).size),
            "steps": int(dataset.sizes["time"]),
            "start": str(times[0])[:19] + "Z",
            "end": str(times[-1])[:19] + "Z",
            "mean_sunlit_fraction": float(dataset["illumination"].mean()),
            "min_sunlit_fraction": float(self.sunlit_fraction().min()),
            "altitude_km_range": (float(dataset["altitude"].min()) / 1e3, float(dataset["altitude"].max()) / 1e3),
            "beta_angle_deg_range": (float(dataset["beta_angle"].min()), float(dataset["beta_angle"].max())),
        }
