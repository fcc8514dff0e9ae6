"""Accelerations on each satellite (m/s2, arrays (..., 3) in an inertial geocentric frame): J2, drag,
solar radiation pressure and the Sun's and Moon's gravity.

- J2: the gradient of ``-mu J2 R^2 P2(sin phi) / r^3`` (Vallado, *Fundamentals of Astrodynamics and
  Applications*, eq. 8-29; Montenbruck & Gill, *Satellite Orbits*, 3.2), with the pole along z.
- Drag: ``-1/2 rho Cd A/m |v_r| v_r``, ``v_r = v - omega x r`` the velocity relative to an atmosphere
  turning with the Earth (Montenbruck & Gill 3.5.2), ``A`` the area across ``v_r`` in the attitude of
  :class:`twin.flight.spacecraft.Spacecraft`.
- Solar radiation pressure: ``-nu P (1 au / d)^2 Cr A/m s``, ``P = S / c`` with the solar constant of
  :mod:`twin.constants`, ``s`` the unit vector to the Sun, ``nu`` the visible fraction of the solar disk
  (:func:`twin.orbit.sunlight.illumination`) (Montenbruck & Gill 3.4, the "cannonball" with Cr).
- Third body: ``mu_3 ((s - r) / |s - r|^3 - s / |s|^3)`` (Montenbruck & Gill eq. 3.37).
"""

from __future__ import annotations

import numpy as np

from twin.constants import (ASTRONOMICAL_UNIT_M, EARTH_EQUATORIAL_RADIUS_M, EARTH_J2, EARTH_MU_KM3_S2,
                            EARTH_ROTATION_RAD_S, SOLAR_CONSTANT_W_M2, SPEED_OF_LIGHT_M_S)
from twin.flight.spacecraft import Spacecraft

EARTH_MU_M3_S2 = EARTH_MU_KM3_S2 * 1e9
SUN_MU_M3_S2 = 1.32712440018e20  # IAU 2015 nominal solar mass parameter (Resolution B3), TDB-compatible
MOON_MU_M3_S2 = 4.902800066e12  # JPL DE430 (Folkner et al. 2014), GM of the Moon
SOLAR_PRESSURE_N_M2 = SOLAR_CONSTANT_W_M2 / SPEED_OF_LIGHT_M_S  # 4.54e-6 N/m2 at 1 au


def j2_acceleration_m_s2(position_m: np.ndarray) -> np.ndarray:
    """Acceleration of the J2 zonal harmonic at ``position_m`` (..., 3), pole along z."""
    x, y, z = np.moveaxis(np.asarray(position_m, float), -1, 0)
    r2 = x * x + y * y + z * z
    factor = -1.5 * EARTH_J2 * EARTH_MU_M3_S2 * EARTH_EQUATORIAL_RADIUS_M**2 / r2**2.5
    ratio = 5.0 * z * z / r2
    return np.stack([factor * x * (1 - ratio), factor * y * (1 - ratio), factor * z * (3 - ratio)], axis=-1)


def air_velocity_m_s(position_m: np.ndarray, velocity_m_s: np.ndarray) -> np.ndarray:
    """Velocity relative to the atmosphere, which turns with the Earth about z: ``v - omega x r``."""
    position_m = np.asarray(position_m, float)
    wind = EARTH_ROTATION_RAD_S * np.stack([-position_m[..., 1], position_m[..., 0], np.zeros(position_m.shape[:-1])], -1)
    return np.asarray(velocity_m_s, float) - wind


def drag_acceleration_m_s2(spacecraft: Spacecraft, position_m, velocity_m_s, sun_m, density_kg_m3) -> np.ndarray:
    """Drag on each satellite (sat, ..., 3) at ``position_m``, ``velocity_m_s`` (sat, ..., 3) in air of
    ``density_kg_m3`` (sat, ...), with the Sun at ``sun_m`` (for the arrays' attitude)."""
    flow = air_velocity_m_s(position_m, velocity_m_s)
    area = spacecraft.flown_area_m2(flow, sun_m, position_m)
    sat = (slice(None),) + (None,) * (np.ndim(density_kg_m3) - 1)
    scale = -0.5 * density_kg_m3 * spacecraft.drag_coefficient[sat] * area / spacecraft.mass_kg[sat]
    return scale[..., None] * np.linalg.norm(flow, axis=-1, keepdims=True) * flow


def srp_acceleration_m_s2(spacecraft: Spacecraft, position_m, velocity_m_s, sun_m, illumination) -> np.ndarray:
    """Solar radiation pressure on each satellite (sat, ..., 3); ``illumination`` (sat, ...) is the visible
    fraction of the solar disk (1 in full sun, 0 in the umbra)."""
    to_sun = np.asarray(sun_m, float) - np.asarray(position_m, float)
    distance = np.linalg.norm(to_sun, axis=-1, keepdims=True)
    area = spacecraft.sunlit_area_m2(velocity_m_s, sun_m, position_m)
    sat = (slice(None),) + (None,) * (np.ndim(illumination) - 1)
    scale = (-SOLAR_PRESSURE_N_M2 * illumination * spacecraft.reflectivity_coefficient[sat] * area
             / spacecraft.mass_kg[sat])
    return scale[..., None] * (ASTRONOMICAL_UNIT_M / distance) ** 2 * to_sun / distance


def third_body_acceleration_m_s2(position_m, body_m, mu_m3_s2: float) -> np.ndarray:
    """Gravity of a body at ``body_m`` (geocentric, broadcast) on satellites at ``position_m``, relative to the Earth."""
    body_m = np.asarray(body_m, float)
    relative = body_m - np.asarray(position_m, float)
    return mu_m3_s2 * (relative / np.linalg.norm(relative, axis=-1, keepdims=True) ** 3
                       - body_m / np.linalg.norm(body_m, axis=-1, keepdims=True) ** 3)
