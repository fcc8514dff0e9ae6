"""Run the twin in this process: a run's plan (:class:`twin.run.plan.RunPlan`) carried out into one dataset in
memory: the orbit layer of its fleet (formation by formation), the radiation layer if its scenario has
``[radiation]``, then power, thermal and compute, then optionally the network."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr
from astropy.time import Time

from twin.dataset.layout import new_dataset
from twin.orbit.fleet import Fleet
from twin.orbit.layer import ORBIT_VARIABLES, OrbitFrames, elapsed_max_s, fill_orbits
from twin.run.memory import check_run_fits
from twin.run.plan import ORBIT_LAYER, RunPlan
from twin.run.progress import Progress
from twin.scenario import Scenario


def run_plan(plan: RunPlan, progress: Callable[[Progress], None] | None = None) -> xr.Dataset:
    """Carry out ``plan`` in this process and return the run.

    Raises :class:`twin.run.memory.RunTooLargeError` before allocating if its arrays would not fit in
    memory. ``progress`` is told of every unit of the plan's work done (:mod:`twin.run.progress`).
    """
    check_run_fits(plan)
    counter = plan.work.counter(progress)
    frames = OrbitFrames.at(plan.start, plan.offsets_s)
    arrays = plan.layout.empty(ORBIT_LAYER)
    arrays["sun_position"][:] = frames.sun_m
    fill_orbits(plan.fleet, frames, elapsed_max_s(plan.fleet, frames), {name: arrays[name] for name in ORBIT_VARIABLES},
                lambda: counter.add("orbits"))
    dataset = new_dataset(arrays, plan.coords(), plan.attrs)
    if plan.radiation:
        from twin.radiation import HardwareHealth, RadiationSettings, radiation_layer

        design = plan.scenario.radiation
        dataset = radiation_layer(dataset, RadiationSettings.of_design(design), HardwareHealth.of_design(design))
        counter.add("radiation")
    if plan.flight:
        from twin.flight.layer import add_flight

        dataset = add_flight(dataset, plan.scenario)
        counter.add("flight")
    if plan.engine is None:
        return dataset
    from twin.subsystems.engine import run_subsystems

    dataset = run_subsystems(dataset, plan.engine, lambda steps: counter.add("steps", steps), plan.workload,
                             plan.initial_state, plan.modes)
    if plan.network:
        from twin.network.flows import add_network

        dataset = add_network(dataset, plan.scenario, plan.outages())
        counter.add("network")
    return dataset


def run_orbits(fleet: Fleet, start: Time, offsets_s: np.ndarray, attrs: dict | None = None,
               progress: Callable[[Progress], None] | None = None) -> xr.Dataset:
    """The orbit and sunlight layer of the twin for ``fleet`` at ``start + offsets_s`` (s), with global ``attrs``.

    Raises :class:`twin.run.memory.RunTooLargeError` before allocating if its arrays would not fit in memory.
    ``progress`` is told as each formation block is done (:mod:`twin.run.progress`).
    """
    return run_plan(RunPlan.of_fleet(fleet, start, offsets_s, attrs), progress)


def run_scenario(scenario: Scenario, start: Time | None = None, duration_s: float | None = None,
                 step_s: float | None = None, progress: Callable[[Progress], None] | None = None,
                 subsystems: bool = True, representatives: bool = False, faults=(), network: bool = False,
                 workload=None, initial_state=None, flight: bool = False, modes=()) -> xr.Dataset:
    """Design the fleet of ``scenario`` and run the twin from ``start`` (default: its epoch) for ``duration_s``.

    ``subsystems`` adds power, thermal and compute (:mod:`twin.subsystems.engine`) to the orbit layer.
    ``representatives`` simulates only the chief of each sub-center, standing for all its
    satellites (coordinate ``represents``): its members fly within a kilometre on the same bus, so
    their sunlight and power are the chief's to within seconds at eclipse edges; sub-center and
    fleet figures are weighted accordingly. ``faults`` adds :class:`twin.scenario.Fault` s to the
    scenario's own. ``network`` adds links, ground contacts, routing and data flows
    (:func:`twin.network.flows.add_network`; it costs memory on big fleets, so it is asked for). ``flight`` adds
    air density and the drag and radiation-pressure accelerations (:func:`twin.flight.layer.add_flight`).
    ``workload`` (sat, time) drives compute with measured utilisation and ``initial_state`` starts
    the battery and temperatures where they were measured; ``modes`` applies commanded operating modes
    (:func:`twin.subsystems.engine.run_subsystems`).
    ``progress`` is told of every unit of work done (:class:`twin.run.progress.Progress`).

    The same as :func:`run_plan` of :meth:`twin.run.plan.RunPlan.of` with these arguments. A run whose
    arrays would not fit in memory raises :class:`twin.run.memory.RunTooLargeError` before anything is
    allocated.
    """
    plan = RunPlan.of(scenario, start, duration_s, step_s, subsystems=subsystems, representatives=representatives,
                      faults=faults, network=network, workload=workload, initial_state=initial_state, flight=flight,
                      modes=modes)
    return run_plan(plan, progress)
