"""The radiation layer on a run: CF variables (dims ``sat``, ``time``) from an orbit-layer dataset."""

from __future__ import annotations

import numpy as np
import xarray as xr

from twin.radiation.environment import RadiationSettings, radiation_arrays

RAD_TO_GRAY = 0.01  # 1 rad = 0.01 Gy (CF/UDUNITS reads "rad" as the radian, so the dataset stores grays)

# Dataset variable -> (core array, factor to the variable's units, CF attributes).
RADIATION_VARIABLES = {
    "proton_flux": ("proton_flux_cm2_s", 1.0, {
        "long_name": "omnidirectional flux of trapped protons that cross the shielding (AP8)", "units": "cm-2 s-1"}),
    "electron_flux": ("electron_flux_cm2_s", 1.0, {
        "long_name": "omnidirectional flux of trapped electrons that cross the shielding (AE8)", "units": "cm-2 s-1"}),
    "dose_rate": ("dose_rate_rad_s", RAD_TO_GRAY, {
        "long_name": "ionising dose rate in silicon behind the shielding", "units": "Gy s-1"}),
    "total_dose": ("total_dose_rad", RAD_TO_GRAY, {
        "long_name": "total ionising dose in silicon behind the shielding since the first step", "units": "Gy"}),
    "seu_rate": ("seu_rate_s", 1.0, {
        "long_name": "single-event upsets of the satellite's memory and logic per second", "units": "s-1"}),
    "seu_corrected_rate": ("seu_corrected_rate_s", 1.0, {
        "long_name": "single-event upsets corrected by error correction per second", "units": "s-1"}),
    "seu_detected_rate": ("seu_detected_rate_s", 1.0, {
        "long_name": "single-event upsets detected but not corrected per second", "units": "s-1"}),
    "seu_silent_rate": ("seu_silent_rate_s", 1.0, {
        "long_name": "single-event upsets neither corrected nor detected per second", "units": "s-1"}),
}


def radiation_layer(run: xr.Dataset, settings: RadiationSettings = RadiationSettings()) -> xr.Dataset:
    """``run`` (with ``latitude``, ``longitude`` in deg and ``altitude`` in m over ``sat``, ``time``) plus the
    variables of :data:`RADIATION_VARIABLES`; the settings go into each variable's attributes."""
    time_s = (run["time"].values - run["time"].values[0]) / np.timedelta64(1, "s")
    arrays = radiation_arrays(run["latitude"].values, run["longitude"].values, run["altitude"].values / 1e3, time_s,
                              settings)
    described = {"solar_activity": settings.solar, "shielding_mm_aluminium": settings.shielding_mm}
    layer = run.copy()
    for name, (core, factor, attrs) in RADIATION_VARIABLES.items():
        values = arrays[core] if factor == 1.0 else arrays[core] * factor
        layer[name] = (("sat", "time"), values, {**attrs, **described})
    return layer
