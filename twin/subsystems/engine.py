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
stepped as one :class:`twin.subsystems.partition.Partition` here, and as many on a Dask cluster
(:mod:`twin.run.scale_out`), through the same :func:`twin.subsystems.coupling.drive`.

Quantities of a step (powers, utilisation, throughput, throttle) are means over the interval that
ends at that time; the first time has no interval and holds NaN. States (battery, temperatures)
are at the time itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from twin.subsystems.compute import generate_jobs
from twin.constants import JULIAN_YEAR_S, SOLAR_CONSTANT_W_M2
from twin.subsystems.coupling import FleetCoupling, drive
from twin.subsystems.faults import ResolvedFault, losses_by_step, resolve_faults
from twin.subsystems.modes import operating_modes
from twin.orbit.fleet import formation_chief
from twin.subsystems.offload import GroundDataCenters
from twin.subsystems.partition import ChiefGeometry, Partition
from twin.subsystems.power import PowerModel
from twin.scenario import Fault, Scenario, bus_columns
from twin.subsystems.thermal import ThermalModel
from twin.timegrid import parse_time

SUBSYSTEM_ATTRS = {
    "generated_power": {"long_name": "solar array output generated", "units": "W"},
    "used_power": {"long_name": "electrical power used by the loads (served)", "units": "W",
                   "comment": "used_compute_power + used_comms_power + used_heater_power + used_bus_power"},
    "used_compute_power": {"long_name": "electrical power used by the compute payload", "units": "W"},
    "used_comms_power": {"long_name": "electrical power used by communications", "units": "W"},
    "used_heater_power": {"long_name": "electrical power used by the heaters", "units": "W"},
    "used_bus_power": {"long_name": "electrical power used by the platform (bus)", "units": "W"},
    "shed_power": {"long_name": "load shed for lack of power", "units": "W"},
    "power_margin": {"long_name": "array output minus the load asked for (negative: the battery or shedding covers it)",
                     "units": "W"},
    "curtailed_power": {"long_name": "array output not used (battery full or charging at its limit)", "units": "W"},
    "battery_loss_power": {"long_name": "battery charge and discharge losses", "units": "W"},
    "battery_energy": {"long_name": "energy stored in the battery", "units": "J"},
    "battery_soc": {"long_name": "battery state of charge", "units": "1"},
    "temperature": {"long_name": "node temperature", "units": "K", "standard_name": "temperature"},
    "compute_capacity": {"long_name": "compute capacity available after throttling", "units": "capacity_unit",
                         "comment": "1 capacity unit = 1 TOPS (scenario assumption)"},
    "compute_utilization": {"long_name": "fraction of installed compute capacity busy", "units": "1"},
    "compute_throughput": {"long_name": "compute delivered", "units": "FLOP s-1"},
    "throttle": {"long_name": "fraction of installed compute withheld by power or thermal limits", "units": "1"},
    "alive": {"long_name": "satellite operating (not lost to a fault)", "units": "1"},
    "installed_power": {"long_name": "beginning-of-life array power at normal incidence and 1 au", "units": "W"},
    "battery_floor_soc": {"long_name": "state of charge below which the battery is not discharged "
                                       "(1 - maximum depth of discharge)", "units": "1"},
    "payload_max_temperature": {"long_name": "temperature at which the compute payload stops", "units": "K"},
    "cluster_jobs_completed": {"long_name": "jobs completed in the step", "units": "1"},
    "cluster_jobs_missed": {"long_name": "jobs that missed their deadline in the step", "units": "1"},
    "cluster_queue_length": {"long_name": "jobs waiting or running", "units": "1"},
    "cluster_eclipse_loss_power": {"long_name": "array output lost to the Earth's shadow (interval mean)", "units": "W"},
    "offload_utilization": {"long_name": "fraction of installed compute busy with work offloaded from the ground",
                            "units": "1"},
    "ground_arrived_work": {"long_name": "work arriving at the ground data centers in the step", "units": "capacity_unit s"},
    "ground_offloaded_work": {"long_name": "ground work taken by the constellation in the step", "units": "capacity_unit s"},
    "ground_served_work": {"long_name": "ground work served on the ground in the step", "units": "capacity_unit s"},
    "ground_backlog_work": {"long_name": "ground work waiting at the end of the step", "units": "capacity_unit s"},
}


def _age_years(scenario: Scenario, group_of_satellite: np.ndarray, elapsed_s: np.ndarray) -> np.ndarray:
    """Years since launch (sat, t) of each satellite; groups without a launch date are new at the epoch."""
    launch_offset_s = {}
    for group in scenario.subcenters:
        if group.launch:
            launch = parse_time(group.launch + ("-01" if len(group.launch) == 7 else ""), f"{group.name}.launch")
            launch_offset_s[group.name] = float((launch - scenario.epoch).sec)
    offsets = np.array([launch_offset_s.get(group, 0.0) for group in group_of_satellite])
    return (elapsed_s[None, :] - offsets[:, None]) / JULIAN_YEAR_S


