"""Passes through the South Atlantic Anomaly and the outer-belt horns, as intervals.

An SAA pass is a stretch where the flux of protons that cross the shielding is at or above a
threshold; a horn pass, one where the flux of electrons that cross it is at or above a threshold at
geodetic latitudes beyond ``HORN_LATITUDE_DEG`` (the outer belt reaches low orbits only there; in the
SAA, inner-belt electrons come with the protons and count as the SAA). Edges are interpolated
between steps (:func:`twin.intervals.threshold_intervals`).
"""

from __future__ import annotations

import numpy as np

from twin.intervals import threshold_intervals

HORN_LATITUDE_DEG = 45.0
# Default thresholds: 1 proton and 100 electrons cm^-2 s^-1 above the penetration energies (about a
# thousandth of the peak fluxes at 700-800 km behind 2 mm of aluminium).
SAA_PROTON_FLUX_CM2_S = 1.0
HORN_ELECTRON_FLUX_CM2_S = 100.0


def radiation_passes(time_s: np.ndarray, latitude_deg: np.ndarray, proton_flux_cm2_s: np.ndarray,
                     electron_flux_cm2_s: np.ndarray, proton_threshold_cm2_s: float = SAA_PROTON_FLUX_CM2_S,
                     electron_threshold_cm2_s: float = HORN_ELECTRON_FLUX_CM2_S) -> dict[str, dict[str, np.ndarray]]:
    """SAA and horn passes of (sat, time) fluxes: ``{"saa": intervals, "horns": intervals}``, each as
    :func:`twin.intervals.threshold_intervals` returns them (``row`` is the satellite, times in s)."""
    horn_flux = np.where(np.abs(latitude_deg) >= HORN_LATITUDE_DEG, electron_flux_cm2_s, 0.0)
    rows = np.shape(latitude_deg)[0]
    saa_flux = np.asarray(proton_flux_cm2_s, float)
    return {"saa": threshold_intervals(time_s, saa_flux, np.full(rows, proton_threshold_cm2_s)),
            "horns": threshold_intervals(time_s, horn_flux, np.full(rows, electron_threshold_cm2_s))}
