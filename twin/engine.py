"""The simulation engine: power, thermal and compute of every satellite, stepped in time.

The orbit layer (:func:`twin.simulation.run_orbits`) gives every satellite's position, sunlight
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

Quantities of a step (powers, utilisation, throughput, throttle) are means over the interval that
ends at that time; the first time has no interval and holds NaN. States (battery, temperatures)
are at the time itself.
"""

from __future__ import annotations

from collections.abc import Callable
import numpy as np
import xarray as xr

from .compute import Scheduler, generate_jobs
from .constants import JULIAN_YEAR_S, SOLAR_CONSTANT_W_M2
from .faults import fault_factors, losses_by_step, resolve_faults
from .offload import GroundDataCenters
from .power import PowerModel, array_output_w, battery_step, compute_power_fraction, solar_flux_w_m2
from .scenario import Fault, Scenario
from .thermal import (ThermalModel, combine_environment, environment_factors, equilibrium_temperatures,
                      step_temperatures, vertical_view_factor)
from .timegrid import parse_time

GROUND_VARIABLES = {"ground_arrived_work": "arrived_cu_s", "ground_offloaded_work": "offloaded_cu_s",
                    "ground_served_work": "served_cu_s", "ground_backlog_work": "backlog_cu_s"}
BLOCK_STEPS = 64  # steps per block of the loop: a (64, sat) slab of each variable stays in cache
STEP_VARIABLES = ("solar_power", "load_power", "shed_power", "curtailed_power", "battery_loss_power", "battery_energy",
                  "compute_capacity", "compute_utilization", "compute_throughput", "throttle")

