"""Fleet propagation in the TEME frame, vectorised over satellites and time.

Chiefs are propagated by SGP4 (``sgp4.api.SatrecArray``, Vallado's C++ code). Members of a
formation are their chief plus the linear relative motion of their relative orbit elements
(D'Amico 2010, near-circular chief), rotated from the chief's radial / along-track / cross-track
frame into TEME:

.. math::

    \\delta r_R = a(\\delta a - \\delta e_x \\cos\\psi - \\delta e_y \\sin\\psi),\\quad
    \\delta r_T = a(\\delta\\lambda + 2\\delta e_x \\sin\\psi - 2\\delta e_y \\cos\\psi),\\quad
    \\delta r_N = a(\\delta i_x \\sin u - \\delta i_y \\cos u)

with ``u`` the chief's argument of latitude and ``psi = u - (argument of perigee drift)`` so that
the relative eccentricity vector turns with the chief's perigee. The error against each member's
own SGP4 is of order offset^2 / a plus J2 times the offset: metres for a kilometre-wide cluster
(measured by ``benchmarks/propagation.py`` and ``tests/test_propagation.py``).
"""

from __future__ import annotations

import numpy as np
from sgp4.api import SatrecArray

from .fleet import Fleet, FormationBlock

SGP4_ERRORS = {
    1: "mean eccentricity out of range", 2: "mean motion below zero", 3: "perturbed eccentricity out of range",
    4: "semi-latus rectum below zero", 6: "orbit has decayed",
}


class PropagationError(RuntimeError):
    """SGP4 could not propagate a satellite (for example a decayed TLE)."""


def _chief_frame(position_km: np.ndarray, velocity_km_s: np.ndarray):
    """Unit vectors R, T, N (k, t, 3), the argument of latitude (k, t) and its rate (rad/s)."""
    radius = np.linalg.norm(position_km, axis=-1, keepdims=True)
    radial = position_km / radius
    momentum = np.cross(position_km, velocity_km_s)
    momentum_norm = np.linalg.norm(momentum, axis=-1, keepdims=True)
    normal = momentum / momentum_norm
    along = np.cross(normal, radial)
    node = np.stack([-normal[..., 1], normal[..., 0], np.zeros_like(normal[..., 0])], axis=-1)
    node /= np.linalg.norm(node, axis=-1, keepdims=True)
    ahead_of_node = np.cross(normal, node)
    latitude_argument = np.arctan2(np.sum(radial * ahead_of_node, -1), np.sum(radial * node, -1))
    latitude_rate = momentum_norm[..., 0] / radius[..., 0] ** 2
    return radial, along, normal, latitude_argument, latitude_rate


def _propagate_block(block: FormationBlock, jd: np.ndarray, fr: np.ndarray):
    """Positions and velocities (k*m, t, 3) of one formation block, km and km/s, TEME."""
    errors, chief_position, chief_velocity = SatrecArray(block.chiefs).sgp4(jd, fr)
    if np.any(errors):
        chief, step = np.argwhere(errors)[0]
        raise PropagationError(
            f"satellite {block.chiefs[chief].satnum}: SGP4 error {errors[chief, step]} "
            f"({SGP4_ERRORS.get(int(errors[chief, step]), 'unknown')}) at step {step}"
        )
    relative = block.relative
    chiefs, members = len(block.chiefs), relative.count
    if members == 1:
        return chief_position, chief_velocity

    radial, along, normal, u, u_rate = _chief_frame(chief_position, chief_velocity)
    semi_major_axis_km = np.array([chief.a * chief.radiusearthkm for chief in block.chiefs])[:, None, None]
    epoch_jd = np.array([[chief.jdsatepoch, chief.jdsatepochF] for chief in block.chiefs])
    elapsed_s = ((jd[None, :] - epoch_jd[:, :1]) + (fr[None, :] - epoch_jd[:, 1:])) * 86400.0  # (k, t)
    perigee_turn = np.array([chief.argpdot / 60.0 for chief in block.chiefs])[:, None] * elapsed_s
    psi = (u - perigee_turn)[:, None, :]
    cos_psi, sin_psi = np.cos(psi), np.sin(psi)
    cos_u, sin_u = np.cos(u)[:, None, :], np.sin(u)[:, None, :]
    u_rate = u_rate[:, None, :]
    t = elapsed_s[:, None, :]
    member = lambda values: values[None, :, None]
    da, dlambda, dex, dey = member(relative.da), member(relative.dlambda), member(relative.dex), member(relative.dey)
    dix, diy, dlambda_rate, diy_rate = member(relative.dix), member(relative.diy), member(relative.dlambda_rate), member(relative.diy_rate)

    diy_now = diy + diy_rate * t
    offset_r = semi_major_axis_km * (da - dex * cos_psi - dey * sin_psi)
    offset_t = semi_major_axis_km * (dlambda + dlambda_rate * t + 2.0 * (dex * sin_psi - dey * cos_psi))
    offset_n = semi_major_axis_km * (dix * sin_u - diy_now * cos_u)
    rate_r = semi_major_axis_km * u_rate * (dex * sin_psi - dey * cos_psi)
    rate_t = semi_major_axis_km * (dlambda_rate + 2.0 * u_rate * (dex * cos_psi + dey * sin_psi))
    rate_n = semi_major_axis_km * (u_rate * (dix * cos_u + diy_now * sin_u) - diy_rate * cos_u)
    # Velocity in the inertial frame adds the rotation of the RTN frame (rate u_rate about N).
    rate_r -= u_rate * offset_t
    rate_t += u_rate * offset_r

    def to_teme(base, r, tt, n):
        out = np.empty((chiefs, members, base.shape[1], 3))
        for axis in range(3):
            out[..., axis] = (base[:, None, :, axis] + r * radial[:, None, :, axis]
                              + tt * along[:, None, :, axis] + n * normal[:, None, :, axis])
        return out.reshape(chiefs * members, base.shape[1], 3)

    return to_teme(chief_position, offset_r, offset_t, offset_n), to_teme(chief_velocity, rate_r, rate_t, rate_n)


def propagate_teme(fleet: Fleet, jd: np.ndarray, fr: np.ndarray, position_km: np.ndarray | None = None, velocity_km_s: np.ndarray | None = None):
    """TEME position (km) and velocity (km/s), shape (sat, time, 3), of every satellite of ``fleet``.

    ``jd`` and ``fr`` are the two parts of the UTC Julian dates of the steps (as for
    ``Satrec.sgp4_array``). Pass ``position_km`` and
    ``velocity_km_s`` to fill preallocated arrays.
    """
    shape = (len(fleet), len(jd), 3)
    position_km = np.empty(shape) if position_km is None else position_km
    velocity_km_s = np.empty(shape) if velocity_km_s is None else velocity_km_s
    row = 0
    for block in fleet.blocks:
        block_position, block_velocity = _propagate_block(block, jd, fr)
        position_km[row:row + block.satellite_count] = block_position
        velocity_km_s[row:row + block.satellite_count] = block_velocity
        row += block.satellite_count
    return position_km, velocity_km_s
