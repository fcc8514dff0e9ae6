"""Sun position, illumination (umbra and penumbra) and beta angle of every satellite.

Illumination is the fraction of the solar disk seen from the satellite: 1 in full sun, 0 in the
umbra, in between in the penumbra. It uses the conical shadow model of Montenbruck & Gill,
*Satellite Orbits* (2000), section 3.4.2: the apparent solar and Earth disks, of angular radii
``a`` and ``b`` and separation ``c``, overlap in an area ``A``, and the fraction seen is
``1 - A / (pi a^2)``. The Earth is the WGS-84 ellipsoid: stretching the frame along the polar axis
by ``1 / (1 - f)`` turns it into a sphere of equatorial radius (the geometry of lines of sight is
kept), so the shadow is that of the true oblate Earth. No atmosphere is modelled.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.coordinates import get_sun
from astropy.time import Time

from .constants import EARTH_EQUATORIAL_RADIUS_KM, EARTH_FLATTENING, SUN_RADIUS_KM

SUN_NODE_SPACING_S = 600.0


def sun_position_gcrs_km(start: Time, offsets_s: np.ndarray) -> np.ndarray:
    """Geocentric Sun position (t, 3) in GCRS, km, from astropy's ``get_sun``.

    Evaluated at nodes at most 10 minutes apart and interpolated linearly: the Sun turns 0.007
    deg in 10 minutes, so the chord error is below 1e-8 rad.
    """
    offsets_s = np.asarray(offsets_s, dtype=float)
    span = offsets_s[-1] - offsets_s[0]
    if span <= SUN_NODE_SPACING_S * 2:
        return get_sun(start + offsets_s * u.s).cartesian.xyz.to_value(u.km).T
    nodes_s = np.linspace(offsets_s[0], offsets_s[-1], int(np.ceil(span / SUN_NODE_SPACING_S)) + 1)
    nodes = get_sun(start + nodes_s * u.s).cartesian.xyz.to_value(u.km)
    return np.stack([np.interp(offsets_s, nodes_s, nodes[k]) for k in range(3)], axis=-1)


def shadow_geometry(position_km: np.ndarray, sun_km: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apparent radii of the Sun (``a``) and Earth (``b``) and their separation (``c``), rad, seen by each satellite.

    ``position_km`` is (..., t, 3), ``sun_km`` (t, 3), in the same geocentric frame.
    """
    stretch = np.array([1.0, 1.0, 1.0 / (1.0 - EARTH_FLATTENING)])
    satellite = position_km * stretch
    to_sun = sun_km * stretch - satellite
    satellite_distance = np.linalg.norm(satellite, axis=-1)
    sun_distance = np.linalg.norm(to_sun, axis=-1)
    sun_radius = np.arcsin(SUN_RADIUS_KM / sun_distance)
    earth_radius = np.arcsin(np.minimum(EARTH_EQUATORIAL_RADIUS_KM / satellite_distance, 1.0))
    cos_separation = -np.einsum("...k,...k->...", satellite, to_sun) / (satellite_distance * sun_distance)
    return sun_radius, earth_radius, np.arccos(np.clip(cos_separation, -1.0, 1.0))


def shadow_margins_rad(position_km: np.ndarray, sun_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smooth signed margins (rad): below 0, the satellite is in the umbra (first) or in any shadow (second).

    They vary smoothly along an orbit, so their zeros interpolate to sub-step eclipse edges.
    """
    a, b, c = shadow_geometry(position_km, sun_km)
    return c - (b - a), c - (b + a)


def illumination(position_km: np.ndarray, sun_km: np.ndarray) -> np.ndarray:
    """Fraction of the solar disk visible (sat, t) from positions (sat, t, 3) with the Sun at (t, 3), same frame."""
    sun_radius, earth_radius, separation = shadow_geometry(position_km, sun_km)
    fraction = np.ones(separation.shape)
    fraction[separation <= earth_radius - sun_radius] = 0.0
    partial = (separation < earth_radius + sun_radius) & (separation > np.abs(earth_radius - sun_radius))
    a, b, c = sun_radius[partial], earth_radius[partial], separation[partial]
    x = (c * c + a * a - b * b) / (2.0 * c)
    y = np.sqrt(np.maximum(a * a - x * x, 0.0))
    overlap = a * a * np.arccos(np.clip(x / a, -1, 1)) + b * b * np.arccos(np.clip((c - x) / b, -1, 1)) - c * y
    fraction[partial] = 1.0 - overlap / (np.pi * a * a)
    return np.clip(fraction, 0.0, 1.0)


def beta_angle_deg(position_km: np.ndarray, velocity_km_s: np.ndarray, sun_km: np.ndarray) -> np.ndarray:
    """Angle (deg, sat x t) between each orbit plane and the Sun direction; positive on the orbit-normal side."""
    normal = np.cross(position_km, velocity_km_s)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    sun_direction = sun_km / np.linalg.norm(sun_km, axis=-1, keepdims=True)
    return np.degrees(np.arcsin(np.clip(np.einsum("stk,tk->st", normal, sun_direction), -1.0, 1.0)))
