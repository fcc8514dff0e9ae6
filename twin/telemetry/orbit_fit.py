"""Re-estimate satellites' SGP4 element sets from their GNSS fixes: differential correction.

Batch least squares on SGP4's own mean elements, as in Vallado & Crawford, "SGP4 Orbit
Determination", AIAA 2008-6770: the element set whose SGP4 positions best fit the fixes, found by
Gauss-Newton iterations from a prior element set, with the partial derivatives of SGP4 taken by
finite differences. Every satellite is an independent problem; they are solved side by side,
one :class:`sgp4.api.SatrecArray` call (satellites x times) per perturbed element and one
batched solve of the normal equations per step.

The solved-for parameters are equinoctial, not the classical elements, so that near-circular
orbits (the fleet's ``e ~ 0.001``) and low inclinations are well conditioned:

.. math::

    n,\\quad f = e\\cos(\\omega+\\Omega),\\quad g = e\\sin(\\omega+\\Omega),\\quad
    h = \\tan(i/2)\\cos\\Omega,\\quad k = \\tan(i/2)\\sin\\Omega,\\quad L = M + \\omega + \\Omega

(Kozai mean motion ``n`` as SGP4 takes it, rad/min), plus ``bstar`` when asked for. The epoch,
gravity model, operation mode, catalogue number and the TLE bookkeeping fields stay the prior's.
``L`` is an unbounded angle (no wrap problem). Eccentricity is kept in [1e-6, 0.99]: SGP4 itself
propagates any smaller mean eccentricity as 1e-6 (``sgp4fix``: ``if em < 1.0e-6: em = 1.0e-6``),
so below it the model is flat and its derivatives wrong. A satellite at that floor whose step
would lower the eccentricity further is solved with the eccentricity's size held (its direction
still free), and finite differences in ``f`` and ``g`` always move the eccentricity outward. The
only singular orbit is the retrograde equatorial one (``i = 180 deg``).

Fixes are ITRS (Earth-fixed) positions; they are rotated once per time into TEME, SGP4's frame,
with :class:`twin.orbit.frames.EarthOrientation` (astropy at hourly nodes, below a millimetre of
astropy's own transformation). Residuals are isotropic, so the fit is the same in either frame.

Each step is Levenberg-Marquardt damped: the Gauss-Newton step is tried first and, where it does
not lower a satellite's sum of squared residuals, retried with Marquardt's damping raised tenfold
(up to :data:`TRIALS_PER_ITERATION` times). A satellite has converged when the undamped
Gauss-Newton step would move its fitted positions by less than ``tolerance_m`` (RMS over the
fixes used) and its set of used fixes did not change. The Jacobian is recomputed only after a step
that moved the positions by more than :data:`JACOBIAN_REUSE_M` or after a failed step: from a prior
tens of kilometres off, two Jacobians and three or four steps in all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.time import Time
from sgp4.api import WGS72, WGS72OLD, WGS84, Satrec, SatrecArray

from twin.orbit.fleet import SGP4_EPOCH_JD
from twin.orbit.frames import EarthOrientation, rotate
from twin.timegrid import julian_dates

# A satellite needs this many fixes to be fitted (12 equations for 6 or 7 parameters).
MIN_FIXES = 4
# Outlier screening: from this iteration on (after the first step has removed most of the prior's
# error), a fix whose residual exceeds OUTLIER_SIGMAS robust sigmas gets weight zero. The robust
# sigma per axis is the median residual norm over the satellite's fixes divided by the median of
# the chi distribution with 3 degrees of freedom (the norm of an isotropic 3-D Gaussian of unit
# sigma), floored at OUTLIER_FLOOR_M so that near-perfect fixes are not cut at a micrometre.
OUTLIER_FIRST_ITERATION = 1
OUTLIER_SIGMAS = 5.0
OUTLIER_FLOOR_M = 1.0
CHI3_MEDIAN = 1.5381722544550522  # scipy.stats.chi(3).median()
ECCENTRICITY_MIN, ECCENTRICITY_MAX = 1e-6, 0.99  # SGP4's own floor; 0.99 keeps clear of parabolic
# Finite-difference steps: relative for mean motion, absolute for f, g, h, k, L (rad-like: 1e-7
# moves a LEO position by about 0.7 m, far above SGP4's round-off and far below any curvature),
# and for bstar (1 / Earth radii).
MEAN_MOTION_RELATIVE_STEP = 1e-7
ELEMENT_STEP = 1e-7
BSTAR_STEP = 1e-6
# Marquardt damping on the normal equations scaled to a unit diagonal: 0 is plain Gauss-Newton.
DAMPING_FIRST, DAMPING_MAX = 1e-4, 1e8
TRIALS_PER_ITERATION = 8
# The Jacobian is recomputed after a step that moved the positions by more than this, or after a
# failed step; a smaller move turns it by under 1e-4 rad (1 km / 7,000 km), which slows nothing
# and shifts the solution by under a millimetre, and saves six propagations per iteration.
JACOBIAN_REUSE_M = 1000.0

# Gravity models by (Earth radius km, mu km^3/s^2), as sgp4's getgravconst defines them.
_GRAVITY_MODELS = {(6378.135, 398600.8): WGS72, (6378.137, 398600.5): WGS84, (6378.135, 398600.79964): WGS72OLD}
_TLE_FIELDS = ("classification", "intldesg", "elnum", "revnum", "ephtype")


@dataclass(frozen=True)
class OrbitFit:
    """The result of :func:`fit_orbits`, one entry per satellite in the order of the priors.

    ``satrecs`` are the fitted element sets; a satellite that could not be fitted (fewer than
    :data:`MIN_FIXES` fixes, a prior SGP4 cannot propagate over the fixes) keeps its prior object.
    A satellite that did not converge within the iterations keeps its best element set so far.
    ``rms_m`` is the RMS of the 3-D position residual (m) over the ``fixes_used`` fixes: the fixes
    left after outlier screening for a fitted satellite, all its fixes (against the prior) for one
    that could not be fitted (NaN without any fix, or where SGP4 cannot propagate the prior).
    ``iterations`` counts the iterations (normal equations solved) of the slowest satellite.
    """

    satrecs: list
    rms_m: np.ndarray
    fixes_used: np.ndarray
    converged: np.ndarray
    iterations: int


def fit_orbits(priors: list[Satrec], times: np.ndarray, positions_itrs_m: np.ndarray, *,
               max_iterations: int = 10, tolerance_m: float = 0.01, fit_bstar: bool = False) -> OrbitFit:
    """Fit each satellite's SGP4 element set to its GNSS fixes (differential correction).

    Parameters
    ----------
    priors : list of sgp4.api.Satrec
        One prior element set per satellite; its epoch is kept and its elements are the start.
    times : numpy.ndarray
        UTC times of the fixes, datetime64, shape (time,), strictly increasing.
    positions_itrs_m : numpy.ndarray
        GNSS fixes, ITRS (Earth-fixed) positions in metres, shape (sat, time, 3); NaN where a
        satellite has no fix at a time.
    max_iterations : int
        Most iterations (normal equations solved) per satellite.
    tolerance_m : float
        Convergence: the next Gauss-Newton step moves the fitted positions by less than this (m RMS).
    fit_bstar : bool
        Also solve for SGP4's drag term ``bstar``; otherwise the prior's is kept.

    Returns
    -------
    OrbitFit

    Notes
    -----
    Outliers: from the second iteration on, fixes whose residual norm exceeds
    ``OUTLIER_SIGMAS`` (5) robust sigmas (the median residual norm / 1.538, floored at 1 m) are
    down-weighted to zero, re-decided at every iteration from all of a satellite's fixes, so a fix
    rejected early can come back. Missing fixes (NaN) have weight zero.

    Cost: a Jacobian propagates every satellite that needs one over every time once per parameter,
    and every trial step once more (``SatrecArray``, one core, about 0.5 s per million states);
    each perturbed element set is built by ``sgp4init`` in a Python loop, about 2 us a satellite,
    negligible beside the propagation. 1,000 satellites x 1,000 fixes, priors tens of kilometres
    off: 16 propagations, about 10 s, three quarters of it in SGP4. Memory: the Jacobian,
    8 bytes x parameters x sat x time x 3 (144 MB for 1,000 x 1,000, 168 MB with bstar).
    """
    priors = _checked_satrecs(priors, "priors")
    times_ns = _checked_times(times)
    fixes = _checked_fixes(positions_itrs_m, len(priors), times_ns.size)
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, (int, np.integer)) or max_iterations < 1:
        raise ValueError(f"max_iterations: {max_iterations!r} must be a whole number of at least 1")
    if not (isinstance(tolerance_m, (int, float, np.number)) and np.isfinite(tolerance_m) and tolerance_m > 0):
        raise ValueError(f"tolerance_m: {tolerance_m!r} must be a positive number of metres")

    jd, fr, orientation = _time_axis(times_ns)
    available = np.isfinite(fixes).all(axis=-1)
    observed = rotate(orientation.teme_to_itrs.swapaxes(-1, -2), np.where(available[..., None], fixes, 0.0))
    sat_count, parameter_count = len(priors), 7 if fit_bstar else 6
    parameters = _parameters(priors, fit_bstar)

    weights = available.copy()
    model = np.full(observed.shape, np.nan)
    cost = np.full(sat_count, np.inf)
    active = available.sum(axis=1) >= MIN_FIXES
    rows = np.flatnonzero(active)
    if rows.size:
        model[rows] = _positions_teme_m(_element_sets([priors[i] for i in rows], parameters[rows], fit_bstar), jd, fr)
        cost[rows] = _cost(observed[rows], model[rows], weights[rows])
    active &= np.isfinite(cost)
    fittable = active.copy()
    converged = np.zeros(sat_count, dtype=bool)
    stepped = np.zeros(sat_count, dtype=bool)
    damping = np.zeros(sat_count)
    jacobian = np.zeros((sat_count, parameter_count) + observed.shape[1:]) if fittable.any() else None
    refresh = fittable.copy()  # the Jacobian must be (re)computed at the current parameters
    stale = np.zeros(sat_count, dtype=bool)  # the Jacobian was computed at earlier parameters
    iterations = 0
    for iteration in range(max_iterations):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        iterations = iteration + 1
        screened = iteration >= OUTLIER_FIRST_ITERATION
        changed = np.zeros(rows.size, dtype=bool)
        if screened:
            kept = _screen(observed[rows] - model[rows], available[rows])
            changed = (kept != weights[rows]).any(axis=1)
            weights[rows] = kept
            cost[rows] = _cost(observed[rows], model[rows], kept)
        renew = rows[refresh[rows]]
        if renew.size:
            jacobian[renew] = _jacobian([priors[i] for i in renew], parameters[renew], model[renew], available[renew],
                                        jd, fr, fit_bstar)
            refresh[renew], stale[renew] = False, False
        normal, rhs = _normal_equations(jacobian[rows], observed[rows] - model[rows], weights[rows])
        usable = np.isfinite(normal).all(axis=(1, 2)) & np.isfinite(rhs).all(axis=1)
        normal[~usable], rhs[~usable] = np.eye(parameter_count), 0.0
        small = _moves_m(_solve(normal, rhs, np.zeros(rows.size), parameters[rows]), normal, weights[rows]) < tolerance_m
        done = usable & small & screened & ~changed
        converged[rows[done]] = True
        active[rows[~usable | done]] = False
        trying = np.flatnonzero(usable & ~small)
        for _ in range(TRIALS_PER_ITERATION):
            if trying.size == 0:
                break
            satellites = rows[trying]
            step = _solve(normal[trying], rhs[trying], damping[satellites], parameters[satellites])
            candidate = parameters[satellites] + step
            valid = _limit(candidate)
            new_model = np.full((trying.size,) + observed.shape[1:], np.nan)
            if valid.any():
                new_model[valid] = _positions_teme_m(
                    _element_sets([priors[i] for i in satellites[valid]], candidate[valid], fit_bstar), jd, fr)
            new_cost = np.where(valid, _cost(observed[satellites], new_model, weights[satellites]), np.inf)
            better = new_cost < cost[satellites]
            accepted = satellites[better]
            parameters[accepted], model[accepted], cost[accepted] = candidate[better], new_model[better], new_cost[better]
            stepped[accepted], stale[accepted] = True, True
            refresh[accepted] = _moves_m(step[better], normal[trying[better]], weights[accepted]) > JACOBIAN_REUSE_M
            damping[accepted] = np.where(damping[accepted] > DAMPING_FIRST, damping[accepted] / 10.0, 0.0)
            rejected = satellites[~better]
            damping[rejected] = np.maximum(damping[rejected] * 10.0, DAMPING_FIRST)
            trying = trying[~better][damping[rejected] <= DAMPING_MAX]
        failed = rows[trying]  # no trial lowered the residual: a stale Jacobian is the first suspect
        refresh[failed] |= stale[failed]

    satrecs = list(priors)
    fitted = np.flatnonzero(fittable & stepped)
    for index, satrec in zip(fitted, _element_sets([priors[i] for i in fitted], parameters[fitted], fit_bstar)):
        satrecs[index] = satrec
    unfitted = np.flatnonzero(~(fittable & stepped))
    if unfitted.size:  # the priors themselves, against all their fixes (or the screened ones if fitted)
        model[unfitted] = _positions_teme_m([priors[i] for i in unfitted], jd, fr)
    used = weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rms_m = np.sqrt(_cost(observed, model, weights) / used)
    rms_m[~np.isfinite(rms_m)] = np.nan
    return OrbitFit(satrecs=satrecs, rms_m=rms_m, fixes_used=used.astype(int), converged=converged,
                    iterations=iterations)


def predicted_positions_itrs_m(satrecs: list[Satrec], times: np.ndarray) -> np.ndarray:
    """ITRS positions (m), shape (sat, time, 3), of SGP4 element sets at UTC ``times`` (datetime64).

    The model side of the fit's residuals: ``positions_itrs_m - predicted_positions_itrs_m(...)``.
    NaN where SGP4 cannot propagate a satellite (for example a decayed orbit).
    """
    satrecs = _checked_satrecs(satrecs, "satrecs")
    jd, fr, orientation = _time_axis(_checked_times(times))
    return rotate(orientation.teme_to_itrs, _positions_teme_m(satrecs, jd, fr))


def _checked_satrecs(satrecs, name: str) -> list[Satrec]:
    if isinstance(satrecs, Satrec):
        raise ValueError(f"{name}: one Satrec given; pass a list of them (one per satellite)")
    satrecs = list(satrecs)
    if not satrecs:
        raise ValueError(f"{name}: no satellite given")
    for index, satrec in enumerate(satrecs):
        if not isinstance(satrec, Satrec):
            raise ValueError(f"{name}[{index}]: {type(satrec).__name__} is not an sgp4.api.Satrec")
    return satrecs


def _checked_times(times) -> np.ndarray:
    times = np.asarray(times)
    if times.ndim != 1 or times.size == 0:
        raise ValueError(f"times: shape {times.shape} must be (time,) with at least one time")
    if times.dtype.kind != "M":
        raise ValueError(f"times: dtype {times.dtype} must be datetime64 (UTC)")
    times = times.astype("datetime64[ns]")
    if np.isnat(times).any():
        raise ValueError(f"times: NaT at index {int(np.flatnonzero(np.isnat(times))[0])}")
    steps = np.diff(times.astype(np.int64))
    if (steps <= 0).any():
        index = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(f"times: not strictly increasing at index {index + 1} ({times[index]} then {times[index + 1]})")
    return times


def _checked_fixes(positions, sat_count: int, time_count: int) -> np.ndarray:
    positions = np.asarray(positions, dtype=float)
    if positions.shape != (sat_count, time_count, 3):
        raise ValueError(f"positions_itrs_m: shape {positions.shape} does not match (satellites, times, 3) = "
                         f"({sat_count}, {time_count}, 3)")
    if np.isinf(positions).any():
        raise ValueError("positions_itrs_m: infinite values; mark a missing fix with NaN")
    radius = np.linalg.norm(positions, axis=-1)
    low = np.isfinite(radius) & (radius < 6.0e6)
    if low.any():
        sat, time = np.argwhere(low)[0]
        raise ValueError(f"positions_itrs_m: the fix of satellite {sat} at time {time} is {radius[sat, time]:.6g} m from "
                         "the Earth's centre, inside the Earth (positions must be geocentric, in metres)")
    return positions


def _time_axis(times_ns: np.ndarray):
    """sgp4's two-part UTC Julian dates and the TEME->ITRS rotations at ``times_ns``."""
    start = Time(times_ns[0], scale="utc")
    offsets_s = (times_ns - times_ns[0]).astype(np.int64) / 1e9
    jd, fr = julian_dates(start, offsets_s)
    return jd, fr, EarthOrientation(start, offsets_s)


