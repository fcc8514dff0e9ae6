"""Sun position, illumination (umbra and penumbra) and beta angle of every satellite.

Illumination is the fraction of the solar disk seen from the satellite: 1 in full sun, 0 in the
umbra, in between in the penumbra. It uses the conical shadow model of Montenbruck & Gill,
*Satellite Orbits* (2000), section 3.4.2: the apparent solar and Earth disks, of angular radii
``a`` and ``b`` and separation ``c``, overlap in an area ``A``, and the fraction seen is
``1 - A / (pi a^2)``. The Earth is the WGS-84 ellipsoid: stretching the frame along the polar axis
by ``1 / (1 - f)`` turns it into a sphere of equatorial radius (the geometry of lines of sight is
kept). The polar axis is taken as GCRS z; the true pole of date is 0.15 deg away in 2026
(precession since J2000), which moves the ellipsoid's limb by up to about 50 m and eclipse edges
by about 0.05 s. No atmosphere is modelled.
"""

from __future__ import annotations

import numexpr as ne
import numpy as np
from astropy import units as u
from astropy.coordinates import get_sun
from astropy.time import Time

from twin.constants import EARTH_EQUATORIAL_RADIUS_M as EARTH_RADIUS_M
from twin.constants import EARTH_FLATTENING, SUN_RADIUS_KM

SUN_NODE_SPACING_S = 600.0
SUN_RADIUS_M = SUN_RADIUS_KM * 1e3


def sun_position_gcrs_m(start: Time, offsets_s: np.ndarray) -> np.ndarray:
    """Geocentric Sun position (t, 3) in GCRS, m, from astropy's ``get_sun``.

    Evaluated at nodes at most 10 minutes apart and interpolated linearly: the Sun turns 0.007
    deg in 10 minutes, so the chord error is below 1e-8 rad. Steps fewer than the nodes (a build-up's days) are
    evaluated themselves.
    """
    offsets_s = np.asarray(offsets_s, dtype=float)
    span = offsets_s[-1] - offsets_s[0]
    node_count = int(np.ceil(span / SUN_NODE_SPACING_S)) + 1
    if span <= SUN_NODE_SPACING_S * 2 or offsets_s.size <= node_count:
        return get_sun(start + offsets_s * u.s).cartesian.xyz.to_value(u.m).T
    nodes_s = np.linspace(offsets_s[0], offsets_s[-1], node_count)
    nodes = get_sun(start + nodes_s * u.s).cartesian.xyz.to_value(u.m)
    return np.stack([np.interp(offsets_s, nodes_s, nodes[k]) for k in range(3)], axis=-1)


