"""A run's progress, counted in one place: the work of each stage, defined once by its plan, and a counter that
every executor advances and every display reads.

A run's :class:`Work` is its stages in order, each a number of units: ``orbits`` (formation blocks in one
process, orbit tasks on Dask), ``steps`` (the engine's time steps after the first, when the run has
subsystems) and ``network`` (one, when the run has a network). The run's executor advances a
:class:`ProgressCounter` as units are done; the counter reports each change as a :class:`Progress`
to a callback: the terminal's bar, the dashboard's jobs, a test.

>>> work = Work((Stage("orbits", 2, "block"), Stage("steps", 3, "step")))
>>> seen = []
>>> counter = work.counter(seen.append)
>>> counter.add("orbits", 2); counter.add("steps"); counter.set("steps", 3)
>>> [(p.stage, p.stage_done, p.done, p.total) for p in seen]
[('orbits', 2, 2, 5), ('steps', 1, 3, 5), ('steps', 3, 5, 5)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    """A stage of a run: its ``name``, the ``units`` of work it counts, and what one unit is (``unit``)."""

    name: str
    units: int
    unit: str


@dataclass(frozen=True)
class Progress:
    """Where a run is: ``stage_done`` of the ``stage_total`` units of the stage that last advanced, ``done`` of the
    run's ``total`` units."""

    stage: str
    stage_done: int
    stage_total: int
    done: int
    total: int

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


@dataclass(frozen=True)
class Work:
    """The stages of a run, in order, in the units progress counts."""

    stages: tuple[Stage, ...]

    @property
    def total(self) -> int:
        return sum(stage.units for stage in self.stages)

    def stage(self, name: str) -> Stage:
        return next(stage for stage in self.stages if stage.name == name)

    def counter(self, report: Callable[[Progress], None] | None = None) -> ProgressCounter:
        """A counter of this work, at nothing done, that tells ``report`` of every change."""
        return ProgressCounter(self, report)


class ProgressCounter:
    """Units done per stage of a :class:`Work`: the one count of a run's progress."""

    def __init__(self, work: Work, report: Callable[[Progress], None] | None = None):
        self.work, self.report = work, report
        self.stage_done = {stage.name: 0 for stage in work.stages}

    @property
    def done(self) -> int:
        return sum(self.stage_done.values())

    def add(self, stage: str, units: int = 1) -> None:
        """``units`` more of ``stage`` done."""
        self.set(stage, self.stage_done[stage] + units)

    def set(self, stage: str, done: int) -> None:
        """``done`` units of ``stage`` done (fewer than before when a run resumes from a checkpoint)."""
        self.stage_done[stage] = done
        if self.report is not None:
            self.report(Progress(stage, done, self.work.stage(stage).units, self.done, self.work.total))
