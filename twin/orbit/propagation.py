"""Fleet propagation in the TEME frame, vectorised over satellites and time.

Chiefs are propagated by SGP4 (``sgp4.api.SatrecArray``, Vallado's C++ code). Members of a
formation are their chief plus the linear relative motion of their relative orbit elements
(D'Amico 2010, near-circular chief), rotated from the chief's radial / along-track / cross-track
frame into TEME:

.. math::

    \\delta r_R = a(\\delta a - \\delta e_x \\cos\\psi - \\delta e_y \\sin\\psi),\\quad
    \\delta r_T = a(\\delta\\lambda + \\dot{\\delta\\lambda} t + 2\\delta e_x \\sin\\psi - 2\\delta e_y \\cos\\psi),\\quad
    \\delta r_N = a(\\delta i_x \\sin u - (\\delta i_y + \\dot{\\delta i_y} t) \\cos u)

with ``u`` the chief's argument of latitude, ``t`` the time since epoch and
``psi = u - (argument of perigee drift)`` so that the relative eccentricity vector turns with the
chief's perigee. Each offset is a fixed combination of ten functions of the chief's state, so a
whole formation is one matrix product per chief (BLAS), velocity its exact time derivative. The error against each member's
own SGP4 is of order offset^2 / a plus J2 times the offset: metres for a kilometre-wide cluster
(measured by ``benchmarks/propagation.py`` and ``tests/test_propagation.py``).
"""

from __future__ import annotations

import numpy as np
from sgp4.api import SatrecArray

from twin.orbit.fleet import Fleet, FormationBlock, RelativeOrbits

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


def member_coefficients(relative: RelativeOrbits) -> np.ndarray:
    """Coefficients (m, 10) of each member on the chief's basis functions (see :func:`chief_basis`)."""
    r = relative
    return np.column_stack([
        r.da, -r.dex, -r.dey,                              # radial: 1, cos psi, sin psi
        r.dlambda, r.dlambda_rate, 2.0 * r.dex, -2.0 * r.dey,  # along-track: 1, t, sin psi, cos psi
        r.dix, -r.diy, -r.diy_rate,                        # cross-track: sin u, cos u, t cos u
    ])


def chief_basis(block: FormationBlock, jd, fr, position_km, velocity_km_s):
    """Basis vectors (k, 10, t, 3) of member offsets about each chief, km, and their time derivatives, km/s.

    A member's offset is ``coefficients @ basis``: the radial, along-track and cross-track unit
    vectors times the chief's semi-major axis and the functions of the relative-motion model. The
    derivative uses the rotation of the frame (dR/dt = u' T, dT/dt = -u' R) so that velocity is the
    exact derivative of the modelled position.
    """
    radial, along, normal, u, u_rate = _chief_frame(position_km, velocity_km_s)
    semi_major_axis_km = np.array([chief.a * chief.radiusearthkm for chief in block.chiefs])[:, None, None, None]
    perigee_rate = np.array([chief.argpdot / 60.0 for chief in block.chiefs])[:, None]
    epoch_jd = np.array([[chief.jdsatepoch, chief.jdsatepochF] for chief in block.chiefs])
    t = ((jd[None, :] - epoch_jd[:, :1]) + (fr[None, :] - epoch_jd[:, 1:])) * 86400.0  # (k, t) s since epoch
    psi = u - perigee_rate * t
    psi_rate = u_rate - perigee_rate
    cos_psi, sin_psi, cos_u, sin_u = np.cos(psi), np.sin(psi), np.cos(u), np.sin(u)
    one, zero = np.ones_like(t), np.zeros_like(t)
    # The ten scalar functions f (k, 10, t) and their rates f', in the order of member_coefficients,
    # and the unit vector each multiplies (0 radial, 1 along-track, 2 cross-track).
    values = np.stack([one, cos_psi, sin_psi, one, t, sin_psi, cos_psi, sin_u, cos_u, t * cos_u], axis=1)
    rates = np.stack([zero, -psi_rate * sin_psi, psi_rate * cos_psi, zero, one, psi_rate * cos_psi,
                      -psi_rate * sin_psi, u_rate * cos_u, -u_rate * sin_u, cos_u - t * u_rate * sin_u], axis=1)
    which = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
    units = np.stack([radial, along, normal], axis=1)[:, which]  # (k, 10, t, 3)
    # The frame turns at u_rate about the normal: dR/dt = u' T, dT/dt = -u' R, dN/dt ~ 0.
    unit_rates = np.stack([along, -radial, np.zeros_like(normal)], axis=1)[:, which] * u_rate[:, None, :, None]
    basis = semi_major_axis_km * values[..., None] * units
    basis_rate = semi_major_axis_km * (rates[..., None] * units + values[..., None] * unit_rates)
    return basis, basis_rate


def chief_states(chiefs: list, jd: np.ndarray, fr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TEME position (km) and velocity (km/s), (k, t, 3), of SGP4 element sets ``chiefs``."""
    errors, chief_position, chief_velocity = SatrecArray(chiefs).sgp4(jd, fr)
    if np.any(errors):
        chief, step = np.argwhere(errors)[0]
        raise PropagationError(
            f"satellite {chiefs[chief].satnum}: SGP4 error {errors[chief, step]} "
            f"({SGP4_ERRORS.get(int(errors[chief, step]), 'unknown')}) at step {step}"
        )
    return chief_position, chief_velocity


def propagate_block(block: FormationBlock, jd: np.ndarray, fr: np.ndarray, position_out: np.ndarray,
                     velocity_out: np.ndarray) -> None:
    """Fill ``position_out`` and ``velocity_out`` (k*m, t, 3; km, km/s; TEME) for one formation block."""
    chief_position, chief_velocity = chief_states(block.chiefs, jd, fr)
    chiefs, members, steps = len(block.chiefs), block.relative.count, len(jd)
    if members == 1:
        position_out[:], velocity_out[:] = chief_position, chief_velocity
        return
    basis, basis_rate = chief_basis(block, jd, fr, chief_position, chief_velocity)
    coefficients = member_coefficients(block.relative)
    for out, chief_state, functions in ((position_out, chief_position, basis), (velocity_out, chief_velocity, basis_rate)):
        stacked = out.reshape(chiefs, members, steps * 3)
        np.matmul(coefficients, functions.reshape(chiefs, -1, steps * 3), out=stacked)
        stacked += chief_state.reshape(chiefs, 1, steps * 3)


def propagate_teme(fleet: Fleet, jd: np.ndarray, fr: np.ndarray, position_km: np.ndarray | None = None, velocity_km_s: np.ndarray | None = None):
    """TEME position (km) and velocity (km/s), shape (sat, time, 3), of every satellite of ``fleet``.

    ``jd`` and ``fr`` are the two parts of the UTC Julian dates of the steps (as for
    ``Satrec.sgp4_array``). Pass ``position_km`` and
    ``velocity_km_s`` to fill preallocated arrays.
    """
    shape = (len(fleet), len(jd), 3)
    for given in (position_km, velocity_km_s):
        if given is not None and (given.shape != shape or not given.flags.c_contiguous):
            raise ValueError(f"output arrays must be C-contiguous of shape {shape}")
    position_km = np.empty(shape) if position_km is None else position_km
    velocity_km_s = np.empty(shape) if velocity_km_s is None else velocity_km_s
    row = 0
    for block in fleet.blocks:
        rows = slice(row, row + block.satellite_count)
        propagate_block(block, jd, fr, position_km[rows], velocity_km_s[rows])
        row = rows.stop
    return position_km, velocity_km_s
