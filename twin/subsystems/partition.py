"""Power, thermal and compute state of a partition of the fleet (a range of satellite rows), stepped in time.

The engine (:mod:`twin.subsystems.engine`) runs the whole fleet as one partition; a scaled-out run
(:mod:`twin.run.scale_out`) runs several, one per Dask actor. A partition steps its satellites one time
step at a time in three calls, so that what couples satellites across partitions (the scheduler
placing jobs on sub-centers, phase 2's ground data centers: :mod:`twin.subsystems.coupling`) runs between them:

1. :meth:`Partition.offer` (step k): array output, power and thermal headroom, and the compute
   capacity of this partition's satellites summed per sub-center (and, at a step where satellites
   are lost, the work they held);
2. :meth:`Partition.serve`: the sub-centers' utilisation from the scheduler; returns the capacity
   left idle that ground work may take (CU s);
3. :meth:`Partition.settle`: the fraction of that spare the ground took; loads drawn, battery and
   temperatures advanced, the step recorded.

The chief of each sub-center carries the Sun-Earth geometry its members share
(:class:`ChiefGeometry`). Outputs fill a window of steps that is handed to ``sink`` when it is full
(the whole run in one process; a Zarr chunk of steps on a Dask worker).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from twin.dataset.layout import Layout
from twin.subsystems.faults import ResolvedFault, fault_factors
from twin.subsystems.modes import OperatingModes
from twin.subsystems.power import PowerModel, array_output_w, battery_step, compute_power_fraction, solar_flux_w_m2
from twin.scenario import Bus, ComputeSettings, bus_columns
from twin.subsystems.thermal import (ThermalModel, combine_environment, environment_factors, equilibrium_temperatures,
                      step_temperatures, vertical_view_factor)

BLOCK_STEPS = 64  # steps per block of the loop: a (64, sat) slab of each variable stays in cache
USED_BY_LOAD = ("used_compute_power", "used_comms_power", "used_heater_power", "used_bus_power")  # shedding order
STEP_VARIABLES = ("generated_power", "used_power", *USED_BY_LOAD, "shed_power", "curtailed_power", "battery_loss_power",
                  "battery_energy", "compute_capacity", "compute_utilization", "compute_throughput", "throttle")


@dataclass(frozen=True)
class ChiefGeometry:
    """What the members of a sub-center share with its chief, (chief, time): full-sun array output (W),
    the environment's heat factors, the Earth's view factor and the array's age (years); and the
    solar flux (W m-2) at each time. ``rows`` are the chiefs' rows in the fleet."""

    rows: np.ndarray
    full_sun_w: np.ndarray
    direct: np.ndarray
    infrared: np.ndarray
    albedo: np.ndarray
    view: np.ndarray
    age_years: np.ndarray
    flux_w_m2: np.ndarray

    @classmethod
    def compute(cls, power: PowerModel, thermal: ThermalModel, rows: np.ndarray, position_m: np.ndarray,
                velocity_m_s: np.ndarray, altitude_m: np.ndarray, beta_deg: np.ndarray, sun_position_m: np.ndarray,
                age_years: np.ndarray) -> ChiefGeometry:
        """From the chiefs' orbit layer (chief, time[, 3]) and their buses (``power``, ``thermal`` of the chiefs)."""
        direct, infrared, albedo = environment_factors(position_m, velocity_m_s, sun_position_m,
                                                       thermal.radiator_zenith[:, None])
        flux = solar_flux_w_m2(np.linalg.norm(sun_position_m, axis=-1))
        view = vertical_view_factor(altitude_m)  # arrays stand edge-on to the Earth
        full_sun, _ = array_output_w(power, flux[None, :], np.ones_like(view), beta_deg, age_years,
                                     np.ones_like(view), view)
        return cls(np.asarray(rows), full_sun, direct, infrared, albedo, view, age_years, flux)


@dataclass
class Offer:
    """A partition's answer to :meth:`Partition.offer`, per sub-center (cluster,): ``capacity_cu`` its
    satellites' capacity times the satellites each row stands for; at a step that loses satellites,
    ``alive_before`` (the same weighted count of working satellites before the step) and ``lost``
    (those lost); at the first step of a block, ``eclipse_loss_w`` (cluster, block steps) and the
    block's first step; at a window's start, ``checkpoint`` (step, state) to resume from; with upsets that
    crash jobs, ``crashes`` expected in the step on the working parts (weighted likewise)."""

    capacity_cu: np.ndarray
    alive_before: np.ndarray | None = None
    lost: np.ndarray | None = None
    eclipse_loss_w: np.ndarray | None = None
    block_start: int = 0
    checkpoint: tuple[int, dict[str, np.ndarray]] | None = None
    crashes: np.ndarray | None = None


