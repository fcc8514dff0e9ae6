"""The simulation engine: power, thermal and compute of every satellite, stepped in time.

The orbit layer (:func:`twin.run.simulate.run_orbits`) gives every satellite's position, sunlight
and beta angle. The engine then steps the state of every satellite at once (arrays over
satellites, one Python iteration per time step): battery energy, payload and bus temperatures and
the job queues. Each step, in order:

1. array output over the step (mean of its ends), faults applied;
2. what compute may use: the power headroom (array beyond the other loads, battery above its
   reserve) and the thermal headroom (linear derating between the throttle and the maximum
   payload temperature); the smaller sets the satellite's capacity;
3. the scheduler places and serves jobs within that capacity;
4. loads (bus, comms, heaters on their thermostat, compute at its utilisation) drawn from the
   array and battery, shedding compute first if the battery reaches its floor;
5. temperatures advance with the heat of those loads and the environment.

Satellites couple only through the scheduler (and phase 2's ground data centers): the fleet is
stepped as one :class:`twin.subsystems.partition.Partition` in one process (:func:`run_subsystems`), and
as many on a Dask cluster (:mod:`twin.run.scale_out`), through the same :func:`twin.subsystems.coupling.drive`.
What every partition shares is the run's :class:`EnginePlan`, made once for the run
(:class:`twin.run.plan.RunPlan`).

Quantities of a step (powers, utilisation, throughput, throttle) are means over the interval that
ends at that time; the first time has no interval and holds NaN. States (battery, temperatures)
are at the time itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import xarray as xr

from twin.constants import JULIAN_YEAR_S, SOLAR_CONSTANT_W_M2
from twin.dataset.catalogue import CATALOGUE
from twin.dataset.layout import as_variable, fixed_coords
from twin.orbit.fleet import formation_chief
from twin.scenario import Scenario, bus_columns
from twin.subsystems.compute import generate_jobs
from twin.subsystems.coupling import FleetCoupling, drive
from twin.subsystems.faults import ResolvedFault, losses_by_step, resolve_faults
from twin.subsystems.modes import operating_modes
from twin.subsystems.offload import GroundDataCenters
from twin.subsystems.partition import (ChiefGeometry, Drivers, Output, Partition, PartitionSatellites, Start,
                                       StepTimes)
from twin.subsystems.power import PowerModel
from twin.subsystems.thermal import ThermalModel
from twin.timegrid import parse_date

CHIEF_ORBIT_VARIABLES = ("position", "velocity", "altitude", "beta_angle")  # what the engine needs of the chiefs
OFFLOAD_VARIABLES = ("offload_utilization", "ground_arrived_work", "ground_offloaded_work", "ground_served_work",
                     "ground_backlog_work")  # only with phase 2's ground data centers


def _age_years(scenario: Scenario, group_of_satellite: np.ndarray, elapsed_s: np.ndarray) -> np.ndarray:
    """Years since launch (sat, t) of each satellite; groups without a launch date are new at the epoch."""
    launch_offset_s = {}
    for group in scenario.subcenters:
        if group.launch:
            launch = parse_date(group.launch, f"{group.name}.launch")
            launch_offset_s[group.name] = float((launch - scenario.epoch).sec)
    offsets = np.array([launch_offset_s.get(group, 0.0) for group in group_of_satellite])
    return (elapsed_s[None, :] - offsets[:, None]) / JULIAN_YEAR_S


def chief_of_each(subcenters: np.ndarray, roles: np.ndarray) -> np.ndarray:
    """Row of each satellite's chief (:func:`twin.orbit.fleet.formation_chief`); itself where its sub-center has none."""
    chief = formation_chief(subcenters, roles)
    return np.where(chief >= 0, chief, np.arange(chief.size))


