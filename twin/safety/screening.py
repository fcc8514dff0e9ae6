"""Conjunction screening of a fleet against a catalogue and against itself over a span.

The screen, vectorised over objects and time:

1. The fleet is screened as *formations*: each chief with an envelope radius that bounds every
   member's offset from it over the span (:func:`formation_envelopes_km`, from the relative orbit
   elements), so phase 3's 10,485 satellites are 144 bodies. Members of one formation are never
   screened against each other (they are a formation; :func:`formation_approaches` reports how
   close they come), members of different formations are.
2. Catalogue entries that cannot be screened are set aside with their reason: element sets more
   than ``max_epoch_age_days`` from the span (``stale``), perigee-apogee bands that never reach the
   fleet's (``altitude``), SGP4 failing during the span (``propagation``; decayed objects).
3. Every remaining object is propagated on the grid (:func:`twin.safety.ephemeris.propagate_catalog`).
4. Per block of steps, one k-d tree in (x, y, z, step) finds every (formation, object) and
   (formation, formation) pair closer, at a grid step, than the threshold plus both envelopes plus
   the distance the pair can close in half a step at their greatest speeds: a pair that passes
   within the threshold between steps is then caught at the nearest step.
5. The straight-line closest approach about that step, bounded by the gravity-gradient curvature of
   the relative path, drops the pairs that cannot come within the threshold.
6. The survivors are expanded to member pairs and refined on exact states
   (:mod:`twin.safety.encounter`): TCA, miss distance and its RIC components, relative speed, then
   the probability of collision: the 2-D short-encounter one (:mod:`twin.safety.collision_probability`) where its
   straight relative path holds, else the two-body Monte Carlo of :mod:`twin.safety.long_encounter`.
"""

from __future__ import annotations

import dataclasses
import time as clock
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from astropy import units as u
from astropy.time import Time
from scipy.spatial import cKDTree

from twin.constants import EARTH_MU_KM3_S2
from twin.orbit.constellation import design_fleet
from twin.orbit.fleet import Fleet
from twin.orbit.propagation import propagate_teme
from twin.scenario import Scenario, load_scenario
from twin.timegrid import julian_dates, time_grid
from twin.safety.catalog import Catalog, skipped_rows, summarise_skipped
from twin.safety.collision_probability import (CATALOG_HARD_BODY_RADIUS_M, DEFAULT_POSITION_SIGMA_RIC_KM,
                                               VELOCITY_SIGMA_PER_POSITION_SIGMA_RAD_S, collision_probability,
                                               fleet_hard_body_radius_m, ric_to_inertial, short_encounter_min_speed_km_s)
from twin.safety.encounter import ClosestApproaches, closest_approaches, window_offsets_s
from twin.safety.ephemeris import INTERPOLATION_ERROR_KM, node_steps, propagate_catalog
from twin.safety.long_encounter import METHOD as MONTE_CARLO_METHOD
from twin.safety.long_encounter import MONTE_CARLO_SAMPLES, monte_carlo_probability

BLOCK_STEPS = 60
ALTITUDE_PAD_KM = 50.0  # osculating radius differs from the mean elements' by tens of km (J2 short-period terms)
SPEED_MARGIN = 1.02
VELOCITY_ERROR_KM_S = 0.005  # largest Hermite velocity error over the shared catalogue: 2 m/s
REFINE_CHUNK_PAIRS = 200_000

CONJUNCTION_COLUMNS = [
    "primary", "primary_subcenter", "secondary", "secondary_catalog_number", "secondary_kind", "secondary_object_type", "tca",
    "miss_distance_km", "radial_km", "in_track_km", "cross_track_km", "relative_speed_km_s",
    "hard_body_radius_m", "collision_probability", "short_encounter_min_speed_km_s", "short_encounter",
    "collision_probability_method", "collision_probability_low", "collision_probability_high", "monte_carlo_samples",
]
FORMATION_CLOSEST_COLUMNS = ["group", "formations", "members", "first", "second", "closest_m", "tca", "relative_speed_m_s",
                             "collision_probability", "collision_probability_method", "collision_probability_low",
                             "collision_probability_high", "monte_carlo_samples"]
SHORT_ENCOUNTER_METHOD = "FOSTER-1992"  # the CDM's name of the 2-D method (SANA registry)
NOT_COMPUTED_METHOD = "NONE"  # a slow encounter screened with monte_carlo_samples=0: its 2-D Pc is not valid


def place_scenario(scenario: Scenario, epoch: Time | str) -> Scenario:
    """``scenario`` with its fleet designed at ``epoch`` (the same orbits and LTAN, element sets of that date).

    >>> placed = place_scenario(load_scenario("phase1"), "2026-03-19T00:00:00")
    >>> placed.epoch.isot
    '2026-03-19T00:00:00.000'
    """
    epoch = epoch if isinstance(epoch, Time) else Time(str(epoch).removesuffix("Z"), scale="utc")
    return dataclasses.replace(scenario, epoch=epoch)


