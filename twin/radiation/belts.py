"""Trapped protons and electrons: NASA's AP8 and AE8 models (solar minimum and maximum) through ``aep8``.

``aep8`` (BSD-3-Clause, maintained) wraps the AE8/AP8 code of the IRBEM library as numpy ufuncs and
ships the model tables, so it runs offline. Each model is keyed to its own geomagnetic field (AE8MIN,
AE8MAX and AP8MIN to Jensen & Cain 1960, AP8MAX to GSFC 12/66 updated to 1970; IRBEM's documentation)
and ignores the date: a position has the same McIlwain L and B/B0 at any time, so the environment is
a fixed map in geodetic coordinates (:mod:`twin.radiation.maps` tabulates it once).

The functions here are the exact, slow path (field-line tracing costs about 0.5-1 ms a point): for
building that map and for checking it. Fluxes are omnidirectional, particles cm^-2 s^-1 above an
energy (MeV); positions are WGS-84 geodetic (deg, deg, km).
"""

from __future__ import annotations

import warnings

import aep8
import numpy as np
from astropy import units as u
from astropy.coordinates import EarthLocation
from astropy.time import Time

PARTICLES = ("p", "e")
SOLAR_ACTIVITIES = ("min", "max")

# AP8's own energy table from 1 MeV (as IRBEM's AP8 code evaluates it: between two of these energies the
# model is log(flux) linear in energy, tests/test_radiation_belts.py checks each interval), so the integral
# spectrum sampled here is the model's exactly.
PROTON_TABLE_ENERGIES_MEV = np.array([1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 15.0, 20.0, 30.0, 50.0, 60.0,
                                      70.0, 80.0, 100.0, 150.0, 200.0, 300.0, 400.0])
PROTON_ENERGY_RANGE_MEV = (0.1, 400.0)  # AP8
ELECTRON_ENERGY_RANGE_MEV = (0.04, 7.0)  # AE8

# Which geomagnetic field each model is keyed to ("jc60": Jensen & Cain 1960; "gsfc70": GSFC 12/66 at 1970).
FIELDS = ("jc60", "gsfc70")
_ANY_TIME = Time("2000-01-01T00:00:00", scale="utc")  # the models ignore the date (see the module docstring)


def check_solar(solar: str) -> str:
    """``solar`` if it is "min" or "max", else a ValueError naming it."""
    if solar not in SOLAR_ACTIVITIES:
        raise ValueError(f"solar: {solar!r} is not one of {SOLAR_ACTIVITIES}")
    return solar


def field_of(particle: str, solar: str) -> str:
    """The geomagnetic field (one of :data:`FIELDS`) the model of ``particle`` at ``solar`` activity is keyed to."""
    if particle not in PARTICLES:
        raise ValueError(f"particle: {particle!r} is not one of {PARTICLES}")
    return "gsfc70" if (particle, check_solar(solar)) == ("p", "max") else "jc60"


def geomagnetic_coordinates(latitude_deg, longitude_deg, altitude_km, field: str) -> tuple[np.ndarray, np.ndarray]:
    """McIlwain L (Earth radii) and B/B0 at geodetic positions in ``field`` (exact; about 0.5-1 ms a point)."""
    model = aep8.model("p", "max" if field == "gsfc70" else "min")
    location = EarthLocation.from_geodetic(np.asarray(longitude_deg, float) * u.deg,
                                           np.asarray(latitude_deg, float) * u.deg,
                                           np.asarray(altitude_km, float) * u.km)
    l_shell, b_ratio = model.geomagnetic_coordinates(location, _ANY_TIME)
    return np.asarray(l_shell, float), np.asarray(b_ratio, float)


def integral_flux_cm2_s(particle: str, solar: str, energy_mev, l_shell, b_ratio) -> np.ndarray:
    """Omnidirectional flux (cm^-2 s^-1) of ``particle`` above ``energy_mev`` at (L, B/B0), broadcast together.

    Zero where the model has no particles (outside its L range, below the loss cone), which it marks NaN.
    """
    field_of(particle, solar)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the model's NaN outside its range
        flux = aep8.model(particle, solar).integral_flux_for_geomagnetic_coordinates(
            np.asarray(l_shell, float), np.asarray(b_ratio, float), np.asarray(energy_mev, float) * u.MeV)
    return np.nan_to_num(np.asarray(flux.to_value(u.cm**-2 * u.s**-1), float), nan=0.0)


def trapped_flux_cm2_s(particle: str, solar: str, energy_mev, latitude_deg, longitude_deg, altitude_km) -> np.ndarray:
    """Omnidirectional flux (cm^-2 s^-1) above ``energy_mev`` at geodetic positions, from the models directly.

    Protons above 10 MeV at 750 km in the South Atlantic Anomaly, and over Japan (AP8 MIN):

    >>> [round(float(trapped_flux_cm2_s("p", "min", 10.0, lat, lon, 750.0))) for lat, lon in ((-30, -40), (30, 140))]
    [5014, 0]
    """
    l_shell, b_ratio = geomagnetic_coordinates(latitude_deg, longitude_deg, altitude_km, field_of(particle, solar))
    return integral_flux_cm2_s(particle, solar, energy_mev, l_shell, b_ratio)