def chief_of_each(subcenters: np.ndarray, roles: np.ndarray) -> np.ndarray:
    """Row of each satellite's chief (:func:`twin.orbit.fleet.formation_chief`); itself where its sub-center has none."""
    chief = formation_chief(subcenters, roles)
    return np.where(chief >= 0, chief, np.arange(chief.size))


@dataclass(frozen=True)
class FleetPlan:
    """What every partition of a run shares: the run's times, the fleet's labels and sub-centers,
    faults resolved to rows, the chiefs' rows, and the jobs (everything but the orbit layer)."""

    scenario: Scenario
    offset_s: np.ndarray
    elapsed_s: np.ndarray
    labels: dict[str, np.ndarray]
    cluster_names: np.ndarray
    cluster_of: np.ndarray
    chief_of: np.ndarray
    faults: list[ResolvedFault]
    losses: dict[int, np.ndarray]
    offload: bool

    @classmethod
    def of(cls, orbits: xr.Dataset, scenario: Scenario, faults=(), workload_given: bool = False) -> FleetPlan:
        """The plan of a run whose coordinates (``sat``, ``subcenter``, ``role``...) and times are ``orbits``'."""
        labels = {name: orbits[name].values for name in ("sat", "subcenter", "bus", "group", "role", "owner")}
        labels["represents"] = (orbits["represents"].values if "represents" in orbits.coords
                                else np.ones(labels["sat"].size, np.int32))
        times = orbits["time"].values
        offset_s = (times - times[0]) / np.timedelta64(1, "s")
        elapsed_s = offset_s + float((times[0] - np.datetime64(scenario.epoch.utc.isot, "ns")) / np.timedelta64(1, "s"))
        cluster_names, cluster_of = np.unique(labels["subcenter"], return_inverse=True)
        resolved = (resolve_faults(scenario.faults, labels["sat"], labels["subcenter"], "scenario.faults")
                    + resolve_faults(faults, labels["sat"], labels["subcenter"], "faults"))
        return cls(scenario, offset_s, elapsed_s, labels, cluster_names, cluster_of,
                   chief_of_each(labels["subcenter"], labels["role"]), resolved, losses_by_step(resolved, elapsed_s),
                   scenario.offload is not None and not workload_given)

    @property
    def chief_rows(self) -> np.ndarray:
        """Rows of the chiefs (each sub-center's, sorted): the satellites whose geometry their members share."""
        return np.unique(self.chief_of)

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
        return FleetCoupling(jobs, clusters, self.offset_s, ground)

    def chief_geometry(self, position_m, velocity_m_s, altitude_m, beta_deg, sun_position_m) -> ChiefGeometry:
        """:class:`ChiefGeometry` of the chiefs (rows :attr:`chief_rows`) from their orbit layer (chief, time)."""
        rows = self.chief_rows
        buses = self.labels["bus"][rows]
        power = PowerModel.from_buses(self.scenario.buses, buses, self.scenario.compute)
        age = _age_years(self.scenario, self.labels["group"][rows], self.elapsed_s)
        return ChiefGeometry.compute(power, ThermalModel.from_buses(self.scenario.buses, buses), rows, position_m,
                                     velocity_m_s, altitude_m, beta_deg, sun_position_m, age)

    def partition(self, rows: slice, chiefs: ChiefGeometry, orbit: Callable, workload=None, initial_state=None,
                  window_steps: int | None = None, sink: Callable | None = None, resume=None, modes=None) -> Partition:
        """The :class:`Partition` of satellite ``rows`` (a slice of the fleet)."""
        start, stop = rows.start, rows.stop
        local = lambda global_rows: global_rows[(global_rows >= start) & (global_rows < stop)] - start
        faults = [ResolvedFault(local(fault.rows), fault.kind, fault.start_s, fault.severity) for fault in self.faults]
        faults = [fault for fault in faults if fault.rows.size]
        labels = {"bus": self.labels["bus"][rows], "represents": self.labels["represents"][rows],
                  "cluster": self.cluster_of[rows]}
        chief_index = np.searchsorted(chiefs.rows, self.chief_of[rows])
        offload = self.scenario.offload.min_battery_soc if self.offload else None
        return Partition(self.scenario.buses, self.scenario.compute, labels, self.cluster_names.size, chiefs,
                         chief_index, orbit, self.offset_s, self.elapsed_s, faults,
                         {k: local(lost) for k, lost in self.losses.items()}, offload, workload, initial_state,
                         window_steps, sink, resume, None if modes is None else modes.rows(rows))


