"""A build-up run: its :class:`twin.lifecycle.schedule.Schedule` stepped from the epoch to ``lifecycle.end`` and
written to a Zarr store a chunk of steps at a time.

The store is written beside ``out`` as ``.NAME.twin-lifecycle.zarr`` with a checkpoint beside it (the cohorts after the
last chunk written, ``.NAME.twin-lifecycle.zarr.checkpoint.npz``, replaced in one rename) and renamed to ``out`` when complete
(:func:`twin.safe_output.put_in_place`). A run interrupted (killed, a lost machine) resumes from its last checkpoint
when asked again for the same scenario (its text's SHA-256 is recorded), and stores what an uninterrupted run does:
the failures of each step are drawn from a generator seeded by the step.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from twin.dataset import RUN, RUN_FORMAT, RUN_FORMAT_ATTR, check_run_target
from twin.dataset.catalogue import CATALOGUE
from twin.dataset.layout import as_variable
from twin.lifecycle.cohorts import ROW_OUTPUTS, Cohorts
from twin.lifecycle.energy import eclipse_fraction, orbit_period_s
from twin.lifecycle.schedule import Schedule
from twin.run.plan import run_attrs
from twin.run.progress import Progress, Stage, Work
from twin.run.simulate import run_orbits
from twin.safe_output import OutputError, put_in_place
from twin.scenario import Scenario, scenario_record
from twin.subsystems.power import array_output_w, solar_flux_w_m2
from twin.subsystems.thermal import vertical_view_factor

CHUNK_STEPS = 91  # steps written (and checkpointed) at a time: a quarter at daily steps


def lifecycle_work(schedule: Schedule) -> Work:
    """What a build-up run's progress counts: its steps after the first."""
    return Work((Stage("steps", schedule.offsets_s.size - 1, "step"),))


def partial_path(out: Path) -> Path:
    """Where a run to ``out`` is written until complete (and found again to resume)."""
    return out.with_name(f".{out.name}.twin-lifecycle{out.suffix}")


def checkpoint_path(partial: Path) -> Path:
    return partial.with_name(partial.name + ".checkpoint.npz")


def run_lifecycle(scenario: Scenario, out: str | Path, overwrite: bool = False,
                  progress: Callable[[Progress], None] | None = None, chunk_steps: int = CHUNK_STEPS,
                  note: Callable[[str], None] | None = None) -> Path:
    """Run the build-up of ``scenario`` into the Zarr store ``out``, resuming an interrupted run of the same scenario.

    ``progress`` is told of each step done (from the checkpoint's on a resumed run); ``note`` of what happens to the
    store (resumed, started again). Raises :class:`twin.safe_output.OutputError` if ``out`` may not be written.
    """
    out = Path(out)
    if out.suffix != ".zarr":
        raise OutputError(f"out: {str(out)!r} must end in .zarr: a build-up run is stored as it runs")
    check_run_target(out, overwrite)
    schedule = Schedule.of(scenario)
    partial = partial_path(out)
    digest = scenario_record(scenario)["scenario_sha256"] or scenario.name  # in memory: resumed by name
    resumed = _checkpoint(partial, digest)
    if resumed is None:
        if partial.exists():
            shutil.rmtree(partial)
            if note:
                note(f"{partial.name}: an unfinished run of another scenario or without a checkpoint; started again")
        _skeleton(schedule, digest, chunk_steps).to_zarr(partial, mode="w-", zarr_format=2, consolidated=False,
                                                         compute=False, write_empty_chunks=True)
        cohorts, first = Cohorts.at_epoch(schedule), 0
    else:
        cohorts, first, chunk_steps = resumed
        if note:
            note(f"{partial.name}: resumed at step {first} of {schedule.offsets_s.size}")
    counter = lifecycle_work(schedule).counter(progress)
    counter.set("steps", max(first - 1, 0))
    for start in range(first, schedule.offsets_s.size, chunk_steps):
        stop = min(start + chunk_steps, schedule.offsets_s.size)
        values = _chunk(schedule, cohorts, start, stop, lambda: counter.add("steps"))
        xr.Dataset({name: as_variable(name, value) for name, value in values.items()}).to_zarr(
            partial, region={"time": slice(start, stop)}, zarr_format=2, consolidated=False, write_empty_chunks=True)
        _save_checkpoint(partial, cohorts, stop)
    _finish(partial)
    put_in_place(partial, out, RUN, overwrite)
    checkpoint_path(partial).unlink()
    return out


