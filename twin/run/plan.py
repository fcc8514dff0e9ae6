"""A run of the twin, planned once before anything is computed: the designed fleet, the time grid, the run's
attributes, what the engine shares, the variables it will allocate and the work progress counts.

Both executors carry out a plan: :func:`twin.run.simulate.run_plan` in this process (a dataset in memory)
and :func:`twin.run.scale_out.simulate_plan` on a Dask cluster (a Zarr store written as it runs). Making
the plan checks what can be checked before the run: the span and step, the network's settings, the
fleet's separation (:func:`twin.orbit.constellation.design_fleet`) and the faults' targets; the memory a run
in this process needs is checked from the plan's :attr:`RunPlan.layout` (:mod:`twin.run.memory`).

>>> import twin
>>> plan = RunPlan.of(twin.load_scenario("phase1"), duration_s=3600, step_s=60)
>>> len(plan.fleet), plan.steps, [(stage.name, stage.units) for stage in plan.work.stages]
(25, 61, [('orbits', 2), ('steps', 60)])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from astropy.time import Time

from twin.dataset.catalogue import CATALOGUE
from twin.dataset.layout import Layout, fleet_coords
from twin.offline import earth_orientation_note
from twin.orbit.constellation import design_fleet
from twin.orbit.fleet import Fleet
from twin.run.progress import Stage, Work
from twin.scenario import Fault, Scenario, scenario_record
from twin.subsystems.engine import EnginePlan
from twin.timegrid import time_grid, to_datetime64
from twin.version import __version__

ORBIT_LAYER = tuple(name for name, variable in CATALOGUE.items()
                    if variable.stage == "orbit" and not variable.coordinate)  # the orbit layer's variables
RADIATION_LAYER = tuple(name for name, variable in CATALOGUE.items() if variable.stage == "radiation")
FLIGHT_LAYER = tuple(name for name, variable in CATALOGUE.items() if variable.stage == "flight")  # added after the run
SAT_STEPS_PER_ORBIT_TASK = 2_000_000  # satellite-steps per orbit task on Dask: about 0.2 GB of orbit layer at a time


@dataclass(frozen=True)
class Chunks:
    """A run stored as it runs (on Dask): chunks of ``sat`` satellites by ``time`` steps. A chunk of steps is also
    the engine's window (what a partition keeps before writing) and a resumed run's checkpoint."""

    sat: int = 512
    time: int = 240

    def __post_init__(self):
        for name, value in (("sat_chunk", self.sat), ("time_chunk", self.time)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
                raise ValueError(f"{name}: {value!r} must be an integer of at least 2")


class RunOptionError(ValueError):
    """A span, step or option of a run that cannot be run; the message begins with the option's name."""


def run_span(scenario: Scenario, start: Time | None, duration_s: float | None, step_s: float | None,
             network: bool = False) -> tuple[Time, float, float]:
    """Start, duration (s) and step (s) of a run of ``scenario`` (its own where None), checked."""
    start = scenario.epoch if start is None else start
    duration_s = scenario.duration_s if duration_s is None else duration_s
    step_s = scenario.step_s if step_s is None else step_s
    if step_s > duration_s:
        raise RunOptionError(f"step: {step_s:g} s is longer than the duration of {duration_s:g} s")
    if network and scenario.links is None:
        raise RunOptionError("network: the scenario has no [links] section")
    return start, duration_s, step_s


def run_attrs(scenario: Scenario, step_s: float, representatives: bool) -> dict:
    """Global attributes of a run of ``scenario``."""
    return {
        "title": f"Orbital data center twin: {scenario.title}",
        "scenario": scenario.name,
        "phase": scenario.phase,
        "scenario_source": scenario.source,
        **scenario_record(scenario),
        "scenario_epoch": scenario.epoch.utc.isot,
        "step_s": float(step_s),
        "source": f"twin {__version__}: SGP4 chiefs and linear relative motion of formation members",
        "earth_orientation": earth_orientation_note(),
        "installed_power_w": float(scenario.installed_power_w()),
        "representatives": int(representatives),
    }


