"""What a lifecycle scenario fixes before its run: one row per sub-center (its chief standing for its satellites),
the cohorts its launches put up, the buses' numbers the energy balance needs and the members' shares.

>>> import twin
>>> schedule = Schedule.of(twin.load_scenario("lifecycle"))
>>> len(schedule.rows), int(schedule.cohort_satellites.sum()), schedule.launch_count
(144, 10485, 27)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.time import Time

from twin.constants import SOLAR_CONSTANT_W_M2
from twin.lifecycle.dose import DoseFailures
from twin.orbit.constellation import design_fleet
from twin.orbit.fleet import Fleet
from twin.scenario import Scenario, ScenarioError, bus_columns
from twin.subsystems.power import PowerModel
from twin.timegrid import parse_date, time_grid


@dataclass(frozen=True)
class Schedule:
    """The build-up of ``scenario`` (it must have a ``[lifecycle]`` section).

    ``fleet``: the chiefs, one row per sub-center (``rows``: their sub-center names); ``offsets_s``: the run's steps
    (s after the epoch). The launches as cohorts, in launch order: ``cohort_row`` (the sub-center),
    ``cohort_launch_s`` (s after the epoch), ``cohort_satellites`` and ``cohort_launch`` (the launch's index).
    Per row: ``power`` (the bus's :class:`twin.subsystems.power.PowerModel`), ``installed_power_w`` (beginning-of-life
    array power of a satellite at normal incidence and 1 au) and ``capacity_units`` (a satellite's installed compute).
    ``member_share`` (member, row): each member's fraction of a sub-center; ``offered_load``: the fraction of
    installed compute the workload asks for; ``dose_failures``: the failures by dose of a scenario with
    ``[radiation]`` (:mod:`twin.lifecycle.dose`), else None.
    """

    scenario: Scenario
    fleet: Fleet
    offsets_s: np.ndarray
    cohort_row: np.ndarray
    cohort_launch_s: np.ndarray
    cohort_satellites: np.ndarray
    cohort_launch: np.ndarray
    power: PowerModel
    installed_power_w: np.ndarray
    capacity_units: np.ndarray
    members: np.ndarray
    member_share: np.ndarray
    offered_load: float
    dose_failures: DoseFailures | None = None

    @classmethod
    def of(cls, scenario: Scenario) -> Schedule:
        settings = scenario.lifecycle
        if settings is None:
            raise ScenarioError(f"lifecycle: scenario {scenario.name!r} has no [lifecycle] section")
        fleet = design_fleet(scenario).chiefs_only()
        end_s = float((parse_date(settings.end, "lifecycle.end") - scenario.epoch).sec)
        rows = fleet.subcenter
        row_of = {name: index for index, name in enumerate(rows)}
        group_rows = {group.name: sorted(row_of[name] for name in rows[fleet.group == group.name])
                      for group in scenario.subcenters}
        order = sorted(range(len(settings.launches)), key=lambda index: parse_date(settings.launches[index].date,
                                                                                   "date").jd)
        taken = {name: 0 for name in group_rows}
        cohort_row, cohort_launch_s, cohort_launch = [], [], []
        for launch_index, index in enumerate(order):
            launch = settings.launches[index]
            launched = group_rows[launch.group][taken[launch.group]:taken[launch.group] + launch.subcenters]
            taken[launch.group] += launch.subcenters
            cohort_row += launched
            cohort_launch_s += [float((parse_date(launch.date, "date") - scenario.epoch).sec)] * len(launched)
            cohort_launch += [launch_index] * len(launched)
        cohort_row = np.array(cohort_row, dtype=np.int64)
        column = bus_columns(scenario.buses, fleet.bus)
        power = PowerModel.from_buses(scenario.buses, fleet.bus, scenario.compute)
        members = np.array(scenario.members)
        return cls(scenario, fleet, time_grid(scenario.epoch, end_s, settings.step_s), cohort_row,
                   np.array(cohort_launch_s), fleet.represents[cohort_row].astype(np.int64),
                   np.array(cohort_launch, dtype=np.int64), power,
                   SOLAR_CONSTANT_W_M2 * column("solar_array_area_m2") * column("solar_cell_efficiency"),
                   column("compute_capacity_units"), members, member_shares(scenario, fleet, members),
                   min(1.0, sum(job_class.offered_load for job_class in scenario.compute.classes)),
                   DoseFailures.of(scenario, fleet))

    @property
    def rows(self) -> np.ndarray:
        return self.fleet.subcenter

    @property
    def launch_count(self) -> int:
        """Launches of the build-up (replacements aside)."""
        return int(np.unique(self.cohort_launch).size)

    def times(self) -> np.ndarray:
        """The run's times, UTC datetime64[ns]."""
        from twin.timegrid import to_datetime64

        return to_datetime64(self.scenario.epoch, self.offsets_s)

    @property
    def epoch(self) -> Time:
        return self.scenario.epoch


def member_shares(scenario: Scenario, fleet: Fleet, members: np.ndarray) -> np.ndarray:
    """Each member's fraction (member, row) of each sub-center: the group's ``[[lifecycle.shares]]`` where it has
    them, else the whole sub-center to its owner. Every column sums to 1."""
    shares = (members[:, None] == fleet.owner[None, :]).astype(float)
    for group in {share.group for share in scenario.lifecycle.shares}:
        percent = {share.member: share.percent for share in scenario.lifecycle.shares if share.group == group}
        shares[:, fleet.group == group] = np.array([percent.get(member, 0.0) / 100.0 for member in members])[:, None]
    return shares