@dataclass(frozen=True)
class EnginePlan:
    """What every partition of a run shares: the run's times, the fleet's labels and sub-centers,
    faults resolved to rows, the chiefs' rows, and the jobs (everything but the orbit layer); ``battery_left`` (sat,),
    the fraction of each battery's capacity left (None: new)."""

    scenario: Scenario
    times: StepTimes
    labels: dict[str, np.ndarray]
    cluster_names: np.ndarray
    cluster_of: np.ndarray
    chief_of: np.ndarray
    faults: list[ResolvedFault]
    losses: dict[int, np.ndarray]
    offload: bool
    battery_left: np.ndarray | None = None

    @classmethod
    def of(cls, coords: Mapping, scenario: Scenario, faults=(), workload_given: bool = False,
           battery_left: np.ndarray | None = None) -> EnginePlan:
        """The plan of a run with coordinates ``coords`` (``sat``, ``subcenter``, ``role``..., ``time``: a dataset's, or
        :func:`twin.dataset.layout.fleet_coords`)."""
        labels = {name: np.asarray(coords[name].values)
                  for name in ("sat", "subcenter", "bus", "group", "role", "owner")}
        labels["represents"] = (np.asarray(coords["represents"].values) if "represents" in coords
                                else np.ones(labels["sat"].size, np.int32))
        times = np.asarray(coords["time"].values)
        offset_s = (times - times[0]) / np.timedelta64(1, "s")
        elapsed_s = offset_s + float((times[0] - np.datetime64(scenario.epoch.utc.isot, "ns")) / np.timedelta64(1, "s"))
        cluster_names, cluster_of = np.unique(labels["subcenter"], return_inverse=True)
        resolved = (resolve_faults(scenario.faults, labels["sat"], labels["subcenter"], "scenario.faults")
                    + resolve_faults(faults, labels["sat"], labels["subcenter"], "faults"))
        return cls(scenario, StepTimes(offset_s, elapsed_s), labels, cluster_names, cluster_of,
                   chief_of_each(labels["subcenter"], labels["role"]), resolved, losses_by_step(resolved, elapsed_s),
                   scenario.offload is not None and not workload_given,
                   None if battery_left is None else np.asarray(battery_left, float))

    @property
    def offset_s(self) -> np.ndarray:
        """Seconds of each step since the run's start."""
        return self.times.offset_s

    @property
    def chief_rows(self) -> np.ndarray:
        """Rows of the chiefs (each sub-center's, sorted): the satellites whose geometry their members share."""
        return np.unique(self.chief_of)

    @property
    def variables(self) -> tuple[str, ...]:
        """Names of the variables the engine adds to a run, in the catalogue's order."""
        return tuple(name for name, variable in CATALOGUE.items()
                     if variable.stage == "subsystems" and not variable.coordinate
                     and (self.offload or name not in OFFLOAD_VARIABLES))

    def installed_cu(self) -> np.ndarray:
        """Installed compute capacity (sat,) in capacity units."""
        return bus_columns(self.scenario.buses, self.labels["bus"])("compute_capacity_units")

    def coupling(self) -> FleetCoupling:
        """The scheduler with this run's jobs, and phase 2's ground data centers when the scenario has them."""
        fleet_cu = float((self.installed_cu() * self.labels["represents"]).sum())
        clusters = self.cluster_names.size
        jobs = generate_jobs(self.scenario.compute, fleet_cu, float(self.offset_s[-1]), clusters)
        ground = None
        if self.offload:
            settings = self.scenario.offload
            ground = GroundDataCenters(settings.ground_offered_load * fleet_cu, settings.ground_capacity * fleet_cu)
        radiation = self.scenario.radiation
        return FleetCoupling(jobs, clusters, self.offset_s, ground,
                             None if radiation is None else radiation.checkpoint_interval_s)

    def chief_geometry(self, chief_orbits: Mapping[str, np.ndarray], sun_position_m: np.ndarray) -> ChiefGeometry:
        """:class:`ChiefGeometry` of the chiefs (rows :attr:`chief_rows`) from their orbit layer (chief, time):
        ``position``, ``velocity``, ``altitude`` and ``beta_angle``."""
        rows = self.chief_rows
        buses = self.labels["bus"][rows]
        power = PowerModel.from_buses(self.scenario.buses, buses, self.scenario.compute)
        age = _age_years(self.scenario, self.labels["group"][rows], self.times.elapsed_s)
        return ChiefGeometry.compute(power, ThermalModel.from_buses(self.scenario.buses, buses), rows,
                                     chief_orbits["position"], chief_orbits["velocity"], chief_orbits["altitude"],
                                     chief_orbits["beta_angle"], sun_position_m, age)

    def satellites(self, rows: slice, chiefs: ChiefGeometry) -> PartitionSatellites:
        """The satellites of ``rows`` (a slice of the fleet), with their faults and losses in the partition's rows."""
        start, stop = rows.start, rows.stop
        local = lambda global_rows: global_rows[(global_rows >= start) & (global_rows < stop)] - start
        faults = [ResolvedFault(local(fault.rows), fault.kind, fault.start_s, fault.severity) for fault in self.faults]
        return PartitionSatellites(
            self.scenario.buses, self.scenario.compute, self.labels["bus"][rows], self.labels["represents"][rows],
            self.cluster_of[rows], self.cluster_names.size, np.searchsorted(chiefs.rows, self.chief_of[rows]),
            [fault for fault in faults if fault.rows.size], {k: local(lost) for k, lost in self.losses.items()},
            self.scenario.offload.min_battery_soc if self.offload else None,
            None if self.battery_left is None else self.battery_left[rows])

    def partition(self, rows: slice, drivers: Drivers, start: Start = Start(), output: Output = Output()) -> Partition:
        """The :class:`Partition` of satellite ``rows`` (a slice of the fleet)."""
        return Partition(self.satellites(rows, drivers.chiefs), self.times, drivers, start, output)