def _skeleton(schedule: Schedule, digest: str, chunk_steps: int) -> xr.Dataset:
    """The run's coordinates and attributes, its static variables, and its stepped variables unwritten (lazy)."""
    import dask.array

    times = schedule.times()
    fleet = schedule.fleet
    coords = {"sat": fleet.names, "time": times, "subcenter": fleet.subcenter, "plane": fleet.plane,
              "owner": fleet.owner, "group": fleet.group, "bus": fleet.bus, "role": fleet.role,
              "member": schedule.members}
    sizes = {"sat": len(fleet), "time": times.size}
    stepped = {name: xr.Variable(CATALOGUE[name].dims, dask.array.zeros(
        tuple(sizes[dim] for dim in CATALOGUE[name].dims), dtype=CATALOGUE[name].dtype,
        chunks=tuple(min(sizes[dim], chunk_steps) if dim == "time" else sizes[dim] for dim in CATALOGUE[name].dims)),
        dict(CATALOGUE[name].attrs)) for name in ROW_OUTPUTS + ("launches",)}
    attrs = {**run_attrs(schedule.scenario, schedule.scenario.lifecycle.step_s, True), "lifecycle": 1,
             "lifecycle_chunk_steps": int(chunk_steps), "lifecycle_key": digest,
             "source": "twin: the build-up by twin.lifecycle, SGP4 chiefs of each sub-center, orbit-average power"}
    return xr.Dataset({**stepped, "member_share": as_variable("member_share", schedule.member_share),
                       "installed_power": as_variable("installed_power", schedule.installed_power_w),
                       "installed_compute": as_variable("installed_compute", schedule.capacity_units)},
                      coords={name: as_variable(name, value) for name, value in coords.items()},
                      attrs={"Conventions": "CF-1.11", **attrs})


def geometry(schedule: Schedule, start: int, stop: int) -> dict[str, np.ndarray]:
    """The sub-centers' chiefs at steps ``start:stop`` (row, step): eclipse fraction of the orbit, period (s), and the
    sunlit output of a new satellite's array (W) at that beta angle and Sun distance."""
    orbits = run_orbits(schedule.fleet, schedule.epoch, schedule.offsets_s[start:stop])
    beta, altitude = orbits["beta_angle"].values.astype(float), orbits["altitude"].values.astype(float)
    flux = solar_flux_w_m2(np.linalg.norm(orbits["sun_position"].values, axis=-1))[None, :]
    array_w, _ = array_output_w(schedule.power, np.broadcast_to(flux, beta.shape), np.ones_like(beta), beta,
                                np.zeros_like(beta), np.ones_like(beta), vertical_view_factor(altitude))
    return {"eclipse": eclipse_fraction(beta, altitude), "period_s": orbit_period_s(altitude), "array_w": array_w}


def _chunk(schedule: Schedule, cohorts: Cohorts, start: int, stop: int, done: Callable[[], None]) -> dict:
    """The stepped variables at steps ``start:stop``, the cohorts advanced to ``stop - 1``."""
    seen = geometry(schedule, start, stop)
    rows = {name: np.empty((len(schedule.rows), stop - start), CATALOGUE[name].dtype) for name in ROW_OUTPUTS}
    launches = np.zeros(stop - start, np.int32)
    for index, step in enumerate(range(start, stop)):
        here = {name: values[:, index] for name, values in seen.items()}
        if step == 0:
            values, launches[index] = cohorts.at_start(schedule, here)
        else:
            values, launches[index] = cohorts.step(schedule, step, here)
            done()
        for name in ROW_OUTPUTS:
            rows[name][:, index] = values[name]
    return {**rows, "launches": launches}


def _checkpoint(partial: Path, digest: str) -> tuple[Cohorts, int, int] | None:
    """The cohorts, next step and steps per chunk of an unfinished run of the scenario ``digest`` at ``partial``;
    None if there is none."""
    import zarr

    try:
        attrs = dict(zarr.open_group(str(partial), mode="r", zarr_format=2).attrs)
        with np.load(checkpoint_path(partial)) as saved:
            arrays = {name: saved[name] for name in saved.files}
    except (OSError, ValueError, KeyError, zarr.errors.GroupNotFoundError):
        return None
    if attrs.get("lifecycle_key") != digest:
        return None
    return Cohorts.from_arrays(arrays), int(arrays["next_step"]), int(attrs["lifecycle_chunk_steps"])


def _save_checkpoint(partial: Path, cohorts: Cohorts, next_step: int) -> None:
    """The cohorts after step ``next_step - 1``, replacing the last checkpoint in one rename."""
    temporary = checkpoint_path(partial).with_suffix(f".{os.getpid()}")
    with open(temporary, "wb") as handle:
        np.savez(handle, next_step=next_step, **cohorts.arrays())
    os.replace(temporary, checkpoint_path(partial))


def _finish(partial: Path) -> None:
    """Stamp the complete run as a twin run and consolidate its metadata."""
    import zarr

    group = zarr.open_group(str(partial), mode="r+", zarr_format=2)
    group.attrs[RUN_FORMAT_ATTR] = RUN_FORMAT
    zarr.consolidate_metadata(str(partial))

