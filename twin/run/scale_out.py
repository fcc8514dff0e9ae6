"""The twin on a Dask cluster: a run partitioned by satellites (and by time for the orbit layer),
written in parallel to one Zarr store.

1. **Store.** Every variable is laid out in a Zarr store (format 2, as :func:`twin.dataset.save`),
   in chunks of ``sat_chunk`` satellites by ``time_chunk`` steps: a notebook reads one satellite's
   span or one step of the fleet without reading the rest. The store is written beside the path
   asked for and renamed to it when complete (:mod:`twin.safe_output`): a failed or interrupted run
   leaves what was at the path before. What the run holds, its chunks and its orbit tasks are its
   plan's (:class:`twin.run.plan.RunPlan`), as in one process.
2. **Orbit layer.** SGP4 is analytic, so each task computes a block of whole satellite chunks over
   one time chunk, alone, and writes its region (chunks no other task touches). The Earth's
   orientation and the Sun are computed once for the whole run and sliced
   (:class:`twin.orbit.layer.OrbitFrames`), so a piece of time gets the same numbers as the whole.
   Dask reruns a task whose worker is lost; it writes the same bytes.
3. **Radiation** (a scenario with ``[radiation]``): a task per block of whole satellite chunks reads
   their stored positions a time chunk at a time, carrying each satellite's dose from one chunk to
   the next (:func:`twin.radiation.layer.layer_values`), and writes the radiation layer; the engine's
   partitions read its working share and crash rate from the store like their orbits.
4. **Power, thermal and compute.** Satellites couple through the scheduler (jobs placed on the
   sub-center with most headroom, fleet-wide) and phase 2's ground data centers. Each partition of
   rows (whole chunks) lives in a Dask actor (:class:`twin.subsystems.partition.Partition`); the client drives
   the steps (:func:`twin.subsystems.coupling.drive`): the actors send their capacity summed per sub-center,
   the client runs the scheduler and sends back each sub-center's utilisation. An actor writes its
   window of steps (a time chunk) when it is full.
5. **A lost worker.** At the start of every window the client keeps the partitions' state (battery
   and temperatures) and a copy of the scheduler. If a worker dies, every partition restarts from
   the last window on the workers left and rewrites the chunks after it, so the store ends intact
   and equal to an undisturbed run.
6. **Network** (optional): links, contacts and routing run on the client over the stored run
   (:func:`twin.network.flows.add_network`, one process) and are appended to the store.
"""

from __future__ import annotations

import copy
import hashlib
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
import zarr

from twin.dataset.layout import Layout, new_dataset
from twin.dataset.store import RUN, RUN_FORMAT, RUN_FORMAT_ATTR
from twin.orbit.constellation import design_fleet
from twin.orbit.layer import ORBIT_VARIABLES, OrbitFrames, elapsed_max_s, fill_orbits
from twin.radiation.environment import RadiationSettings
from twin.radiation.layer import radiation_attrs
from twin.run.plan import Chunks, RunPlan, orbit_tasks
from twin.run.progress import Progress, ProgressCounter
from twin.safe_output import written_into_place
from twin.scenario import Scenario
from twin.subsystems.coupling import drive
from twin.subsystems.engine import (CHIEF_ORBIT_VARIABLES, EnginePlan, cluster_coords, fleet_values,
                                    scheduler_attrs)
from twin.subsystems.partition import Drivers, Output, Start

LOST_WORKER_ERRORS = (OSError,)  # an actor's worker gone: distributed raises OSError (ConnectionError is one)


@dataclass(frozen=True)
class ScaleOutResult:
    """A partitioned run: where it is stored, how it was split, how many times it resumed after a lost
    worker, and the wall time of each stage (s: ``orbits``, ``engine``, ``network``)."""

    path: Path
    partitions: list[tuple[int, int]]
    orbit_tasks: int
    restarts: int
    seconds: dict[str, float]