def orbit_tasks(satellites: int, steps: int, chunks: Chunks) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(rows, steps) of the orbit tasks of a run stored in ``chunks``: whole chunks, about
    :data:`SAT_STEPS_PER_ORBIT_TASK` satellite-steps each, time chunk by time chunk."""
    rows_per_task = max(1, SAT_STEPS_PER_ORBIT_TASK // (chunks.time * chunks.sat)) * chunks.sat
    return [((first_row, min(first_row + rows_per_task, satellites)),
             (first_step, min(first_step + chunks.time, steps)))
            for first_step in range(0, steps, chunks.time) for first_row in range(0, satellites, rows_per_task)]


@dataclass(frozen=True, eq=False)
class RunPlan:
    """A run of ``fleet`` from ``start`` at ``offsets_s`` (s; ``times`` as UTC datetime64) with global ``attrs``.

    A ``scenario``'s run has ``subsystems`` (``engine``, the :class:`twin.subsystems.engine.EnginePlan`
    every partition shares) and optionally the ``network`` and the ``flight`` variables (air density, drag and
    radiation pressure: :mod:`twin.flight.layer`); a scenario with ``[radiation]`` adds the radiation layer
    after the orbits; ``faults`` add to the scenario's, ``workload`` and ``initial_state`` drive it from
    measurements and ``modes`` are the operating modes
    commanded (:func:`twin.subsystems.engine.run_subsystems`); ``battery_left`` (sat,), the fraction of each
    battery's capacity left (a window of a build-up, :mod:`twin.lifecycle.zoom`; None: new). ``chunks``: stored as it runs, in these chunks (on
    Dask). Made from these: ``layout``, every variable the run allocates over satellites and time
    (the network's, whose sizes only its links and passes decide, aside), and ``work``, what its
    progress counts.
    """

    fleet: Fleet
    start: Time
    offsets_s: np.ndarray
    attrs: dict
    scenario: Scenario | None = None
    subsystems: bool = False
    representatives: bool = False
    network: bool = False
    faults: tuple[Fault, ...] = ()
    workload: np.ndarray | None = None
    initial_state: dict | None = None
    chunks: Chunks | None = None
    flight: bool = False
    modes: tuple = ()
    battery_left: np.ndarray | None = None
    times: np.ndarray = field(init=False)
    engine: EnginePlan | None = field(init=False)
    layout: Layout = field(init=False)
    work: Work = field(init=False)

    @property
    def radiation(self) -> bool:
        """Whether the run adds the radiation layer (:mod:`twin.radiation`): its scenario has a ``[radiation]``."""
        return self.scenario is not None and self.scenario.radiation is not None

    def __post_init__(self):
        if (self.subsystems or self.network or self.flight) and self.scenario is None:
            raise ValueError("scenario: a run with subsystems, a network or flight variables needs one")
        times = to_datetime64(self.start, self.offsets_s)
        engine = (EnginePlan.of(fleet_coords(self.fleet, times), self.scenario, self.faults, self.workload is not None,
                                self.battery_left) if self.subsystems else None)
        layout = Layout.of_grid(ORBIT_LAYER + (RADIATION_LAYER if self.radiation else ())
                                + (engine.variables if engine else ()), len(self.fleet), times.size,
                                **({"cluster": engine.cluster_names.size} if engine else {}))
        if self.chunks is None:
            stages = [Stage("orbits", len(self.fleet.blocks), "block")]
        else:
            stages = [Stage("orbits", len(orbit_tasks(len(self.fleet), times.size, self.chunks)), "task")]
        if self.radiation:
            stages.append(Stage("radiation", 1, "layer"))
        if engine is not None and times.size > 1:
            stages.append(Stage("steps", times.size - 1, "step"))
        if self.network:
            stages.append(Stage("network", 1, "network"))
        if self.flight:
            stages.append(Stage("flight", 1, "flight"))
        for name, value in (("times", times), ("engine", engine), ("layout", layout), ("work", Work(tuple(stages)))):
            object.__setattr__(self, name, value)  # made once, from the fields above

    @classmethod
    def of(cls, scenario: Scenario, start: Time | None = None, duration_s: float | None = None,
           step_s: float | None = None, *, subsystems: bool = True, representatives: bool = False, faults=(),
           network: bool = False, workload: np.ndarray | None = None, initial_state: dict | None = None,
           chunks: Chunks | None = None, flight: bool = False, modes=()) -> RunPlan:
        """The plan of a run of ``scenario`` from ``start`` (default: its epoch) for ``duration_s`` at ``step_s``
        (default: the scenario's), with the options of :func:`twin.run.simulate.run_scenario`.

        Raises :class:`RunOptionError` naming the step or the network if they cannot be run,
        :class:`twin.scenario.ScenarioError` naming two satellites that would come too close, and
        ``ValueError`` naming a fault whose target is not in the fleet.
        """
        start, duration_s, step_s = run_span(scenario, start, duration_s, step_s, network)
        fleet = design_fleet(scenario)
        if representatives:
            fleet = fleet.chiefs_only()
        return cls(fleet, start, time_grid(start, duration_s, step_s), run_attrs(scenario, step_s, representatives),
                   scenario, subsystems, representatives, network and subsystems, tuple(faults), workload,
                   initial_state, chunks, flight=flight, modes=tuple(modes))

    @classmethod
    def of_fleet(cls, fleet: Fleet, start: Time, offsets_s: np.ndarray, attrs: dict | None = None) -> RunPlan:
        """The plan of the orbit layer of ``fleet`` (TLEs, a slice of a fleet) at ``start + offsets_s`` (s)."""
        return cls(fleet, start, np.asarray(offsets_s, dtype=float), attrs or {})

    @property
    def steps(self) -> int:
        return self.times.size

    def coords(self) -> dict:
        """The run's coordinates: satellites, their labels, time and xyz (:func:`twin.dataset.layout.fleet_coords`)."""
        return fleet_coords(self.fleet, self.times)

    def outages(self) -> list:
        """The scenario's and the run's ``station_lost`` and ``relay_lost`` faults as the network's outages."""
        from twin.network.flows import outages_of

        return outages_of(self.scenario, self.start, self.faults)
