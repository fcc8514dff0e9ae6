"""Orbit decay by drag, averaged over each revolution, for many satellites at once.

With drag ``f = -1/2 rho B F v^2`` along the velocity (``B = Cd A / m``, ``F`` the wind factor of an
atmosphere turning with the Earth), Gauss's equations averaged over the mean anomaly are
(King-Hele, *Satellite Orbits in an Atmosphere*, 1987; Vallado, section 9.6, Gauss form):

.. math:: \\dot a = -\\frac{a^2 B F}{\\mu} \\langle \\rho v^3 \\rangle,\\qquad
          \\dot e = -B F \\langle \\rho v (e + \\cos\\nu) \\rangle

with ``<x> = 1/(2 pi) int x (1 - e cos E) dE``, evaluated on a uniform grid of eccentric anomaly (a
periodic integrand, so the trapezoid rule converges geometrically) with the density of a
:class:`twin.flight.atmosphere.DensityTable` at each point's altitude. Each satellite keeps its own time
step, at most ``max_step_days`` and short enough that its semi-major axis changes by at most 5 km; it
has re-entered when its perigee is below :data:`REENTRY_PERIGEE_KM` (from there it falls within a day).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.constants import EARTH_EQUATORIAL_RADIUS_KM, EARTH_MU_KM3_S2, EARTH_ROTATION_RAD_S
from twin.flight.atmosphere import DensityTable

REENTRY_PERIGEE_KM = 150.0
ANOMALY_POINTS = 32
MAX_CHANGE_KM = 5.0


def wind_factor(semi_major_axis_km, inclination_rad) -> np.ndarray:
    """``(1 - r omega cos i / v)^2``: drag relative to a co-rotating atmosphere over drag in still air
    (King-Hele 1987), for a circular orbit; 1.019 for a sun-synchronous orbit at 750 km."""
    a = np.asarray(semi_major_axis_km, float)
    speed = np.sqrt(EARTH_MU_KM3_S2 / a)
    return (1.0 - a * EARTH_ROTATION_RAD_S * np.cos(inclination_rad) / speed) ** 2


def decay_rates(semi_major_axis_km, eccentricity, ballistic_m2_kg, time_s, density: DensityTable):
    """Orbit-averaged ``da/dt`` (km/s) and ``de/dt`` (1/s) of rows of satellites; ``ballistic_m2_kg`` is
    ``B F`` (m2/kg), ``time_s`` their times since ``density.time[0]``."""
    a = np.asarray(semi_major_axis_km, float)[:, None]
    e = np.asarray(eccentricity, float)[:, None]
    anomaly = 2.0 * np.pi * np.arange(ANOMALY_POINTS) / ANOMALY_POINTS
    cos_e = np.cos(anomaly)[None, :]
    radius = a * (1.0 - e * cos_e)
    speed_km_s = np.sqrt(EARTH_MU_KM3_S2 * (2.0 / radius - 1.0 / a))
    rho = density(radius - EARTH_EQUATORIAL_RADIUS_KM, np.asarray(time_s, float)[:, None])  # kg/m3
    weight = (1.0 - e * cos_e) / ANOMALY_POINTS
    cos_nu = (cos_e - e) / (1.0 - e * cos_e)
    ballistic = np.asarray(ballistic_m2_kg, float)
    # rho [kg/m3] B [m2/kg] is 1/m; times 1e3 it is 1/km, so the rates come out in km and s.
    a_rate = -(a[:, 0] ** 2) * ballistic / EARTH_MU_KM3_S2 * np.sum(weight * rho * speed_km_s**3, axis=1) * 1e3
    e_rate = -ballistic * np.sum(weight * rho * speed_km_s * (e + cos_nu), axis=1) * 1e3
    return a_rate, e_rate


@dataclass(frozen=True)
class Decay:
    """Where each row ends: semi-major axis (km), eccentricity, and the time of re-entry (s since the
    table's start; NaN if it did not re-enter)."""

    semi_major_axis_km: np.ndarray
    eccentricity: np.ndarray
    reentry_s: np.ndarray


def propagate_decay(semi_major_axis_km, eccentricity, ballistic_m2_kg, density: DensityTable, start_s,
                    duration_s: float, max_step_days: float = 10.0) -> Decay:
    """Decay rows of satellites from ``start_s`` (s since ``density.time[0]``, per row or one) for ``duration_s``.

    Heun's method (second order) on ``(a, e)`` with a step per row.
    """
    a = np.array(semi_major_axis_km, dtype=float, ndmin=1)
    e = np.broadcast_to(np.asarray(eccentricity, float), a.shape).copy()
    ballistic = np.broadcast_to(np.asarray(ballistic_m2_kg, float), a.shape)
    time = np.broadcast_to(np.asarray(start_s, float), a.shape).copy()
    end = time + duration_s
    reentry = np.full(a.shape, np.nan)
    active = np.ones(a.shape, bool)
    while np.any(active):
        rows = np.flatnonzero(active)
        a_rate, e_rate = decay_rates(a[rows], e[rows], ballistic[rows], time[rows], density)
        step = np.minimum(np.minimum(max_step_days * 86400.0, MAX_CHANGE_KM / np.maximum(-a_rate, 1e-30)),
                          end[rows] - time[rows])
        a_mid, e_mid = a[rows] + step * a_rate, np.maximum(e[rows] + step * e_rate, 0.0)
        a_rate_end, e_rate_end = decay_rates(a_mid, e_mid, ballistic[rows], time[rows] + step, density)
        a[rows] += 0.5 * step * (a_rate + a_rate_end)
        e[rows] = np.maximum(e[rows] + 0.5 * step * (e_rate + e_rate_end), 0.0)
        time[rows] += step
        fallen = a[rows] * (1.0 - e[rows]) - EARTH_EQUATORIAL_RADIUS_KM < REENTRY_PERIGEE_KM
        reentry[rows[fallen]] = time[rows[fallen]]
        active[rows] = ~fallen & (time[rows] < end[rows] - 1e-6)
    return Decay(a, e, reentry)