SUBSYSTEM_ATTRS = {
    "solar_power": {"long_name": "solar array output", "units": "W"},
    "load_power": {"long_name": "electrical load served", "units": "W"},
    "shed_power": {"long_name": "load shed for lack of power", "units": "W"},
    "power_margin": {"long_name": "array output minus the load asked for (negative: the battery or shedding covers it)",
                     "units": "W"},
    "curtailed_power": {"long_name": "array output not used (battery full)", "units": "W"},
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


def _chief_rows(subcenters: np.ndarray, roles: np.ndarray) -> np.ndarray:
    """Row of each satellite's chief: the row with role ``chief`` in its sub-center (itself if none)."""
    chiefs = {name: row for row, (name, role) in enumerate(zip(subcenters, roles)) if role == "chief"}
    return np.array([chiefs.get(name, row) for row, name in enumerate(subcenters)])


def _cluster_runs(subcenter_of: np.ndarray):
    """Start rows of the runs of equal sub-center index, and the sub-center of each run (for np.add.reduceat)."""
    starts = np.flatnonzero(np.r_[True, subcenter_of[1:] != subcenter_of[:-1]])
    return starts, subcenter_of[starts]


def _sum_by_cluster(values: np.ndarray, starts: np.ndarray, cluster_of_run: np.ndarray, clusters: int) -> np.ndarray:
    """Sums over the satellites of each sub-center of ``values`` (sat, t) -> (cluster, t)."""
    sums = np.zeros((clusters, values.shape[1]))
    np.add.at(sums, cluster_of_run, np.add.reduceat(values, starts, axis=0))
    return sums


def run_subsystems(orbits: xr.Dataset, scenario: Scenario, faults: tuple[Fault, ...] | list[Fault] = (),
                   progress: Callable[[int], None] | None = None, workload: np.ndarray | None = None,
                   initial_state: dict[str, np.ndarray] | None = None) -> xr.Dataset:
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
    """
    names, subcenters = orbits["sat"].values, orbits["subcenter"].values
    bus_names = orbits["bus"].values
    weight = orbits["represents"].values.astype(float) if "represents" in orbits.coords else np.ones(len(names))
    times = orbits["time"].values
    offset_s = (times - times[0]) / np.timedelta64(1, "s")
    elapsed_s = offset_s + float((times[0] - np.datetime64(scenario.epoch.utc.isot, "ns")) / np.timedelta64(1, "s"))
    sats, steps = len(names), len(times)

    power = PowerModel.from_buses(scenario.buses, bus_names, scenario.compute)
    thermal = ThermalModel.from_buses(scenario.buses, bus_names)
    bus_of = lambda field: np.array([getattr(scenario.buses[bus], field) for bus in bus_names], dtype=float)
    installed_cu = bus_of("compute_capacity_units")
    flops_per_cu = bus_of("compute_flops") / installed_cu
    throttle_k, max_k, min_k = bus_of("payload_throttle_temperature_k"), bus_of("payload_max_temperature_k"), bus_of("min_temperature_k")

    subcenter_names, subcenter_of = np.unique(subcenters, return_inverse=True)
    clusters = len(subcenter_names)
    run_starts, cluster_of_run = _cluster_runs(subcenter_of)
    resolved = (resolve_faults(scenario.faults, names, subcenters, "scenario.faults")
                + resolve_faults(faults, names, subcenters, "faults"))
    lost_at = losses_by_step(resolved, elapsed_s)
    jobs = generate_jobs(scenario.compute, float((installed_cu * weight).sum()), float(offset_s[-1]), clusters)
    scheduler = Scheduler(jobs, subcenter_of, clusters)
    ground = None  # phase 2: ground data centers offloading to orbit (not when telemetry gives the workload)
    if scenario.offload is not None and workload is None:
        fleet_cu = float((installed_cu * weight).sum())
        ground = GroundDataCenters(scenario.offload.ground_offered_load * fleet_cu, scenario.offload.ground_capacity * fleet_cu)
        offload_out = np.zeros((sats, steps), np.float32)
        ground_out = {name: np.zeros(steps) for name in GROUND_VARIABLES}

    # Chief-level geometry over the whole run (chiefs x steps: small).
    chief_of = _chief_rows(subcenters, orbits["role"].values)
    chief_rows, chief_index = np.unique(chief_of, return_inverse=True)
    position_c = orbits["position"].values[chief_rows]
    direct_c, infrared_c, albedo_c = environment_factors(
        position_c, orbits["velocity"].values[chief_rows], orbits["sun_position"].values,
        thermal.radiator_zenith[chief_rows][:, None])
    flux = solar_flux_w_m2(np.linalg.norm(orbits["sun_position"].values, axis=-1))
    beta = orbits["beta_angle"].values
    chief_age = _age_years(scenario, orbits["group"].values[chief_rows], elapsed_s)
    chief_view = vertical_view_factor(orbits["altitude"].values[chief_rows])  # arrays stand edge-on to the Earth
    full_sun_c, _ = array_output_w(power.rows(chief_rows), flux[None, :], np.ones_like(chief_view), beta[chief_rows],
                                   chief_age, np.ones_like(chief_view), chief_view)
    illumination = orbits["illumination"].values

    out = {name: np.empty((sats, steps), dtype=np.float64 if name == "battery_energy" else np.float32)
           for name in STEP_VARIABLES}
    for values in out.values():
        values[:, 0] = np.nan  # no interval ends at the first time
    temperature = np.empty((sats, steps, 2), dtype=np.float32)
    alive_out = np.empty((sats, steps), dtype=np.int8)
    completed, missed, queued, eclipse_loss = (np.zeros((clusters, steps)) for _ in range(4))
    eclipse_loss[:, 0] = np.nan  # an interval quantity, like solar_power
    base_loads = lambda alive, heaters_on: (power.comms_power_w * alive, power.heater_power_w * heaters_on * alive,
                                            power.bus_power_w * alive)

    def inputs(rows: slice):
        """Array output, environment heat and fault factors (sat, steps of ``rows``)."""
        alive, array_fraction, radiator_fraction = fault_factors(resolved, sats, elapsed_s[rows])
        lit = illumination[:, rows]
        full_sun = full_sun_c[:, rows][chief_index] * array_fraction * alive
        generated = full_sun * lit
        penumbra = (lit > 0.0) & (lit < 1.0)
        if penumbra.any():
            sat, step = np.nonzero(penumbra)
            at = np.arange(steps)[rows][step]
            generated[penumbra] = array_output_w(
                power.rows(sat), flux[at], lit[penumbra], beta[sat, at],
                chief_age[chief_index[sat], at], (array_fraction * alive)[penumbra],
                chief_view[chief_index[sat], at])[0]
        environment = combine_environment(
            thermal.radiator_area_m2[:, None] * radiator_fraction, thermal.radiator_absorptance[:, None],
            thermal.radiator_emissivity[:, None], lit, direct_c[:, rows][chief_index],
            infrared_c[:, rows][chief_index], albedo_c[:, rows][chief_index])
        return generated, full_sun, environment, alive, radiator_fraction

    energy = power.battery_capacity_j.copy()
    generated, _, environment, alive_now, radiator_now = inputs(slice(0, 1))
    offered = min(sum(job_class.offered_load for job_class in scenario.compute.classes), 1.0)
    start_heat = power.compute_power_w * (power.idle_fraction + (1.0 - power.idle_fraction) * offered)
    payload_k, bus_k = equilibrium_temperatures(thermal, start_heat, power.bus_power_w + power.comms_power_w,
                                                environment[:, 0], radiator_now[:, 0])  # start settled at the offered load
    if initial_state is not None:
        energy, payload_k, bus_k = _measured_start(initial_state, energy, payload_k, bus_k, power.battery_capacity_j)
    out["battery_energy"][:, 0] = energy
    temperature[:, 0, 0], temperature[:, 0, 1] = payload_k, bus_k
    alive_out[:, 0] = alive_now[:, 0]

    # Steps run in blocks: each block's inputs are computed for all satellites at once, then
    # transposed to time-major slabs small enough for the cache, so every step reads and writes
    # contiguous rows.
    for first in range(1, steps, BLOCK_STEPS):
        last = min(first + BLOCK_STEPS, steps)
        rows = slice(first - 1, last)
        generated, full_sun, environment, alive_block, radiator_block = inputs(rows)
        shadow = _sum_by_cluster((full_sun - generated) * weight[:, None], run_starts, cluster_of_run, clusters)
        eclipse_loss[:, first:last] = 0.5 * (shadow[:, :-1] + shadow[:, 1:])  # means over the intervals
        generated_rows, environment_rows = generated.T.copy(), environment.T.copy()
        alive_rows, radiator_rows = alive_block.T.copy(), radiator_block.T.copy()
        block = {name: np.empty((last - first, sats)) for name in STEP_VARIABLES}
        block_temperature = np.empty((last - first, sats, 2))
        for k in range(first, last):
            row, dt = k - first + 1, offset_s[k] - offset_s[k - 1]
            alive = alive_rows[row].astype(float)
            if k in lost_at:
                _lose_work(scheduler, lost_at[k], subcenter_of, weight, alive_rows[row - 1])
            gen = 0.5 * (generated_rows[row - 1] + generated_rows[row]) * alive  # a step ending lost is lost
            comms, heaters, bus = base_loads(alive, bus_k < min_k)
            power_fraction = compute_power_fraction(power, gen, energy, comms + heaters + bus, dt)
            thermal_fraction = np.clip((max_k - payload_k) / (max_k - throttle_k), 0.0, 1.0)
            fraction = np.minimum(power_fraction, thermal_fraction) * alive
            capacity = installed_cu * fraction
            result = scheduler.step(offset_s[k - 1], dt, capacity * weight)
            busy = result.utilization * fraction  # of installed capacity
            if workload is not None:
                busy = np.where(np.isnan(workload[:, k]), busy, np.minimum(workload[:, k], fraction))
            offloaded_cu_s = 0.0
            if ground is not None:
                may_take = (power_fraction >= 1.0) & (energy >= scenario.offload.min_battery_soc * power.battery_capacity_j)
                spare_cu_s = np.where(may_take, (fraction - busy) * installed_cu * dt * weight, 0.0)
                offloaded_cu_s = ground.step(spare_cu_s, dt)
                offload_share = offloaded_cu_s / np.maximum(installed_cu * dt * weight, 1e-300)
                busy = busy + offload_share
                offload_out[:, k] = offload_share
                for name in GROUND_VARIABLES:
                    ground_out[name][k] = getattr(ground, GROUND_VARIABLES[name])
            compute_w = power.compute_power_w * (power.idle_fraction + (1.0 - power.idle_fraction) * busy) * alive
            step = battery_step(power, energy, gen, [compute_w, comms, heaters, bus], dt)
            payload_heat = compute_w - step.compute_shed_w
            payload_k, bus_k = step_temperatures(thermal, payload_k, bus_k, payload_heat, step.load_w - payload_heat,
                                                 0.5 * (environment_rows[row - 1] + environment_rows[row]), dt,
                                                 radiator_rows[row])
            energy = step.energy_j
            record = block_row(block, k - first)
            record["solar_power"][:] = gen
            record["load_power"][:] = step.load_w
            record["shed_power"][:] = step.shed_w
            record["curtailed_power"][:] = step.curtailed_w
            record["battery_loss_power"][:] = step.loss_w
            record["battery_energy"][:] = energy
            record["compute_capacity"][:] = capacity
            record["compute_utilization"][:] = busy
            record["compute_throughput"][:] = ((result.served_cu_s + offloaded_cu_s) / np.maximum(weight, 1.0) / dt
                                               * flops_per_cu)
            record["throttle"][:] = np.where(alive > 0, 1.0 - np.minimum(power_fraction, thermal_fraction), 1.0)
            block_temperature[k - first, :, 0], block_temperature[k - first, :, 1] = payload_k, bus_k
            completed[:, k], missed[:, k], queued[:, k] = result.completed, result.missed, result.queue_length
            if progress:
                progress(1)
        for name, values in block.items():
            out[name][:, first:last] = values.T
        temperature[:, first:last] = block_temperature.transpose(1, 0, 2)
        alive_out[:, first:last] = alive_block[:, 1:]

    dataset = orbits
    for name, values in out.items():
        dataset[name] = (("sat", "time"), values, SUBSYSTEM_ATTRS[name])
    margin = out["solar_power"] - out["load_power"] - out["shed_power"]
    dataset["power_margin"] = (("sat", "time"), margin, SUBSYSTEM_ATTRS["power_margin"])
    dataset["battery_soc"] = (("sat", "time"), (out["battery_energy"] / power.battery_capacity_j[:, None]).astype(np.float32),
                              SUBSYSTEM_ATTRS["battery_soc"])
    dataset["temperature"] = (("sat", "time", "node"), temperature, SUBSYSTEM_ATTRS["temperature"])
    dataset["alive"] = (("sat", "time"), alive_out, SUBSYSTEM_ATTRS["alive"])
    dataset["installed_power"] = (("sat",), SOLAR_CONSTANT_W_M2 * power.array_area_m2 * power.cell_efficiency,
                                  SUBSYSTEM_ATTRS["installed_power"])
    dataset.coords["node"] = ("node", np.array(["payload", "bus"]), {"long_name": "thermal node"})
    dataset.coords["cluster"] = ("cluster", subcenter_names, {"long_name": "sub-center (per-sub-center variables)"})
    owners = orbits["owner"].values
    dataset.coords["cluster_owner"] = ("cluster", np.array([owners[np.argmax(subcenter_of == i)] for i in range(clusters)]))
    for name, values in (("cluster_jobs_completed", completed), ("cluster_jobs_missed", missed),
                         ("cluster_queue_length", queued), ("cluster_eclipse_loss_power", eclipse_loss)):
        dataset[name] = (("cluster", "time"), values, SUBSYSTEM_ATTRS[name])
    if ground is not None:
        dataset["offload_utilization"] = (("sat", "time"), offload_out, SUBSYSTEM_ATTRS["offload_utilization"])
        for name, values in ground_out.items():
            dataset[name] = (("time",), values, SUBSYSTEM_ATTRS[name])
    dataset.attrs["jobs"] = len(jobs)
    totals = scheduler.totals()["overall"]
    for key in ("completed_jobs", "missed_jobs", "queued_jobs", "served_cu_s", "lost_cu_s", "wasted_cu_s"):
        dataset.attrs[f"compute_{key}"] = float(totals[key])
    return dataset


def _measured_start(initial_state: dict, energy_j, payload_k, bus_k, capacity_j):
    """Battery energy and node temperatures at the first step, measured where given (NaN: default)."""
    soc = np.asarray(initial_state.get("battery_soc", np.full(energy_j.shape, np.nan)), float)
    temperature = np.asarray(initial_state.get("temperature", np.full(energy_j.shape + (2,), np.nan)), float)
    energy_j = np.where(np.isnan(soc), energy_j, np.clip(soc, 0.0, 1.0) * capacity_j)
    payload_k = np.where(np.isnan(temperature[:, 0]), payload_k, temperature[:, 0])
    bus_k = np.where(np.isnan(temperature[:, 1]), bus_k, temperature[:, 1])
    return energy_j, payload_k, bus_k


def block_row(block: dict[str, np.ndarray], row: int) -> dict[str, np.ndarray]:
    """Views of one row (one step) of every variable of a block."""
    return {name: values[row] for name, values in block.items()}


def _lose_work(scheduler: Scheduler, targets: np.ndarray, subcenter_of: np.ndarray, weight: np.ndarray,
               alive_before: np.ndarray) -> None:
    """In-progress jobs of each sub-center that lost satellites lose the share of their work those satellites did."""
    for subcenter in np.unique(subcenter_of[targets]):
        members = subcenter_of == subcenter
        before = float((weight * alive_before)[members].sum())
        lost = float((weight * alive_before)[targets][subcenter_of[targets] == subcenter].sum())
        if before > 0 and lost > 0:
            scheduler.lose_work(int(subcenter), lost / before)
