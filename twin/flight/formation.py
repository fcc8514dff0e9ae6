"""Formation keeping: relative motion of cluster members in their chief's radial / along-track /
cross-track (RTN, the LVLH axes) frame under J2, differential drag and differential solar radiation
pressure; the Δv each member needs per year; the closest approach of two members over a run.

Relative orbit elements (ROE) are D'Amico's (2010) quasi-nonsingular ones, as in :mod:`twin.orbit.fleet`:
``(da, dlambda, dex, dey, dix, diy)``. For a near-circular chief, with ``k = 3/4 n J2 (R/a)^2``,
``P = 3 cos^2 i - 1``, ``Q = 5 cos^2 i - 1`` (first-order J2 secular rates of each orbit, differenced,
cf. Koenig, Guffanti & D'Amico 2017, *JGCD* 40(7)):

.. math::

    \\dot{\\delta\\lambda} = -(\\tfrac32 n + 7 k P)\\,\\delta a - 7 k \\sin 2i\\,\\delta i_x,\\qquad
    \\dot{\\delta i_y} = \\tfrac72 k \\sin 2i\\,\\delta a + 2 k \\sin^2 i\\,\\delta i_x,\\qquad
    \\dot{\\delta e} = k Q\\, J \\delta e + \\dot{\\delta e}_{srp}

(``J`` a quarter turn: the relative eccentricity vector turns with the perigee). A member whose
ballistic coefficient differs by ``dB`` from its chief's loses ``da`` at ``-rho v dB`` per second; one
whose radiation pressure per mass differs by ``dk`` has its ``de`` pushed at ``3 dk cos(beta) / (2 v)``
at right angles to the Sun's projection on the plane (Gauss's equations averaged over a revolution).

Δv per year to stay in a box (impulsive, near-circular; D'Amico 2010, ch. 4): cross-track ``v |d(di)/dt|``,
along-track ``|dD|`` (the differential drag made up), eccentricity ``(v/2) |d(de)/dt|`` with the
secular part of the SRP push, ``3/4 |dk| cos(beta)``. The box sets how often, not how much.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.constants import EARTH_EQUATORIAL_RADIUS_KM, EARTH_J2, EARTH_MU_KM3_S2, JULIAN_YEAR_S
from twin.flight.secular import mean_motion_rad_s


class CloseApproachWarning(UserWarning):
    """Two members of a cluster came closer than the threshold."""


def _k(semi_major_axis_km) -> np.ndarray:
    return 0.75 * mean_motion_rad_s(semi_major_axis_km) * EARTH_J2 * (EARTH_EQUATORIAL_RADIUS_KM
                                                                      / np.asarray(semi_major_axis_km)) ** 2


def j2_relative_rates(semi_major_axis_km, inclination_rad, da, dix):
    """Secular rates (1/s) of ``dlambda`` and ``diy`` from J2 (the Keplerian ``-3/2 n da`` included) and the
    rate at which the relative eccentricity vector turns (rad/s)."""
    k, n = _k(semi_major_axis_km), mean_motion_rad_s(semi_major_axis_km)
    cos_i, sin_2i = np.cos(inclination_rad), np.sin(2 * np.asarray(inclination_rad))
    dlambda_rate = -(1.5 * n + 7.0 * k * (3 * cos_i**2 - 1)) * da - 7.0 * k * sin_2i * dix
    diy_rate = 3.5 * k * sin_2i * da + 2.0 * k * np.sin(inclination_rad) ** 2 * dix
    return dlambda_rate, diy_rate, k * (5 * cos_i**2 - 1)


@dataclass(frozen=True)
class Differential:
    """Per-member differences from the chief: ``da_rate`` (1/s) from differential drag, and the secular push
    ``de_rate`` (2,) (1/s) on the relative eccentricity vector from differential radiation pressure."""

    da_rate: np.ndarray
    de_rate: np.ndarray


def differential_forcing(density_kg_m3, speed_m_s, ballistic_difference_m2_kg, srp_difference_m_s2, beta_rad,
                         sun_angle_rad) -> Differential:
    """:class:`Differential` from the orbit-mean density, the orbital speed, the members' ``B F`` less the
    chief's (m2/kg), their radiation-pressure acceleration less the chief's (m/s2, full sun, orbit mean
    illumination included), the beta angle and the Sun's projection on the plane (rad from the node)."""
    da_rate = -np.asarray(density_kg_m3) * speed_m_s * np.asarray(ballistic_difference_m2_kg)
    push = 1.5 * np.asarray(srp_difference_m_s2) * np.cos(beta_rad) / speed_m_s
    return Differential(da_rate, np.stack([-push * np.sin(sun_angle_rad), push * np.cos(sun_angle_rad)], -1))