def shadow_geometry(position_m: np.ndarray, sun_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apparent radii of the Sun (``a``) and Earth (``b``) and their separation (``c``), rad, seen by each satellite.

    ``position_m`` is (..., t, 3), ``sun_m`` (t, 3), in the same geocentric frame.
    """
    stretch = np.array([1.0, 1.0, 1.0 / (1.0 - EARTH_FLATTENING)])
    satellite = position_m * stretch
    to_sun = sun_m * stretch - satellite
    satellite_distance = np.linalg.norm(satellite, axis=-1)
    sun_distance = np.linalg.norm(to_sun, axis=-1)
    sun_radius = np.arcsin(SUN_RADIUS_M / sun_distance)
    earth_radius = np.arcsin(np.minimum(EARTH_RADIUS_M / satellite_distance, 1.0))
    cos_separation = -np.einsum("...k,...k->...", satellite, to_sun) / (satellite_distance * sun_distance)
    return sun_radius, earth_radius, np.arccos(np.clip(cos_separation, -1.0, 1.0))


def shadow_margins_rad(position_m: np.ndarray, sun_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smooth signed margins (rad): below 0, the satellite is in the umbra (first) or in any shadow (second).

    They vary smoothly along an orbit, so their zeros interpolate to sub-step eclipse edges.
    """
    a, b, c = shadow_geometry(position_m, sun_m)
    return c - (b - a), c - (b + a)


def illumination(position_m: np.ndarray, sun_m: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Fraction of the solar disk visible (sat, t) from positions (sat, t, 3) with the Sun at (t, 3), m, same frame.

    Most points are in full sun, which a comparison of cosines decides (``c >= a + b`` is
    ``cos c <= cos a cos b - sin a sin b``); only the others pay for the inverse trigonometry.
    """
    k = 1.0 / (1.0 - EARTH_FLATTENING)  # stretch along the pole: the ellipsoid becomes a sphere
    x, y, z = position_m[..., 0], position_m[..., 1], position_m[..., 2]
    sx, sy, sz = sun_m[:, 0], sun_m[:, 1], sun_m[:, 2]
    names = {"x": x, "y": y, "z": z, "sx": sx, "sy": sy, "sz": sz, "k": k, "R": EARTH_RADIUS_M, "Rs": SUN_RADIUS_M}
    satellite_distance = ne.evaluate("sqrt(x * x + y * y + k * k * z * z)", local_dict=names)
    sun_distance = ne.evaluate("sqrt((sx - x) ** 2 + (sy - y) ** 2 + k * k * (sz - z) ** 2)", local_dict=names)
    names.update(d=satellite_distance, D=sun_distance)
    sin_a = ne.evaluate("Rs / D", local_dict=names)
    sin_b = ne.evaluate("where(R / d < 1, R / d, 1)", local_dict=names)
    cos_c = ne.evaluate("-(x * (sx - x) + y * (sy - y) + k * k * z * (sz - z)) / (d * D)", local_dict=names)
    shaded = ne.evaluate("cos_c > sqrt(1 - sin_a ** 2) * sqrt(1 - sin_b ** 2) - sin_a * sin_b")
    fraction = np.ones(cos_c.shape) if out is None else out
    fraction[...] = 1.0
    a, b = np.arcsin(sin_a[shaded]), np.arcsin(sin_b[shaded])
    c = np.arccos(np.clip(cos_c[shaded], -1.0, 1.0))
    fraction[shaded] = _visible_fraction(a, b, c)
    return fraction


def _visible_fraction(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Visible fraction of a disk of radius ``a`` behind a disk of radius ``b`` at separation ``c`` (rad, b > a)."""
    fraction = np.ones(c.shape)
    fraction[c <= b - a] = 0.0
    partial = (c < b + a) & (c > b - a)
    a, b, c = a[partial], b[partial], c[partial]
    x = (c * c + a * a - b * b) / (2.0 * c)
    y = np.sqrt(np.maximum(a * a - x * x, 0.0))
    overlap = a * a * np.arccos(np.clip(x / a, -1, 1)) + b * b * np.arccos(np.clip((c - x) / b, -1, 1)) - c * y
    fraction[partial] = np.clip(1.0 - overlap / (np.pi * a * a), 0.0, 1.0)
    return fraction


def beta_angle_deg(position: np.ndarray, velocity: np.ndarray, sun_position: np.ndarray) -> np.ndarray:
    """Angle (deg, sat x t) between each orbit plane and the Sun direction; positive on the orbit-normal side."""
    sun_direction = sun_position / np.linalg.norm(sun_position, axis=-1, keepdims=True)
    names = dict(zip("xyz", np.moveaxis(position, -1, 0)))
    names.update(zip("uvw", np.moveaxis(velocity, -1, 0)))
    names.update(sx=sun_direction[:, 0], sy=sun_direction[:, 1], sz=sun_direction[:, 2])
    sine = ne.evaluate(
        "((y * w - z * v) * sx + (z * u - x * w) * sy + (x * v - y * u) * sz)"
        " / sqrt((y * w - z * v) ** 2 + (z * u - x * w) ** 2 + (x * v - y * u) ** 2)", local_dict=names)
    np.clip(sine, -1.0, 1.0, out=sine)
    return ne.evaluate("arcsin(sine) * degrees", local_dict={"sine": sine, "degrees": 180.0 / np.pi})
