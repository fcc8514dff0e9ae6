"""The orbit and sunlight layer, computed formation by formation.

Chiefs are computed exactly: SGP4, rotation to GCRS and ITRS, WGS-84 geodetic coordinates, beta
angle, umbra and penumbra. A member of a formation flies within a kilometre or two of its chief,
and its relative motion is a fixed combination of ten basis vectors of the chief
(:func:`twin.orbit.propagation.chief_basis`). So each member quantity is its chief's plus a linear map:
the basis is rotated to GCRS and ITRS, projected on the geodetic Jacobian and on the derivative of
the beta angle once per chief and step, and one matrix product per quantity gives every member.

* position and velocity: exactly the linear relative motion (rotations are linear);
* latitude, longitude, height: first order in the offset; the neglected term is offset^2 / R,
  under 0.3 m for a 2 km offset (``tests/test_orbit_layer.py`` measures it);
* beta angle: first order in the offset (angles of order offset / r: under 1e-6 deg neglected);
* illumination: exact. A member's shadow angles differ from its chief's by at most about
  ``4 d / r`` for an offset ``d``; wherever the chief is farther than that from a shadow boundary
  every member shares its 0 or 1, elsewhere (about one step in a hundred) members are computed
  one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from astropy.time import Time

from twin.constants import EARTH_ECCENTRICITY_SQUARED, EARTH_EQUATORIAL_RADIUS_KM
from twin.orbit.fleet import Fleet, FormationBlock
from twin.orbit.frames import EarthOrientation, geodetic, rotate
from twin.orbit.propagation import chief_basis, chief_states, member_coefficients
from twin.orbit.sunlight import beta_angle_deg, illumination, shadow_geometry, sun_position_gcrs_m
from twin.timegrid import julian_dates

CHIEF_STEPS_PER_CHUNK = 200_000  # chiefs x steps handled at once: bounds the basis arrays (about 1 kB each)
T_TERMS = (4, 9)  # basis functions that grow with time (drift terms) in member_coefficients' order
DEGREES = 180.0 / np.pi


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("...k,...k->...", a, b)


def offset_bound_m(block: FormationBlock, elapsed_max_s: float) -> float:
    """Largest distance (m) of any member from its chief over the run, bounded from the coefficients."""
    coefficients = np.abs(member_coefficients(block.relative))
    scale = np.ones(coefficients.shape[1])
    scale[list(T_TERMS)] = max(elapsed_max_s, 1.0)
    semi_major_axis_m = max(chief.a * chief.radiusearthkm for chief in block.chiefs) * 1e3
    return float(semi_major_axis_m * (coefficients * scale).sum(axis=1).max())


def _geodetic_jacobian(latitude_deg: np.ndarray, longitude_deg: np.ndarray, height_m: np.ndarray):
    """Rows (k, t, 3) that turn an ITRS offset (m) into (latitude deg, longitude deg, height m) offsets."""
    lat, lon = np.radians(latitude_deg), np.radians(longitude_deg)
    sin_lat, cos_lat, sin_lon, cos_lon = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    a, e2 = EARTH_EQUATORIAL_RADIUS_KM * 1e3, EARTH_ECCENTRICITY_SQUARED
    w = np.sqrt(1.0 - e2 * sin_lat**2)
    meridian_m = a * (1.0 - e2) / w**3 + height_m
    prime_m = a / w + height_m
    north = np.stack([-sin_lat * cos_lon, -sin_lat * sin_lon, cos_lat], axis=-1)
    east = np.stack([-sin_lon, cos_lon, np.zeros_like(lon)], axis=-1)
    up = np.stack([cos_lat * cos_lon, cos_lat * sin_lon, sin_lat], axis=-1)
    return north * (DEGREES / meridian_m)[..., None], east * (DEGREES / (prime_m * cos_lat))[..., None], up


def _linear(coefficients: np.ndarray, basis: np.ndarray, chief: np.ndarray, out: np.ndarray) -> None:
    """``out`` (k*m, t[, 3]) = chief value + coefficients (m, 10) @ basis (k, 10, t[, 3]), one BLAS product per chief."""
    chiefs, members = basis.shape[0], coefficients.shape[0]
    stacked = out.reshape(chiefs, members, -1)
    np.matmul(coefficients, basis.reshape(chiefs, basis.shape[1], -1), out=stacked)
    stacked += chief.reshape(chiefs, 1, -1)


def fill_block(block: FormationBlock, jd: np.ndarray, fr: np.ndarray, to_gcrs_m: np.ndarray, to_itrs_m: np.ndarray,
               sun_m: np.ndarray, elapsed_max_s: float, out: dict[str, np.ndarray]) -> None:
    """Fill the orbit-layer arrays ``out`` (rows of this block's satellites, all steps) for one formation block.

    ``to_gcrs_m`` and ``to_itrs_m`` (t, 3, 3) turn TEME km into GCRS and ITRS m; ``sun_m`` (t, 3) is
    the Sun in GCRS. ``out`` holds ``position``, ``velocity`` (k*m, t, 3), ``latitude``,
    ``longitude``, ``altitude``, ``illumination``, ``beta_angle`` (k*m, t).
    """
    members = block.relative.count
    chunk = max(1, CHIEF_STEPS_PER_CHUNK // max(len(jd), 1))
    for first in range(0, len(block.chiefs), chunk):
        part = FormationBlock(block.chiefs[first:first + chunk], block.relative)
        rows = slice(first * members, (first + len(part.chiefs)) * members)
        _fill_chunk(part, jd, fr, to_gcrs_m, to_itrs_m, sun_m, elapsed_max_s,
                    {name: values[rows] for name, values in out.items()})


def _fill_chunk(block, jd, fr, to_gcrs_m, to_itrs_m, sun_m, elapsed_max_s, out) -> None:
    position_teme, velocity_teme = chief_states(block.chiefs, jd, fr)
    position, velocity = rotate(to_gcrs_m, position_teme), rotate(to_gcrs_m, velocity_teme)
    latitude, longitude, height = geodetic(rotate(to_itrs_m, position_teme))
    beta = beta_angle_deg(position, velocity, sun_m)
    members = block.relative.count
    if members == 1:
        out["position"][:], out["velocity"][:] = position, velocity
        out["latitude"][:], out["longitude"][:], out["altitude"][:] = latitude, longitude, height
        out["beta_angle"][:] = beta
        illumination(position, sun_m, out=out["illumination"])
        return

    coefficients = member_coefficients(block.relative)
    basis_km, basis_rate_km_s = chief_basis(block, jd, fr, position_teme, velocity_teme)
    basis, basis_rate = rotate(to_gcrs_m, basis_km), rotate(to_gcrs_m, basis_rate_km_s)
    _linear(coefficients, basis, position, out["position"])
    _linear(coefficients, basis_rate, velocity, out["velocity"])

    basis_itrs = rotate(to_itrs_m, basis_km)
    north, east, up = (row[:, None] for row in _geodetic_jacobian(latitude, longitude, height))
    _linear(coefficients, _dot(basis_itrs, north), latitude, out["latitude"])
    _linear(coefficients, _dot(basis_itrs, east), longitude, out["longitude"])
    np.mod(out["longitude"] + 180.0, 360.0, out=out["longitude"])
    out["longitude"] -= 180.0
    _linear(coefficients, _dot(basis_itrs, up), height, out["altitude"])
    del basis_itrs

    # Beta: sin(beta) = h_hat . s; a member's momentum h changes by B x v + r x dB/dt to first order.
    momentum = np.cross(position, velocity)
    momentum_norm = np.linalg.norm(momentum, axis=-1)
    momentum_hat = momentum / momentum_norm[..., None]
    sun_hat = sun_m / np.linalg.norm(sun_m, axis=-1, keepdims=True)
    sin_beta = np.sin(np.radians(beta))
    change = np.cross(basis, velocity[:, None]) + np.cross(position[:, None], basis_rate)
    sensitivity = (_dot(change, sun_hat) - sin_beta[:, None] * _dot(change, momentum_hat[:, None])) / momentum_norm[:, None]
    _linear(coefficients, sensitivity, sin_beta, out["beta_angle"])
    np.clip(out["beta_angle"], -1.0, 1.0, out=out["beta_angle"])
    np.degrees(np.arcsin(out["beta_angle"], out=out["beta_angle"]), out=out["beta_angle"])
    del change, sensitivity

    _member_illumination(position, sun_m, offset_bound_m(block, elapsed_max_s), members, out)


def _member_illumination(chief_position: np.ndarray, sun_m: np.ndarray, offset_m: float, members: int,
                         out: dict[str, np.ndarray]) -> None:
    """Members share their chief's 0 or 1 away from shadow boundaries and are computed exactly near them."""
    sun_radius, earth_radius, separation = shadow_geometry(chief_position, sun_m)
    radius = np.linalg.norm(chief_position, axis=-1)
    margin = 4.2 * offset_m / radius  # a member's angles c and b move by at most d/r and 2d/r (+5 %)
    sunlit = separation - (earth_radius + sun_radius) > margin
    umbra = (earth_radius - sun_radius) - separation > margin
    chiefs, steps = sunlit.shape
    fraction = out["illumination"].reshape(chiefs, members, steps)
    fraction[:] = np.where(sunlit, 1.0, 0.0)[:, None, :]
    chief_index, step_index = np.nonzero(~(sunlit | umbra))
    if chief_index.size:
        rows = (chief_index[:, None] * members + np.arange(members)[None, :]).ravel()
        steps_of = np.repeat(step_index, members)
        points = out["position"][rows, steps_of]
        out["illumination"][rows, steps_of] = illumination(points, sun_m[steps_of])


ORBIT_VARIABLES = ("position", "velocity", "latitude", "longitude", "altitude", "illumination", "beta_angle")


@dataclass(frozen=True)
class OrbitFrames:
    """What every satellite's orbit layer shares at each time: TEME km to GCRS and ITRS m (t, 3, 3),
    the Sun in GCRS (t, 3; m) and the Julian dates (two parts) of the steps.

    Both are interpolated between nodes spread over the whole run, so a run computed in pieces of
    time (:mod:`twin.run.scale_out`) slices one ``OrbitFrames`` to get the same numbers.
    """

    to_gcrs_m: np.ndarray
    to_itrs_m: np.ndarray
    sun_m: np.ndarray
    jd: np.ndarray
    fr: np.ndarray

    @classmethod
    def at(cls, start: Time, offsets_s: np.ndarray) -> OrbitFrames:
        orientation = EarthOrientation(start, offsets_s)
        jd, fr = julian_dates(start, offsets_s)
        return cls(orientation.teme_to_gcrs * 1e3, orientation.teme_to_itrs * 1e3, sun_position_gcrs_m(start, offsets_s),
                   jd, fr)

    def __getitem__(self, times: slice) -> OrbitFrames:
        return OrbitFrames(self.to_gcrs_m[times], self.to_itrs_m[times], self.sun_m[times], self.jd[times], self.fr[times])


def elapsed_max_s(fleet: Fleet, frames: OrbitFrames) -> float:
    """Longest time (s) between any chief's element epoch and any step: bounds the members' drift terms."""
    epochs = np.array([chief.jdsatepoch + chief.jdsatepochF for block in fleet.blocks for chief in block.chiefs])
    times = frames.jd + frames.fr
    return float(max(np.abs(times.max() - epochs.min()), np.abs(times.min() - epochs.max())) * 86400.0)


def fill_orbits(fleet: Fleet, frames: OrbitFrames, drift_s: float, out: dict[str, np.ndarray],
                block_done: Callable[[], None] | None = None) -> None:
    """Fill the orbit-layer arrays ``out`` (every satellite of ``fleet``, every time of ``frames``),
    formation block by formation block, calling ``block_done()`` after each; ``drift_s`` is
    :func:`elapsed_max_s` of the whole run."""
    row = 0
    for block in fleet.blocks:
        rows = slice(row, row + block.satellite_count)
        fill_block(block, frames.jd, frames.fr, frames.to_gcrs_m, frames.to_itrs_m, frames.sun_m, drift_s,
                   {name: values[rows] for name, values in out.items()})
        row = rows.stop
        if block_done:
            block_done()
