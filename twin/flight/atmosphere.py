"""Atmospheric density from NRLMSIS 2.1 (Emmert et al. 2022), through ``pymsis``.

pymsis ships the model's parameter files in its wheel and downloads only when it is asked for indices it
does not have; the twin always passes F10.7, its 81-day mean and Ap (:mod:`twin.flight.space_weather`),
so nothing is fetched. The total mass density is NRLMSIS's, which includes anomalous oxygen (it matters
only above about 500 km near solar minimum, where it adds a few per cent).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymsis

from twin.constants import EARTH_EQUATORIAL_RADIUS_KM, EARTH_FLATTENING
from twin.flight.space_weather import SolarIndices, predicted_indices

MSIS_VERSION = "2.1"


def density_kg_m3(times, latitude_deg, longitude_deg, altitude_km, indices: SolarIndices | None = None) -> np.ndarray:
    """NRLMSIS 2.1 total mass density (kg/m3) at UTC ``times`` (datetime64) and geodetic points, all broadcast
    together; ``indices`` (broadcast too) default to the shipped predicted solar cycle at ``times``."""
    times = np.asarray(times, dtype="datetime64[ns]")
    indices = predicted_indices(times) if indices is None else indices
    arrays = np.broadcast_arrays(times, np.asarray(latitude_deg, float), np.asarray(longitude_deg, float),
                                 np.asarray(altitude_km, float), indices.f107_sfu, indices.f107_average_sfu, indices.ap)
    shape = arrays[0].shape
    when, latitude, longitude, altitude, flux, mean_flux, ap = (np.ravel(array) for array in arrays)
    if np.any(~np.isfinite(altitude)) or np.any(altitude < 0):
        raise ValueError(f"altitude_km: {float(altitude[~(np.isfinite(altitude) & (altitude >= 0))][0])!r} must be finite "
                         "and above the ground")
    if not when.size:
        return np.zeros(shape)
    aps = np.repeat(ap[:, None], 7, axis=1)  # daily Ap; the 3-hourly history is used only in storm-time mode
    output = pymsis.calculate(when, longitude, latitude, altitude, flux, mean_flux, aps, version=MSIS_VERSION)
    return output[:, pymsis.Variable.MASS_DENSITY].reshape(shape)


def sso_ground_track(ltan_hours, inclination_deg, start, samples: int, period_s: float):
    """Latitude, longitude (deg) and UTC times of ``samples`` points spread over one circular orbit
    beginning at each of ``start`` (datetime64, (t,)), ascending node at local mean time ``ltan_hours``.

    A point at argument of latitude ``u`` lies ``atan2(cos i sin u, cos u)`` east of the node in right
    ascension, so its local time is the node's plus that angle; shapes (t, samples).
    """
    u = 2.0 * np.pi * (np.arange(samples) + 0.5) / samples
    inclination = np.radians(inclination_deg)
    latitude = np.degrees(np.arcsin(np.sin(inclination) * np.sin(u)))
    local_hours = ltan_hours + np.degrees(np.arctan2(np.cos(inclination) * np.sin(u), np.cos(u))) / 15.0
    times = np.asarray(start, dtype="datetime64[s]")[:, None] + (u / (2 * np.pi) * period_s).astype("timedelta64[s]")
    universal_hours = (times - times.astype("datetime64[D]")).astype(float) / 3600.0
    longitude = np.mod(15.0 * (local_hours - universal_hours) + 180.0, 360.0) - 180.0
    return np.broadcast_to(latitude, times.shape), longitude, times


@dataclass(frozen=True)
class DensityTable:
    """Orbit-mean density of a circular sun-synchronous orbit against altitude and time, log-linear in both.

    ``altitude_km`` (a,) is the orbit radius less the equatorial radius (the scenario's altitude), evenly
    spaced; ``time`` (t,) datetime64; ``density_kg_m3`` (a, t).
    """

    altitude_km: np.ndarray
    time: np.ndarray
    density_kg_m3: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "_log", np.log(self.density_kg_m3))
        object.__setattr__(self, "_nodes_s", (self.time - self.time[0]).astype("timedelta64[s]").astype(float))

    def __call__(self, altitude_km, time_s) -> np.ndarray:
        """Density (kg/m3) at ``altitude_km`` and ``time_s`` (s since ``time[0]``), broadcast together; values
        outside the table take its edges (below its floor of 100 km a satellite has re-entered anyway)."""
        altitude_km, time_s = np.broadcast_arrays(np.asarray(altitude_km, float), np.asarray(time_s, float))
        step_km = self.altitude_km[1] - self.altitude_km[0]
        a = np.clip((altitude_km - self.altitude_km[0]) / step_km, 0.0, self.altitude_km.size - 1.000001)
        t = np.clip(np.interp(time_s, self._nodes_s, np.arange(self._nodes_s.size)), 0.0, self._nodes_s.size - 1.000001)
        ia, it = a.astype(int), t.astype(int)
        fa, ft = a - ia, t - it
        log = self._log
        lower = log[ia, it] * (1 - ft) + log[ia, it + 1] * ft
        upper = log[ia + 1, it] * (1 - ft) + log[ia + 1, it + 1] * ft
        return np.exp(lower * (1 - fa) + upper * fa)


def orbit_mean_density_table(ltan_hours: float, inclination_deg: float, start, years: float,
                             indices_at=predicted_indices, altitude_step_km: float = 25.0,
                             time_step_days: float = 30.4375, samples: int = 8) -> DensityTable:
    """:class:`DensityTable` of an orbit of ``inclination_deg`` with its node at ``ltan_hours``, from 100 to
    1000 km, every ``time_step_days`` from ``start`` (datetime64) for ``years``.

    Each entry is the mean of NRLMSIS at ``samples`` points spread over one revolution (latitude, local time
    and universal time along the orbit), each at its height above the WGS-84 ellipsoid (``R_eq f sin^2 lat``
    above the table's altitude: 10.7 km on average over a polar orbit); ``indices_at(times)`` gives the
    indices (default the shipped table).
    """
    altitude_km = np.arange(100.0, 1000.0 + altitude_step_km / 2, altitude_step_km)
    count = int(np.ceil(years * 365.25 / time_step_days)) + 1
    time = np.datetime64(start, "s") + (np.arange(count) * time_step_days * 86400.0).astype("timedelta64[s]")
    latitude, longitude, when = sso_ground_track(ltan_hours, inclination_deg, time, samples, 6000.0)
    indices = indices_at(when)
    height_km = altitude_km[:, None, None] + EARTH_EQUATORIAL_RADIUS_KM * EARTH_FLATTENING * np.sin(np.radians(latitude)) ** 2
    density = density_kg_m3(when[None], latitude[None], longitude[None], height_km,
                            SolarIndices(indices.f107_sfu[None], indices.f107_average_sfu[None], indices.ap[None]))
    return DensityTable(altitude_km, time, density.mean(axis=-1))
