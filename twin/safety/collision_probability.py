"""Probability of collision of a short encounter (2-D, Foster 1992 / Alfano 2005), hard-body radii and
the covariance assumed where a catalogue gives none.

In a short encounter the relative motion is a straight line through the encounter plane
(perpendicular to the relative velocity at the time of closest approach); the probability is the
combined position Gaussian of both objects integrated over the disk of the combined hard-body
radius ``R`` centred on the miss vector. In the principal axes of the projected covariance:

.. math::

    P_c = \\int_{-R}^{R} \\frac{e^{-(x - x_m)^2 / 2\\sigma_x^2}}{\\sqrt{2\\pi}\\,\\sigma_x}\\,
          \\frac{1}{2}\\left[\\operatorname{erfc}\\frac{|y_m| - \\sqrt{R^2 - x^2}}{\\sqrt2\\,\\sigma_y}
          - \\operatorname{erfc}\\frac{|y_m| + \\sqrt{R^2 - x^2}}{\\sqrt2\\,\\sigma_y}\\right] dx

integrated with ``x = R sin(theta)`` by composite Gauss-Legendre, with panels finer than a quarter
of the smaller standard deviation (Alfano's test case 5 has sigma 0.037 m against R = 10 m).
Checked against the NASA CARA Pc SDK's ``Pc2D_Foster`` and Alfano's and Chan's published cases in
``tests/test_safety_collision_probability.py``.

Assumptions, used where an object has no covariance of its own (both are stated in every CDM):

* **covariance**: :data:`DEFAULT_POSITION_SIGMA_RIC_KM`, a diagonal 1-sigma position uncertainty in
  the object's radial / in-track / cross-track frame. Catalogue element sets (TLEs) carry none; the
  values are of the order of the TLE errors that ESA's Space Debris Office tabulates for its
  screening (Flohrer, Krag & Klinkrad 2008, "Assessment and categorization of TLE orbit errors for
  the US SSN catalogue", AMOS): hundreds of metres radially and cross-track, about a kilometre
  in-track, a day from epoch. The fleet's own satellites fly GNSS receivers, so their operator
  ephemerides are taken to tens of metres (assumption).
* **hard-body radius**: a fleet satellite's is the radius of the sphere about a square of its bus's
  whole flown area, solar arrays plus radiators (:func:`fleet_hard_body_radius_m`): a phase-3
  ``compute-l`` bus (360 m2 of array, 300 m2 of radiator) is 18.2 m. A catalogue object's is
  :data:`CATALOG_HARD_BODY_RADIUS_M` by object type (assumption: payloads of a few metres with
  their arrays, rocket-body stages, debris fragments).

Where the 2-D method does not hold (:func:`short_encounter_min_speed_km_s`): it takes the relative path
as a straight line while the pair crosses the combined position uncertainty (Coppola 2012, AAS 12-248,
bounds that crossing in time). Take the crossing as ``±`` :data:`ENCOUNTER_SIGMAS` combined standard
deviations along the relative velocity (outside them lies 6e-7 of the Gaussian); it lasts
``2 k sigma_v / v_rel``. Relative motion bends on the orbit's time scale (Hill's equations: the mean
motion ``n``), so the path is straight while ``n`` times that duration stays below
:data:`SHORT_ENCOUNTER_MAX_TURN_RAD` (the orbit turns 11 degrees during the encounter; assumption).
Slower pairs, such as neighbours of a cluster drifting by at metres per second, get the long-encounter
probability of :mod:`twin.safety.long_encounter` (two-body Monte Carlo) instead, with its confidence interval.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfc

from twin.constants import EARTH_MU_KM3_S2

DEFAULT_POSITION_SIGMA_RIC_KM = {
    "catalog": (0.2, 1.0, 0.2),  # assumption: TLE errors a day from epoch, order of Flohrer et al. (2008)
    "fleet": (0.01, 0.03, 0.01),  # assumption: operator ephemerides from onboard GNSS
}
VELOCITY_SIGMA_PER_POSITION_SIGMA_RAD_S = 1.1e-3  # assumption: velocity 1-sigma is the position 1-sigma x the LEO orbital rate
CATALOG_HARD_BODY_RADIUS_M = {"PAYLOAD": 2.0, "ROCKET BODY": 3.0, "DEBRIS": 0.5, "UNKNOWN": 1.0}
ENCOUNTER_SIGMAS = 5.0  # the encounter spans +-5 combined sigmas along the relative velocity
SHORT_ENCOUNTER_MAX_TURN_RAD = 0.2  # assumption: mean motion x encounter duration for a straight relative path
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(8)


def fleet_hard_body_radius_m(solar_array_area_m2, radiator_area_m2):
    """Hard-body radius (m) of a satellite whose arrays and radiators span ``solar_array_area_m2 +
    radiator_area_m2``: the half-diagonal of a square of that area, ``sqrt(area / 2)``.

    >>> round(float(fleet_hard_body_radius_m(360.0, 300.0)), 1)  # phase-3 compute-l bus
    18.2
    """
    return np.sqrt((np.asarray(solar_array_area_m2, float) + np.asarray(radiator_area_m2, float)) / 2.0)


def probability_in_encounter_plane(miss_x, miss_y, sigma_x, sigma_y, radius) -> float:
    """Probability that a 2-D Gaussian (centre ``(miss_x, miss_y)``, standard deviations ``sigma_x``,
    ``sigma_y`` along the axes) falls in the disk of ``radius`` about the origin; any one length unit.

    Chan (2008) test case 1, also a test case of Orekit's ``Laas2015``:

    >>> round(probability_in_encounter_plane(0.0, 10.0, 25.0, 50.0, 5.0), 6)
    0.009742
    """
    if sigma_x < sigma_y:  # integrate along the wider axis, the narrower one goes to the erf
        miss_x, miss_y, sigma_x, sigma_y = miss_y, miss_x, sigma_y, sigma_x
    panels = int(np.clip(np.ceil(4.0 * np.pi * radius / min(sigma_x, sigma_y)), 16, 200_000))
    edges = np.linspace(-np.pi / 2, np.pi / 2, panels + 1)
    half = np.diff(edges) / 2.0
    theta = (edges[:-1] + half)[:, None] + half[:, None] * _NODES
    weights = half[:, None] * _WEIGHTS
    x = radius * np.sin(theta)
    chord = radius * np.cos(theta)
    along = np.exp(-0.5 * ((x - miss_x) / sigma_x) ** 2) / (np.sqrt(2 * np.pi) * sigma_x)
    # erf(a) + erf(b) written as erfc(-a) - erfc(b), with the miss made positive: no cancellation far in the tail.
    scale = np.sqrt(2) * sigma_y
    across = 0.5 * (erfc((abs(miss_y) - chord) / scale) - erfc((chord + abs(miss_y)) / scale))
    return float(np.sum(weights * along * across * chord))


def ric_rotation(position, velocity) -> np.ndarray:
    """Rotation (..., 3, 3) from the inertial frame of ``position``, ``velocity`` to the object's
    radial / in-track / cross-track frame (rows R, I, C)."""
    position, velocity = np.asarray(position, float), np.asarray(velocity, float)
    radial = position / np.linalg.norm(position, axis=-1, keepdims=True)
    normal = np.cross(position, velocity)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    return np.stack([radial, np.cross(normal, radial), normal], axis=-2)


def ric_to_inertial(covariance_ric, position, velocity) -> np.ndarray:
    """A position covariance (..., 3, 3), or a position-velocity one (..., 6, 6), given in the RIC frame of
    ``position``, ``velocity``, in their inertial frame (each 3x3 block rotated, as CARA's ``RIC2ECI``)."""
    covariance_ric = np.asarray(covariance_ric, float)
    rotation = ric_rotation(position, velocity)
    if covariance_ric.shape[-1] == 6:
        block = np.zeros(rotation.shape[:-2] + (6, 6))
        block[..., :3, :3] = block[..., 3:, 3:] = rotation
        rotation = block
    return np.swapaxes(rotation, -1, -2) @ covariance_ric @ rotation


def collision_probability(position_1, velocity_1, covariance_1, position_2, velocity_2, covariance_2,
                          hard_body_radius) -> float:
    """2-D probability of collision of two objects at their time of closest approach.

    Positions, velocities and 3x3 position covariances in one inertial frame, in consistent units
    (km, km/s, km2 and a radius in km, say), as the NASA CARA SDK's ``Pc2D_Foster``: the Omitron
    test case of its unit test (``Pc2D_Foster_UnitTest.m``, 20 m hard-body radius) gives 2.706e-5.
    """
    relative_position = np.asarray(position_2, float) - np.asarray(position_1, float)
    relative_velocity = np.asarray(velocity_2, float) - np.asarray(velocity_1, float)
    combined = np.asarray(covariance_1, float) + np.asarray(covariance_2, float)
    along = relative_velocity / np.linalg.norm(relative_velocity)
    normal = np.cross(relative_position, relative_velocity)
    normal /= np.linalg.norm(normal)
    plane = np.stack([np.cross(along, normal), normal])  # two unit vectors spanning the encounter plane
    miss = plane @ relative_position
    variances, axes = np.linalg.eigh(plane @ combined @ plane.T)
    miss = axes.T @ miss
    sigma = np.sqrt(np.maximum(variances, 0.0))
    if np.any(sigma <= 0):
        return float(np.hypot(*miss) <= hard_body_radius)
    return probability_in_encounter_plane(miss[0], miss[1], sigma[0], sigma[1], hard_body_radius)


def along_sigma_and_mean_motion(position_1, velocity_1, relative_velocity, combined_covariance):
    """The combined position standard deviation (km) along each relative velocity and the primary's mean motion
    (rad/s, by vis-viva); shapes as :func:`short_encounter_min_speed_km_s`."""
    position_1, velocity_1 = np.asarray(position_1, float), np.asarray(velocity_1, float)
    relative_velocity = np.asarray(relative_velocity, float)
    speed = np.linalg.norm(relative_velocity, axis=-1, keepdims=True)
    along = np.divide(relative_velocity, speed, out=np.zeros_like(relative_velocity), where=speed > 0)
    sigma_km = np.sqrt(np.einsum("...i,...ij,...j->...", along, np.asarray(combined_covariance, float), along))
    inverse_a = 2.0 / np.linalg.norm(position_1, axis=-1) - np.sum(velocity_1**2, axis=-1) / EARTH_MU_KM3_S2
    return sigma_km, np.sqrt(EARTH_MU_KM3_S2 * inverse_a**3)


def short_encounter_min_speed_km_s(position_1, velocity_1, relative_velocity, combined_covariance) -> np.ndarray:
    """Relative speed (km/s) below which the 2-D short-encounter method does not hold for each conjunction.

    ``position_1``, ``velocity_1`` (..., 3; km, km/s) the primary's inertial state (its mean motion ``n`` by
    vis-viva), ``relative_velocity`` (..., 3; km/s), ``combined_covariance`` (..., 3, 3; km2) both position
    covariances summed: ``2 k sigma_v n / turn`` with ``sigma_v`` the combined standard deviation along the relative
    velocity, ``k`` :data:`ENCOUNTER_SIGMAS` and ``turn`` :data:`SHORT_ENCOUNTER_MAX_TURN_RAD`.

    Two GNSS-tracked satellites at 622 km (10 m sigma each way, 14 m combined along any direction) need 0.76 m/s:

    >>> round(float(short_encounter_min_speed_km_s([7000.0, 0, 0], [0, 7.546, 0], [0, 0, 1e-3], np.eye(3) * 2e-4)) * 1e3, 2)
    0.76
    """
    sigma_km, mean_motion = along_sigma_and_mean_motion(position_1, velocity_1, relative_velocity, combined_covariance)
    return 2.0 * ENCOUNTER_SIGMAS * sigma_km * mean_motion / SHORT_ENCOUNTER_MAX_TURN_RAD
