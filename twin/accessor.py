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

from .sunlight import shadow_margins_rad

UMBRA = 1e-9  # illumination below this is umbra (the conical model gives exactly 0 there)


def threshold_crossings(times_s: np.ndarray, values: np.ndarray, threshold: float) -> pd.DataFrame:
    """Intervals where ``values`` is below ``threshold``, with edges interpolated between samples (quadratic).

    Returns columns ``start_s``, ``end_s`` (seconds on the ``times_s`` axis) and ``complete`` (False
    when the interval is cut by the start or end of the run).
    """
    below = values < threshold
    if not below.any():
        return pd.DataFrame({"start_s": [], "end_s": [], "complete": []})
    change = np.diff(below.astype(np.int8))
    starts = list(np.flatnonzero(change == 1) + 1)
    ends = list(np.flatnonzero(change == -1) + 1)
    open_start, open_end = bool(below[0]), bool(below[-1])
    if open_start:
        starts.insert(0, 0)
    if open_end:
        ends.append(len(values))

    def edge(index: int) -> float:
        if index <= 0:
            return float(times_s[0])
        if index >= len(values):
            return float(times_s[-1])
        return _root_between(times_s, values - threshold, index)

    frame = pd.DataFrame({"start_s": [edge(i) for i in starts], "end_s": [edge(i) for i in ends]})
    frame["complete"] = True
    if open_start:
        frame.loc[0, "complete"] = False
    if open_end:
        frame.loc[len(frame) - 1, "complete"] = False
    return frame


def _root_between(times_s: np.ndarray, values: np.ndarray, index: int) -> float:
    """Zero of ``values`` between samples ``index - 1`` and ``index``: the quadratic through these two and a
    neighbour (a shadow margin is curved: a chord cuts inside it), or the chord where that fails."""
    t0, t1, v0, v1 = times_s[index - 1], times_s[index], values[index - 1], values[index]
    linear = t0 + (t1 - t0) * v0 / (v0 - v1) if v0 != v1 else t0
    third = index + 1 if index + 1 < len(values) else index - 2
    if third < 0:
        return float(linear)
    coefficients = np.polyfit([t0 - t0, t1 - t0, times_s[third] - t0], [v0, v1, values[third]], 2)
    roots = np.roots(coefficients)
    roots = roots[np.isreal(roots)].real + t0
    inside = roots[(roots >= t0) & (roots <= t1)]
    return float(inside[np.argmin(np.abs(inside - linear))]) if inside.size else float(linear)


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
        intervals = threshold_crossings(self._seconds(), margin, 0.0)
        start = self._dataset["time"].values[0]
        result = pd.DataFrame({
            "start": start + (intervals["start_s"].to_numpy() * 1e9).astype("timedelta64[ns]"),
            "end": start + (intervals["end_s"].to_numpy() * 1e9).astype("timedelta64[ns]"),
            "duration_s": (intervals["end_s"] - intervals["start_s"]).to_numpy(),
            "complete": intervals["complete"].to_numpy(dtype=bool),
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
