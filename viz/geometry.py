"""The numbers behind the 3D scene, in plain numpy: no VTK here.

Everything the scene draws is in GCRS, in kilometres (:data:`KM`): satellites as the twin stores
them; Earth-fixed things (the textured Earth, ground stations, geostationary relays) built once in
ITRS and turned into GCRS by one 4x4 matrix per step (:func:`itrs_to_gcrs_matrices`); sun-fixed
things (shadow cone, terminator, sun arrow) built once along +x and turned by
:func:`sun_frame_matrix`. So a time step changes a few matrices and two arrays, never a mesh.

The Earth texture is equirectangular: longitude -180 deg at its left edge, +180 at its right, the
north pole at its top (NASA's Blue Marble layout). A vertex at geodetic longitude ``lon`` and
latitude ``lat`` gets texture coordinates ``u = (lon + 180) / 360``, ``v = (lat + 90) / 180``
(VTK puts ``v = 0`` at the bottom row of the image).

>>> rotation = sun_frame_matrix(np.array([0.0, 1.0, 0.0]))
>>> (rotation[:3, :3] @ [1.0, 0.0, 0.0]).round(12).tolist()
[0.0, 1.0, 0.0]
"""

from __future__ import annotations

import numpy as np
from astropy.time import Time

from twin.constants import (
    EARTH_EQUATORIAL_RADIUS_KM,
    EARTH_FLATTENING,
    EARTH_MU_KM3_S2,
    SUN_RADIUS_KM,
)

KM = 1e3  # scene length unit, m: float32 points keep 0.5 m at LEO radius, enough to resolve a formation
EARTH_RADIUS_KM = EARTH_EQUATORIAL_RADIUS_KM  # WGS-84 (twin.constants)
EARTH_POLAR_RADIUS_KM = EARTH_EQUATORIAL_RADIUS_KM * (1.0 - EARTH_FLATTENING)


def earth_surface(lon_cells: int = 180, lat_cells: int = 90, radius_km: float = EARTH_RADIUS_KM,
                  polar_radius_km: float = EARTH_POLAR_RADIUS_KM):
    """The WGS-84 ellipsoid as a latitude-longitude grid of quads, in ITRS (km).

    Returns ``points`` (n, 3), ``faces`` (VTK cell array: 4, i, j, k, l, ...), texture
    coordinates ``uv`` (n, 2) and unit ``normals`` (n, 3; the ellipsoid's, for smooth lighting).
    The seam at 180 deg has its own column of vertices (u = 0 and u = 1), so the texture does not
    wrap backwards across it. 180 x 90 cells (16k vertices) keep the web export light.
    """
    lon = np.radians(np.linspace(-180.0, 180.0, lon_cells + 1))
    lat = np.radians(np.linspace(-90.0, 90.0, lat_cells + 1))
    lon_grid, lat_grid = np.meshgrid(lon, lat)  # (lat, lon)
    # Geocentric point of geodetic latitude on the ellipsoid, and its normal (the geodetic vertical).
    normal = np.stack([np.cos(lat_grid) * np.cos(lon_grid), np.cos(lat_grid) * np.sin(lon_grid), np.sin(lat_grid)], -1)
    a2, b2 = radius_km**2, polar_radius_km**2
    scale = 1.0 / np.sqrt(a2 * normal[..., 0] ** 2 + a2 * normal[..., 1] ** 2 + b2 * normal[..., 2] ** 2)
    points = normal * np.array([a2, a2, b2]) * scale[..., None]
    uv = np.stack([(lon_grid + np.pi) / (2 * np.pi), (lat_grid + np.pi / 2) / np.pi], axis=-1)
    columns = lon_cells + 1
    i, j = np.meshgrid(np.arange(lat_cells), np.arange(lon_cells), indexing="ij")
    corner = (i * columns + j).ravel()
    quads = np.stack([np.full_like(corner, 4), corner, corner + 1, corner + columns + 1, corner + columns], axis=-1)
    return points.reshape(-1, 3), quads.ravel(), uv.reshape(-1, 2), normal.reshape(-1, 3)


def itrs_to_gcrs_matrices(times: np.ndarray) -> np.ndarray:
    """ITRS->GCRS rotations (t, 3, 3) at ``times`` (datetime64, UTC): the Earth's orientation.

    From the twin's own :class:`twin.orbit.frames.EarthOrientation` (astropy's IAU 2006/2000A
    transformations at hourly nodes, Earth rotation at every step): GCRS->ITRS is
    ``teme_to_itrs @ teme_to_gcrs.T``, and ITRS->GCRS its transpose.
    """
    from twin.orbit.frames import EarthOrientation

    times = np.asarray(times, dtype="datetime64[ns]")
    start = Time(str(times[0]), scale="utc")
    offsets_s = (times - times[0]) / np.timedelta64(1, "s")
    orientation = EarthOrientation(start, offsets_s)
    return orientation.teme_to_gcrs @ orientation.teme_to_itrs.swapaxes(-1, -2)


