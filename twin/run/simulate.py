"""Run the twin: the orbit layer of a fleet over a time grid (formation by formation), then power,
thermal, compute and optionally the network, into one twin dataset."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr
from astropy.time import Time

from twin.dataset import empty_dataset
from twin.offline import earth_orientation_note
from twin.orbit.constellation import design_fleet
from twin.orbit.fleet import Fleet
from twin.orbit.layer import ORBIT_VARIABLES, OrbitFrames, elapsed_max_s, fill_orbits
from twin.run.memory import check_run_fits
from twin.scenario import Scenario
from twin.timegrid import time_grid, to_datetime64
from twin.version import __version__

def run_orbits(fleet: Fleet, start: Time, offsets_s: np.ndarray, attrs: dict | None = None,
               progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """The orbit and sunlight layer of the twin for ``fleet`` at ``start + offsets_s`` (s).

    Raises :class:`twin.run.memory.RunTooLargeError` before allocating if its arrays would not fit in memory.

    ``progress`` is called after each formation block with the steps done, counted as a share of
    the fleet's steps (a float).
    """
    offsets_s = np.asarray(offsets_s, dtype=float)
    times = to_datetime64(start, offsets_s)
    check_run_fits(fleet, times)
    dataset = empty_dataset(fleet, times, attrs or {})
    frames = OrbitFrames.at(start, offsets_s)
    dataset["sun_position"].values[:] = frames.sun_m
    fill_orbits(fleet, frames, elapsed_max_s(fleet, frames), {name: dataset[name].values for name in ORBIT_VARIABLES},
                progress)
    return dataset


def run_attrs(scenario: Scenario, step_s: float, representatives: bool) -> dict:
    """Global attributes of a run of ``scenario``."""
    return {
        "title": f"Orbital data center twin: {scenario.title}",
        "scenario": scenario.name,
        "phase": scenario.phase,
        "scenario_source": scenario.source,
        "scenario_epoch": scenario.epoch.utc.isot,
        "step_s": float(step_s),
        "source": f"twin {__version__}: SGP4 chiefs and linear relative motion of formation members",
        "earth_orientation": earth_orientation_note(),
        "installed_power_w": float(scenario.installed_power_w()),
        "representatives": int(representatives),
    }


def run_span(scenario: Scenario, start: Time | None, duration_s: float | None, step_s: float | None,
             network: bool = False) -> tuple[Time, float, float]:
    """Start, duration (s) and step (s) of a run of ``scenario`` (its own where None), checked."""
    start = scenario.epoch if start is None else start
    duration_s = scenario.duration_s if duration_s is None else duration_s
    step_s = scenario.step_s if step_s is None else step_s
    if step_s > duration_s:
        raise ValueError(f"step: {step_s:g} s is longer than the duration of {duration_s:g} s")
    if network and scenario.links is None:
        raise ValueError("network: the scenario has no [links] section")
    return start, duration_s, step_s


def run_scenario(scenario: Scenario, start: Time | None = None, duration_s: float | None = None,
                 step_s: float | None = None, progress: Callable[[int], None] | None = None,
                 subsystems: bool = True, representatives: bool = False, faults=(), network: bool = False,
                 workload=None, initial_state=None, modes=()) -> xr.Dataset:
    """Design the fleet of ``scenario`` and run the twin from ``start`` (default: its epoch) for ``duration_s``.

    ``subsystems`` adds power, thermal and compute (:mod:`twin.subsystems.engine`) to the orbit layer.
    ``representatives`` simulates only the chief of each sub-center, standing for all its
    satellites (coordinate ``represents``): its members fly within a kilometre on the same bus, so
    their sunlight and power are the chief's to within seconds at eclipse edges; sub-center and
    fleet figures are weighted accordingly. ``faults`` adds :class:`twin.scenario.Fault` s to the
    scenario's own. ``network`` adds links, ground contacts, routing and data flows
    (:func:`twin.network.flows.add_network`; it costs memory on big fleets, so it is asked for).
    ``workload`` (sat, time) drives compute with measured utilisation and ``initial_state`` starts
    the battery and temperatures where they were measured, ``modes`` applies commanded operating modes
    (:func:`twin.subsystems.engine.run_subsystems`).
    A run whose arrays would not fit in memory raises :class:`twin.run.memory.RunTooLargeError` before
    anything is allocated.
    """
    start, duration_s, step_s = run_span(scenario, start, duration_s, step_s, network)
    fleet = design_fleet(scenario)
    if representatives:
        fleet = fleet.chiefs_only()
    attrs = run_attrs(scenario, step_s, representatives)
    offsets = time_grid(start, duration_s, step_s)
    if subsystems:
        check_run_fits(fleet, to_datetime64(start, offsets), scenario, faults, workload is not None)
    dataset = run_orbits(fleet, start, offsets, attrs, progress if not subsystems else None)
    if not subsystems:
        return dataset
    from twin.subsystems.engine import run_subsystems

    if progress:
        progress(1)
    dataset = run_subsystems(dataset, scenario, faults, progress, workload, initial_state, modes)
    if network:
        from twin.network.flows import add_network, outages_of

        dataset = add_network(dataset, scenario, outages_of(scenario, start, faults))
    return dataset