def partition_rows(satellites: int, sat_chunk: int, partitions: int) -> list[tuple[int, int]]:
    """Row ranges of ``partitions`` near-equal partitions made of whole chunks of ``sat_chunk`` rows."""
    chunks = -(-satellites // sat_chunk)
    partitions = max(1, min(partitions, chunks))
    edges = np.linspace(0, chunks, partitions + 1).round().astype(int) * sat_chunk
    return [(int(a), int(min(b, satellites))) for a, b in zip(edges[:-1], edges[1:]) if a < b]


def _fleet_key(scenario: Scenario, representatives: bool) -> str:
    return hashlib.sha1(pickle.dumps((scenario, representatives))).hexdigest()


_FLEETS: dict[str, object] = {}  # per worker process: SGP4 element sets cannot be pickled, so each worker designs the fleet once


def _fleet(scenario: Scenario, representatives: bool, key: str):
    if key not in _FLEETS:
        fleet = design_fleet(scenario)
        _FLEETS.clear()
        _FLEETS[key] = fleet.chiefs_only() if representatives else fleet
    return _FLEETS[key]


def _array(group: zarr.Group, name: str) -> zarr.Array:
    """``group[name]``, storing every chunk written, even one of fill values (:func:`twin.open_run` checks none is missing)."""
    return group[name].with_config({"write_empty_chunks": True})


def _orbit_task(scenario, representatives, key, store, rows, times, frames, drift_s, chiefs) -> dict:
    """Compute and store the orbit layer of ``rows`` x ``times``; return the chiefs' part the engine needs."""
    fleet, (start, stop) = _fleet(scenario, representatives, key), rows
    part, first = fleet.covering(start, stop)
    piece = frames[slice(*times)]
    out = Layout.of_grid(ORBIT_VARIABLES, len(part), piece.jd.size).empty()
    fill_orbits(part, piece, drift_s, out)
    group = zarr.open_group(store, mode="r+")
    local = slice(start - first, stop - first)
    for name, values in out.items():
        _array(group, name)[start:stop, times[0]:times[1]] = values[local]
    chosen = chiefs[(chiefs >= start) & (chiefs < stop)]
    return {"rows": chosen, **{name: out[name][chosen - first] for name in CHIEF_ORBIT_VARIABLES}}


def _radiation_task(store: str, rows: tuple[int, int], time_s: np.ndarray, time_chunk: int, settings, health) -> None:
    """Compute and store the radiation layer of ``rows`` over the whole run, a time chunk at a time (each from the
    step before it, carrying the dose)."""
    from twin.radiation.layer import layer_values

    group = zarr.open_group(store, mode="r+")
    satellites = slice(*rows)
    dose_rad = np.zeros(rows[1] - rows[0])
    for first in range(0, time_s.size, time_chunk):
        last, lead = min(first + time_chunk, time_s.size), max(first - 1, 0)
        steps = slice(lead, last)
        values, total_dose_rad = layer_values(group["latitude"][satellites, steps], group["longitude"][satellites, steps],
                                              group["altitude"][satellites, steps] / 1e3, time_s[steps], settings,
                                              health, dose_rad)
        for name, array in values.items():
            _array(group, name)[satellites, first:last] = array[:, first - lead:]
        dose_rad = total_dose_rad[:, -1]


class _StoredWindows:
    """A stored (sat, time) variable's ``rows``, indexed ``[:, step]`` like an array, read a window of steps at a time;
    ``complement`` gives 1 minus the stored value (the share working of ``capacity_lost``)."""

    def __init__(self, array: zarr.Array, rows: tuple[int, int], window_steps: int, complement: bool = False):
        self.array, self.rows, self.window_steps, self.complement = array, slice(*rows), window_steps, complement
        self._first, self._values = 0, None

    def __getitem__(self, key) -> np.ndarray:
        _, step = key
        if self._values is None or not self._first <= step < self._first + self._values.shape[1]:
            self._first = step
            values = self.array[self.rows, step:step + self.window_steps + 1].astype(float)
            self._values = 1.0 - values if self.complement else values
        return self._values[:, step - self._first]


class PartitionActor:
    """A :class:`twin.subsystems.partition.Partition` on a Dask worker, reading its orbit layer (and the radiation
    layer's working share and crash rate, with ``radiation``) from the store and writing its outputs there one window
    (time chunk) at a time."""

    def __init__(self, plan: EnginePlan, chiefs, store: str, rows: tuple[int, int], window_steps: int, resume=None,
                 radiation: bool = False):
        self.group = zarr.open_group(store, mode="r+")
        self.rows = rows
        self._cached = (0, 0, None, None)
        self.window_steps, self.steps = window_steps, plan.offset_s.size
        stored = {"working": _StoredWindows(self.group["capacity_lost"], rows, window_steps, complement=True),
                  "crash_rate_s": _StoredWindows(self.group["seu_detected_rate"], rows, window_steps)} if radiation else {}
        self.partition = plan.partition(slice(*rows), Drivers(chiefs, self._orbit, **stored), Start(resume=resume),
                                        Output(window_steps, self._write))

    def _orbit(self, times: slice):
        """Illumination and beta angle of the partition over ``times``, read a window at a time."""
        first, last, illumination, beta = self._cached
        if not (first <= times.start and times.stop <= last):
            first = times.start
            last = min(first + self.window_steps + 1, self.steps)
            rows = slice(*self.rows)
            illumination, beta = self.group["illumination"][rows, first:last], self.group["beta_angle"][rows, first:last]
            self._cached = (first, last, illumination, beta)
        return illumination[:, times.start - first:times.stop - first], beta[:, times.start - first:times.stop - first]

    def _write(self, first_step: int, outputs: dict[str, np.ndarray]) -> None:
        rows = slice(*self.rows)
        for name, values in outputs.items():
            _array(self.group, name)[rows, first_step:first_step + values.shape[1]] = values

    def advance(self, k, previous):
        return self.partition.advance(k, previous)

    def serve(self, k, utilization):
        return self.partition.serve(k, utilization)


def _call_actors(actors: list, method: str, *args) -> list:
    """Call ``method`` on every actor and wait for all of them (so none is still writing when one has failed)."""
    futures = [getattr(actor, method)(*args) for actor in actors]
    results, error = [], None
    for future in futures:
        try:
            results.append(future.result())
        except LOST_WORKER_ERRORS as lost:
            error = error or lost
    if error is not None:
        raise error
    return results


def _skeleton(plan: RunPlan) -> xr.Dataset:
    """The run's dataset with every variable of the plan's layout lazily allocated in its chunks (only metadata is
    written from it)."""
    chunks = {"sat": plan.chunks.sat, "time": plan.chunks.time}
    return new_dataset(plan.layout.lazy(chunks), {**plan.coords(), **cluster_coords(plan.engine)}, plan.attrs)


def simulate_partitioned(scenario: Scenario, out: str | Path, client, start=None, duration_s: float | None = None,
                         step_s: float | None = None, faults=(), network: bool = False, representatives: bool = False,
                         sat_chunk: int = 512, time_chunk: int = 240, partitions: int | None = None,
                         progress: Callable[[Progress], None] | None = None,
                         max_restarts: int = 3, overwrite: bool = False, flight: bool = False) -> ScaleOutResult:
    """Run ``scenario`` on the Dask cluster of ``client`` into the Zarr store ``out`` (see the module docstring):
    :func:`simulate_plan` of :meth:`twin.run.plan.RunPlan.of` with these arguments, in chunks of ``sat_chunk``
    satellites by ``time_chunk`` steps.

    The result equals :func:`twin.run.simulate.run_scenario` with the same arguments to floating-point rounding.
    """
    _check_out(out)
    chunks = Chunks(sat_chunk, time_chunk)
    plan = RunPlan.of(scenario, start, duration_s, step_s, faults=faults, network=network,
                      representatives=representatives, chunks=chunks, flight=flight)
    return simulate_plan(plan, out, client, partitions, progress, max_restarts, overwrite)


def _check_out(out: str | Path) -> None:
    if Path(out).suffix != ".zarr":
        raise ValueError(f"out: {str(out)!r} must end in .zarr (a partitioned run is written to one Zarr store)")


def simulate_plan(plan: RunPlan, out: str | Path, client, partitions: int | None = None,
                  progress: Callable[[Progress], None] | None = None, max_restarts: int = 3,
                  overwrite: bool = False) -> ScaleOutResult:
    """Carry out ``plan`` (a scenario's, with :class:`twin.run.plan.Chunks`) on the Dask cluster of ``client`` into
    the Zarr store ``out``.

    The store is written beside ``out`` and renamed to it when complete; an existing run at ``out`` is
    replaced only if ``overwrite``, and anything else there never (:func:`twin.save`'s rules).
    ``partitions`` defaults to the cluster's worker threads. ``progress`` is told of every unit of the
    plan's work done (:mod:`twin.run.progress`; after a lost worker the steps count again from the
    checkpoint the run resumes from).
    """
    out = Path(out)
    _check_out(out)
    if (plan.engine is None or plan.chunks is None or plan.workload is not None or plan.initial_state is not None
            or plan.modes):
        raise ValueError("plan: a run on Dask needs a scenario's plan with subsystems and chunks, and no measurements "
                         "or commanded modes")
    counter = plan.work.counter(progress)
    with written_into_place(out, RUN, overwrite) as store:  # renamed in when complete
        _skeleton(plan).to_zarr(store, mode="w-", zarr_format=2, compute=False, consolidated=False,
                                write_empty_chunks=True)
        frames = OrbitFrames.at(plan.start, plan.offsets_s)
        _array(zarr.open_group(store, mode="r+"), "sun_position")[:] = frames.sun_m

        began = time.perf_counter()
        chiefs = plan.engine.chief_geometry(_orbit_layer(client, plan, store, frames, counter), frames.sun_m)
        seconds = {"orbits": time.perf_counter() - began}
        if plan.radiation:
            began = time.perf_counter()
            _radiation_layer(client, plan, store)
            counter.add("radiation")
            seconds["radiation"] = time.perf_counter() - began
        began = time.perf_counter()
        rows = partition_rows(len(plan.fleet), plan.chunks.sat, partitions or sum(client.nthreads().values()))
        coupling, restarts = _engine(client, plan.engine, chiefs, store, rows, plan.chunks.time, counter, max_restarts,
                                     plan.radiation)
        seconds["engine"] = time.perf_counter() - began

        group = zarr.open_group(store, mode="r+")
        for name, values in fleet_values(plan.engine, coupling).items():
            _array(group, name)[:] = values
        group.attrs.update({**scheduler_attrs(coupling), "partitions": len(rows), RUN_FORMAT_ATTR: RUN_FORMAT})
        if plan.radiation:
            group.attrs.update(radiation_attrs(RadiationSettings.of_design(plan.scenario.radiation)))
        if plan.network:
            from twin.network.flows import add_network

            began = time.perf_counter()
            _append(store, lambda run: add_network(run, plan.scenario, plan.outages()))
            counter.add("network")
            seconds["network"] = time.perf_counter() - began
        if plan.flight:
            from twin.flight.layer import add_flight

            began = time.perf_counter()
            _append(store, lambda run: add_flight(run, plan.scenario))
            counter.add("flight")
            seconds["flight"] = time.perf_counter() - began
        zarr.consolidate_metadata(str(store))
    return ScaleOutResult(out, rows, plan.work.stage("orbits").units, restarts, seconds)


def _orbit_layer(client, plan: RunPlan, out, frames: OrbitFrames, counter: ProgressCounter) -> dict:
    """Run the plan's orbit tasks; returns the chiefs' position, velocity, altitude and beta angle (chief, time)."""
    from dask.distributed import as_completed

    scenario, representatives = plan.scenario, plan.representatives
    key = _fleet_key(scenario, representatives)
    chief_rows = plan.engine.chief_rows
    [frames_future] = client.scatter([frames], broadcast=True)
    tasks = orbit_tasks(len(plan.fleet), plan.steps, plan.chunks)
    drift_s = elapsed_max_s(plan.fleet, frames)
    futures = [client.submit(_orbit_task, scenario, representatives, key, str(out), rows, times,
                             frames_future, drift_s, chief_rows, pure=False) for rows, times in tasks]
    where = {future.key: times for future, (_, times) in zip(futures, tasks)}
    chief_data = Layout.of_grid(CHIEF_ORBIT_VARIABLES, chief_rows.size, plan.steps).empty()
    for future in as_completed(futures):
        part = future.result()
        times = slice(*where[future.key])
        index = np.searchsorted(chief_rows, part["rows"])
        for name in chief_data:
            chief_data[name][index, times] = part[name]
        future.release()
        counter.add("orbits")
    return chief_data


def _radiation_layer(client, plan: RunPlan, out: Path) -> None:
    """Run the radiation tasks (one per block of satellite chunks, the partitions of the orbit tasks) and wait for them."""
    from twin.radiation.hardware import HardwareHealth

    design = plan.scenario.radiation
    settings, health = RadiationSettings.of_design(design), HardwareHealth.of_design(design)
    time_s = (plan.times - plan.times[0]) / np.timedelta64(1, "s")  # as the run in one process has it
    blocks = sorted({rows for rows, _ in orbit_tasks(len(plan.fleet), plan.steps, plan.chunks)})
    client.gather([client.submit(_radiation_task, str(out), rows, time_s, plan.chunks.time, settings, health, pure=False)
                   for rows in blocks])


def _engine(client, plan: EnginePlan, chiefs, out: Path, rows, time_chunk: int, counter: ProgressCounter,
            max_restarts: int, radiation: bool = False):
    """Step the partitions as actors, resuming from the last window if a worker is lost; returns the coupling."""
    from distributed.client import FutureCancelledError

    checkpoint = {"step": 1, "states": None, "coupling": plan.coupling()}

    def keep(step: int, states: list) -> None:
        checkpoint.update(step=step, states=states, coupling=copy.deepcopy(coupling))

    restarts = 0
    while True:
        coupling = copy.deepcopy(checkpoint["coupling"])
        actors = []
        try:
            [plan_future, chiefs_future] = client.scatter([plan, chiefs], broadcast=True)  # again: a lost worker may take them
            workers = list(client.scheduler_info()["workers"])
            for index, span in enumerate(rows):
                resume = None if checkpoint["states"] is None else (checkpoint["step"], checkpoint["states"][index])
                actors.append(client.submit(PartitionActor, plan_future, chiefs_future, str(out), span,
                                            time_chunk, resume, radiation, actor=True, pure=False,
                                            workers=[workers[index % len(workers)]], allow_other_workers=True))
            proxies = [future.result() for future in actors]
            counter.set("steps", checkpoint["step"] - 1)
            drive(proxies, coupling, first=checkpoint["step"], call=_call_actors,
                  progress=lambda steps: counter.add("steps", steps), on_checkpoint=keep)
            return coupling, restarts
        except (*LOST_WORKER_ERRORS, FutureCancelledError):  # an actor, or the data it was built from, lost
            restarts += 1
            if restarts > max_restarts:
                raise
            client.wait_for_workers(1)
        finally:
            for future in actors:
                future.release()


def _append(out: Path, add: Callable[[xr.Dataset], xr.Dataset]) -> None:
    """What ``add`` adds to the stored run (in one process: links, contacts and routing; flight variables),
    appended to the store."""
    run = xr.open_zarr(out, consolidated=False)
    extended = add(run)
    added = extended.drop_vars([name for name in run.variables])
    added.attrs = dict(extended.attrs)  # appending replaces the store's attributes: keep the run's
    added.to_zarr(out, mode="a", zarr_format=2, consolidated=False, write_empty_chunks=True)
