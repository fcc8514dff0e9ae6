"""Long-run averages over a circular orbit, where a static map is sampled evenly in time.

The belts do not depend on the date (:mod:`twin.radiation.belts`) and a circular orbit's node and
the Earth turn under it incommensurably, so over months a satellite spends equal time at every
longitude, and at each argument of latitude ``u`` (geocentric latitude ``asin(sin i sin u)``). The
average of a map over the orbit is then its mean over a grid of ``u`` and longitude: no propagation.
The height above the ellipsoid is held at ``altitude_km`` (a frozen orbit's height varies by about
+-20 km; :func:`twin.radiation.environment.radiation_arrays` follows the real one along a run).
"""

from __future__ import annotations

import numpy as np

from twin.constants import EARTH_ECCENTRICITY_SQUARED


def circular_orbit_samples(altitude_km: float, inclination_deg: float, latitude_samples: int = 720,
                           longitude_samples: int = 180) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geodetic latitude (deg), longitude (deg) and altitude (km) at which a long stay on a circular orbit
    is spent evenly: ``latitude_samples`` arguments of latitude times ``longitude_samples`` longitudes."""
    argument_rad = 2.0 * np.pi * (np.arange(latitude_samples) + 0.5) / latitude_samples
    geocentric = np.arcsin(np.sin(np.radians(inclination_deg)) * np.sin(argument_rad))
    geodetic_deg = np.degrees(np.arctan(np.tan(geocentric) / (1.0 - EARTH_ECCENTRICITY_SQUARED)))
    longitude_deg = -180.0 + 360.0 * (np.arange(longitude_samples) + 0.5) / longitude_samples
    latitude, longitude = np.meshgrid(geodetic_deg, longitude_deg, indexing="ij")
    return latitude.ravel(), longitude.ravel(), np.full(latitude.size, float(altitude_km))