def propagate_roe(roe, times_s, semi_major_axis_km, inclination_rad, differential: Differential | None = None):
    """Mean ROE (t, 6) at ``times_s`` from ``roe`` (6,) at 0: J2 drift, the relative eccentricity vector turning
    about the point where the radiation-pressure push balances its turning, and differential drag."""
    da0, dl0, dex0, dey0, dix, diy0 = np.asarray(roe, float)
    t = np.asarray(times_s, float)
    n = mean_motion_rad_s(semi_major_axis_km)
    differential = differential or Differential(np.zeros(()), np.zeros(2))
    da = da0 + differential.da_rate * t
    dl_rate, diy_rate, turn = j2_relative_rates(semi_major_axis_km, inclination_rad, da0, dix)
    dlambda = dl0 + dl_rate * t - 0.75 * n * differential.da_rate * t * t
    # d(de)/dt = turn J de + push: de = R(turn t)(de0 - fixed) + fixed, fixed = J push / turn.
    push_x, push_y = differential.de_rate
    fixed_x, fixed_y = -push_y / turn, push_x / turn
    cos, sin = np.cos(turn * t), np.sin(turn * t)
    dex = fixed_x + cos * (dex0 - fixed_x) - sin * (dey0 - fixed_y)
    dey = fixed_y + sin * (dex0 - fixed_x) + cos * (dey0 - fixed_y)
    return np.stack([da, dlambda, dex, dey, np.full(t.shape, dix), diy0 + diy_rate * t], axis=-1)


def rtn_offsets_m(roe, semi_major_axis_km, latitude_argument_rad) -> np.ndarray:
    """Radial, along-track and cross-track offsets (..., 3), m, of members with ``roe`` (..., 6) from a chief at
    argument of latitude ``latitude_argument_rad`` (the linear map of :mod:`twin.orbit.propagation`)."""
    da, dl, dex, dey, dix, diy = np.moveaxis(np.asarray(roe, float), -1, 0)
    cos_u, sin_u = np.cos(latitude_argument_rad), np.sin(latitude_argument_rad)
    a_m = np.asarray(semi_major_axis_km) * 1e3
    return a_m * np.stack([da - dex * cos_u - dey * sin_u, dl + 2 * dex * sin_u - 2 * dey * cos_u,
                           dix * sin_u - diy * cos_u], axis=-1)


def rtn_frame(position, velocity) -> np.ndarray:
    """Rows R, T, N (..., 3, 3) of the chief's frame at ``position``, ``velocity``."""
    radial = position / np.linalg.norm(position, axis=-1, keepdims=True)
    normal = np.cross(position, velocity)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    return np.stack([radial, np.cross(normal, radial), normal], axis=-2)


def orbital_elements(position_m, velocity_m_s):
    """Osculating semi-major axis (km), eccentricity vector (ex, ey) from the node, inclination, node and
    argument of latitude (rad) of states (..., 3)."""
    mu = EARTH_MU_KM3_S2 * 1e9
    r = np.linalg.norm(position_m, axis=-1)
    momentum = np.cross(position_m, velocity_m_s)
    h = np.linalg.norm(momentum, axis=-1)
    inclination = np.arccos(momentum[..., 2] / h)
    raan = np.arctan2(momentum[..., 0], -momentum[..., 1])
    energy = 0.5 * np.sum(velocity_m_s**2, axis=-1) - mu / r
    a_m = -mu / (2 * energy)
    e_vec = np.cross(velocity_m_s, momentum) / mu - position_m / r[..., None]
    node = np.stack([np.cos(raan), np.sin(raan), np.zeros_like(raan)], axis=-1)
    ahead = np.cross(momentum / h[..., None], node)
    latitude_argument = np.arctan2(np.sum(position_m * ahead, -1), np.sum(position_m * node, -1))
    return (a_m / 1e3, np.sum(e_vec * node, -1), np.sum(e_vec * ahead, -1), inclination, raan, latitude_argument)


