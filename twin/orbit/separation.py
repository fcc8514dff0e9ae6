"""Safe separation of a designed fleet: no two satellites closer than their formation's spacing, nor than
:data:`MIN_SEPARATION_M` when they fly in different formations.

A scenario's satellites are designed as mean elements (:func:`twin.orbit.constellation.design_fleet`). All
the chiefs of a shell (one altitude) share their mean motion, so within a shell the whole geometry
repeats every orbit: it is checked at :data:`SAMPLES_PER_ORBIT` times over one orbit, with the
closest approach between two samples found from the relative velocity (relative motion is straight
to 1e-5 of the distance over a few seconds). Formations are checked once per block (every chief of
a block carries the same relative orbits); two formations' members are compared only where their
chiefs come within the two formations' radii plus the minimum separation. Shells of different mean
motion drift through every relative phase, so they are safe only if their radii (over an orbit,
formation offsets included) stay apart: else they are refused, naming a satellite of each.

>>> import twin
>>> from twin.orbit.constellation import design_fleet
>>> scenario = twin.load_scenario("phase1")
>>> check_separation(design_fleet(scenario), formation_spacings_m(scenario))  # raises if two come too close
"""

from __future__ import annotations

import numpy as np

from twin.orbit.fleet import Fleet, FormationBlock
from twin.orbit.propagation import propagate_block, chief_states
from twin.scenario import Scenario, ScenarioError

MIN_SEPARATION_M = 50.0  # assumption: the brief's safety distance between satellites of different formations
# (a few times a 10-20 m spacecraft with its arrays, and the metre-level error of the design's linear relative motion)
SAMPLES_PER_ORBIT = 720  # 8 s apart on a 100-minute orbit
SPACING_TOLERANCE = 1e-3  # a formation's members may come within 0.1 % of its spacing (linear design, rounding)
LATITUDE_BAND_DEG = 0.5  # bands in which two shells' radii are compared (at most 0.2 km of radius change)
TIME_CHUNK = 60  # samples per slab of the pairwise distances, to bound their memory


def formation_spacings_m(scenario: Scenario) -> list[float | None]:
    """The formation spacing (m) of each group of ``scenario``, in the order of its fleet's blocks (None: single)."""
    return [group.formation.spacing_m if group.formation.shape != "single" else None for group in scenario.subcenters]


def closest_approach_m(offset_km: np.ndarray, rate_km_s: np.ndarray, half_step_s: float) -> np.ndarray:
    """Smallest ``|offset + rate * tau|`` (m) for ``|tau| <= half_step_s``, over arrays (..., 3) of relative state.

    >>> round(float(closest_approach_m(np.array([-1.0, 0.05, 0.0]), np.array([1.0, 0.0, 0.0]), 4.0)), 6)
    50.0
    """
    square = np.einsum("...i,...i->...", offset_km, offset_km)
    product = np.einsum("...i,...i->...", offset_km, rate_km_s)
    speed2 = np.einsum("...i,...i->...", rate_km_s, rate_km_s)
    tau = np.clip(-product / np.where(speed2 > 0, speed2, 1.0), -half_step_s, half_step_s)
    return np.sqrt(np.maximum(square + tau * (2.0 * product + tau * speed2), 0.0)) * 1e3


def _pair_minimum_m(position_a, velocity_a, position_b, velocity_b, pairs_a, pairs_b, half_step_s) -> np.ndarray:
    """Closest approach (m) of each pair (rows ``pairs_a`` of a, ``pairs_b`` of b) over all samples, in slabs of time."""
    result = np.full(len(pairs_a), np.inf)
    for first in range(0, position_a.shape[1], TIME_CHUNK):
        times = slice(first, first + TIME_CHUNK)
        distance = closest_approach_m(position_a[pairs_a, times] - position_b[pairs_b, times],
                                      velocity_a[pairs_a, times] - velocity_b[pairs_b, times], half_step_s)
        result = np.minimum(result, distance.min(axis=1))
    return result


def _states(block: FormationBlock, chief: int, jd: np.ndarray, fr: np.ndarray):
    """TEME positions and velocities (m, t, 3; km, km/s) of one chief's formation."""
    one = FormationBlock([block.chiefs[chief]], block.relative)
    shape = (block.relative.count, len(jd), 3)
    position, velocity = np.empty(shape), np.empty(shape)
    propagate_block(one, jd, fr, position, velocity)
    return position, velocity


