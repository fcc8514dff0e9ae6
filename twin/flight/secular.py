"""Secular rates of a near-circular orbit: the sensitivity of the J2 node rate to inclination, and the Sun's
and Moon's tilt of the orbit plane, which drifts the local time of the ascending node (LTAN) of a
sun-synchronous orbit.

J2 (Vallado, *Fundamentals of Astrodynamics and Applications*, eq. 9-41):

.. math:: \\dot\\Omega = -\\tfrac32 n J_2 (R/p)^2 \\cos i

Third body, averaged over one revolution of a circular orbit of radius ``a`` (the quadrupole tide:
``<r r^T> = a^2/2 (I - h h^T)``): the torque per unit mass is

.. math:: \\mathbf T = -\\frac{3 \\mu_3 a^2}{2 d^3} (\\hat h \\cdot \\hat s)(\\hat h \\times \\hat s)

with ``s`` the body's direction and ``d`` its distance, and ``dh/dt = T / sqrt(mu a)``. With the body
in the equator this gives the classical ``di/dt = 3 n_3^2 / (4 n) sin i sin 2(Omega - alpha_3)``
(Vallado, third-body secular effects): zero for the Sun at LTAN 6 h or 18 h, so a dawn-dusk orbit is
tilted mainly by the Moon and by the Sun's declination. Evaluated on the Sun's and Moon's positions
(ERFA's ephemerides, :func:`sun_and_moon_gcrs_m`) and averaged over the span, it is the secular rate; the 18.6-year
lunar node cycle makes it depend on the span.
"""

from __future__ import annotations

import erfa
import numpy as np
from astropy.time import Time

from twin.constants import (ASTRONOMICAL_UNIT_M, EARTH_EQUATORIAL_RADIUS_KM, EARTH_J2, EARTH_MU_KM3_S2,
                            SUN_SYNCHRONOUS_RATE_RAD_S)
from twin.flight.forces import MOON_MU_M3_S2, SUN_MU_M3_S2
from twin.orbit.design import mean_sun_right_ascension_rad


def mean_motion_rad_s(semi_major_axis_km) -> np.ndarray:
    return np.sqrt(EARTH_MU_KM3_S2 / np.asarray(semi_major_axis_km, float) ** 3)


def _j2_factor(semi_major_axis_km, eccentricity) -> np.ndarray:
    """``n J2 (R/p)^2`` (rad/s)."""
    p = np.asarray(semi_major_axis_km, float) * (1.0 - np.asarray(eccentricity, float) ** 2)
    return mean_motion_rad_s(semi_major_axis_km) * EARTH_J2 * (EARTH_EQUATORIAL_RADIUS_KM / p) ** 2


def node_rate_per_inclination(semi_major_axis_km, eccentricity, inclination_rad) -> np.ndarray:
    """d(node rate)/d(inclination), (rad/s) per rad: ``3/2 n J2 (R/p)^2 sin i``."""
    return 1.5 * _j2_factor(semi_major_axis_km, eccentricity) * np.sin(inclination_rad)


def sun_and_moon_gcrs_m(start: Time, offsets_s) -> tuple[np.ndarray, np.ndarray]:
    """Geocentric Sun and Moon positions (t, 3), m, GCRS axes, at ``start + offsets_s`` (s): ERFA's
    ``epv00`` (the Earth's heliocentric position, VSOP87-based, km-level) and ``moon98`` (Meeus's
    truncated ELP-2000/82, about 10 arcseconds), without light time or aberration (below 1e-4 of
    the tides they give)."""
    tt = start.tt
    day = np.asarray(offsets_s, dtype=float) / 86400.0
    heliocentric, _ = erfa.epv00(tt.jd1, tt.jd2 + day)
    moon = erfa.moon98(tt.jd1, tt.jd2 + day)
    au_m = ASTRONOMICAL_UNIT_M
    return -heliocentric["p"] * au_m, moon["p"] * au_m


def orbit_normal(inclination_rad, raan_rad) -> np.ndarray:
    """Unit angular momentum vector(s) (..., 3) of orbits of ``inclination_rad`` and node ``raan_rad``."""
    inclination_rad, raan_rad = np.broadcast_arrays(np.asarray(inclination_rad, float), np.asarray(raan_rad, float))
    return np.stack([np.sin(inclination_rad) * np.sin(raan_rad), -np.sin(inclination_rad) * np.cos(raan_rad),
                     np.cos(inclination_rad)], axis=-1)


def third_body_plane_rates(normal: np.ndarray, semi_major_axis_km, body_m: np.ndarray, mu_m3_s2: float):
    """Rates (rad/s) of inclination and node of circular orbits of unit normal ``normal`` (..., 3) and
    ``semi_major_axis_km`` under a body at ``body_m`` (geocentric, broadcast), averaged over one revolution."""
    a_m = np.asarray(semi_major_axis_km, float) * 1e3
    distance = np.linalg.norm(body_m, axis=-1)
    direction = body_m / distance[..., None]
    along = np.sum(normal * direction, axis=-1)
    torque = -1.5 * mu_m3_s2 * a_m**2 / distance**3 * along
    momentum = np.sqrt(EARTH_MU_KM3_S2 * 1e9 * a_m)
    normal_rate = (torque / momentum)[..., None] * np.cross(normal, direction)
    sin_i = np.hypot(normal[..., 0], normal[..., 1])
    inclination_rate = -normal_rate[..., 2] / sin_i
    # The node is at atan2(h_x, -h_y).
    node_rate = (normal[..., 0] * normal_rate[..., 1] - normal[..., 1] * normal_rate[..., 0]) / sin_i**2
    return inclination_rate, node_rate


def luni_solar_plane_rates(ltan_hours, inclination_rad, semi_major_axis_km, start: Time, years: float,
                           step_days: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Mean rates (rad/s) of inclination and node, (sat,), that the Sun and Moon give sun-synchronous orbits
    with nodes at ``ltan_hours`` over ``years`` from ``start``: the plane follows the mean Sun, and the rates of
    :func:`third_body_plane_rates` are averaged over steps of ``step_days`` (the Moon turns in 27 days)."""
    offsets_s = np.arange(0.0, years * 365.25 * 86400.0, step_days * 86400.0)
    sun, moon = sun_and_moon_gcrs_m(start, offsets_s)
    mean_sun = mean_sun_right_ascension_rad(start) + SUN_SYNCHRONOUS_RATE_RAD_S * offsets_s
    ltan_hours, inclination_rad, semi_major_axis_km = (np.atleast_1d(np.asarray(value, float))[:, None] for value in
                                                       (ltan_hours, inclination_rad, semi_major_axis_km))
    normal = orbit_normal(inclination_rad, mean_sun[None, :] + (ltan_hours - 12.0) * np.pi / 12.0)
    rates = [third_body_plane_rates(normal, semi_major_axis_km, body[None], mu)
             for body, mu in ((sun, SUN_MU_M3_S2), (moon, MOON_MU_M3_S2))]
    return (rates[0][0] + rates[1][0]).mean(axis=1), (rates[0][1] + rates[1][1]).mean(axis=1)