def roe_from_states(chief_position_m, chief_velocity_m_s, member_position_m, member_velocity_m_s) -> np.ndarray:
    """Osculating ROE (..., 6) of members from their and their chief's states (for near-circular orbits the mean
    argument of latitude is close to the true one; average over a revolution for mean ROE)."""
    a_c, ex_c, ey_c, i_c, raan_c, u_c = orbital_elements(chief_position_m, chief_velocity_m_s)
    a_m, ex_m, ey_m, i_m, raan_m, u_m = orbital_elements(member_position_m, member_velocity_m_s)
    d_raan = np.angle(np.exp(1j * (raan_m - raan_c)))
    # mean - true argument of latitude is -2 e sin(nu) to first order: use the mean longitude.
    mean_u = lambda u, ex, ey: u - 2 * (ex * np.sin(u) - ey * np.cos(u))
    d_u = np.angle(np.exp(1j * (mean_u(u_m, ex_m, ey_m) - mean_u(u_c, ex_c, ey_c))))
    return np.stack([(a_m - a_c) / a_c, d_u + d_raan * np.cos(i_c), ex_m - ex_c, ey_m - ey_c, i_m - i_c,
                     d_raan * np.sin(i_c)], axis=-1)


def keeping_delta_v_m_s_per_year(speed_m_s, diy_rate, differential: Differential, drag_difference_m_s2) -> np.ndarray:
    """Δv (m/s) per member per year: cross-track ``v |diy'|``, the differential drag ``|dD|`` and ``v/2 |de'|``."""
    eccentricity = 0.5 * speed_m_s * np.linalg.norm(differential.de_rate, axis=-1)
    return (speed_m_s * np.abs(diy_rate) + np.abs(drag_difference_m_s2) + eccentricity) * JULIAN_YEAR_S


def closest_member_approach(positions_m: np.ndarray, times: np.ndarray, names, subcenter, threshold_m: float = 50.0,
                            chunk: int = 256) -> pd.DataFrame:
    """The closest approach of any two members of each sub-center over a run: one row per sub-center with the
    pair, the distance (m) and the time; positions (sat, time, 3) in m, any geocentric frame.

    The distance is the smallest over the steps, refined by a parabola through the step before and after.
    Warns (:class:`CloseApproachWarning`) for every sub-center whose members came closer than ``threshold_m``.
    """
    names, subcenter = np.asarray(names), np.asarray(subcenter)
    rows = []
    for name in pd.unique(subcenter):
        members = np.flatnonzero(subcenter == name)
        if members.size < 2:
            continue
        first, second = np.triu_indices(members.size, 1)
        best = (np.inf, 0, 0, np.empty(0))
        for start in range(0, first.size, chunk):
            i, j = members[first[start:start + chunk]], members[second[start:start + chunk]]
            distance = np.linalg.norm(positions_m[i] - positions_m[j], axis=-1)  # (pairs, time)
            pair, step = np.unravel_index(np.argmin(distance), distance.shape)
            if distance[pair, step] < best[0]:
                best = (distance[pair, step], start + pair, step, distance[pair, max(step - 1, 0):step + 2])
        distance_m, pair, step, around = best
        if around.size == 3 and around[0] + around[2] - 2 * around[1] > 0:
            curvature = around[0] + around[2] - 2 * around[1]
            shift = 0.5 * (around[0] - around[2]) / curvature
            distance_m = around[1] - 0.25 * (around[0] - around[2]) * shift
        else:
            shift = 0.0
        step_ns = (times[min(step + 1, times.size - 1)] - times[step]) if times.size > 1 else np.timedelta64(0, "ns")
        rows.append({"subcenter": name, "first": names[members[first[pair]]], "second": names[members[second[pair]]],
                     "closest_approach_m": float(distance_m), "time": times[step] + shift * step_ns})
    table = pd.DataFrame(rows, columns=["subcenter", "first", "second", "closest_approach_m", "time"])
    for row in table[table["closest_approach_m"] < threshold_m].itertuples():
        warnings.warn(f"sub-center {row.subcenter}: {row.first} and {row.second} came within "
                      f"{row.closest_approach_m:.1f} m at {row.time} (threshold {threshold_m:g} m)",
                      CloseApproachWarning, stacklevel=2)
    return table