def check_separation(fleet: Fleet, spacings_m: list[float | None]) -> None:
    """Raise :class:`twin.scenario.ScenarioError` naming two satellites of ``fleet`` that come too close.

    ``spacings_m`` gives each block's formation spacing (None for single satellites). Members of a
    formation must stay at least their spacing apart (less :data:`SPACING_TOLERANCE`); satellites of
    different formations at least :data:`MIN_SEPARATION_M`.
    """
    chiefs = [chief for block in fleet.blocks for chief in block.chiefs]
    period_s = max(2 * np.pi / chief.no_kozai * 60.0 for chief in chiefs)
    step_s = period_s / SAMPLES_PER_ORBIT
    jd = np.full(SAMPLES_PER_ORBIT, chiefs[0].jdsatepoch)
    fr = chiefs[0].jdsatepochF + np.arange(SAMPLES_PER_ORBIT) * step_s / 86400.0
    first_row = np.cumsum([0] + [block.satellite_count for block in fleet.blocks])
    name = lambda block, chief, member: str(fleet.names[first_row[block] + chief * fleet.blocks[block].relative.count
                                                        + member])

    radius_km = []  # of each block's formation, over the orbit
    for index, (block, spacing_m) in enumerate(zip(fleet.blocks, spacings_m)):
        position, velocity = _states(block, 0, jd, fr)
        radius_km.append(float(np.linalg.norm(position - position[:1], axis=-1).max()))
        if block.relative.count < 2:
            continue
        a, b = np.triu_indices(block.relative.count, 1)
        closest = _pair_minimum_m(position, velocity, position, velocity, a, b, step_s / 2)
        worst = int(np.argmin(closest))
        if closest[worst] < (spacing_m or MIN_SEPARATION_M) * (1.0 - SPACING_TOLERANCE):
            raise ScenarioError(f"satellites {name(index, 0, a[worst])} and {name(index, 0, b[worst])}: "
                                f"{closest[worst]:.1f} m apart at closest, inside their formation's spacing of "
                                f"{spacing_m:g} m")

    position, velocity = chief_states(chiefs, jd, fr)
    block_of = np.repeat(np.arange(len(fleet.blocks)), [len(block.chiefs) for block in fleet.blocks])
    chief_in_block = np.concatenate([np.arange(len(block.chiefs)) for block in fleet.blocks])
    radius_of = np.array(radius_km)[block_of]
    mean_motion = np.array([chief.no_kozai for chief in chiefs])
    shells, shell_of = np.unique(np.round(mean_motion, 12), return_inverse=True)
    for shell in range(shells.size):
        rows = np.flatnonzero(shell_of == shell)
        a, b = (rows[pair] for pair in np.triu_indices(rows.size, 1))
        closest = _pair_minimum_m(position, velocity, position, velocity, a, b, step_s / 2)
        near = np.flatnonzero(closest < (radius_of[a] + radius_of[b]) * 1e3 + MIN_SEPARATION_M)
        for pair in near:
            _check_formation_pair(fleet, (block_of[a[pair]], chief_in_block[a[pair]]),
                                  (block_of[b[pair]], chief_in_block[b[pair]]), jd, fr, step_s / 2, name)

    _check_shells(position, shell_of, radius_of, lambda row: name(block_of[row], chief_in_block[row], 0))


def _check_shells(position_km: np.ndarray, shell_of: np.ndarray, radius_km: np.ndarray, name) -> None:
    """Refuse two shells (chiefs of different mean motion) whose radii meet at some latitude.

    Two satellites within :data:`MIN_SEPARATION_M` share their latitude (to 4e-4 deg) and their radius
    (to that distance). So for each shell and band of :data:`LATITUDE_BAND_DEG` latitude (widened by
    its neighbours) the radii its chiefs take over an orbit, widened by the formation's radius, must
    stay :data:`MIN_SEPARATION_M` apart from every other shell's in the same band. Frozen orbits of
    one eccentricity and perigee have the same radius at a latitude whatever their node, so shells
    20 km apart pass even though each one's radius spans some 30 km over an orbit.
    """
    radius = np.linalg.norm(position_km, axis=-1)
    band = np.floor((np.degrees(np.arcsin(position_km[..., 2] / radius)) + 90.0) / LATITUDE_BAND_DEG).astype(int)
    bands = int(np.ceil(180.0 / LATITUDE_BAND_DEG)) + 1
    shells = int(shell_of.max()) + 1
    low, high = np.full((shells, bands), np.inf), np.full((shells, bands), -np.inf)
    np.minimum.at(low, (np.broadcast_to(shell_of[:, None], band.shape), band), radius - radius_km[:, None])
    np.maximum.at(high, (np.broadcast_to(shell_of[:, None], band.shape), band), radius + radius_km[:, None])
    widen = lambda values, how: how.reduce([values, np.roll(values, 1, axis=1), np.roll(values, -1, axis=1)])
    low, high = widen(low, np.minimum), widen(high, np.maximum)
    for first in range(shells):
        for second in range(first + 1, shells):
            gap_km = np.maximum(low[first], low[second]) - np.minimum(high[first], high[second])
            both = np.isfinite(low[first]) & np.isfinite(low[second])
            if (gap_km[both] < MIN_SEPARATION_M * 1e-3).any():
                at = int(np.flatnonzero(both & (gap_km < MIN_SEPARATION_M * 1e-3))[0])
                one, other = (int(np.flatnonzero(shell_of == shell)[0]) for shell in (first, second))
                raise ScenarioError(
                    f"satellites {name(one)} and {name(other)}: their shells' radii meet near latitude "
                    f"{at * LATITUDE_BAND_DEG - 90.0:.1f} deg ({low[first, at]:.1f}-{high[first, at]:.1f} km and "
                    f"{low[second, at]:.1f}-{high[second, at]:.1f} km), and shells of different periods drift "
                    f"through each other; separate their altitudes")


def _check_formation_pair(fleet: Fleet, one: tuple[int, int], other: tuple[int, int], jd, fr, half_step_s, name):
    """Every member of one formation against every member of another: refuse the closest pair under the minimum."""
    position_a, velocity_a = _states(fleet.blocks[one[0]], one[1], jd, fr)
    position_b, velocity_b = _states(fleet.blocks[other[0]], other[1], jd, fr)
    a, b = (index.ravel() for index in np.meshgrid(np.arange(len(position_a)), np.arange(len(position_b)),
                                                   indexing="ij"))
    closest = _pair_minimum_m(position_a, velocity_a, position_b, velocity_b, a, b, half_step_s)
    worst = int(np.argmin(closest))
    if closest[worst] < MIN_SEPARATION_M:
        raise ScenarioError(f"satellites {name(*one, a[worst])} and {name(*other, b[worst])}: {closest[worst]:.1f} m "
                            f"apart at closest, within the {MIN_SEPARATION_M:g} m kept between formations")
