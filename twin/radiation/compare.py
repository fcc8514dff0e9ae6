"""Design comparison: dose per year and upsets per day on dawn-dusk orbits at several altitudes,
behind several shieldings, at solar minimum and maximum (long-run averages, :mod:`twin.radiation.averages`)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from twin.constants import JULIAN_YEAR_S, SECONDS_PER_DAY
from twin.orbit.design import sun_synchronous_inclination_deg
from twin.radiation.environment import RadiationSettings, sun_synchronous_orbit_samples
from twin.radiation.hardware import HardwareHealth
from twin.radiation.regions import SAA_PROTON_FLUX_CM2_S
from twin.radiation.upsets import DEFAULT_BITS, BitPopulation

MISSION_YEARS = 5.0


def altitude_comparison(altitudes_km=(700.0, 750.0, 800.0), shielding_mm=(2.0, 10.0), solar=("min", "max"),
                        bits: tuple[BitPopulation, ...] = DEFAULT_BITS,
                        health: HardwareHealth = HardwareHealth()) -> pd.DataFrame:
    """One row per altitude (km), shielding (mm of aluminium) and solar activity of a circular
    sun-synchronous orbit: its inclination, the time share in the SAA (proton flux at or above
    :data:`twin.radiation.regions.SAA_PROTON_FLUX_CM2_S`), the dose per year (krad(Si)), the upsets per day
    of ``bits`` (all, and those not corrected), and the share of accelerators expected failed by dose and
    the capacity expected lost (dose and random failures) after :data:`MISSION_YEARS`.

    >>> table = altitude_comparison(altitudes_km=(750.0,), shielding_mm=(2.0,), solar=("min",))
    >>> list(table.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['altitude_km', 'shielding_mm', 'solar', 'inclination_deg', 'saa_time_fraction', 'dose_krad_per_year',
     'upsets_per_day', 'uncorrected_upsets_per_day', 'failed_by_dose_after_5_years', 'capacity_lost_after_5_years']
    """
    rows = []
    for altitude_km, thickness_mm, activity in itertools.product(altitudes_km, shielding_mm, solar):
        settings = RadiationSettings(solar=activity, shielding_mm=thickness_mm, bits=bits)
        inclination_deg = float(sun_synchronous_inclination_deg(altitude_km))
        averaged = sun_synchronous_orbit_samples(settings, altitude_km)
        upsets_s = sum(averaged[f"seu_rate_{population.name}_s"] for population in bits)
        uncorrected_s = sum((1.0 - population.outcome.corrected) * averaged[f"seu_rate_{population.name}_s"]
                            for population in bits)
        dose_rad_per_year = float(averaged["dose_rate_rad_s"].mean()) * JULIAN_YEAR_S
        mission_s = MISSION_YEARS * JULIAN_YEAR_S
        rows.append({
            "altitude_km": altitude_km, "shielding_mm": thickness_mm, "solar": activity,
            "inclination_deg": round(inclination_deg, 2),
            "saa_time_fraction": float(np.mean(averaged["proton_flux_cm2_s"] >= SAA_PROTON_FLUX_CM2_S)),
            "dose_krad_per_year": dose_rad_per_year / 1e3,
            "upsets_per_day": float(upsets_s.mean()) * SECONDS_PER_DAY,
            "uncorrected_upsets_per_day": float(uncorrected_s.mean()) * SECONDS_PER_DAY,
            "failed_by_dose_after_5_years": float(health.failed_by_dose(dose_rad_per_year * MISSION_YEARS)),
            "capacity_lost_after_5_years": float(health.capacity_lost_fraction(dose_rad_per_year * MISSION_YEARS,
                                                                               mission_s)),
        })
    return pd.DataFrame(rows)
