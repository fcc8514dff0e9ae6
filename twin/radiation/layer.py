"""The radiation layer on a run: the catalogue's radiation variables (dims ``sat``, ``time``) from an orbit-layer
dataset, with the settings in the run's attributes."""

from __future__ import annotations

import numpy as np
import xarray as xr

from twin.dataset.layout import as_variable
from twin.radiation.environment import RadiationSettings, radiation_arrays
from twin.radiation.hardware import HardwareHealth

RAD_TO_GRAY = 0.01  # 1 rad = 0.01 Gy (CF/UDUNITS reads "rad" as the radian, so the dataset stores grays)

# Dataset variable (twin.dataset.catalogue, stage "radiation") -> (core array, factor to the variable's units).
RADIATION_VARIABLES = {
    "proton_flux": ("proton_flux_cm2_s", 1.0),
    "electron_flux": ("electron_flux_cm2_s", 1.0),
    "dose_rate": ("dose_rate_rad_s", RAD_TO_GRAY),
    "total_dose": ("total_dose_rad", RAD_TO_GRAY),
    "seu_rate": ("seu_rate_s", 1.0),
    "seu_corrected_rate": ("seu_corrected_rate_s", 1.0),
    "seu_detected_rate": ("seu_detected_rate_s", 1.0),
    "seu_silent_rate": ("seu_silent_rate_s", 1.0),
}
LAYER_VARIABLES = (*RADIATION_VARIABLES, "capacity_lost")  # everything the layer writes


def radiation_attrs(settings: RadiationSettings) -> dict:
    """The run attributes that say which environment and shielding its radiation variables are for."""
    return {"radiation_solar_activity": settings.solar, "radiation_shielding_mm": float(settings.shielding_mm)}


def layer_values(latitude_deg: np.ndarray, longitude_deg: np.ndarray, altitude_km: np.ndarray, time_s: np.ndarray,
                 settings: RadiationSettings = RadiationSettings(), health: HardwareHealth = HardwareHealth(),
                 dose_before_rad: np.ndarray | float = 0.0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The values (sat, time) of :data:`LAYER_VARIABLES` in the dataset's units at geodetic positions (deg, deg,
    km) at ``time_s`` (s since the run's first step), for parts that had taken ``dose_before_rad`` (rad(Si), per
    satellite) at the first of these steps; and the total dose (rad(Si), sat x time). A run computed a span of
    steps at a time (each span from the last step of the one before, with its dose) gets the values of the whole."""
    arrays = radiation_arrays(latitude_deg, longitude_deg, altitude_km, time_s, settings)
    total_dose_rad = arrays["total_dose_rad"] + np.reshape(dose_before_rad, (-1, 1))
    arrays["total_dose_rad"] = total_dose_rad
    values = {name: arrays[core] if factor == 1.0 else arrays[core] * factor
              for name, (core, factor) in RADIATION_VARIABLES.items()}
    values["capacity_lost"] = health.capacity_lost_fraction(total_dose_rad, np.asarray(time_s)[None, :])
    return values, total_dose_rad


def radiation_layer(run: xr.Dataset, settings: RadiationSettings = RadiationSettings(),
                    health: HardwareHealth = HardwareHealth()) -> xr.Dataset:
    """``run`` (with ``latitude``, ``longitude`` in deg and ``altitude`` in m over ``sat``, ``time``) plus the
    variables of :data:`LAYER_VARIABLES`: those of :data:`RADIATION_VARIABLES` and ``capacity_lost``, the
    expected share of compute lost by ``health`` to the dose and to random failures since the first step.
    The settings go into the run's attributes (:func:`radiation_attrs`)."""
    time_s = (run["time"].values - run["time"].values[0]) / np.timedelta64(1, "s")
    values, _ = layer_values(run["latitude"].values, run["longitude"].values, run["altitude"].values / 1e3, time_s,
                             settings, health)
    layer = run.copy()
    for name, array in values.items():
        layer[name] = as_variable(name, array)
    layer.attrs.update(radiation_attrs(settings))
    return layer