def run_subsystems(orbits: xr.Dataset, plan: EnginePlan, progress: Callable[[int], None] | None = None,
                   workload: np.ndarray | None = None,
                   initial_state: dict[str, np.ndarray] | None = None, modes=()) -> xr.Dataset:
    """Add power, thermal and compute variables to an orbit dataset of ``plan``'s fleet (in place).

    ``orbits`` must hold the orbit layer in memory; its ``represents`` coordinate (default 1)
    says how many identical satellites each row stands for (see ``representatives``).
    ``progress(steps)`` is called as steps are done.

    The Sun-Earth geometry of the environment heat and the full-sun array output are evaluated at
    each sub-center's chief and applied to its members with their own illumination, faults and
    bus (members fly within a kilometre or two: the environment changes by well under 1 % across
    a cluster, ``tests/test_engine.py``); points in the penumbra are evaluated one by one.

    ``workload`` (sat, time), optional: the fraction of installed compute measured busy (telemetry);
    where it is given, it replaces the scheduler's placement, so power and thermal follow the
    work the fleet really did (NaN: the scheduler decides). ``initial_state``, optional: the state
    at the first step as measured, ``battery_soc`` (sat,) and ``temperature`` (sat, 2: payload, bus)
    in K; NaN entries keep the defaults (a full battery, temperatures settled at the offered load).
    ``modes``, optional: commanded :class:`twin.subsystems.modes.ModeChange` s (compute caps, the payload
    off, heaters forced), by satellite row.
    Where ``orbits`` holds the radiation layer's ``capacity_lost`` (a scenario with ``[radiation]``), only
    the compute still working is offered, and its ``seu_detected_rate`` crashes jobs back to their last
    checkpoint (:class:`twin.subsystems.partition.Drivers`, :meth:`twin.subsystems.compute.Scheduler.lose_to_crashes`).
    """
    rows = plan.chief_rows
    chiefs = plan.chief_geometry({name: orbits[name].values[rows] for name in CHIEF_ORBIT_VARIABLES},
                                 orbits["sun_position"].values)
    illumination, beta = orbits["illumination"].values, orbits["beta_angle"].values
    commanded = operating_modes(modes, plan.labels["sat"].size, plan.times.elapsed_s) if modes else None
    working = 1.0 - orbits["capacity_lost"].values.astype(float) if "capacity_lost" in orbits else None
    crash_rate_s = orbits["seu_detected_rate"].values.astype(float) if "seu_detected_rate" in orbits else None
    drivers = Drivers(chiefs, lambda times: (illumination[:, times], beta[:, times]), workload, modes=commanded,
                      working=working, crash_rate_s=crash_rate_s)
    partition = plan.partition(slice(0, plan.labels["sat"].size), drivers, Start(initial_state))
    coupling = plan.coupling()
    drive([partition], coupling, progress=progress)
    values = {**partition.outputs(), **fleet_values(plan, coupling)}
    for name in plan.variables:
        orbits[name] = as_variable(name, values[name])
    orbits.coords.update(cluster_coords(plan))
    orbits.attrs.update(scheduler_attrs(coupling))
    return orbits


def cluster_coords(plan: EnginePlan) -> dict[str, xr.Variable]:
    """Coordinates the engine adds: the thermal nodes and the sub-centers with their owners."""
    first_row = np.unique(plan.cluster_of, return_index=True)[1]  # of each sub-center
    return {**fixed_coords("node"), "cluster": as_variable("cluster", plan.cluster_names),
            "cluster_owner": as_variable("cluster_owner", plan.labels["owner"][first_row])}


def satellite_constants(plan: EnginePlan) -> dict[str, np.ndarray]:
    """Per-satellite constants of a run (sat,): beginning-of-life array power at normal incidence and 1 au (W),
    the battery's floor state of charge and the payload's maximum temperature (K), the limits its warnings use."""
    power = PowerModel.from_buses(plan.scenario.buses, plan.labels["bus"], plan.scenario.compute)
    column = bus_columns(plan.scenario.buses, plan.labels["bus"])
    return {"installed_power": SOLAR_CONSTANT_W_M2 * power.array_area_m2 * power.cell_efficiency,
            "battery_floor_soc": 1.0 - column("battery_max_depth_of_discharge"),
            "payload_max_temperature": column("payload_max_temperature_k")}


def fleet_values(plan: EnginePlan, coupling: FleetCoupling) -> dict[str, np.ndarray]:
    """What the fleet as a whole adds to a run once it has been stepped: the per-satellite constants, the
    variables per sub-center and of the ground (name: values)."""
    values = {**satellite_constants(plan), "cluster_jobs_completed": coupling.completed,
              "cluster_jobs_missed": coupling.missed, "cluster_queue_length": coupling.queued,
              "cluster_eclipse_loss_power": coupling.eclipse_loss}
    if coupling.ground_work is not None:
        values.update(coupling.ground_work)
    return values


def scheduler_attrs(coupling: FleetCoupling) -> dict:
    """The run's attributes of the scheduler's totals: jobs completed, missed, queued; work served, lost, wasted."""
    scheduler = coupling.scheduler
    attrs = {"jobs": len(scheduler.jobs)}
    if coupling.checkpoint_interval_s is not None:
        attrs["compute_crash_lost_cu_s"] = float(coupling.crash_lost_cu_s)
    totals = scheduler.totals()["overall"]
    for key in ("completed_jobs", "missed_jobs", "queued_jobs", "served_cu_s", "lost_cu_s", "wasted_cu_s"):
        attrs[f"compute_{key}"] = float(totals[key])
    return attrs