def _positions_teme_m(satrecs: list[Satrec], jd: np.ndarray, fr: np.ndarray) -> np.ndarray:
    """TEME positions (m), shape (sat, time, 3), NaN where SGP4 reports an error."""
    errors, position_km, _ = SatrecArray(satrecs).sgp4(jd, fr)
    position_km *= 1e3
    position_km[errors != 0] = np.nan
    return position_km


def _cost(observed: np.ndarray, model: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted sum of squared residuals (m^2) per satellite; infinite if the model fails at a used fix."""
    squares = np.sum((observed - model) ** 2, axis=-1)
    total = np.sum(np.where(weights, squares, 0.0), axis=-1)
    return np.where(np.isfinite(total), total, np.inf)


def _screen(residual: np.ndarray, available: np.ndarray) -> np.ndarray:
    """Fixes kept (sat, time): within OUTLIER_SIGMAS robust sigmas of the model, all of them if fewer than MIN_FIXES."""
    norm = np.linalg.norm(residual, axis=-1)
    sigma = np.nanmedian(np.where(available, norm, np.nan), axis=1) / CHI3_MEDIAN
    kept = available & (norm <= OUTLIER_SIGMAS * np.maximum(sigma, OUTLIER_FLOOR_M)[:, None])
    too_few = kept.sum(axis=1) < MIN_FIXES
    kept[too_few] = available[too_few]
    return kept


def _parameters(satrecs: list[Satrec], fit_bstar: bool) -> np.ndarray:
    """Equinoctial parameters (sat, 6 or 7): n, f, g, h, k, L (and bstar) of each element set."""
    elements = np.array([[s.no_kozai, s.ecco, s.inclo, s.nodeo, s.argpo, s.mo, s.bstar] for s in satrecs])
    mean_motion, ecc, incl, raan, argp, mean_anomaly, bstar = elements.T
    ecc = np.clip(ecc, ECCENTRICITY_MIN, ECCENTRICITY_MAX)  # SGP4 propagates e < 1e-6 as 1e-6 anyway
    perigee_longitude, tangent = raan + argp, np.tan(incl / 2.0)
    columns = [mean_motion, ecc * np.cos(perigee_longitude), ecc * np.sin(perigee_longitude),
               tangent * np.cos(raan), tangent * np.sin(raan), mean_anomaly + perigee_longitude]
    return np.column_stack(columns + [bstar] if fit_bstar else columns)


def _limit(parameters: np.ndarray) -> np.ndarray:
    """Keep eccentricity in [ECCENTRICITY_MIN, ECCENTRICITY_MAX] in place; False where the step is unusable."""
    ecc = np.hypot(parameters[:, 1], parameters[:, 2])
    scale = np.clip(ecc, ECCENTRICITY_MIN, ECCENTRICITY_MAX) / np.maximum(ecc, 1e-300)
    tiny = ecc < 1e-300
    parameters[:, 1] = np.where(tiny, ECCENTRICITY_MIN, parameters[:, 1] * scale)
    parameters[:, 2] = np.where(tiny, 0.0, parameters[:, 2] * scale)
    return np.isfinite(parameters).all(axis=1) & (parameters[:, 0] > 0)


def _element_sets(templates: list[Satrec], parameters: np.ndarray, fit_bstar: bool) -> list[Satrec]:
    """SGP4 element sets from equinoctial parameters, each with the epoch and constants of its template.

    Built by ``sgp4init`` directly rather than :func:`twin.orbit.fleet.satrec_from_elements`, which has no
    ``bstar`` and takes the epoch as one Julian date (a float resolves 40 us there: 0.3 m along
    track); here the epoch is passed as days since 1949-12-31 (0.3 us) and the prior's is kept.
    """
    mean_motion, f, g, h, k, mean_longitude = parameters[:, :6].T
    ecc, perigee_longitude = np.hypot(f, g), np.arctan2(g, f)
    raan, incl = np.arctan2(k, h), 2.0 * np.arctan(np.hypot(h, k))
    two_pi = 2.0 * np.pi
    argp, mean_anomaly = np.mod(perigee_longitude - raan, two_pi), np.mod(mean_longitude - perigee_longitude, two_pi)
    raan = np.mod(raan, two_pi)
    result = []
    for index, template in enumerate(templates):
        gravity = _GRAVITY_MODELS.get((template.radiusearthkm, template.mu), WGS72)
        bstar = parameters[index, 6] if fit_bstar else template.bstar
        satrec = Satrec()
        satrec.sgp4init(gravity, template.operationmode, template.satnum,
                        (template.jdsatepoch - SGP4_EPOCH_JD) + template.jdsatepochF, bstar, template.ndot,
                        template.nddot, ecc[index], argp[index], incl[index], mean_anomaly[index],
                        mean_motion[index], raan[index])
        for field in _TLE_FIELDS:
            setattr(satrec, field, getattr(template, field))
        result.append(satrec)
    return result


def _jacobian(templates, parameters, model, available, jd, fr, fit_bstar) -> np.ndarray:
    """Partial derivatives (sat, p, time, 3) of the TEME positions (m) by the parameters, 0 where no fix.

    Forward differences: one SatrecArray propagation of all the satellites per parameter; the
    steps in ``f`` and ``g`` take the sign of the value, so they never cross SGP4's eccentricity floor.
    """
    steps = np.full(parameters.shape, ELEMENT_STEP)
    steps[:, 0] = MEAN_MOTION_RELATIVE_STEP * parameters[:, 0]
    steps[:, 1:3] *= np.where(parameters[:, 1:3] < 0, -1.0, 1.0)
    if parameters.shape[1] == 7:
        steps[:, 6] = BSTAR_STEP
    jacobian = np.empty((len(templates), parameters.shape[1]) + model.shape[1:])
    for column in range(parameters.shape[1]):
        perturbed = parameters.copy()
        perturbed[:, column] += steps[:, column]
        moved = _positions_teme_m(_element_sets(templates, perturbed, fit_bstar), jd, fr)
        jacobian[:, column] = np.where(available[..., None], (moved - model) / steps[:, column, None, None], 0.0)
    return jacobian


def _normal_equations(jacobian: np.ndarray, residual: np.ndarray, weights: np.ndarray):
    """Normal matrices (sat, p, p) and right-hand sides (sat, p) of the weighted least squares."""
    sat_count, parameter_count = jacobian.shape[:2]
    used = np.repeat(weights, 3, axis=1)[:, None, :]
    flat = jacobian.reshape(sat_count, parameter_count, -1)
    weighted = flat * used
    rhs = weighted @ np.where(used[:, 0, :, None], residual.reshape(sat_count, -1, 1), 0.0)
    return weighted @ flat.swapaxes(1, 2), rhs[..., 0]


def _moves_m(step: np.ndarray, normal: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """RMS displacement (m) of the fitted positions that ``step`` makes, to first order."""
    return np.sqrt(np.abs(np.einsum("si,sij,sj->s", step, normal, step)) / np.maximum(weights.sum(axis=1), 1))


def _solve(normal: np.ndarray, rhs: np.ndarray, damping: np.ndarray, parameters: np.ndarray) -> np.ndarray:
    """Steps (sat, p) of the normal equations with Marquardt damping, the eccentricity floor respected.

    Where a satellite sits at :data:`ECCENTRICITY_MIN` and its step would lower the eccentricity,
    the equations are rotated so that one unknown is the eccentricity's size along (f, g), which is
    then held: the step changes only its direction and the other parameters.
    """
    step = _damped_solve(normal, rhs, damping)
    f, g = parameters[:, 1], parameters[:, 2]
    ecc = np.hypot(f, g)
    inward = (ecc <= ECCENTRICITY_MIN * (1 + 1e-6)) & (f * step[:, 1] + g * step[:, 2] < 0)
    if inward.any():
        rotation = np.broadcast_to(np.eye(normal.shape[-1]), (int(inward.sum()),) + normal.shape[1:]).copy()
        cos, sin = f[inward] / ecc[inward], g[inward] / ecc[inward]
        rotation[:, 1, 1], rotation[:, 2, 1], rotation[:, 1, 2], rotation[:, 2, 2] = cos, sin, -sin, cos
        held = rotation.swapaxes(1, 2) @ normal[inward] @ rotation
        held_rhs = (rotation.swapaxes(1, 2) @ rhs[inward][..., None])[..., 0]
        held[:, 1, :], held[:, :, 1], held_rhs[:, 1] = 0.0, 0.0, 0.0
        held[:, 1, 1] = 1.0
        step[inward] = (rotation @ _damped_solve(held, held_rhs, damping[inward])[..., None])[..., 0]
    return step


def _damped_solve(normal: np.ndarray, rhs: np.ndarray, damping: np.ndarray) -> np.ndarray:
    """Steps (sat, p) from normal equations scaled to a unit diagonal, with Marquardt damping.

    A pseudo-inverse rather than a solve, so that a parameter the fixes cannot see (bstar over a
    short span) gets no step instead of a singular matrix.
    """
    scale = np.sqrt(np.einsum("sii->si", normal))
    scale[scale == 0] = 1.0
    scaled = normal / (scale[:, :, None] * scale[:, None, :])
    scaled += damping[:, None, None] * np.eye(normal.shape[-1])
    return (np.linalg.pinv(scaled, rcond=1e-12, hermitian=True) @ (rhs / scale)[..., None])[..., 0] / scale
