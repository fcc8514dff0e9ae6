"""A run at a glance: satellites, sub-centers, span, sunlight, altitude and beta angle (``twin info``)."""

from __future__ import annotations

import numpy as np
import xarray as xr


def run_overview(run: xr.Dataset) -> dict:
    """Headline numbers of ``run``: satellites, sub-centers, steps, span, sunlit fraction, altitude (km) and beta (deg) ranges."""
    dataset = run
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
        "min_sunlit_fraction": float(dataset["illumination"].mean("time").min()),
        "altitude_km_range": (float(dataset["altitude"].min()) / 1e3, float(dataset["altitude"].max()) / 1e3),
        "beta_angle_deg_range": (float(dataset["beta_angle"].min()), float(dataset["beta_angle"].max())),
    }
