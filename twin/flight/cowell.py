"""Numerical propagation (Cowell's method) of a few satellites with the forces of :mod:`twin.flight.forces`:
the reference the averaged and relative models are checked against.

The state of every satellite is integrated together by scipy's DOP853 (Dormand-Prince 8(5,3)) in GCRS
(inertial), with the Earth's central gravity, J2 (pole along GCRS z: the true pole is 0.15 deg away in
the 2030s, a J2 error far below what these checks resolve), drag in NRLMSIS 2.1 air (the point placed by
the Earth rotation angle, to within the 0.15 deg of precession, at its height above the WGS-84 ellipsoid
``r - R (1 - f sin^2 lat)``, within metres of the geodetic height), radiation pressure with the conical
shadow of :func:`twin.orbit.sunlight.illumination`, and the Sun and Moon.
"""

from __future__ import annotations

from dataclasses import dataclass

import erfa
import numpy as np
from astropy.time import Time
from scipy.integrate import solve_ivp

from twin.constants import EARTH_EQUATORIAL_RADIUS_M, EARTH_FLATTENING
from twin.flight.atmosphere import density_kg_m3
from twin.flight.forces import (EARTH_MU_M3_S2, MOON_MU_M3_S2, SUN_MU_M3_S2, drag_acceleration_m_s2,
                                j2_acceleration_m_s2, srp_acceleration_m_s2, third_body_acceleration_m_s2)
from twin.flight.secular import sun_and_moon_gcrs_m
from twin.flight.space_weather import SolarIndices, predicted_indices
from twin.flight.spacecraft import Spacecraft
from twin.orbit.sunlight import illumination, shadow_geometry, sun_position_gcrs_m

FORCES = ("j2", "drag", "srp", "sun", "moon")
BODY_STEP_S = 600.0


@dataclass(frozen=True)
class CowellRun:
    """Positions (m) and velocities (m/s), (sat, time, 3), GCRS, at ``offsets_s`` from ``start``."""

    start: Time
    offsets_s: np.ndarray
    position_m: np.ndarray
    velocity_m_s: np.ndarray


def propagate_cowell(position_m, velocity_m_s, start: Time, offsets_s, spacecraft: Spacecraft,
                     forces=FORCES, indices: SolarIndices | None = None, rtol: float = 1e-10) -> CowellRun:
    """Integrate satellites from GCRS states (sat, 3) at ``start`` and return them at ``offsets_s`` (s, increasing,
    from 0); ``forces`` chooses among :data:`FORCES`; ``indices`` (scalars) hold still, default the shipped
    table's at ``start``."""
    unknown = sorted(set(forces) - set(FORCES))
    if unknown:
        raise ValueError(f"forces: {unknown[0]!r} is not one of {', '.join(FORCES)}")
    offsets_s = np.asarray(offsets_s, float)
    count = len(spacecraft)
    body_s = np.arange(0.0, offsets_s[-1] + 2 * BODY_STEP_S, BODY_STEP_S)
    sun = sun_position_gcrs_m(start, body_s)  # as the run's illumination uses it
    moon = sun_and_moon_gcrs_m(start, body_s)[1]
    indices = indices or predicted_indices(np.datetime64(start.utc.isot, "s"))
    start_ns = np.datetime64(start.utc.isot, "ns")
    ut1 = start.ut1

    def at(table, t):
        return np.array([np.interp(t, body_s, table[:, k]) for k in range(3)])

    def derivative(t, state):
        position, velocity = state.reshape(2, count, 3)
        radius = np.linalg.norm(position, axis=-1, keepdims=True)
        acceleration = -EARTH_MU_M3_S2 * position / radius**3
        sun_now = at(sun, t)
        if "j2" in forces:
            acceleration += j2_acceleration_m_s2(position)
        if "drag" in forces:
            angle = erfa.era00(ut1.jd1, ut1.jd2 + t / 86400.0)
            cos, sin = np.cos(angle), np.sin(angle)
            x, y, z = (position @ np.array([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]])).T
            sin_latitude = z / radius[:, 0]
            height_km = (radius[:, 0] - EARTH_EQUATORIAL_RADIUS_M * (1.0 - EARTH_FLATTENING * sin_latitude**2)) / 1e3
            when = start_ns + np.timedelta64(int(round(t * 1e9)), "ns")
            rho = density_kg_m3(when, np.degrees(np.arcsin(sin_latitude)), np.degrees(np.arctan2(y, x)), height_km, indices)
            acceleration += drag_acceleration_m_s2(spacecraft, position, velocity, sun_now, rho)
        if "srp" in forces:
            sun_radius, earth_radius, separation = shadow_geometry(position, sun_now)
            lit = np.ones(count)
            if np.any(separation < sun_radius + earth_radius):
                lit = illumination(position[:, None, :], sun_now[None, :])[:, 0]
            acceleration += srp_acceleration_m_s2(spacecraft, position, velocity, sun_now, lit)
        if "sun" in forces:
            acceleration += third_body_acceleration_m_s2(position, sun_now, SUN_MU_M3_S2)
        if "moon" in forces:
            acceleration += third_body_acceleration_m_s2(position, at(moon, t), MOON_MU_M3_S2)
        return np.concatenate([velocity.ravel(), acceleration.ravel()])

    initial = np.concatenate([np.asarray(position_m, float).ravel(), np.asarray(velocity_m_s, float).ravel()])
    solution = solve_ivp(derivative, (0.0, offsets_s[-1]), initial, method="DOP853", t_eval=offsets_s,
                         rtol=rtol, atol=1e-6)
    if not solution.success:
        raise RuntimeError(f"Cowell propagation failed: {solution.message}")
    states = solution.y.reshape(2, count, 3, offsets_s.size).transpose(0, 1, 3, 2)
    return CowellRun(start, offsets_s, states[0], states[1])
