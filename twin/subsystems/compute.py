"""The compute workload and its scheduler: jobs arrive, are placed on a sub-center, served, finished or missed.

Work is counted in capacity-unit-seconds (CU s): a satellite of ``c`` CU (after throttling) does
``c * dt`` CU s of work in a step of ``dt`` seconds. A job runs on one sub-center, whose satellites
share its work in proportion to their capacity. Each step (:meth:`Scheduler.step`):

1. admission: each job arriving in the step goes to the sub-center with the most headroom,
   ``capacity * (deadline - step start) - work queued there``, in arrival order;
2. service: each sub-center spends ``capacity * dt`` on its jobs, highest priority (0) first, then
   earliest deadline first; a job may be partly served and continue in the next step (fluid);
3. deadlines: a job still unfinished at the end of the step in which its deadline falls is missed
   and dropped; the work served on it is wasted.

The time resolution is the step: a job is served from the start of the step it arrives in, and
completes or is missed at the end of a step. A job never leaves its sub-center (no migration).

Bookkeeping is exact to float rounding (see :meth:`Scheduler.totals`)::

    offered = completed + queued (served and remaining) + missed (wasted and remaining)
    served  = completed + queued served + wasted + lost

>>> import numpy as np
>>> jobs = Jobs(arrival_s=np.array([0.0, 0.0]), size_cu_s=np.array([600.0, 300.0]),
...             deadline_s=np.array([3600.0, 120.0]), priority=np.array([1, 0]),
...             job_class=np.array([0, 0]), class_names=("batch",))
>>> scheduler = Scheduler(jobs, subcenter_of_satellite=np.array([0, 0]), subcenter_count=1)
>>> first = scheduler.step(0.0, 60.0, capacity_cu=np.array([4.0, 1.0]))  # 300 CU s: the urgent job
>>> first.completed, first.utilization, first.served_cu_s
(array([1]), array([1., 1.]), array([240.,  60.]))
>>> for start_s in (60.0, 120.0):
...     result = scheduler.step(start_s, 60.0, capacity_cu=np.array([4.0, 1.0]))
>>> scheduler.totals()["overall"]["completed_jobs"]
2
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Job states in Scheduler.outcomes().
WAITING, QUEUED, COMPLETED, MISSED = 0, 1, 2, 3
STATE_NAMES = ("waiting", "queued", "completed", "missed")


def _first_bad(name: str, values: np.ndarray, bad: np.ndarray, rule: str) -> None:
    if bad.any():
        index = int(np.argmax(bad))
        raise ValueError(f"{name}[{index}]: {values[index].item()!r} {rule}")


def _integers(name: str, values) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name}: must be one-dimensional, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name}: must hold integers, got dtype {array.dtype}")
    return array.astype(np.int64)


def _floats(name: str, values) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name}: must be one-dimensional, got shape {array.shape}")
    return array


@dataclass(frozen=True, eq=False)
class Jobs:
    """Compute jobs, one row per job, sorted by arrival. Times are seconds from the run start.

    ``size_cu_s`` is the work a job needs (CU s), ``deadline_s`` the absolute time it is due,
    ``priority`` its rank (0 is served first), ``job_class`` an index into ``class_names``.
    The arrays are copied and made read-only.
    """

    arrival_s: np.ndarray
    size_cu_s: np.ndarray
    deadline_s: np.ndarray
    priority: np.ndarray
    job_class: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self):
        arrays = {
            "arrival_s": _floats("jobs.arrival_s", self.arrival_s),
            "size_cu_s": _floats("jobs.size_cu_s", self.size_cu_s),
            "deadline_s": _floats("jobs.deadline_s", self.deadline_s),
            "priority": _integers("jobs.priority", self.priority),
            "job_class": _integers("jobs.job_class", self.job_class),
        }
        count = arrays["arrival_s"].size
        for name, array in arrays.items():
            if array.size != count:
                raise ValueError(f"jobs.{name}: {array.size} values, but arrival_s has {count}")
        names = tuple(self.class_names)
        if not names or not all(isinstance(name, str) and name for name in names):
            raise ValueError(f"jobs.class_names: {self.class_names!r} must be a non-empty tuple of names")
        arrival, size, deadline = arrays["arrival_s"], arrays["size_cu_s"], arrays["deadline_s"]
        _first_bad("jobs.arrival_s", arrival, ~np.isfinite(arrival), "must be a finite number")
        _first_bad("jobs.arrival_s", arrival, arrival < 0, "must be at least 0")
        later = np.r_[False, arrival[1:] < arrival[:-1]]
        _first_bad("jobs.arrival_s", arrival, later, "is before the previous job's arrival; sort the jobs by arrival")
        _first_bad("jobs.size_cu_s", size, ~np.isfinite(size), "must be a finite number")
        _first_bad("jobs.size_cu_s", size, size <= 0, "must be above 0")
        _first_bad("jobs.deadline_s", deadline, ~np.isfinite(deadline), "must be a finite number")
        _first_bad("jobs.deadline_s", deadline, deadline <= arrival, "must be after the job's arrival_s")
        _first_bad("jobs.priority", arrays["priority"], arrays["priority"] < 0, "must be at least 0")
        job_class = arrays["job_class"]
        _first_bad("jobs.job_class", job_class, (job_class < 0) | (job_class >= len(names)),
                   f"is not a class index; it must be in 0..{len(names) - 1}")
        for name, array in arrays.items():
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        object.__setattr__(self, "class_names", names)

    def __len__(self) -> int:
        return self.arrival_s.size


def generate_jobs(settings, installed_cu: float, duration_s: float, subcenter_count: int = 1) -> Jobs:
    """The jobs of a run, drawn from the classes of a :class:`twin.scenario.ComputeSettings`.

    Per class: Poisson arrivals at ``jobs_per_subcenter_hour * subcenter_count`` per hour over
    ``[0, duration_s)``; lognormal sizes of spread ``size_spread`` (sigma of the log) whose mean
    is ``offered_load * installed_cu * 3600 / (jobs per hour)`` CU s, so the class offers
    ``offered_load`` of the installed capacity on average and a mean job is the same number of
    average sub-center-hours whatever the size of the fleet (a job runs on one sub-center);
    deadline ``deadline_hours`` after arrival. Deterministic for ``settings.seed``.
    """
    if subcenter_count < 1:
        raise ValueError(f"subcenter_count: {subcenter_count!r} must be at least 1")
    if not np.isfinite(installed_cu) or installed_cu <= 0:
        raise ValueError(f"installed_cu: {installed_cu!r} must be a finite number above 0")
    if not np.isfinite(duration_s) or duration_s < 0:
        raise ValueError(f"duration_s: {duration_s!r} must be a finite number at least 0")
    if not settings.classes:
        raise ValueError("settings.classes: no job classes to draw from")
    rng = np.random.default_rng(settings.seed)
    parts = []
    for index, job_class in enumerate(settings.classes):
        jobs_per_hour = job_class.jobs_per_subcenter_hour * subcenter_count
        count = rng.poisson(jobs_per_hour * duration_s / 3600.0)
        arrival_s = np.sort(rng.uniform(0.0, duration_s, count))  # Poisson process: uniform given the count
        mean_cu_s = job_class.offered_load * installed_cu * 3600.0 / jobs_per_hour
        sigma = job_class.size_spread
        size_cu_s = rng.lognormal(np.log(mean_cu_s) - 0.5 * sigma**2, sigma, count)  # E = exp(mu + sigma^2/2)
        parts.append((arrival_s, size_cu_s, arrival_s + job_class.deadline_hours * 3600.0,
                      np.full(count, job_class.priority), np.full(count, index)))
    arrival_s, size_cu_s, deadline_s, priority, job_class = (np.concatenate(column) for column in zip(*parts))
    order = np.argsort(arrival_s, kind="stable")
    return Jobs(arrival_s[order], size_cu_s[order], deadline_s[order], priority[order].astype(np.int64),
                job_class[order].astype(np.int64), tuple(job_class.name for job_class in settings.classes))


@dataclass
class StepResult:
    """One scheduler step: per satellite (``sat``) and per sub-center (``subcenter``) arrays.

    ``utilization`` (1) is served work over ``capacity * dt``, 0 where the capacity is 0;
    ``served_cu_s`` the work each satellite did (CU s); ``queue_length`` and ``queued_work_cu_s``
    the jobs left on each sub-center at the end of the step and the work they still need;
    ``completed`` and ``missed`` the jobs finished and dropped past their deadline in the step.
    """

    utilization: np.ndarray
    served_cu_s: np.ndarray
    queue_length: np.ndarray
    queued_work_cu_s: np.ndarray
    completed: np.ndarray
    missed: np.ndarray


class Scheduler:
    """Places ``jobs`` on sub-centers and serves them step by step.

    ``subcenter_of_satellite`` (sat,) gives each satellite's sub-center index in
    ``0..subcenter_count - 1``. Call :meth:`step` with consecutive steps; jobs that arrived before a
    step and were not admitted yet (a gap between steps) are admitted at its start.
    """

    def __init__(self, jobs: Jobs, subcenter_of_satellite: np.ndarray, subcenter_count: int):
        if not isinstance(jobs, Jobs):
            raise ValueError(f"jobs: {type(jobs).__name__} is not a Jobs table")
        if isinstance(subcenter_count, bool) or not isinstance(subcenter_count, (int, np.integer)) \
                or subcenter_count < 1:
            raise ValueError(f"subcenter_count: {subcenter_count!r} must be an integer at least 1")
        subcenter = _integers("subcenter_of_satellite", subcenter_of_satellite)
        _first_bad("subcenter_of_satellite", subcenter, (subcenter < 0) | (subcenter >= subcenter_count),
                   f"is out of range; it must be in 0..{subcenter_count - 1}")
        self.jobs = jobs
        self.subcenter_of_satellite = subcenter
        self.subcenter_count = int(subcenter_count)
        count = len(jobs)
        self._subcenter = np.full(count, -1, dtype=np.int64)  # where each job runs (-1: not admitted yet)
        self._state = np.full(count, WAITING, dtype=np.int8)
        self._remaining_cu_s = jobs.size_cu_s.copy()  # work still to do, lost work included
        self._progress_cu_s = np.zeros(count)  # work served and not lost: size - remaining
        self._served_cu_s = np.zeros(count)  # all work served on the job (progress + lost)
        self._lost_cu_s = np.zeros(count)
        self._end_s = np.full(count, np.nan)  # end of the step in which the job completed or was missed
        self._active = np.zeros(0, dtype=np.int64)  # queued jobs
        self._next_job = 0  # first job not admitted yet
        self._clock_s = -np.inf  # end of the previous step
        self._last_step = (np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(subcenter_count), 1.0)  # served last

    def step(self, start_s: float, dt_s: float, capacity_cu: np.ndarray) -> StepResult:
        """Admit, serve and check deadlines over ``[start_s, start_s + dt_s)`` with ``capacity_cu`` (sat,) CU."""
        capacity = np.asarray(capacity_cu, dtype=np.float64)
        if capacity.shape != self.subcenter_of_satellite.shape:
            raise ValueError(f"capacity_cu: shape {capacity.shape} does not match "
                             f"{self.subcenter_of_satellite.size} satellites")
        _first_bad("capacity_cu", capacity, ~(np.isfinite(capacity) & (capacity >= 0)),
                   "must be a finite number at least 0")
        subcenter_cu = np.bincount(self.subcenter_of_satellite, weights=capacity, minlength=self.subcenter_count)
        result = self.step_subcenters(start_s, dt_s, subcenter_cu)
        utilization = np.where(capacity > 0, result.utilization[self.subcenter_of_satellite], 0.0)
        return StepResult(utilization=utilization, served_cu_s=utilization * capacity * dt_s,
                          queue_length=result.queue_length, queued_work_cu_s=result.queued_work_cu_s,
                          completed=result.completed, missed=result.missed)

    def step_subcenters(self, start_s: float, dt_s: float, subcenter_cu: np.ndarray) -> StepResult:
        """:meth:`step` given the capacity of each sub-center (its satellites' sum, CU); ``utilization``
        and ``served_cu_s`` are then per sub-center, and every satellite of a sub-center shares its
        utilisation. Partitioned runs (:mod:`twin.run.scale_out`) add the sums of their partitions."""
        if not np.isfinite(start_s):
            raise ValueError(f"start_s: {start_s!r} must be a finite number")
        if not np.isfinite(dt_s) or dt_s <= 0:
            raise ValueError(f"dt_s: {dt_s!r} must be a finite number above 0")
        if start_s < self._clock_s - 1e-9 * max(1.0, abs(self._clock_s)):
            raise ValueError(f"start_s: {start_s!r} is before the end of the previous step, {self._clock_s!r}")
        count = self.subcenter_count
        subcenter_cu = np.asarray(subcenter_cu, dtype=np.float64)
        if subcenter_cu.shape != (count,):
            raise ValueError(f"subcenter_cu: shape {subcenter_cu.shape} does not match {count} sub-centers")
        _first_bad("subcenter_cu", subcenter_cu, ~(np.isfinite(subcenter_cu) & (subcenter_cu >= 0)),
                   "must be a finite number at least 0")
        end_s = start_s + dt_s
        self._clock_s = end_s
        self._admit(start_s, end_s, subcenter_cu)
        served_cu_s, completed = self._serve(dt_s, subcenter_cu)
        self._last_step = (*self._last_step[:2], subcenter_cu * dt_s, dt_s)

        # Deadlines: what is still queued and due by the end of the step is dropped.
        active = self._active[~completed]
        late = self.jobs.deadline_s[active] <= end_s
        missed_jobs = active[late]
        self._state[missed_jobs] = MISSED
        self._end_s[missed_jobs] = end_s
        finished = self._active[completed]
        self._state[finished] = COMPLETED
        self._end_s[finished] = end_s
        self._active = active[~late]

        budget_cu_s = subcenter_cu * dt_s
        utilization = np.divide(served_cu_s, budget_cu_s, out=np.zeros(count), where=budget_cu_s > 0)
        utilization = np.minimum(utilization, 1.0)  # rounding of the grouped sums
        queued = self._subcenter[self._active]
        return StepResult(
            utilization=utilization,
            served_cu_s=utilization * budget_cu_s,
            queue_length=np.bincount(queued, minlength=count),
            queued_work_cu_s=np.bincount(queued, weights=self._remaining_cu_s[self._active], minlength=count),
            completed=np.bincount(self._subcenter[finished], minlength=count),
            missed=np.bincount(self._subcenter[missed_jobs], minlength=count),
        )

    def _admit(self, start_s: float, end_s: float, subcenter_cu: np.ndarray) -> None:
        """Place the jobs arriving before ``end_s``, one at a time, each on the sub-center with most headroom.

        Headroom for a job of priority ``p`` is the sub-center's capacity until the job's deadline
        minus the queued work that would be served before it: work of priority ``p`` or higher.
        Lower-priority work (a long training run) yields to it, so it does not count. Ties (equal
        sub-centers with nothing ahead) go to the sub-center with the least work queued in all.
        """
        stop = int(np.searchsorted(self.jobs.arrival_s, end_s, side="left"))
        arriving = np.arange(self._next_job, stop)
        self._next_job = stop
        if not arriving.size:
            return
        levels = int(self.jobs.priority.max()) + 1 if len(self.jobs) else 1
        active = self._active
        queued_by_level = np.zeros((levels, self.subcenter_count))  # remaining work per priority and sub-center
        np.add.at(queued_by_level, (self.jobs.priority[active], self._subcenter[active]), self._remaining_cu_s[active])
        closed = subcenter_cu <= 0 if (subcenter_cu > 0).any() else np.zeros(self.subcenter_count, dtype=bool)
        for job in arriving:  # greedy: a later arrival sees the earlier placements
            priority = self.jobs.priority[job]
            horizon_s = max(self.jobs.deadline_s[job] - start_s, 0.0)
            headroom_cu_s = subcenter_cu * horizon_s - queued_by_level[: priority + 1].sum(axis=0)
            headroom_cu_s[closed] = -np.inf
            best = np.flatnonzero(headroom_cu_s >= headroom_cu_s.max() - 1e-9 * abs(headroom_cu_s.max()))
            target = int(best[np.argmin(queued_by_level[:, best].sum(axis=0))])
            self._subcenter[job] = target
            queued_by_level[priority, target] += self._remaining_cu_s[job]
        self._state[arriving] = QUEUED
        self._active = np.concatenate([self._active, arriving])

    def _serve(self, dt_s: float, subcenter_cu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Serve the queued jobs; returns the work served per sub-center and which active jobs completed."""
        active = self._active
        if not active.size:
            return np.zeros(self.subcenter_count), np.zeros(0, dtype=bool)
        group = self._subcenter[active]
        order = np.lexsort((active, self.jobs.deadline_s[active], self.jobs.priority[active], group))
        jobs, group = active[order], group[order]
        remaining = self._remaining_cu_s[jobs]
        # Work ahead of each job on its sub-center: a cumulative sum restarted at each group.
        ahead = np.cumsum(remaining) - remaining
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        ahead -= np.repeat(ahead[starts], np.diff(np.r_[starts, group.size]))
        served = np.minimum(remaining, np.maximum(subcenter_cu[group] * dt_s - ahead, 0.0))
        self._remaining_cu_s[jobs] = remaining - served
        working = served > 0  # the jobs an upset in this step can crash (lose_to_crashes)
        self._last_step = (jobs[working], served[working], *self._last_step[2:])
        self._progress_cu_s[jobs] += served
        self._served_cu_s[jobs] += served
        completed = np.empty(active.size, dtype=bool)
        completed[order] = served == remaining  # exactly: then the remaining work is exactly 0
        return np.bincount(group, weights=served, minlength=self.subcenter_count), completed

    def lose_work(self, subcenter: int, fraction: float) -> float:
        """A fault on ``subcenter``: its running jobs lose ``fraction`` of the work served on them.

        Running jobs are the queued jobs placed there that have been partly served. They must redo
        the lost work (it is added back to what they need). Returns the work lost (CU s).
        """
        if isinstance(subcenter, bool) or not isinstance(subcenter, (int, np.integer)) \
                or not 0 <= subcenter < self.subcenter_count:
            raise ValueError(f"subcenter: {subcenter!r} is out of range; it must be in 0..{self.subcenter_count - 1}")
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction: {fraction!r} is out of range; it must be in 0..1")
        jobs = self._active[self._subcenter[self._active] == subcenter]
        lost = fraction * self._progress_cu_s[jobs]
        self._progress_cu_s[jobs] -= lost
        self._remaining_cu_s[jobs] += lost
        self._lost_cu_s[jobs] += lost
        return float(lost.sum())

    def lose_to_crashes(self, crashes: np.ndarray, checkpoint_interval_s: float) -> float:
        """Upsets that crashed running jobs during the last step: ``crashes`` (sub-center,) expected on each
        sub-center's satellites. A job that took a share of its sub-center's capacity in that step takes that
        share of its crashes, and each sends it back to its last checkpoint: half ``checkpoint_interval_s``
        of its service then, at most the work it has done. The lost work is to be redone. Returns it (CU s).
        """
        crashes = np.asarray(crashes, dtype=np.float64)
        if crashes.shape != (self.subcenter_count,):
            raise ValueError(f"crashes: shape {crashes.shape} does not match {self.subcenter_count} sub-centers")
        _first_bad("crashes", crashes, ~(np.isfinite(crashes) & (crashes >= 0)), "must be a finite number at least 0")
        jobs, served, budget_cu_s, dt_s = self._last_step
        running = self._state[jobs] == QUEUED  # neither completed nor missed in that step
        jobs, served = jobs[running], served[running]
        budget = budget_cu_s[self._subcenter[jobs]]
        share = np.divide(served, budget, out=np.zeros(served.size), where=budget > 0)
        lost = np.minimum(self._progress_cu_s[jobs],
                          crashes[self._subcenter[jobs]] * share * served / dt_s * 0.5 * checkpoint_interval_s)
        self._progress_cu_s[jobs] -= lost
        self._remaining_cu_s[jobs] += lost
        self._lost_cu_s[jobs] += lost
        return float(lost.sum())

    def outcomes(self) -> pd.DataFrame:
        """One row per job: ``subcenter`` (-1 before admission), ``state`` (waiting, queued, completed,
        missed), ``end_s`` (end of the step it completed or was missed in), ``served_cu_s``,
        ``remaining_cu_s`` and ``lost_cu_s``."""
        return pd.DataFrame({
            "job_class": np.asarray(self.jobs.class_names)[self.jobs.job_class],
            "subcenter": self._subcenter,
            "state": pd.Categorical.from_codes(self._state, STATE_NAMES),
            "end_s": self._end_s,
            "served_cu_s": self._served_cu_s,
            "remaining_cu_s": self._remaining_cu_s,
            "lost_cu_s": self._lost_cu_s,
        })

    def totals(self) -> dict:
        """Work (CU s) and job counts so far, per class (``totals()["classes"][name]``) and ``"overall"``.

        Of the jobs that arrived (all are admitted): ``offered_cu_s`` their size; ``served_cu_s`` all
        work the satellites did on them; ``completed_cu_s`` the size of the completed ones;
        ``wasted_cu_s`` work served and not lost on missed jobs, ``missed_unserved_cu_s`` what they
        still needed; ``lost_cu_s`` work undone by :meth:`lose_work`; ``queued_served_cu_s`` and
        ``queued_cu_s`` the work done on and still needed by the queued jobs. Then

        ``offered = completed + queued_served + queued + wasted + missed_unserved`` and
        ``served = completed + queued_served + wasted + lost``.
        """
        classes = len(self.jobs.class_names)
        job_class = self.jobs.job_class
        state = self._state

        def add(mask, weights=None):
            return np.bincount(job_class[mask], weights=None if weights is None else weights[mask], minlength=classes)

        admitted, queued = state != WAITING, state == QUEUED
        completed, missed = state == COMPLETED, state == MISSED
        columns = {
            "arrived_jobs": add(admitted),
            "offered_cu_s": add(admitted, self.jobs.size_cu_s),
            "served_cu_s": add(admitted, self._served_cu_s),
            "completed_jobs": add(completed),
            "completed_cu_s": add(completed, self.jobs.size_cu_s),
            "missed_jobs": add(missed),
            "wasted_cu_s": add(missed, self._progress_cu_s),
            "missed_unserved_cu_s": add(missed, self._remaining_cu_s),
            "lost_cu_s": add(admitted, self._lost_cu_s),
            "queued_jobs": add(queued),
            "queued_served_cu_s": add(queued, self._progress_cu_s),
            "queued_cu_s": add(queued, self._remaining_cu_s),
        }

        def row(values: dict) -> dict:
            return {key: int(value) if key.endswith("_jobs") else float(value) for key, value in values.items()}

        return {
            "overall": row({key: values.sum() for key, values in columns.items()}),
            "classes": {name: row({key: values[index] for key, values in columns.items()})
                        for index, name in enumerate(self.jobs.class_names)},
        }