@dataclass(frozen=True)
class PartitionSatellites:
    """The satellites of a partition (a range of rows of the fleet), each (sat,): its ``bus`` (a type of the
    scenario's ``buses``, with its ``compute`` settings), the satellites each row ``represents``, its sub-center
    (``cluster``, an index among ``clusters``) and its chief's row in the :class:`ChiefGeometry`
    (``chief_index``); ``faults`` resolved to these rows and ``losses``, the rows lost at each step (empty
    arrays where another partition loses satellites); ``offload_min_soc``, the state of charge above which
    a satellite takes ground work (None: no ground data centers); ``battery_left``, the fraction of its battery's
    capacity each has left (aged, as a window of a build-up starts; None: new)."""

    buses: dict[str, Bus]
    compute: ComputeSettings
    bus: np.ndarray
    represents: np.ndarray
    cluster: np.ndarray
    clusters: int
    chief_index: np.ndarray
    faults: list[ResolvedFault]
    losses: dict[int, np.ndarray]
    offload_min_soc: float | None = None
    battery_left: np.ndarray | None = None


@dataclass(frozen=True)
class StepTimes:
    """The run's steps: seconds since its start (``offset_s``) and since the scenario's epoch (``elapsed_s``)."""

    offset_s: np.ndarray
    elapsed_s: np.ndarray


@dataclass(frozen=True)
class Drivers:
    """What a partition reads at each step: the geometry its satellites share with their chiefs, ``orbit(times)``
    (the partition's ``illumination`` and ``beta_angle`` over the steps of a slice) and, optionally, the
    ``workload`` (sat, time) measured busy and the commanded ``modes`` (:func:`twin.subsystems.engine.run_subsystems`);
    ``working`` (sat, time), the expected fraction of each satellite's compute still working (the radiation layer's
    ``1 - capacity_lost``): the capacity offered and the compute's idle draw are scaled by it; ``crash_rate_s``
    (sat, time), the upsets per second that crash the job running on a satellite (``seu_detected_rate``)."""

    chiefs: ChiefGeometry
    orbit: Callable[[slice], tuple[np.ndarray, np.ndarray]]
    workload: np.ndarray | None = None
    modes: OperatingModes | None = None
    working: np.ndarray | None = None
    crash_rate_s: np.ndarray | None = None


@dataclass(frozen=True)
class Start:
    """Where a partition starts: at the first step, from ``initial_state`` where it was measured
    (:func:`twin.subsystems.engine.run_subsystems`), or at ``resume`` = (step, state), a checkpoint."""

    initial_state: dict[str, np.ndarray] | None = None
    resume: tuple[int, dict[str, np.ndarray]] | None = None


@dataclass(frozen=True)
class Output:
    """How a partition's outputs leave it: a window of ``window_steps`` steps (None: the whole run) at a time,
    handed to ``sink(first_step, outputs)`` when full (None: kept, read with :meth:`Partition.outputs`)."""

    window_steps: int | None = None
    sink: Callable[[int, dict[str, np.ndarray]], None] | None = None