def homogeneous(rotation: np.ndarray) -> np.ndarray:
    """A 4x4 matrix with ``rotation`` (3x3) and no translation."""
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    return matrix


def sun_frame_matrix(sun_direction: np.ndarray) -> np.ndarray:
    """4x4 rotation taking +x to ``sun_direction`` (GCRS), +y to the ecliptic-ish east (z x sun).

    The Sun's declination never exceeds 23.5 deg, so ``z x sun`` never vanishes.
    """
    x = np.asarray(sun_direction, float) / np.linalg.norm(sun_direction)
    y = np.cross([0.0, 0.0, 1.0], x)
    y /= np.linalg.norm(y)
    return homogeneous(np.stack([x, y, np.cross(x, y)], axis=-1))


def subsolar_point_deg(sun_gcrs: np.ndarray, itrs_to_gcrs: np.ndarray) -> tuple[float, float]:
    """Geocentric latitude and longitude (deg) of the point with the Sun at its zenith."""
    sun_itrs = itrs_to_gcrs.T @ np.asarray(sun_gcrs, float)
    x, y, z = sun_itrs / np.linalg.norm(sun_itrs)
    return float(np.degrees(np.arcsin(z))), float(np.degrees(np.arctan2(y, x)))


def umbra_cone(length_km: float, sun_distance_km: float = 149_597_870.7, segments: int = 64):
    """The Earth's umbra from the Earth's centre to ``length_km`` down-Sun, along -x (km).

    Returns ``(points, faces)`` of an open truncated cone: radius R_E at the Earth, shrinking
    towards the apex at R_E d / (R_sun - R_E) (1.38 million km at 1 au; IAU nominal solar radius).
    Seen from LEO it is nearly a cylinder: 0.26 deg half-angle.
    """
    apex_km = EARTH_RADIUS_KM * sun_distance_km / (SUN_RADIUS_KM - EARTH_RADIUS_KM)
    far_radius = EARTH_RADIUS_KM * (1.0 - length_km / apex_km)
    angle = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    ring = np.stack([np.zeros_like(angle), np.cos(angle), np.sin(angle)], axis=-1)
    near = ring * EARTH_RADIUS_KM
    far = ring * far_radius + np.array([-length_km, 0.0, 0.0])
    k = np.arange(segments)
    quads = np.stack([np.full(segments, 4), k, (k + 1) % segments, segments + (k + 1) % segments, segments + k], -1)
    return np.concatenate([near, far]), quads.ravel()


def terminator_circle(radius_km: float = EARTH_RADIUS_KM * 1.002, segments: int = 180) -> np.ndarray:
    """Points (segments + 1, 3) of the day-night great circle in the sun frame (the y-z plane), closed."""
    angle = np.linspace(0.0, 2 * np.pi, segments + 1)
    return np.stack([np.zeros_like(angle), np.cos(angle), np.sin(angle)], axis=-1) * radius_km


def kepler_tracks(position_m: np.ndarray, velocity_m_s: np.ndarray, samples: int = 120) -> np.ndarray:
    """Osculating two-body orbits (n, samples + 1, 3; km) through each position and velocity (GCRS).

    Drawn as each satellite's orbit track: a LEO orbit closes on itself to within kilometres over a
    revolution (J2 moves its node 1 deg a day), so the osculating ellipse is what the eye expects.
    """
    r = np.asarray(position_m, float) / KM
    v = np.asarray(velocity_m_s, float) / KM
    mu = EARTH_MU_KM3_S2
    h = np.cross(r, v)
    r_norm = np.linalg.norm(r, axis=-1, keepdims=True)
    eccentricity_vector = np.cross(v, h) / mu - r / r_norm
    e = np.linalg.norm(eccentricity_vector, axis=-1, keepdims=True)
    energy = 0.5 * np.einsum("nk,nk->n", v, v)[:, None] - mu / r_norm
    a = -mu / (2.0 * energy)
    # Perifocal axes; for a circular orbit any in-plane axis will do, so take the current position.
    p_axis = np.where(e > 1e-9, eccentricity_vector / np.maximum(e, 1e-300), r / r_norm)
    q_axis = np.cross(h / np.linalg.norm(h, axis=-1, keepdims=True), p_axis)
    anomaly = np.linspace(0.0, 2 * np.pi, samples + 1)
    cos_e, sin_e = np.cos(anomaly)[None, :, None], np.sin(anomaly)[None, :, None]
    semi_minor = np.sqrt(1.0 - e[:, None] ** 2)
    return a[:, None] * ((cos_e - e[:, None]) * p_axis[:, None] + semi_minor * sin_e * q_axis[:, None])

