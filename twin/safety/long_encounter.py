"""Probability of collision of a long (slow) encounter: two-body Monte Carlo from the states and covariances at
the time of closest approach (Alfano 2009, "Satellite Conjunction Monte Carlo Analysis", AAS 09-233; NASA CARA's
``Pc_MC_Kep2body``).

Where the 2-D method's straight relative path fails (:func:`twin.safety.collision_probability.short_encounter_min_speed_km_s`:
neighbours of a cluster drifting by at metres or centimetres per second), each conjunction's two states at TCA are
sampled :data:`MONTE_CARLO_SAMPLES` times from their Gaussian (position and velocity), every sample is propagated
by exact two-body (Kepler) motion to :data:`WINDOW_POINTS` times across the encounter window, its minimum distance
is refined between samples (:func:`twin.safety.encounter.closest_approaches`) and the samples closer than the
combined hard-body radius are counted. ``Pc`` is the fraction of hits; its 95 % Clopper-Pearson interval
(:data:`CONFIDENCE`) goes beside it. No hit gives ``Pc = 0`` with an upper bound of ``3.7 / samples``.

Why Monte Carlo rather than Coppola's (AAS 12-248) or Hall's Pc3D (CARA SDK): it makes no assumption about the
relative path (curved, slow, several close passes in the window), the only approximations are the Gaussian at TCA
and two-body motion over the window, and its error is the binomial one, stated with every value. Its cost is the
samples: 20,000 resolve a Pc of 1e-2 to about ±14 % (200 hits, 95 % interval 0.0087-0.0115) and bound one with no
hit below 1.8e-4; the screen spends them only on the conjunctions the 2-D test rejects.

Two-body motion leaves out J2 over the window. Both objects feel nearly the same J2 acceleration when they are
close: its gradient over a separation of ``d`` is of order ``J2 (R/r)^2`` (1e-3) times the central gravity
gradient ``n^2 d``, so over a quarter orbit it moves the relative path by about 1e-3 of the separation (a metre at
1 km), below the hard-body radius; ``tests/test_safety_long_encounter.py`` checks it against Cowell propagation with
J2. The window of a slow encounter is a quarter orbit either side of TCA (as CARA's ``Pc3D_Hall`` limits it,
``Torblimit``): the pair's next approach, half an orbit later, is a conjunction of its own. A short one's (the
Monte Carlo is checked against the 2-D Pc on those) is the time to cross ``±`` :data:`ENCOUNTER_SIGMAS` combined
standard deviations along the relative velocity (:func:`encounter_half_window_s`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import beta

from twin.constants import EARTH_MU_KM3_S2
from twin.safety.collision_probability import ENCOUNTER_SIGMAS, SHORT_ENCOUNTER_MAX_TURN_RAD, along_sigma_and_mean_motion
from twin.safety.encounter import closest_approaches

MONTE_CARLO_SAMPLES = 20_000
WINDOW_POINTS = 17  # sample times across the window (a quarter orbit: 3 min apart); refined between them by cubic Hermite
CONFIDENCE = 0.95
CHUNK_SAMPLES = 40_000  # samples propagated at once (memory: about 40 MB per array of positions)
METHOD = "ALFANO_MC-2009"  # CDM name in the SANA registry's AUTHOR_DESCRIPTOR-YEAR form (the registry lists no Monte Carlo)
_KEPLER_ITERATIONS = 30


@dataclass
class MonteCarloProbability:
    """Per conjunction: the probability (hits / samples), its :data:`CONFIDENCE` interval (``low``, ``high``),
    the hits, the samples drawn and the half-width (s) of the window searched."""

    probability: np.ndarray
    low: np.ndarray
    high: np.ndarray
    hits: np.ndarray
    samples: int
    half_window_s: np.ndarray


def _stumpff(psi):
    """Stumpff functions c2, c3 of ``psi >= 0`` (elliptic orbits), by their series near zero."""
    small = psi < 1e-2
    root = np.sqrt(np.where(small, 1.0, psi))
    c2 = np.where(small, 0.5 - psi / 24 + psi**2 / 720 - psi**3 / 40320 + psi**4 / 3628800,
                  (1 - np.cos(root)) / np.where(small, 1.0, psi))
    c3 = np.where(small, 1 / 6 - psi / 120 + psi**2 / 5040 - psi**3 / 362880 + psi**4 / 39916800,
                  (root - np.sin(root)) / np.where(small, 1.0, psi) ** 1.5)
    return c2, c3


def kepler_propagate(position_km, velocity_km_s, dt_s, mu_km3_s2: float = EARTH_MU_KM3_S2):
    """Two-body positions (km) and velocities (km/s) ``dt_s`` (s) after the states ``position_km``, ``velocity_km_s``
    (..., 3), broadcast together; elliptic orbits, by the universal variable and Lagrange's f and g (Vallado,
    *Fundamentals of Astrodynamics*, algorithm 8).

    A circular orbit turns by its mean motion:

    >>> p, v = kepler_propagate([7000.0, 0, 0], [0, np.sqrt(EARTH_MU_KM3_S2 / 7000.0), 0], 600.0)
    >>> angle = 600.0 * np.sqrt(EARTH_MU_KM3_S2 / 7000.0**3)
    >>> bool(np.allclose(p, [7000 * np.cos(angle), 7000 * np.sin(angle), 0], atol=1e-9))
    True
    """
    position, velocity = np.asarray(position_km, float), np.asarray(velocity_km_s, float)
    dt = np.asarray(dt_s, float)
    r0 = np.linalg.norm(position, axis=-1)
    root_mu = np.sqrt(mu_km3_s2)
    alpha = 2.0 / r0 - np.sum(velocity**2, axis=-1) / mu_km3_s2
    sigma0 = np.sum(position * velocity, axis=-1) / root_mu
    shape = np.broadcast_shapes(r0.shape, dt.shape)
    chi = np.broadcast_to(root_mu * alpha * dt, shape).copy()
    for _ in range(_KEPLER_ITERATIONS):
        psi = chi**2 * alpha
        c2, c3 = _stumpff(psi)
        radius = chi**2 * c2 + sigma0 * chi * (1 - psi * c3) + r0 * (1 - psi * c2)
        residual = sigma0 * chi**2 * c2 + (1 - alpha * r0) * chi**3 * c3 + r0 * chi - root_mu * dt
        step = residual / radius
        chi = chi - step
        if np.all(np.abs(step) <= 1e-13 * np.maximum(np.abs(chi), 1.0)):
            break
    psi = chi**2 * alpha
    c2, c3 = _stumpff(psi)
    radius = chi**2 * c2 + sigma0 * chi * (1 - psi * c3) + r0 * (1 - psi * c2)
    f = 1 - chi**2 * c2 / r0
    g = dt - chi**3 * c3 / root_mu
    f_dot = root_mu * chi * (psi * c3 - 1) / (radius * r0)
    g_dot = 1 - chi**2 * c2 / radius
    return (f[..., None] * position + g[..., None] * velocity, f_dot[..., None] * position + g_dot[..., None] * velocity)


def encounter_half_window_s(position_1, velocity_1, relative_velocity, combined_covariance) -> np.ndarray:
    """Half-width (s) of the window a conjunction's Monte Carlo searches: for a short encounter (the straight
    crossing of ``±k sigma_v`` at ``v_rel`` turns the orbit by less than
    :data:`twin.safety.collision_probability.SHORT_ENCOUNTER_MAX_TURN_RAD`; ``k`` :data:`ENCOUNTER_SIGMAS`, ``sigma_v``
    the combined position standard deviation along the relative velocity) that crossing, ``k sigma_v / v_rel``;
    for a long one a quarter of the primary's orbital period, since its curved path can come back within the
    uncertainty long after the straight crossing would have left it (Alfano's case 4: a window of the crossing,
    8,000 s, finds 11 % fewer hits than CARA's quarter orbit).

    Two GNSS-tracked satellites at 622 km (14 m combined) drifting apart at 1 cm/s: the quarter orbit, 1457 s.

    >>> round(float(encounter_half_window_s([7000.0, 0, 0], [0, 7.546, 0], [0, 0, 1e-5], np.eye(3) * 2e-4)))
    1457
    """
    sigma_km, mean_motion = along_sigma_and_mean_motion(position_1, velocity_1, relative_velocity, combined_covariance)
    speed = np.linalg.norm(np.asarray(relative_velocity, float), axis=-1)
    quarter_orbit_s = 0.5 * np.pi / mean_motion
    crossing_s = np.divide(ENCOUNTER_SIGMAS * sigma_km, speed, out=np.full_like(speed, np.inf), where=speed > 0)
    short = 2.0 * crossing_s * mean_motion < SHORT_ENCOUNTER_MAX_TURN_RAD
    return np.where(short, crossing_s, quarter_orbit_s)


def _sample_roots(covariance) -> np.ndarray:
    """Matrix roots ``L`` (..., 6, 6) with ``L L^T`` the covariance (negative eigenvalues of round-off clipped)."""
    values, vectors = np.linalg.eigh(np.asarray(covariance, float))
    return vectors * np.sqrt(np.clip(values, 0.0, None))[..., None, :]


def monte_carlo_probability(states, covariances, hard_body_radius_km, half_window_s=None,
                            samples: int = MONTE_CARLO_SAMPLES, seed: int = 0) -> MonteCarloProbability:
    """Two-body Monte Carlo probability of collision of each conjunction.

    ``states`` (n, 2, 6): both objects' inertial positions (km) and velocities (km/s) at TCA; ``covariances``
    (n, 2, 6, 6) their position-velocity covariances in that frame (km2, km2/s, km2/s2); ``hard_body_radius_km`` (n,)
    the combined radius; ``half_window_s`` (n,) the window either side of TCA (default
    :func:`encounter_half_window_s`); ``samples`` per conjunction; ``seed`` makes the draw repeatable.
    Raises ``ValueError`` naming ``samples`` if it is below 1.
    """
    if int(samples) < 1:
        raise ValueError(f"samples: {samples!r} must be at least 1")
    states = np.asarray(states, float).reshape(-1, 2, 6)
    covariances = np.asarray(covariances, float).reshape(-1, 2, 6, 6)
    count = len(states)
    radius_km = np.broadcast_to(np.asarray(hard_body_radius_km, float), (count,))
    if half_window_s is None:
        half_window_s = encounter_half_window_s(states[:, 0, :3], states[:, 0, 3:], states[:, 1, 3:] - states[:, 0, 3:],
                                                covariances[:, 0, :3, :3] + covariances[:, 1, :3, :3])
    half_window_s = np.broadcast_to(np.asarray(half_window_s, float), (count,))
    roots = _sample_roots(covariances)  # (n, 2, 6, 6)
    rng = np.random.default_rng(seed)
    hits = np.zeros(count, dtype=np.int64)
    per_chunk = max(1, CHUNK_SAMPLES // max(samples, 1))  # conjunctions per chunk when samples are few
    grid = np.linspace(-1.0, 1.0, WINDOW_POINTS)
    for first in range(0, count, per_chunk):
        rows = np.arange(first, min(first + per_chunk, count))
        for start in range(0, samples, CHUNK_SAMPLES):
            drawn = min(CHUNK_SAMPLES, samples - start)
            normal = rng.standard_normal((len(rows), drawn, 2, 6))
            sampled = states[rows, None] + np.einsum("nkij,nskj->nski", roots[rows], normal)  # (rows, drawn, 2, 6)
            times = np.broadcast_to((half_window_s[rows, None] * grid)[:, None, :], (len(rows), drawn, WINDOW_POINTS))
            position, velocity = kepler_propagate(sampled[..., None, :, :3], sampled[..., None, :, 3:], times[..., None])
            hits[rows] += _hits(times, position, velocity, radius_km[rows]).sum(axis=1)
    low, high = clopper_pearson(hits, samples)
    return MonteCarloProbability(hits / samples, low, high, hits, samples, np.array(half_window_s))


def _hits(times, position, velocity, radius_km) -> np.ndarray:
    """Whether each sample pair (rows, samples) comes within ``radius_km`` (rows,) in its window: states (rows,
    samples, points, 2, 3) at ``times`` (rows, samples, points). Only pairs whose sampled range could dip below the
    radius between samples (the range falls at most the relative speed times a sample spacing) are refined."""
    rows, drawn, points = times.shape
    relative = (position[..., 1, :] - position[..., 0, :]).reshape(-1, points, 3)
    relative_velocity = (velocity[..., 1, :] - velocity[..., 0, :]).reshape(-1, points, 3)
    sampled_km = np.sqrt(np.min(np.sum(relative**2, axis=-1), axis=-1))
    spacing_s = np.repeat(times[:, 0, 1] - times[:, 0, 0], drawn)
    reach_km = np.max(np.linalg.norm(relative_velocity, axis=-1), axis=-1) * spacing_s
    radius = np.repeat(radius_km, drawn)
    hit = sampled_km <= radius
    near = np.flatnonzero(~hit & (sampled_km - reach_km <= radius))
    if len(near):
        flat = lambda array, k: array[..., k, :].reshape(-1, points, 3)[near]
        found = closest_approaches(times.reshape(-1, points)[near], flat(position, 0), flat(velocity, 0),
                                   flat(position, 1), flat(velocity, 1))
        hit[near] = found.miss_distance_km <= radius[near]
    return hit.reshape(rows, drawn)


def clopper_pearson(hits, samples: int, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) binomial interval of ``hits`` out of ``samples``, as MATLAB's ``binofit`` that CARA uses.

    >>> [round(float(x), 6) for x in clopper_pearson(0, 1000)]
    [0.0, 0.003682]
    """
    hits = np.asarray(hits, float)
    tail = (1.0 - confidence) / 2.0
    low = np.where(hits > 0, beta.ppf(tail, np.maximum(hits, 1), samples - hits + 1), 0.0)
    high = np.where(hits < samples, beta.ppf(1 - tail, hits + 1, np.maximum(samples - hits, 1)), 1.0)
    return low, high
