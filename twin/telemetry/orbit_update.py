"""Updated orbits for the satellites whose GNSS fixes left the model: the orbit flown since, as SGP4 elements.

For each satellite with a ``position`` anomaly, the fixes from the anomaly's start are fitted by
SGP4 differential correction (:func:`twin.telemetry.orbit_fit.fit_orbits`) from the designed
element set; the result gives the change of semi-major axis (an unplanned manoeuvre shows there)
and a TLE operators can load.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from sgp4.exporter import export_tle

from twin.orbit.frames import gcrs_to_itrs
from twin.telemetry.orbit_fit import fit_orbits

COLUMNS = ["satellite", "since", "fixes_used", "rms_m", "semi_major_axis_change_m", "converged", "tle_line1", "tle_line2"]


def semi_major_axis_m(satrec) -> float:
    """SGP4 mean semi-major axis (m) of an element set."""
    return float(satrec.a * satrec.radiusearthkm * 1e3)


def reestimate_orbits(scenario, state: xr.Dataset, anomalies: pd.DataFrame) -> pd.DataFrame:
    """One row per satellite with a position anomaly in ``state`` (:func:`~.assimilation.assimilate`)."""
    from twin.orbit.constellation import design_fleet

    position = anomalies[anomalies["variable"] == "position"]
    if position.empty:
        return pd.DataFrame(columns=COLUMNS)
    began = position.groupby("satellite")["start"].min()
    targets = list(began.index)
    names = list(state["sat"].values)
    rows = [names.index(name) for name in targets]
    priors = [design_fleet(scenario).satrecs()[row] for row in rows]
    times = state["time"].values.astype("datetime64[ns]")
    since = began.values.astype("datetime64[ns]")
    use = (state["gnss_reported"].values[rows] > 0) & (times[None, :] >= since[:, None])
    fixes_gcrs = np.where(use[..., None], state["position"].values[rows], np.nan)
    fixes_itrs = np.einsum("tij,stj->sti", gcrs_to_itrs(times), fixes_gcrs)
    fit = fit_orbits(priors, times, fixes_itrs)
    tles = [export_tle(satrec) for satrec in fit.satrecs]
    return pd.DataFrame({
        "satellite": targets, "since": since, "fixes_used": fit.fixes_used, "rms_m": fit.rms_m,
        "semi_major_axis_change_m": [semi_major_axis_m(f) - semi_major_axis_m(p) for f, p in zip(fit.satrecs, priors)],
        "converged": fit.converged, "tle_line1": [t[0] for t in tles], "tle_line2": [t[1] for t in tles]})