def run_subsystems(orbits: xr.Dataset, scenario: Scenario, faults: tuple[Fault, ...] | list[Fault] = (),
                   progress: Callable[[int], None] | None = None, workload: np.ndarray | None = None,
                   initial_state: dict[str, np.ndarray] | None = None, modes=()) -> xr.Dataset:
    """Add power, thermal and compute variables to an orbit dataset of ``scenario``'s fleet (in place).

    ``orbits`` must hold the orbit layer in memory; its ``represents`` coordinate (default 1)
    says how many identical satellites each row stands for (see ``representatives``).

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
    """
    plan = FleetPlan.of(orbits, scenario, faults, workload_given=workload is not None)
    rows = plan.chief_rows
    chiefs = plan.chief_geometry(orbits["position"].values[rows], orbits["velocity"].values[rows],
                                 orbits["altitude"].values[rows], orbits["beta_angle"].values[rows],
                                 orbits["sun_position"].values)
    illumination, beta = orbits["illumination"].values, orbits["beta_angle"].values
    partition = plan.partition(slice(0, plan.labels["sat"].size), chiefs,
                               lambda times: (illumination[:, times], beta[:, times]), workload, initial_state,
                               modes=operating_modes(modes, plan.labels["sat"].size, plan.elapsed_s) if modes else None)
    coupling = plan.coupling()
    drive([partition], coupling, progress=progress)
    return assemble(orbits, plan, partition.outputs(), coupling)


def subsystem_variables(plan: FleetPlan) -> dict[str, tuple[tuple[str, ...], np.dtype]]:
    """Name, dims and dtype of every variable the engine adds."""
    sat_time = ("sat", "time")
    variables = {name: (sat_time, np.dtype(np.float64 if name == "battery_energy" else np.float32))
                 for name in SUBSYSTEM_ATTRS if not name.startswith(("cluster_", "ground_"))}
    variables["temperature"] = (("sat", "time", "node"), np.dtype(np.float32))
    variables["alive"] = (sat_time, np.dtype(np.int8))
    for name in SATELLITE_CONSTANTS:
        variables[name] = (("sat",), np.dtype(np.float64))
    if not plan.offload:
        del variables["offload_utilization"]
    for name in SUBSYSTEM_ATTRS:
        if name.startswith("cluster_"):
            variables[name] = (("cluster", "time"), np.dtype(np.float64))
        elif name.startswith("ground_") and plan.offload:
            variables[name] = (("time",), np.dtype(np.float64))
    return variables


def cluster_coords(plan: FleetPlan) -> dict:
    """Coordinates the engine adds: the thermal nodes and the sub-centers with their owners."""
    first_row = np.unique(plan.cluster_of, return_index=True)[1]  # of each sub-center
    return {"node": ("node", np.array(["payload", "bus"]), {"long_name": "thermal node"}),
            "cluster": ("cluster", plan.cluster_names, {"long_name": "sub-center (per-sub-center variables)"}),
            "cluster_owner": ("cluster", plan.labels["owner"][first_row])}


def fleet_results(coupling: FleetCoupling) -> tuple[dict, dict]:
    """What the fleet as a whole adds to a run: variables per sub-center and of the ground (name: values)
    and attributes (the scheduler's totals)."""
    values = {"cluster_jobs_completed": coupling.completed, "cluster_jobs_missed": coupling.missed,
              "cluster_queue_length": coupling.queued, "cluster_eclipse_loss_power": coupling.eclipse_loss}
    if coupling.ground_work is not None:
        values.update(coupling.ground_work)
    scheduler = coupling.scheduler
    attrs = {"jobs": len(scheduler.jobs)}
    totals = scheduler.totals()["overall"]
    for key in ("completed_jobs", "missed_jobs", "queued_jobs", "served_cu_s", "lost_cu_s", "wasted_cu_s"):
        attrs[f"compute_{key}"] = float(totals[key])
    return values, attrs


SATELLITE_CONSTANTS = ("installed_power", "battery_floor_soc", "payload_max_temperature")  # (sat,) of each run


def satellite_constants(plan: FleetPlan) -> dict[str, np.ndarray]:
    """Per-satellite constants of a run (sat,): beginning-of-life array power at normal incidence and 1 au (W),
    the battery's floor state of charge and the payload's maximum temperature (K), the limits its warnings use."""
    power = PowerModel.from_buses(plan.scenario.buses, plan.labels["bus"], plan.scenario.compute)
    column = bus_columns(plan.scenario.buses, plan.labels["bus"])
    return {"installed_power": SOLAR_CONSTANT_W_M2 * power.array_area_m2 * power.cell_efficiency,
            "battery_floor_soc": 1.0 - column("battery_max_depth_of_discharge"),
            "payload_max_temperature": column("payload_max_temperature_k")}


def assemble(dataset: xr.Dataset, plan: FleetPlan, outputs: dict[str, np.ndarray], coupling: FleetCoupling) -> xr.Dataset:
    """Add the partition's ``outputs`` (every satellite, whole run) and the fleet's results to ``dataset``."""
    variables = subsystem_variables(plan)
    for name, values in outputs.items():
        dataset[name] = (variables[name][0], values, SUBSYSTEM_ATTRS[name])
    for name, values in satellite_constants(plan).items():
        dataset[name] = (("sat",), values, SUBSYSTEM_ATTRS[name])
    for name, coord in cluster_coords(plan).items():
        dataset.coords[name] = coord
    values, attrs = fleet_results(coupling)
    for name, array in values.items():
        dataset[name] = (variables[name][0], array, SUBSYSTEM_ATTRS[name])
    dataset.attrs.update(attrs)
    return dataset