def run_scenario_of(run: xr.Dataset) -> Scenario:
    """The scenario a run was made from (its ``scenario_source`` file, else the built-in of its name), at its epoch."""
    source = run.attrs.get("scenario_source", "")
    name = source if source and Path(source).is_file() else run.attrs.get("scenario", "")
    if not name:
        raise ValueError("run: its attributes name no scenario (scenario_source, scenario); screen a fleet instead")
    return place_scenario(load_scenario(name), run.attrs["scenario_epoch"]) if "scenario_epoch" in run.attrs \
        else load_scenario(name)


def fleet_of_run(run: xr.Dataset) -> tuple[Fleet, Scenario]:
    """The fleet of a run, designed again from its scenario, checked satellite by satellite against the run."""
    scenario = run_scenario_of(run)
    fleet = design_fleet(scenario)
    if int(run.attrs.get("representatives", 0)):
        fleet = fleet.chiefs_only()
    names = run["sat"].values.astype(str)
    if len(names) != len(fleet) or not np.array_equal(names, fleet.names.astype(str)):
        raise ValueError(f"run: its {len(names)} satellites are not those of scenario {scenario.name!r} "
                         f"({len(fleet)}); screen the fleet instead")
    return fleet, scenario


@dataclass
class Formations:
    """The fleet as formations: the first row, member count and envelope radius (km) of each."""

    fleet: Fleet
    first_row: np.ndarray
    count: np.ndarray
    envelope_km: np.ndarray

    def __len__(self) -> int:
        return len(self.first_row)

    def states(self, body: int, jd: np.ndarray, fr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """TEME positions and velocities (members, t, 3) of every member of formation ``body``."""
        formation, _ = self.fleet.covering(int(self.first_row[body]), int(self.first_row[body]) + 1)
        return propagate_teme(formation, jd, fr)


def formation_envelopes_km(fleet: Fleet, elapsed_max_s: float) -> Formations:
    """Formations of ``fleet`` with the radius (km) that bounds every member's offset from its chief
    for ``elapsed_max_s`` from the element epoch, from the relative orbit elements of the model in
    :mod:`twin.orbit.propagation`: ``|dR| <= a(|da| + |de|)``, ``|dT| <= a(|dl| + |dl'| t + 2|de|)``,
    ``|dN| <= a hypot(dix, |diy| + |diy'| t)``."""
    first, count, envelope, row = [], [], [], 0
    for block in fleet.blocks:
        r = block.relative
        de = np.hypot(r.dex, r.dey)
        radial = np.abs(r.da) + de
        along = np.abs(r.dlambda) + np.abs(r.dlambda_rate) * elapsed_max_s + 2 * de
        normal = np.hypot(r.dix, np.abs(r.diy) + np.abs(r.diy_rate) * elapsed_max_s)
        a_km = max(chief.a * chief.radiusearthkm for chief in block.chiefs)
        radius = float(np.max(a_km * np.sqrt(radial**2 + along**2 + normal**2))) if r.count > 1 else 0.0
        members = r.count
        first.extend(row + members * np.arange(len(block.chiefs)))
        count.extend([members] * len(block.chiefs))
        envelope.extend([radius * 1.01 + 0.001 * (members > 1)] * len(block.chiefs))
        row += block.satellite_count
    return Formations(fleet, np.array(first, dtype=int), np.array(count, dtype=int), np.array(envelope))


@dataclass
class Screening:
    """What a screen found: ``conjunctions`` (one row per pair and TCA, sorted by TCA), the TEME states
    (n, 2, 6; km, km/s) of primary and secondary at TCA, their RIC position covariances (n, 2, 3, 3; km2),
    the catalogue entries ``skipped`` with reasons, optional ``formation_closest`` approaches, and
    the span and counts (``summary``)."""

    conjunctions: pd.DataFrame
    states: np.ndarray
    covariances_ric_km2: np.ndarray
    skipped: pd.DataFrame
    summary: dict
    formation_closest: pd.DataFrame | None = None
    timings_s: dict = field(default_factory=dict)

    def skipped_summary(self, examples: int = 3) -> pd.DataFrame:
        """Catalogue entries not screened, counted per reason with examples (:func:`twin.safety.catalog.summarise_skipped`)."""
        return summarise_skipped(self.skipped, examples)

    def table(self) -> pd.DataFrame:
        """The conjunctions to read: names, TCA, miss (total and RIC, m), relative speed, Pc, whether the
        short-encounter assumption holds (``short_encounter``) and the method of the Pc, with its 95 % interval
        where it is a Monte Carlo one (else the Pc itself at both ends)."""
        table = self.conjunctions[["primary", "secondary", "tca", "miss_distance_km", "radial_km", "in_track_km",
                                   "cross_track_km", "relative_speed_km_s", "collision_probability",
                                   "short_encounter", "collision_probability_method", "collision_probability_low",
                                   "collision_probability_high"]].copy()
        table["tca"] = pd.to_datetime(table["tca"]).dt.strftime("%Y-%m-%d %H:%M:%S")  # none found: an empty object column
        for column in ("miss_distance_km", "radial_km", "in_track_km", "cross_track_km"):
            table[column.replace("_km", "_m")] = (table.pop(column) * 1e3).round(0).astype(int)
        table["relative_speed_km_s"] = table["relative_speed_km_s"].round(3)
        return table[["primary", "secondary", "tca", "miss_distance_m", "radial_m", "in_track_m", "cross_track_m",
                      "relative_speed_km_s", "collision_probability", "short_encounter", "collision_probability_method",
                      "collision_probability_low", "collision_probability_high"]]


def _speed_bound_km_s(satrecs) -> float:
    """Largest speed any of ``satrecs`` reaches (perigee speed by vis-viva on its mean elements), km/s."""
    if not satrecs:
        return 0.0
    a_km = np.array([s.a * s.radiusearthkm for s in satrecs])
    ecc = np.array([s.ecco for s in satrecs])
    return float(np.max(np.sqrt(EARTH_MU_KM3_S2 * (1 + ecc) / (a_km * (1 - ecc))))) * SPEED_MARGIN


def _catalog_in_reach(catalog: Catalog, start: Time, duration_s: float, band_km: tuple[float, float],
                      max_epoch_age_days: float) -> Catalog:
    """The catalogue without stale element sets and those whose band never reaches ``band_km`` (radii)."""
    epochs = catalog.epochs_jd
    span = (start.utc.jd1 + start.utc.jd2, start.utc.jd1 + start.utc.jd2 + duration_s / 86400.0)
    age_days = np.maximum(span[0] - epochs, epochs - span[1]).clip(min=0)
    stale = age_days > max_epoch_age_days
    if stale.all() and len(catalog):
        raise ValueError(
            f"catalog {catalog.source!r}: every element set is more than {max_epoch_age_days:g} days from the span "
            f"starting {start.utc.isot[:19]}Z (epochs {Time(epochs.min(), format='jd').isot[:10]}.."
            f"{Time(epochs.max(), format='jd').isot[:10]}); place the fleet at the catalogue's epoch "
            f"(place_scenario(scenario, catalog.epoch))")
    bands = catalog.perigee_apogee_km()
    low, high = band_km[0] - ALTITUDE_PAD_KM, band_km[1] + ALTITUDE_PAD_KM
    outside = ~stale & ((bands[:, 1] < low) | (bands[:, 0] > high))
    radius = catalog.satrecs[0].radiusearthkm if len(catalog) else 6378.135
    skipped = pd.concat([
        skipped_rows("stale", catalog.names[stale], catalog.catalog_numbers[stale],
                     [f"epoch {days:.1f} days from the span" for days in age_days[stale]]),
        skipped_rows("altitude", catalog.names[outside], catalog.catalog_numbers[outside],
                     [f"perigee {p - radius:.0f} km, apogee {a - radius:.0f} km; fleet {low - radius:.0f}-"
                      f"{high - radius:.0f} km" for p, a in bands[outside]]),
    ], ignore_index=True)
    return catalog.take(np.flatnonzero(~stale & ~outside), skipped)


def _catalog_propagated(catalog: Catalog, jd, fr, step_s, steps):
    """The catalogue sorted by node spacing, its ephemeris, and that catalogue without SGP4 failures."""
    from twin.orbit.propagation import SGP4_ERRORS

    order = np.argsort(node_steps(catalog.satrecs, step_s), kind="stable")
    catalog = catalog.take(order)
    ephemeris = propagate_catalog(catalog.satrecs, jd, fr, step_s, steps)
    failed = ephemeris.errors != 0
    details = [f"SGP4 error {code} ({SGP4_ERRORS.get(int(code), 'unknown')}) within the span"
               for code in ephemeris.errors[failed]]
    skipped = skipped_rows("propagation", catalog.names[failed], catalog.catalog_numbers[failed], details)
    return catalog, ephemeris, skipped


def _block_points(positions_km: np.ndarray, spacing_km: float) -> np.ndarray:
    """(t * n, 4) points of positions (t, n, 3): x, y, z and the step index times ``spacing_km``."""
    steps, count, _ = positions_km.shape
    points = np.empty((steps, count, 4))
    points[..., :3] = positions_km
    points[..., 3] = (np.arange(steps) * spacing_km)[:, None]
    return points.reshape(-1, 4)


def _straight_line_miss_km(relative_position, relative_velocity, step_s):
    """Closest distance (km) of straight-line relative motion within half a step of the grid point,
    and the bound (km) on how far gravity-gradient curvature can move the true path from that line."""
    half = step_s / 2.0
    speed2 = np.einsum("pc,pc->p", relative_velocity, relative_velocity)
    tau = np.clip(-np.einsum("pc,pc->p", relative_position, relative_velocity) / np.maximum(speed2, 1e-30), -half, half)
    miss = np.linalg.norm(relative_position + relative_velocity * tau[:, None], axis=1)
    separation = np.linalg.norm(relative_position, axis=1) + np.sqrt(speed2) * half
    lowest_radius_km = 6378.0 + 100.0
    curvature = 0.5 * (2.0 * EARTH_MU_KM3_S2 / lowest_radius_km**3) * separation * half**2
    return miss, curvature + VELOCITY_ERROR_KM_S * half


def _candidates(formations_position, formations_velocity, envelope, catalog_positions, ephemeris, step_s,
                threshold_km, self_screen, catalog_speed, fleet_speed):
    """(kind, body, other, step) of every candidate pair passing the k-d tree and the straight-line filter.

    ``kind`` 0: formation-catalogue object; 1: formation-formation (body < other).
    """
    steps = formations_position.shape[1]
    bodies = formations_position.shape[0]
    objects = catalog_positions.shape[1]
    reach_fc = threshold_km + envelope.max(initial=0) + INTERPOLATION_ERROR_KM + (fleet_speed + catalog_speed) * step_s / 2
    reach_ff = threshold_km + 2 * envelope.max(initial=0) + 2 * fleet_speed * step_s / 2
    spacing = 4.0 * max(reach_fc, reach_ff)
    found = []
    for first in range(0, steps, BLOCK_STEPS):
        block = slice(first, min(first + BLOCK_STEPS, steps))
        fleet_block = formations_position[:, block].transpose(1, 0, 2)  # (t, bodies, 3)
        fleet_tree = cKDTree(_block_points(fleet_block, spacing))
        if objects:
            catalog_tree = cKDTree(_block_points(catalog_positions[block], spacing))
            hits = fleet_tree.sparse_distance_matrix(catalog_tree, reach_fc, output_type="ndarray")
            step = first + hits["i"] // bodies
            found.append((np.zeros(len(hits), int), hits["i"] % bodies, hits["j"] % objects, step))
        if self_screen and bodies > 1:
            pairs = fleet_tree.query_pairs(reach_ff, output_type="ndarray")
            step = first + pairs[:, 0] // bodies
            low, high = np.sort(pairs % bodies, axis=1).T
            keep = low != high
            found.append((np.ones(keep.sum(), int), low[keep], high[keep], step[keep]))
    if not found:
        return [np.empty(0, int)] * 4
    kind, body, other, step = (np.concatenate(parts) for parts in zip(*found))
    # Straight-line filter on each candidate's relative state at its step.
    own_position, own_velocity = formations_position[body, step], formations_velocity[body, step]
    is_catalog = kind == 0
    other_position = np.empty_like(own_position)
    other_velocity = np.empty_like(own_velocity)
    other_position[is_catalog] = catalog_positions[step[is_catalog], other[is_catalog]]
    other_velocity[is_catalog] = ephemeris.velocities_km_s(step[is_catalog], other[is_catalog])
    other_position[~is_catalog] = formations_position[other[~is_catalog], step[~is_catalog]]
    other_velocity[~is_catalog] = formations_velocity[other[~is_catalog], step[~is_catalog]]
    miss, bound = _straight_line_miss_km(other_position - own_position, other_velocity - own_velocity, step_s)
    other_envelope = np.where(is_catalog, INTERPOLATION_ERROR_KM, envelope[np.where(is_catalog, 0, other)])
    reach = threshold_km + envelope[body] + other_envelope + bound
    keep = miss < reach
    return kind[keep], body[keep], other[keep], step[keep]


def _refine(formations: Formations, catalog: Catalog, start: Time, step_s: float, duration_s: float,
            threshold_km: float, kind, body, other, step) -> tuple[dict, ClosestApproaches | None]:
    """Member pairs of every candidate, refined on exact states; those within the threshold."""
    offsets = window_offsets_s(step_s)
    pieces, results = {"row_a": [], "other": [], "kind": [], "step": []}, []
    chunk = {"times": [], "pa": [], "va": [], "pb": [], "vb": []}

    def flush():
        if not chunk["times"]:
            return
        result = closest_approaches(*(np.concatenate(chunk[key]) for key in ("times", "pa", "va", "pb", "vb")))
        results.append(result)
        for values in chunk.values():
            values.clear()

    pending = 0
    for b in np.unique(body):
        mine = np.flatnonzero(body == b)
        times = step[mine, None] * step_s + offsets  # (c, W) s from start
        jd, fr = julian_dates(start, times.ravel())
        own_position, own_velocity = formations.states(int(b), jd, fr)
        members_a = own_position.shape[0]
        own_position = own_position.reshape(members_a, len(mine), -1, 3)
        own_velocity = own_velocity.reshape(members_a, len(mine), -1, 3)
        for index, candidate in enumerate(mine):
            window_jd, window_fr = jd.reshape(len(mine), -1)[index], fr.reshape(len(mine), -1)[index]
            if kind[candidate] == 0:
                error, position, velocity = catalog.satrecs[other[candidate]].sgp4_array(window_jd, window_fr)
                position, velocity = position[None], velocity[None]
                rows_b = np.array([other[candidate]])
            else:
                position, velocity = formations.states(int(other[candidate]), window_jd, window_fr)
                rows_b = formations.first_row[other[candidate]] + np.arange(position.shape[0])
            pa = np.broadcast_to(own_position[:, None, index], (members_a, len(rows_b)) + own_position.shape[2:])
            va = np.broadcast_to(own_velocity[:, None, index], pa.shape)
            pb = np.broadcast_to(position[None], pa.shape)
            vb = np.broadcast_to(velocity[None], pa.shape)
            pa, va, pb, vb = (x.reshape(-1, len(offsets), 3) for x in (pa, va, pb, vb))
            # Keep member pairs that could come within the threshold between two samples.
            sample_gap = (offsets[1] - offsets[0]) / 2
            distance = np.linalg.norm(pb - pa, axis=-1)
            speed = np.linalg.norm(vb - va, axis=-1)
            near = np.any(distance < threshold_km + speed * sample_gap + 0.01, axis=1)
            if not near.any():
                continue
            rows_a = formations.first_row[b] + np.arange(members_a)
            pair_a, pair_b = np.meshgrid(rows_a, rows_b, indexing="ij")
            pieces["row_a"].append(pair_a.ravel()[near])
            pieces["other"].append(pair_b.ravel()[near])
            pieces["kind"].append(np.full(near.sum(), kind[candidate]))
            pieces["step"].append(np.full(near.sum(), step[candidate]))
            chunk["times"].append(np.broadcast_to(times[index], (near.sum(), len(offsets))))
            for key, values in (("pa", pa), ("va", va), ("pb", pb), ("vb", vb)):
                chunk[key].append(values[near])
            pending += near.sum()
            if pending > REFINE_CHUNK_PAIRS:
                flush()
                pending = 0
    flush()
    if not results:
        return {key: np.empty(0, int) for key in pieces}, None
    pairs = {key: np.concatenate(values) for key, values in pieces.items()}
    merged = ClosestApproaches(*(np.concatenate([getattr(r, f.name) for r in results])
                                 for f in dataclasses.fields(ClosestApproaches)))
    centre = pairs["step"] * step_s
    own_step = (merged.tca_s >= centre - step_s / 2) & (merged.tca_s < centre + step_s / 2)
    keep = (merged.found & own_step & (merged.tca_s >= 0) & (merged.tca_s <= duration_s)
            & (merged.miss_distance_km < threshold_km))
    pairs = {key: values[keep] for key, values in pairs.items()}
    merged = ClosestApproaches(*(getattr(merged, f.name)[keep] for f in dataclasses.fields(ClosestApproaches)))
    return pairs, merged


def _hard_body_radius_m(fleet: Fleet, scenario: Scenario | None) -> np.ndarray:
    """Each fleet satellite's hard-body radius (m) from its bus's arrays and radiators."""
    if scenario is None:
        return np.full(len(fleet), CATALOG_HARD_BODY_RADIUS_M["PAYLOAD"])
    missing = sorted(set(fleet.bus.astype(str)) - set(scenario.buses))
    if missing:
        raise ValueError(f"fleet: bus {missing[0]!r} is not a bus of scenario {scenario.name!r}")
    names, inverse = np.unique(fleet.bus.astype(str), return_inverse=True)
    buses = [scenario.buses[name] for name in names]
    return fleet_hard_body_radius_m([b.solar_array_area_m2 for b in buses], [b.radiator_area_m2 for b in buses])[inverse]


def screen(fleet: Fleet | xr.Dataset | Scenario, catalog: Catalog | None = None, start: Time | str | None = None,
           duration_s: float | None = None, threshold_km: float = 5.0, step_s: float = 60.0,
           self_screen: bool = True, formation_closest: bool = False, max_epoch_age_days: float = 14.0,
           scenario: Scenario | None = None, monte_carlo_samples: int = MONTE_CARLO_SAMPLES) -> Screening:
    """Screen ``fleet`` against ``catalog`` (and, with ``self_screen``, against itself) from ``start``
    for ``duration_s``: every approach closer than ``threshold_km``.

    ``fleet`` is a :class:`twin.orbit.fleet.Fleet`, a :class:`twin.scenario.Scenario` (its fleet at its
    epoch; :func:`place_scenario` moves it) or a run (its fleet and, by default, its span). The span
    defaults to the scenario's epoch (or the run's start) and one day. ``scenario`` gives the buses
    for the hard-body radii of a bare fleet. ``formation_closest`` adds the closest approach
    between members of each formation group (``Screening.formation_closest``). A conjunction too slow for the
    2-D Pc gets the two-body Monte Carlo one of ``monte_carlo_samples`` samples (0: none, its Pc flagged
    ``NONE``; :mod:`twin.safety.long_encounter`).
    Raises ``ValueError`` naming the field for a bad threshold, step or span.
    """
    timings, started = {}, clock.perf_counter()
    if isinstance(fleet, xr.Dataset):
        times = fleet["time"].values
        start = Time(str(times[0])[:29], scale="utc") if start is None else start
        duration_s = float((times[-1] - times[0]) / np.timedelta64(1, "s")) if duration_s is None else duration_s
        fleet, scenario = fleet_of_run(fleet)
    elif isinstance(fleet, Scenario):
        scenario = fleet
        fleet = design_fleet(scenario)
        start = scenario.epoch if start is None else start
    start = start if isinstance(start, Time) or start is None else Time(str(start).removesuffix("Z"), scale="utc")
    if start is None:
        raise ValueError("start: a fleet needs a start time (or pass a scenario or a run)")
    duration_s = 86400.0 if duration_s is None else float(duration_s)
    for name, value in (("threshold_km", threshold_km), ("step_s", step_s), ("duration_s", duration_s)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name}: {value!r} must be a positive number")
    if step_s > duration_s:
        raise ValueError(f"step_s: {step_s:g} s is longer than the span of {duration_s:g} s")
    if int(monte_carlo_samples) < 0:
        raise ValueError(f"monte_carlo_samples: {monte_carlo_samples!r} must be 0 (none) or a positive count")
    catalog = catalog if catalog is not None else Catalog([], np.array([], str), np.array([], int), np.array([], str))
    offsets = time_grid(start, duration_s, step_s)
    jd, fr = julian_dates(start, offsets)

    epochs = np.array([c.jdsatepoch + c.jdsatepochF for b in fleet.blocks for c in b.chiefs])
    elapsed_max_s = float(np.max(np.abs(np.r_[jd[0] + fr[0] - epochs, jd[-1] + fr[-1] - epochs])) * 86400.0)
    formations = formation_envelopes_km(fleet, elapsed_max_s)
    chief_position, chief_velocity = propagate_teme(fleet.chiefs_only(), jd, fr)
    radius = np.linalg.norm(chief_position, axis=-1)
    band = ((radius - formations.envelope_km[:, None]).min() - threshold_km,
            (radius + formations.envelope_km[:, None]).max() + threshold_km)
    timings["fleet"] = clock.perf_counter() - started

    in_reach = _catalog_in_reach(catalog, start, duration_s, band, max_epoch_age_days)
    in_reach, ephemeris, failed = _catalog_propagated(in_reach, jd[0], fr[0], step_s, len(offsets))
    screened = in_reach.take(np.flatnonzero(ephemeris.errors == 0), failed)
    positions = ephemeris.positions_km[:, ephemeris.errors == 0]
    ephemeris.positions_km = positions
    kept = np.flatnonzero(ephemeris.errors == 0)
    timings["catalog"] = clock.perf_counter() - started - sum(timings.values())

    fleet_speed = float(np.linalg.norm(chief_velocity, axis=-1).max()) * SPEED_MARGIN
    kind, body, other, step = _candidates(chief_position, chief_velocity, formations.envelope_km, positions,
                                          _Reindexed(ephemeris, kept), step_s, threshold_km, self_screen,
                                          _speed_bound_km_s(screened.satrecs), fleet_speed)
    timings["search"] = clock.perf_counter() - started - sum(timings.values())
    pairs, found = _refine(formations, screened, start, step_s, duration_s, threshold_km, kind, body, other, step)
    timings["refine"] = clock.perf_counter() - started - sum(timings.values())
    result = _assemble(fleet, scenario, screened, start, pairs, found, int(monte_carlo_samples))
    closest = formation_approaches(formations, start, offsets, _hard_body_radius_m(fleet, scenario),
                                   int(monte_carlo_samples)) if formation_closest else None
    timings["probability"] = clock.perf_counter() - started - sum(timings.values())
    summary = {
        "start": start.utc.isot[:19] + "Z", "duration_s": duration_s, "step_s": step_s, "threshold_km": threshold_km,
        "fleet_satellites": len(fleet), "formations": len(formations), "catalog_entries": len(catalog) + len(catalog.skipped),
        "catalog_screened": len(screened), "candidates": int(len(kind)), "conjunctions": int(len(result[0])),
    }
    return Screening(*result, skipped=screened.skipped, summary=summary, formation_closest=closest, timings_s=timings)


@dataclass
class _Reindexed:
    """An ephemeris seen through the objects that propagated (``rows`` of the original)."""

    ephemeris: object
    rows: np.ndarray

    def velocities_km_s(self, steps, objects):
        return self.ephemeris.velocities_km_s(steps, self.rows[np.asarray(objects, dtype=int)])


def _assemble(fleet: Fleet, scenario, catalog: Catalog, start: Time, pairs: dict, found: ClosestApproaches | None,
              monte_carlo_samples: int):
    """The conjunction table, states, covariances of the refined pairs, sorted by TCA."""
    if found is None or not len(pairs["row_a"]):
        return (pd.DataFrame(columns=CONJUNCTION_COLUMNS), np.empty((0, 2, 6)), np.empty((0, 2, 3, 3)))
    order = np.argsort(found.tca_s, kind="stable")
    row_a, other, kind = pairs["row_a"][order], pairs["other"][order], pairs["kind"][order]
    is_catalog = kind == 0
    hbr_fleet = _hard_body_radius_m(fleet, scenario)
    hbr_other = np.where(is_catalog, [CATALOG_HARD_BODY_RADIUS_M.get(t, 1.0) for t in
                                      catalog.object_types[np.where(is_catalog, other, 0)]] if len(catalog) else 1.0,
                         hbr_fleet[np.where(is_catalog, 0, other)])
    hard_body_m = hbr_fleet[row_a] + hbr_other
    states = np.stack([found.state_a[order], found.state_b[order]], axis=1)
    sigma_fleet, sigma_catalog = (np.diag(np.square(DEFAULT_POSITION_SIGMA_RIC_KM[k])) for k in ("fleet", "catalog"))
    covariances = np.stack([np.broadcast_to(sigma_fleet, (len(order), 3, 3)),
                            np.where(is_catalog[:, None, None], sigma_catalog, sigma_fleet)], axis=1)
    probability = _probabilities(states, covariances, hard_body_m, found.relative_speed_km_s[order], monte_carlo_samples)
    tca = np.datetime64(start.utc.isot, "ns") + np.round(found.tca_s[order] * 1e9).astype("timedelta64[ns]")
    secondary = np.where(is_catalog, catalog.names[np.where(is_catalog, other, 0)] if len(catalog) else "",
                         fleet.names[np.where(is_catalog, 0, other)])
    table = pd.DataFrame({
        "primary": fleet.names[row_a], "primary_subcenter": fleet.subcenter[row_a], "secondary": secondary,
        "secondary_catalog_number": np.where(is_catalog, catalog.catalog_numbers[np.where(is_catalog, other, 0)]
                                             if len(catalog) else -1, -1),
        "secondary_kind": np.where(is_catalog, "catalog", "fleet"),
        "secondary_object_type": np.where(is_catalog, catalog.object_types[np.where(is_catalog, other, 0)]
                                          if len(catalog) else "", "FLEET"),
        "tca": tca,
        "miss_distance_km": found.miss_distance_km[order], "radial_km": found.miss_ric_km[order, 0],
        "in_track_km": found.miss_ric_km[order, 1], "cross_track_km": found.miss_ric_km[order, 2],
        "relative_speed_km_s": found.relative_speed_km_s[order], "hard_body_radius_m": hard_body_m,
        **probability,
    }, columns=CONJUNCTION_COLUMNS)
    return table, states, covariances


def _probabilities(states, covariances_ric_km2, hard_body_m, relative_speed_km_s, monte_carlo_samples: int) -> dict:
    """The probability columns of conjunctions with TEME ``states`` (n, 2, 6), RIC position covariances
    (n, 2, 3, 3), hard-body radii (n,; m) and relative speeds (n,; km/s): the 2-D Pc where the short-encounter assumption holds, else the Monte Carlo one (or the 2-D value
    flagged ``NONE`` without samples), its interval and method."""
    inertial = [ric_to_inertial(covariances_ric_km2[:, i], states[:, i, :3], states[:, i, 3:]) for i in (0, 1)]
    pc = np.array([collision_probability(states[k, 0, :3], states[k, 0, 3:], inertial[0][k], states[k, 1, :3],
                                         states[k, 1, 3:], inertial[1][k], hard_body_m[k] / 1e3) for k in range(len(states))])
    min_speed = short_encounter_min_speed_km_s(states[:, 0, :3], states[:, 0, 3:], states[:, 1, 3:] - states[:, 0, 3:],
                                               inertial[0] + inertial[1])
    short = np.asarray(relative_speed_km_s) >= min_speed
    method = np.where(short, SHORT_ENCOUNTER_METHOD, MONTE_CARLO_METHOD if monte_carlo_samples else NOT_COMPUTED_METHOD)
    low, high, samples = pc.copy(), pc.copy(), np.zeros(len(states), dtype=int)
    slow = np.flatnonzero(~short)
    if monte_carlo_samples and len(slow):
        full = _position_velocity_covariances(covariances_ric_km2[slow], states[slow])
        monte_carlo = monte_carlo_probability(states[slow], full, hard_body_m[slow] / 1e3, samples=monte_carlo_samples)
        pc[slow], low[slow], high[slow], samples[slow] = (monte_carlo.probability, monte_carlo.low, monte_carlo.high,
                                                          monte_carlo_samples)
    return {"collision_probability": pc, "short_encounter_min_speed_km_s": min_speed, "short_encounter": short,
            "collision_probability_method": method, "collision_probability_low": low, "collision_probability_high": high,
            "monte_carlo_samples": samples}


def _position_velocity_covariances(covariances_ric_km2, states) -> np.ndarray:
    """Inertial position-velocity covariances (n, 2, 6, 6) from RIC position ones (n, 2, 3, 3): the velocity's
    1-sigma is the position's times :data:`VELOCITY_SIGMA_PER_POSITION_SIGMA_RAD_S`, uncorrelated (as the CDMs state)."""
    full = np.zeros(covariances_ric_km2.shape[:2] + (6, 6))
    full[..., :3, :3] = covariances_ric_km2
    full[..., 3:, 3:] = covariances_ric_km2 * VELOCITY_SIGMA_PER_POSITION_SIGMA_RAD_S**2
    return np.stack([ric_to_inertial(full[:, i], states[:, i, :3], states[:, i, 3:]) for i in (0, 1)], axis=1)


def formation_approaches(formations: Formations, start: Time, offsets_s: np.ndarray, hard_body_m: np.ndarray | None = None,
                         monte_carlo_samples: int = MONTE_CARLO_SAMPLES) -> pd.DataFrame:
    """Closest approach between any two members of a formation, per formation group, over the grid, with its
    relative speed and probability of collision (as a conjunction's: 2-D or, for these slow neighbours, Monte Carlo).

    Every chief of a block carries the same relative orbits, so the block's first formation stands
    for all (the distances between members depend on the chief's argument of latitude, which sweeps
    every value each orbit); the closest sampled pair is refined like any conjunction. ``hard_body_m`` (m, one per
    satellite) defaults to a payload's.
    """
    rows, fleet, states, radii_m, speeds = [], formations.fleet, [], [], []
    hard_body_m = _hard_body_radius_m(fleet, None) if hard_body_m is None else hard_body_m
    jd, fr = julian_dates(start, offsets_s)
    first_body = 0
    step_s = float(offsets_s[1] - offsets_s[0]) if len(offsets_s) > 1 else 60.0
    for block in fleet.blocks:
        members, bodies = block.relative.count, len(block.chiefs)
        if members > 1:
            position, _ = formations.states(first_body, jd, fr)
            i, j = np.triu_indices(members, 1)
            best = (np.inf, 0, 0)
            for chunk in np.array_split(np.arange(i.size), max(1, i.size // 256)):
                distance = np.linalg.norm(position[i[chunk]] - position[j[chunk]], axis=-1)
                at = np.unravel_index(np.argmin(distance), distance.shape)
                if distance[at] < best[0]:
                    best = (distance[at], chunk[at[0]], at[1])
            pair, step = best[1], best[2]
            window = step * step_s + window_offsets_s(step_s)
            wjd, wfr = julian_dates(start, window)
            wp, wv = formations.states(first_body, wjd, wfr)
            refined = closest_approaches(window[None], wp[i[pair]][None], wv[i[pair]][None], wp[j[pair]][None],
                                         wv[j[pair]][None])
            first_row = formations.first_row[first_body]
            tca_s = refined.tca_s[0] if refined.found[0] else step * step_s
            distance_km = refined.miss_distance_km[0] if refined.found[0] else best[0]
            rows.append({"group": fleet.group[first_row], "formations": bodies, "members": members,
                         "first": fleet.names[first_row + i[pair]], "second": fleet.names[first_row + j[pair]],
                         "closest_m": float(distance_km * 1e3),
                         "tca": np.datetime64(start.utc.isot, "ns") + np.timedelta64(int(round(tca_s * 1e9)), "ns"),
                         "relative_speed_m_s": float(refined.relative_speed_km_s[0] * 1e3)})
            states.append(np.stack([refined.state_a[0], refined.state_b[0]]))
            radii_m.append(hard_body_m[first_row + i[pair]] + hard_body_m[first_row + j[pair]])
            speeds.append(refined.relative_speed_km_s[0])
        first_body += bodies
    table = pd.DataFrame(rows, columns=FORMATION_CLOSEST_COLUMNS[:8])
    if rows:
        sigma = np.diag(np.square(DEFAULT_POSITION_SIGMA_RIC_KM["fleet"]))
        probability = _probabilities(np.array(states), np.broadcast_to(sigma, (len(rows), 2, 3, 3)), np.array(radii_m),
                                     np.array(speeds), monte_carlo_samples)
        for column in FORMATION_CLOSEST_COLUMNS[8:]:
            table[column] = probability[column]
    return table.reindex(columns=FORMATION_CLOSEST_COLUMNS)