class Partition:
    """The satellites of one range of rows of a fleet (:class:`PartitionSatellites`), stepped over the run's
    :class:`StepTimes` with its :class:`Drivers`, from its :class:`Start`, into its :class:`Output`."""

    def __init__(self, satellites: PartitionSatellites, times: StepTimes, drivers: Drivers, start: Start = Start(),
                 output: Output = Output()):
        bus_names = satellites.bus
        self.power = PowerModel.from_buses(satellites.buses, bus_names, satellites.compute)
        if satellites.battery_left is not None:
            self.power = self.power.with_battery_left(satellites.battery_left)
        self.thermal = ThermalModel.from_buses(satellites.buses, bus_names)
        bus_of = bus_columns(satellites.buses, bus_names)
        self.installed_cu = bus_of("compute_capacity_units")
        self.flops_per_cu = bus_of("compute_flops") / self.installed_cu
        self.throttle_k, self.max_k = bus_of("payload_throttle_temperature_k"), bus_of("payload_max_temperature_k")
        self.min_k = bus_of("min_temperature_k")
        self.weight = satellites.represents.astype(float)
        self.cluster_of = satellites.cluster
        self.clusters = satellites.clusters
        self.run_starts = np.flatnonzero(np.r_[True, self.cluster_of[1:] != self.cluster_of[:-1]])
        self.chiefs, self.chief_index, self.orbit = drivers.chiefs, satellites.chief_index, drivers.orbit
        self.offset_s, self.elapsed_s = times.offset_s, times.elapsed_s
        self.faults, self.losses = satellites.faults, satellites.losses
        offload = satellites.offload_min_soc
        self.offload_floor_j = None if offload is None else offload * self.power.battery_capacity_j
        self.workload, self.modes = drivers.workload, drivers.modes
        self.working, self.crash_rate_s = drivers.working, drivers.crash_rate_s
        self.sats, self.steps = len(bus_names), len(self.offset_s)
        self.window_steps = output.window_steps or self.steps
        self.sink = output.sink
        self._block_end = 0
        self._settle_start = None
        self._buffers: dict[str, np.ndarray] = {}
        self.window = None

        if start.resume is None:
            self._start(start.initial_state)
        else:
            step, state = start.resume
            self._open_window(step)
            self.energy, self.payload_k, self.bus_k = state["energy_j"], state["payload_k"], state["bus_k"]

    # -- set-up ------------------------------------------------------------------------------------

    def _start(self, initial_state) -> None:
        """State and outputs at the first step: a full battery and temperatures settled at each satellite's own load.

        The load of the first step is known only once the scheduler has placed work, so the temperatures
        start at the idle payload's equilibrium (which only the first step's thermal headroom sees) and
        :meth:`settle` replaces them at step 1 by the equilibrium of that step's heat: a satellite that
        receives no jobs starts at its idle equilibrium, a busy one at its busy one.
        """
        self._open_window(0)
        generated, _, environment, alive, radiator = self._inputs(slice(0, 1))
        power = self.power
        payload_k, bus_k = equilibrium_temperatures(self.thermal, power.compute_power_w * power.idle_fraction,
                                                    power.bus_power_w + power.comms_power_w,
                                                    environment[:, 0], _radiating(radiator[:, 0]))
        energy = power.battery_capacity_j.copy()
        self._settle_start = np.ones(self.sats, bool)  # rows whose start temperature awaits the first step's load
        if initial_state is not None:
            energy, payload_k, bus_k = _measured_start(initial_state, energy, payload_k, bus_k,
                                                       power.battery_capacity_j)
            measured = np.asarray(initial_state.get("temperature", np.full((self.sats, 2), np.nan)), float)
            self._settle_start = np.isnan(measured).all(axis=1)
        self.energy, self.payload_k, self.bus_k = energy, payload_k, bus_k
        for name in STEP_VARIABLES:
            self.window[name][:, 0] = np.nan  # no interval ends at the first time
        self.window["battery_energy"][:, 0] = energy
        self.window["temperature"][:, 0, 0], self.window["temperature"][:, 0, 1] = payload_k, bus_k
        self.window["alive"][:, 0] = alive[:, 0]
        if self.window["alive"].shape[1] == 1:
            self._flush(1)

    def _open_window(self, first: int) -> None:
        """Output arrays (sat, steps) for the window of steps from ``first`` (the last window's, when as wide:
        on a long run, fresh memory for every window would cost more than the steps themselves)."""
        self.window_start = first
        width = min(self.window_steps, self.steps - first)
        if self.window is not None and self.window["alive"].shape[1] == width:
            return
        offload = () if self.offload_floor_j is None else ("offload_utilization",)
        names = STEP_VARIABLES + ("temperature", "alive") + offload
        self.window = Layout.of_grid(names, self.sats, width).empty()
        if self.offload_floor_j is not None:
            self.window["offload_utilization"][:] = 0.0

    def _inputs(self, times: slice):
        """Array output, environment heat and fault factors (sat, steps of ``times``)."""
        chiefs, index = self.chiefs, self.chief_index
        alive, array_fraction, radiator_fraction = fault_factors(self.faults, self.sats, self.elapsed_s[times])
        lit, beta = self.orbit(times)
        full_sun = chiefs.full_sun_w[:, times][index] * array_fraction * alive
        generated = full_sun * lit
        penumbra = (lit > 0.0) & (lit < 1.0)
        if penumbra.any():
            sat, step = np.nonzero(penumbra)
            at = np.arange(self.steps)[times][step]
            generated[penumbra] = array_output_w(
                self.power.rows(sat), chiefs.flux_w_m2[at], lit[penumbra], beta[sat, step],
                chiefs.age_years[index[sat], at], (array_fraction * alive)[penumbra], chiefs.view[index[sat], at])[0]
        thermal = self.thermal
        environment = combine_environment(
            thermal.radiator_area_m2[:, None] * radiator_fraction, thermal.radiator_absorptance[:, None],
            thermal.radiator_emissivity[:, None], lit, chiefs.direct[:, times][index],
            chiefs.infrared[:, times][index], chiefs.albedo[:, times][index])
        return generated, full_sun, environment, alive, radiator_fraction

    def _start_block(self, first: int) -> np.ndarray:
        """Inputs of the steps from ``first`` to the block's end, time-major; returns the eclipse loss per sub-center."""
        window_end = self.window_start + self.window["alive"].shape[1]
        last = min(first + BLOCK_STEPS, window_end)
        generated, full_sun, environment, alive, radiator = self._inputs(slice(first - 1, last))
        shadow = np.zeros((self.clusters, last - first + 1))
        np.add.at(shadow, self.cluster_of[self.run_starts],
                  np.add.reduceat((full_sun - generated) * self.weight[:, None], self.run_starts, axis=0))
        self._block = {"first": first, "alive_out": alive[:, 1:]}
        for name, values in (("generated", generated), ("environment", environment), ("alive", alive),
                             ("radiator", radiator)):
            self._block[name] = self._buffer(name, values.shape[::-1], values.dtype)
            np.copyto(self._block[name], values.T)
        self._block["records"] = {name: self._buffer(name, (last - first, self.sats), np.float64)
                                  for name in STEP_VARIABLES}
        self._block["temperature"] = self._buffer("temperature", (last - first, self.sats, 2), np.float64)
        self._block_end = last
        return 0.5 * (shadow[:, :-1] + shadow[:, 1:])  # means over the intervals

    def _buffer(self, name: str, shape: tuple, dtype) -> np.ndarray:
        """A reusable time-major array of a block (a view of one allocated for a whole block)."""
        full = self._buffers.get(name)
        if full is None or full.dtype != dtype or full.shape[1:] != shape[1:]:
            full = self._buffers[name] = np.empty((BLOCK_STEPS + 1,) + shape[1:], dtype)
        return full[:shape[0]]

    # -- the three calls of a step -------------------------------------------------------------------

    def offer(self, k: int) -> Offer:
        """Headroom of step ``k`` (the interval ending at ``offset_s[k]``) and the capacity offered per sub-center."""
        offer = Offer(np.zeros(self.clusters))
        if k == self.window_start and k > 0:
            offer.checkpoint = (k, self.state())
        if k >= self._block_end:
            offer.eclipse_loss_w, offer.block_start = self._start_block(k), k
        block, row = self._block, k - self._block["first"] + 1
        dt = self.offset_s[k] - self.offset_s[k - 1]
        alive = block["alive"][row].astype(float)
        if k in self.losses:
            before = self.weight * block["alive"][row - 1]
            offer.alive_before = np.bincount(self.cluster_of, weights=before, minlength=self.clusters)
            rows = self.losses[k]
            offer.lost = np.bincount(self.cluster_of[rows], weights=before[rows], minlength=self.clusters)
        power = self.power
        gen = 0.5 * (block["generated"][row - 1] + block["generated"][row]) * alive  # a step ending lost is lost
        heaters_on = self.bus_k < self.min_k
        if self.modes is not None:
            heaters_on = self.modes.heaters(heaters_on, k)
        comms, heaters, bus = (power.comms_power_w * alive, power.heater_power_w * heaters_on * alive,
                               power.bus_power_w * alive)
        power_fraction = compute_power_fraction(power, gen, self.energy, comms + heaters + bus, dt)
        thermal_fraction = np.clip((self.max_k - self.payload_k) / (self.max_k - self.throttle_k), 0.0, 1.0)
        fraction = np.minimum(power_fraction, thermal_fraction) * alive
        if self.modes is not None:  # a commanded cap, or the payload off
            fraction = np.minimum(fraction, self.modes.compute_cap[:, k]) * self.modes.payload_on[:, k]
        working = 1.0 if self.working is None else self.working[:, k]
        fraction = fraction * working
        capacity = self.installed_cu * fraction
        self._step = {"k": k, "dt": dt, "row": row, "alive": alive, "gen": gen, "loads": (comms, heaters, bus),
                      "power_fraction": power_fraction, "thermal_fraction": thermal_fraction,
                      "fraction": fraction, "capacity": capacity, "working": working}
        offer.capacity_cu = np.bincount(self.cluster_of, weights=capacity * self.weight, minlength=self.clusters)
        if self.crash_rate_s is not None:
            crashes = 0.5 * (self.crash_rate_s[:, k - 1] + self.crash_rate_s[:, k]) * dt * alive * working * self.weight
            offer.crashes = np.bincount(self.cluster_of, weights=crashes, minlength=self.clusters)
        return offer

    def serve(self, k: int, cluster_utilization: np.ndarray) -> float:
        """Take the scheduler's utilisation of each sub-center; returns the spare ground work may take (CU s)."""
        step = self._step
        fraction, capacity, dt = step["fraction"], step["capacity"], step["dt"]
        utilization = np.where(capacity > 0, cluster_utilization[self.cluster_of], 0.0)
        step["served_cu_s"] = utilization * (capacity * self.weight) * dt
        busy = utilization * fraction  # of installed capacity
        if self.workload is not None:
            measured = self.workload[:, k]
            busy = np.where(np.isnan(measured), busy, np.minimum(measured, fraction))
        step["busy"] = busy
        if self.offload_floor_j is None:
            return 0.0
        may_take = (step["power_fraction"] >= 1.0) & (self.energy >= self.offload_floor_j)
        spare = np.where(may_take, (fraction - busy) * self.installed_cu * dt * self.weight, 0.0)
        step["spare_cu_s"] = np.maximum(spare, 0.0)
        return float(step["spare_cu_s"].sum())

    def settle(self, k: int, offload_fraction: float = 0.0) -> None:
        """Finish step ``k``: the ground took ``offload_fraction`` of the spare; draw the loads, advance the state."""
        step, block, power = self._step, self._block, self.power
        dt, row, alive, busy = step["dt"], step["row"], step["alive"], step["busy"]
        offloaded_cu_s = 0.0
        if self.offload_floor_j is not None:
            offloaded_cu_s = step["spare_cu_s"] * offload_fraction
            offload_share = offloaded_cu_s / np.maximum(self.installed_cu * dt * self.weight, 1e-300)
            busy = busy + offload_share
            self.window["offload_utilization"][:, k - self.window_start] = offload_share
        idle = power.idle_fraction * step["working"]  # failed parts draw nothing
        compute_w = power.compute_power_w * (idle + (1.0 - power.idle_fraction) * busy) * alive
        if self.modes is not None:
            compute_w = compute_w * self.modes.payload_on[:, k]
        result = battery_step(power, self.energy, step["gen"], [compute_w, *step["loads"]], dt)
        payload_heat = result.used_by_load_w[0]
        bus_heat = result.load_w - payload_heat + result.loss_w  # the battery's conversion losses heat the bus
        if k == 1 and self._settle_start is not None:
            self._settle_start_temperatures(payload_heat, bus_heat, block["environment"][0], block["radiator"][0])
        environment = 0.5 * (block["environment"][row - 1] + block["environment"][row])
        self.payload_k, self.bus_k = step_temperatures(self.thermal, self.payload_k, self.bus_k, payload_heat,
                                                       bus_heat, environment, dt, block["radiator"][row])
        self.energy = result.energy_j
        record = {name: values[row - 1] for name, values in block["records"].items()}
        record["generated_power"][:] = step["gen"]
        record["used_power"][:] = result.load_w
        for name, used_w in zip(USED_BY_LOAD, result.used_by_load_w):
            record[name][:] = used_w
        record["shed_power"][:] = result.shed_w
        record["curtailed_power"][:] = result.curtailed_w
        record["battery_loss_power"][:] = result.loss_w
        record["battery_energy"][:] = self.energy
        record["compute_capacity"][:] = step["capacity"]
        record["compute_utilization"][:] = busy
        record["compute_throughput"][:] = ((step["served_cu_s"] + offloaded_cu_s) / np.maximum(self.weight, 1.0) / dt
                                           * self.flops_per_cu)
        record["throttle"][:] = np.where(alive > 0, 1.0 - np.minimum(step["power_fraction"], step["thermal_fraction"]),
                                         1.0)
        block["temperature"][row - 1, :, 0], block["temperature"][row - 1, :, 1] = self.payload_k, self.bus_k
        if k + 1 == self._block_end:
            self._close_block()

    def _settle_start_temperatures(self, payload_heat_w, bus_heat_w, environment_w, radiator_fraction) -> None:
        """Temperatures at the first time: the equilibrium of the first step's heat and the sunlight at that time
        (rows measured by ``initial_state`` keep their values)."""
        rows = self._settle_start
        payload_k, bus_k = equilibrium_temperatures(self.thermal, payload_heat_w, bus_heat_w, environment_w,
                                                    _radiating(radiator_fraction))
        self.payload_k = np.where(rows, payload_k, self.payload_k)
        self.bus_k = np.where(rows, bus_k, self.bus_k)
        self.window["temperature"][:, 0, 0], self.window["temperature"][:, 0, 1] = self.payload_k, self.bus_k

    def advance(self, k: int, previous: tuple[np.ndarray | None, float] | None) -> Offer | None:
        """Finish step ``k - 1`` with ``previous`` = (sub-center utilisation, or None once served; offload
        fraction), then offer step ``k`` (None past the last step): one call per step when nothing
        else couples the partitions."""
        if previous is not None:
            utilization, offload_fraction = previous
            if utilization is not None:
                self.serve(k - 1, utilization)
            self.settle(k - 1, offload_fraction)
        return self.offer(k) if k < self.steps else None

    # -- outputs -------------------------------------------------------------------------------------

    def _close_block(self) -> None:
        block = self._block
        first, last = block["first"] - self.window_start, self._block_end - self.window_start
        for name, values in block["records"].items():
            self.window[name][:, first:last] = values.T
        self.window["temperature"][:, first:last] = block["temperature"].transpose(1, 0, 2)
        self.window["alive"][:, first:last] = block["alive_out"]
        if self._block_end == self.window_start + self.window["alive"].shape[1]:
            self._flush(self._block_end)

    def _flush(self, end: int) -> None:
        """Hand the full window to the sink and open the next one."""
        if self.sink is not None:
            self.sink(self.window_start, self.outputs())
        if end < self.steps:
            self._open_window(end)

    def outputs(self) -> dict[str, np.ndarray]:
        """The window's variables, with the power margin and the battery's state of charge."""
        window = dict(self.window)
        window["power_margin"] = window["generated_power"] - window["used_power"] - window["shed_power"]
        window["battery_soc"] = (window["battery_energy"] / self.power.battery_capacity_j[:, None]).astype(np.float32)
        return window

    def state(self) -> dict[str, np.ndarray]:
        """Battery energy (J) and payload and bus temperatures (K) after the last settled step."""
        return {"energy_j": self.energy.copy(), "payload_k": self.payload_k.copy(), "bus_k": self.bus_k.copy()}


def _radiating(radiator_fraction: np.ndarray) -> np.ndarray:
    """The radiator fraction a start's equilibrium uses: a radiator stuck whole at the first time has none (it
    would be infinitely hot), so such a satellite starts where it was before, with its radiator whole."""
    return np.where(radiator_fraction > 0.0, radiator_fraction, 1.0)


def _measured_start(initial_state: dict, energy_j, payload_k, bus_k, capacity_j):
    """Battery energy and node temperatures at the first step, measured where given (NaN: default)."""
    soc = np.asarray(initial_state.get("battery_soc", np.full(energy_j.shape, np.nan)), float)
    temperature = np.asarray(initial_state.get("temperature", np.full(energy_j.shape + (2,), np.nan)), float)
    energy_j = np.where(np.isnan(soc), energy_j, np.clip(soc, 0.0, 1.0) * capacity_j)
    payload_k = np.where(np.isnan(temperature[:, 0]), payload_k, temperature[:, 0])
    bus_k = np.where(np.isnan(temperature[:, 1]), bus_k, temperature[:, 1])
    return energy_j, payload_k, bus_k
