"""The satellites of a build-up as cohorts: those of one sub-center launched together, ageing together.

A cohort is launched at its launch time, in service ``commissioning_days`` later, loses satellites to random
failures (``failure_rate_per_year``) and, with ``[radiation]``, to failures by dose (:mod:`twin.lifecycle.dose`),
drawn per step from a generator seeded by the scenario's seed and the step (so a resumed run draws what an
uninterrupted one does), and all of its satellites at ``design_life_years``. The lost ones
wait for the next replacement launch (every ``replacement_every_days``), which puts them up as a new cohort of their
sub-center. Every operation is on arrays over cohorts; the only Python loop is over steps (:mod:`twin.lifecycle.run`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from twin.constants import JULIAN_YEAR_S, SECONDS_PER_DAY
from twin.dataset.catalogue import CATALOGUE, INTERVAL_MEAN
from twin.lifecycle.energy import orbit_balance
from twin.lifecycle.schedule import Schedule

ROW_OUTPUTS = ("launched_satellites", "flying_satellites", "serving_satellites", "failed_satellites",
               "disposed_satellites", "subcenter_generated_power", "subcenter_used_power", "subcenter_curtailed_power",
               "subcenter_battery_loss_power", "subcenter_compute_offered", "subcenter_compute_delivered",
               "array_output_fraction", "battery_capacity_fraction")
INTERVAL_OUTPUTS = tuple(name for name in ROW_OUTPUTS if CATALOGUE[name].attrs.get("cell_methods") == INTERVAL_MEAN)


@dataclass
class Cohorts:
    """The state of a build-up after a step: per cohort its sub-center ``row``, ``launch_s`` (s after the epoch),
    ``launch`` (index of its launch), ``satellites`` launched and ``flying``, the eclipses its sub-center had seen
    when it was launched (``cycles_at_launch``, NaN before); per sub-center the satellites ``failed``, ``disposed`` and
    ``waiting`` for a replacement, and its ``cycles`` (eclipses since the epoch); ``launches`` made so far."""

    row: np.ndarray
    launch_s: np.ndarray
    launch: np.ndarray
    satellites: np.ndarray
    flying: np.ndarray
    cycles_at_launch: np.ndarray
    failed: np.ndarray
    disposed: np.ndarray
    waiting: np.ndarray
    cycles: np.ndarray
    launches: np.ndarray

    @classmethod
    def at_epoch(cls, schedule: Schedule) -> Cohorts:
        rows = len(schedule.rows)
        return cls(schedule.cohort_row.copy(), schedule.cohort_launch_s.copy(), schedule.cohort_launch.copy(),
                   schedule.cohort_satellites.copy(), schedule.cohort_satellites.copy(),
                   np.full(schedule.cohort_row.size, np.nan), np.zeros(rows, np.int64), np.zeros(rows, np.int64),
                   np.zeros(rows, np.int64), np.zeros(rows), np.array(schedule.launch_count))

    def arrays(self) -> dict[str, np.ndarray]:
        """The state as named arrays (a checkpoint)."""
        return {field.name: np.asarray(getattr(self, field.name)) for field in fields(self)}

    @classmethod
    def from_arrays(cls, arrays) -> Cohorts:
        return cls(**{field.name: np.array(arrays[field.name]) for field in fields(cls)})

    def launched(self, time_s: float) -> np.ndarray:
        return self.launch_s <= time_s

    def at_start(self, schedule: Schedule, geometry: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int]:
        """The rows' values at the epoch (the means over a step NaN: no step ends there) and the launches made at it."""
        launched = self.launched(0.0)
        self.cycles_at_launch[launched] = 0.0
        values = self._row_values(schedule, 0.0, geometry)
        for name in INTERVAL_OUTPUTS:
            values[name] = np.full(len(schedule.rows), np.nan)
        return values, int(np.unique(self.launch[launched]).size)

    def step(self, schedule: Schedule, step: int, geometry: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int]:
        """Advance over the step ending at ``schedule.offsets_s[step]`` (``step`` >= 1) with the sub-centers'
        ``geometry`` over it (``eclipse``, ``period_s``, ``array_w``: a new satellite's sunlit array output, by row).
        Returns the rows' values at its end (:data:`ROW_OUTPUTS`) and the launches made in it."""
        settings = schedule.scenario.lifecycle
        before_s, now_s = schedule.offsets_s[step - 1], schedule.offsets_s[step]
        dt_s = now_s - before_s
        rows = len(schedule.rows)
        launched_now = self.launched(now_s) & ~self.launched(before_s)
        self.cycles_at_launch[launched_now] = self.cycles[self.row[launched_now]]
        launches = int(np.unique(self.launch[launched_now]).size)

        launched = self.launched(now_s)
        rng = np.random.default_rng((settings.seed, step))
        age_s = now_s - self.launch_s
        failing_random = -np.expm1(-settings.failure_rate_per_year * dt_s / JULIAN_YEAR_S)
        dose = schedule.dose_failures
        chance = (failing_random if dose is None else
                  1.0 - (1.0 - failing_random) * (1.0 - dose.failing(self.row, age_s - dt_s, age_s)))
        failing = rng.binomial(np.where(launched, self.flying, 0), chance)
        disposing = np.where(launched & (age_s >= settings.design_life_years * JULIAN_YEAR_S), self.flying - failing, 0)
        self.flying = self.flying - failing - disposing
        lost_failed = np.bincount(self.row, failing, rows).astype(np.int64)
        lost_disposed = np.bincount(self.row, disposing, rows).astype(np.int64)
        self.failed += lost_failed
        self.disposed += lost_disposed
        self.waiting += lost_failed + lost_disposed
        interval_s = settings.replacement_every_days * SECONDS_PER_DAY
        if interval_s > 0 and np.floor(now_s / interval_s) > np.floor(before_s / interval_s) and self.waiting.any():
            launches += self._replace(now_s)
        self.cycles += np.where(geometry["eclipse"] > 0, dt_s / geometry["period_s"], 0.0)
        return self._row_values(schedule, now_s, geometry), launches

    def _replace(self, now_s: float) -> int:
        """One replacement launch, now, of every satellite waiting: a new cohort for each sub-center with some."""
        rows = np.flatnonzero(self.waiting)
        count = self.waiting[rows]
        self.row = np.concatenate([self.row, rows])
        self.launch_s = np.concatenate([self.launch_s, np.full(rows.size, now_s)])
        self.launch = np.concatenate([self.launch, np.full(rows.size, int(self.launches))])
        self.satellites = np.concatenate([self.satellites, count])
        self.flying = np.concatenate([self.flying, count])
        self.cycles_at_launch = np.concatenate([self.cycles_at_launch, self.cycles[rows]])
        self.launches = np.array(int(self.launches) + 1)
        self.waiting[:] = 0
        return 1

    def _row_values(self, schedule: Schedule, now_s: float, geometry: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        settings = schedule.scenario.lifecycle
        rows = len(schedule.rows)
        power = schedule.power
        launched = self.launched(now_s)
        age_s = np.maximum(now_s - self.launch_s, 0.0)
        serving = np.where(launched & (age_s >= settings.commissioning_days * SECONDS_PER_DAY), self.flying, 0)
        row = self.row
        age_years = age_s / JULIAN_YEAR_S
        array_fraction = (1.0 - power.degradation_per_year[row]) ** age_years
        battery_fraction = np.clip(1.0 - settings.battery_calendar_fade_per_year * age_years
                                   - settings.battery_cycle_fade * np.nan_to_num(self.cycles[row] - self.cycles_at_launch),
                                   0.0, 1.0)
        balance = orbit_balance(geometry["array_w"][row] * array_fraction, geometry["eclipse"][row],
                                geometry["period_s"][row], power.battery_capacity_j[row] * battery_fraction,
                                power.charge_efficiency[row] * power.discharge_efficiency[row],
                                power.bus_power_w[row] + power.comms_power_w[row], power.compute_power_w[row],
                                power.idle_fraction, power.reserve_soc, schedule.offered_load)
        total = lambda values: np.bincount(row, serving * values, rows)
        serving_rows = np.bincount(row, serving, rows)
        mean = lambda values: np.where(serving_rows > 0, total(values) / np.maximum(serving_rows, 1), np.nan)
        return {
            "launched_satellites": np.bincount(row, np.where(launched, self.satellites, 0), rows),
            "flying_satellites": np.bincount(row, np.where(launched, self.flying, 0), rows),
            "serving_satellites": serving_rows,
            "failed_satellites": self.failed.copy(), "disposed_satellites": self.disposed.copy(),
            "subcenter_generated_power": total(balance.generated), "subcenter_used_power": total(balance.used),
            "subcenter_curtailed_power": total(balance.curtailed),
            "subcenter_battery_loss_power": total(balance.battery_loss),
            "subcenter_compute_offered": serving_rows * schedule.capacity_units * schedule.offered_load,
            "subcenter_compute_delivered": total(balance.compute) * schedule.capacity_units,
            "array_output_fraction": mean(array_fraction), "battery_capacity_fraction": mean(battery_fraction),
        }
