"""Rotations from TEME (SGP4's frame) to GCRS and ITRS at every step, and geodetic coordinates.

astropy computes the full transformations at nodes at most an hour apart (at the steps themselves when they are
fewer); in between, the slowly
varying parts (precession-nutation, polar motion) are interpolated linearly and the Earth's
rotation (GMST 1982, as TEME is defined) is evaluated at every step. The error against astropy's
own transformation is below a millimetre at LEO radius (``tests/test_frames.py``).
"""

from __future__ import annotations

import warnings

import erfa
import numexpr as ne
import numpy as np
from astropy import units as u
from astropy.coordinates import GCRS, ITRS, TEME, CartesianRepresentation
from astropy.time import Time

from twin.constants import EARTH_ECCENTRICITY_SQUARED, EARTH_EQUATORIAL_RADIUS_KM
from twin.offline import POLAR_MOTION_WARNING

NODE_SPACING_S = 3600.0


def _rotation_z(angle_rad: np.ndarray) -> np.ndarray:
    """Frame rotation about z by ``angle_rad`` (t, 3, 3): R3 in Vallado's notation."""
    cos, sin = np.cos(angle_rad), np.sin(angle_rad)
    matrix = np.zeros(angle_rad.shape + (3, 3))
    matrix[..., 0, 0], matrix[..., 0, 1], matrix[..., 1, 0], matrix[..., 1, 1] = cos, sin, -sin, cos
    matrix[..., 2, 2] = 1.0
    return matrix


def _astropy_teme_matrices(times: Time) -> tuple[np.ndarray, np.ndarray]:
    """TEME->GCRS and TEME->ITRS matrices (n, 3, 3) from astropy's transformations of the unit vectors."""
    count = times.size
    basis = np.broadcast_to(np.eye(3)[:, None, :], (3, count, 3))
    obstime = Time(np.broadcast_to(times.jd1, (3, count)), np.broadcast_to(times.jd2, (3, count)),
                   format="jd", scale=times.scale)
    teme = TEME(CartesianRepresentation(basis.transpose(2, 0, 1) * u.km), obstime=obstime)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=POLAR_MOTION_WARNING)
        gcrs = teme.transform_to(GCRS(obstime=teme.obstime)).cartesian.xyz.to_value(u.km)
        itrs = teme.transform_to(ITRS(obstime=teme.obstime)).cartesian.xyz.to_value(u.km)
    # xyz has shape (3 components, 3 basis vectors, n); matrix[n, i, j] = component i of image of e_j.
    return gcrs.transpose(2, 0, 1), itrs.transpose(2, 0, 1)


def gmst82_rad(times: Time) -> np.ndarray:
    """Greenwich mean sidereal time (IAU 1982, rad) at UT1 of ``times``."""
    ut1 = times.ut1
    return erfa.gmst82(ut1.jd1, ut1.jd2)


class EarthOrientation:
    """TEME->GCRS and TEME->ITRS rotation matrices (t, 3, 3) at ``start + offsets_s``."""

    def __init__(self, start: Time, offsets_s: np.ndarray):
        offsets_s = np.asarray(offsets_s, dtype=float)
        span = offsets_s[-1] - offsets_s[0]
        node_count = max(2, int(np.ceil(span / NODE_SPACING_S)) + 1)
        if span <= 0:
            nodes_s = offsets_s[:1].repeat(2)
        elif offsets_s.size <= node_count:  # steps over an hour apart (a build-up's days): the steps themselves
            nodes_s = offsets_s
        else:
            nodes_s = np.linspace(offsets_s[0], offsets_s[-1], node_count)
        node_times = start + nodes_s * u.s
        to_gcrs_nodes, to_itrs_nodes = _astropy_teme_matrices(node_times)
        polar_motion_nodes = to_itrs_nodes @ _rotation_z(gmst82_rad(node_times)).swapaxes(-1, -2)
        self.teme_to_gcrs = _interpolate(offsets_s, nodes_s, to_gcrs_nodes)
        earth_rotation = _rotation_z(gmst82_rad(start + offsets_s * u.s))
        self.teme_to_itrs = _interpolate(offsets_s, nodes_s, polar_motion_nodes) @ earth_rotation


def gcrs_to_itrs(times: np.ndarray) -> np.ndarray:
    """Rotation matrices (time, 3, 3) from GCRS to ITRS at UTC ``times`` (datetime64), through :class:`EarthOrientation`."""
    start = Time(times[0].astype("datetime64[ns]"), scale="utc")
    offsets_s = (times - times[0]) / np.timedelta64(1, "s")
    orientation = EarthOrientation(start, offsets_s.astype(float))
    return orientation.teme_to_itrs @ orientation.teme_to_gcrs.swapaxes(-1, -2)


def _interpolate(x: np.ndarray, nodes: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    if nodes[0] == nodes[-1]:
        return np.broadcast_to(matrices[0], (x.size, 3, 3)).copy()
    flat = matrices.reshape(len(nodes), 9)
    return np.stack([np.interp(x, nodes, flat[:, k]) for k in range(9)], axis=-1).reshape(x.size, 3, 3)


def rotate(matrices: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Apply per-step matrices (t, 3, 3) to vectors (..., t, 3)."""
    return np.einsum("tij,...tj->...ti", matrices, vectors)


def geodetic(itrs_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WGS-84 geodetic latitude (deg), longitude (deg, -180..180) and height (m) of ITRS positions (m).

    Bowring's (1976) closed formula, with the sines and cosines it needs taken from the tangents
    by normalisation rather than trigonometric calls, then one refinement of the latitude from the
    height: sub-millimetre from the ground to LEO (checked against ``erfa.gc2gd`` in the tests).
    Evaluated by numexpr, which fuses each line into one cache-friendly pass.
    """
    a = EARTH_EQUATORIAL_RADIUS_KM * 1e3
    e2 = EARTH_ECCENTRICITY_SQUARED
    names = {"x": itrs_m[..., 0], "y": itrs_m[..., 1], "z": itrs_m[..., 2], "a": a, "e2": e2,
             "b": a * np.sqrt(1.0 - e2), "ep2": e2 / (1.0 - e2), "degrees": 180.0 / np.pi}

    def evaluate(name: str, expression: str) -> np.ndarray:
        names[name] = ne.evaluate(expression, local_dict=names)
        return names[name]

    evaluate("p", "sqrt(x * x + y * y)")
    # Parametric latitude theta: tan(theta) = z a / (p b); then Bowring's tangent of the latitude.
    evaluate("scale", "1 / sqrt(z * z * a * a + p * p * b * b)")
    evaluate("north", "z + ep2 * b * (z * a * scale) ** 3")
    evaluate("east", "p - e2 * a * (p * b * scale) ** 3")
    evaluate("scale", "1 / sqrt(north * north + east * east)")
    evaluate("root", "sqrt(1 - e2 * (north * scale) ** 2)")
    height = evaluate("height", "p * east * scale + z * north * scale - a * root")
    # One refinement of the latitude from the height (Bowring alone errs by millimetres at LEO heights).
    latitude = evaluate("latitude", "arctan2(z, p * (1 - e2 * (a / root) / (a / root + height))) * degrees")
    longitude = evaluate("longitude", "arctan2(y, x) * degrees")
    return latitude, longitude, height
