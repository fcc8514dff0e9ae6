"""A virtual fleet: the twin's own simulation, with injected faults, sent as the real fleet's packets.

The truth is a full run of the scenario (every satellite, power, thermal, compute) at the
reporting interval, with the scenario's faults and those given here. Each satellite reports every
APID at every step; sensors add noise (``assets/telemetry/sensors.toml``), the links drop and delay
packets (delays reorder the stream). Faults the twin's model does not know:

* the scenario's kinds ``satellite_lost`` (it falls silent), ``array_degraded``, ``radiator_stuck``
  (``severity``: the fraction lost), simulated by the engine itself;
* ``manoeuvre``: an unplanned semi-major-axis change of ``value`` metres (Clohessy-Wiltshire drift:
  radial offset and along-track drift of -3/2 n da per second);
* ``sensor_bias``: a GNSS position bias of ``value`` metres along the radial direction;
* ``upset_rate``: the satellite's corrected memory errors come ``value`` times as often as its orbit
  predicts (a part more sensitive than modelled, a shielding fault).

The compute packet's corrected-memory-error counter is drawn from the run's upset rates
(:mod:`twin.telemetry.upset_counter`).
"""

from __future__ import annotations

import json
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr
from astropy.time import Time

from twin.constants import EARTH_MU_KM3_S2, EARTH_ROTATION_RAD_S
from twin.orbit.frames import gcrs_to_itrs, rotate
from twin.safe_output import FILE, check_target, written_into_place
from twin.assets import asset_path
from twin.scenario import Fault, Scenario
from twin.timegrid import parse_duration_s
from twin.telemetry.packets import encode, layouts_by_name
from twin.telemetry.upset_counter import RATE_VARIABLE, expected_upsets, with_upset_rates

SENSORS_PATH = asset_path("telemetry", "sensors.toml")
ENGINE_KINDS = ("satellite_lost", "array_degraded", "radiator_stuck")
ORBIT_KINDS = ("manoeuvre", "sensor_bias")
UPSET_KINDS = ("upset_rate",)
KINDS = ENGINE_KINDS + ORBIT_KINDS + UPSET_KINDS


def load_sensors(path: str | Path = SENSORS_PATH) -> dict:
    """The sensor, link and band settings (a TOML document, see the shipped one)."""
    with open(path, "rb") as handle:
        return tomllib.load(handle)


@dataclass(frozen=True)
class InjectedFault:
    """A fault of the virtual fleet: ``kind`` at ``target`` (a satellite) from ``start_s`` after the start."""

    kind: str
    target: str
    start_s: float
    value: float  # severity (0-1) for engine kinds, metres for orbit kinds, a factor for upset_rate

    @classmethod
    def parse(cls, text: str) -> "InjectedFault":
        """From ``kind:target:start[:value]``, e.g. ``array_degraded:CC1-001-03:3h:0.4``."""
        parts = text.split(":")
        if len(parts) not in (3, 4):
            raise ValueError(f"fault: {text!r} is not kind:target:start[:value]")
        kind, target, start = parts[:3]
        if kind not in KINDS:
            raise ValueError(f"fault.kind: {kind!r} is not one of {', '.join(KINDS)}")
        try:
            value = float(parts[3]) if len(parts) == 4 else (1.0 if kind == "satellite_lost" else float("nan"))
        except ValueError:
            raise ValueError(f"fault.value: {parts[3]!r} is not a number") from None
        if not np.isfinite(value):
            raise ValueError(f"fault.value: {kind} needs a value (severity 0-1, metres, or a factor)")
        if kind in ENGINE_KINDS and not 0 < value <= 1:
            raise ValueError(f"fault.value: severity {value!r} of {kind} must be in (0, 1]")
        if kind in UPSET_KINDS and not value >= 0:
            raise ValueError(f"fault.value: factor {value!r} of {kind} must be at least 0")
        return cls(kind, target, parse_duration_s(start, "fault.start") if start not in ("0", "0s") else 0.0, value)


@dataclass
class Recording:
    """Packets in the order the ground receives them, with when (seconds after the start)."""

    stream: bytes
    arrival_s: np.ndarray          # per packet, non-decreasing
    packet_ends: np.ndarray        # octet offset after each packet
    manifest: dict = field(default_factory=dict)

    def write(self, path: str | Path, overwrite: bool = False) -> Path:
        """The raw packets to ``path`` and the manifest beside it (``path`` + ``.json``), each written whole
        (:mod:`twin.safe_output`); files already there are replaced only if ``overwrite``."""
        path = Path(path)
        check_recording_target(path, overwrite)
        with written_into_place(path, FILE, overwrite) as packets:
            packets.write_bytes(self.stream)
            with written_into_place(manifest_path(path), FILE, overwrite) as manifest:  # a failure here drops both
                manifest.write_text(json.dumps(self.manifest, indent=1))
        return path


def manifest_path(path: str | Path) -> Path:
    """Where the manifest of a recording at ``path`` goes: ``path`` + ``.json``."""
    return Path(f"{path}.json")


def check_recording_target(path: str | Path, overwrite: bool = False) -> None:
    """Raise :class:`twin.safe_output.OutputError` now if :meth:`Recording.write` would refuse ``path`` or its manifest."""
    for target in (Path(path), manifest_path(path)):
        check_target(target, FILE, overwrite)


def bus_voltage_v(installed_power_w: np.ndarray, sensors: dict) -> np.ndarray:
    """Regulated bus voltage of each satellite (V), from its installed array power (W)."""
    bus = sensors["bus"]
    return np.where(installed_power_w > bus["high_voltage_above_w"], bus["high_voltage_v"], bus["low_voltage_v"])


def itrs_state(position_gcrs_m: np.ndarray, velocity_gcrs_m_s: np.ndarray, times: np.ndarray):
    """ITRS position (m) and Earth-relative velocity (m/s) of GCRS states (sat, time, 3)."""
    matrices = gcrs_to_itrs(times)
    position = rotate(matrices, position_gcrs_m)
    omega = np.array([0.0, 0.0, EARTH_ROTATION_RAD_S])
    velocity = rotate(matrices, velocity_gcrs_m_s) - np.cross(omega, position)
    return position, velocity


def orbit_offsets_m(position_m: np.ndarray, velocity_m_s: np.ndarray, elapsed_s: np.ndarray,
                    fault: InjectedFault) -> np.ndarray:
    """Position offset (time, 3) of one satellite's truth from its model after ``fault``."""
    radial = position_m / np.linalg.norm(position_m, axis=-1, keepdims=True)
    after = np.clip(elapsed_s - fault.start_s, 0.0, None)[:, None]
    started = (elapsed_s >= fault.start_s)[:, None]
    if fault.kind == "sensor_bias":
        return started * fault.value * radial
    along = velocity_m_s / np.linalg.norm(velocity_m_s, axis=-1, keepdims=True)
    mean_motion = np.sqrt(EARTH_MU_KM3_S2 * 1e9 / np.linalg.norm(position_m, axis=-1, keepdims=True) ** 3)
    return started * fault.value * radial - 1.5 * mean_motion * fault.value * after * along


def simulate_truth(scenario: Scenario, start: Time, duration_s: float, sensors: dict,
                   faults: list[InjectedFault], progress=None, modes=()) -> xr.Dataset:
    """The fleet's true state: every satellite, at the reporting interval, with the engine faults, the
    operating modes commanded (:class:`twin.subsystems.modes.ModeChange`) and the upset rates
    (:func:`twin.telemetry.upset_counter.with_upset_rates`)."""
    from twin.run.simulate import run_scenario

    engine_faults = [Fault(f.target, f.kind, f.start_s, f.value) for f in faults if f.kind in ENGINE_KINDS]
    return with_upset_rates(run_scenario(scenario, start=start, duration_s=duration_s,
                                         step_s=sensors["reporting"]["interval_s"], faults=engine_faults,
                                         progress=progress, modes=modes))


def corrected_upsets(truth: xr.Dataset, faults: list[InjectedFault], rng: np.random.Generator) -> np.ndarray:
    """Corrected upsets (sat, time) in each step, drawn from ``truth``'s ``seu_corrected_rate`` (Poisson), times the
    factor of any ``upset_rate`` fault from its start."""
    times = truth["time"].values
    elapsed_s = (times - times[0]) / np.timedelta64(1, "s")
    expected = expected_upsets(truth[RATE_VARIABLE].values, elapsed_s)
    names = list(truth["sat"].values)
    for fault in faults:
        if fault.kind in UPSET_KINDS:
            if fault.target not in names:
                raise ValueError(f"fault.target: {fault.target!r} is not a satellite of this run")
            expected[names.index(fault.target), elapsed_s >= fault.start_s] *= fault.value
    return rng.poisson(expected)


def per_satellite(run: xr.Dataset, variable: str) -> np.ndarray:
    """A per-sub-center (cluster, time) variable, repeated for each satellite of the sub-center (sat, time)."""
    index = {name: row for row, name in enumerate(run["cluster"].values)}
    return np.nan_to_num(run[variable].values)[[index[name] for name in run["subcenter"].values]]


def sensor_readings(truth: xr.Dataset, sensors: dict, faults: list[InjectedFault], seed: int) -> dict[str, dict]:
    """What each satellite's sensors read (SI values, (sat, time) arrays), per packet kind."""
    rng = np.random.default_rng(seed)
    noise = sensors["noise"]
    shape = truth["generated_power"].shape
    times = truth["time"].values
    elapsed_s = (times - times[0]) / np.timedelta64(1, "s")
    position, velocity = itrs_state(truth["position"].values, truth["velocity"].values.astype(np.float64), times)
    names = list(truth["sat"].values)
    for fault in faults:
        if fault.kind in ORBIT_KINDS:
            if fault.target not in names:
                raise ValueError(f"fault.target: {fault.target!r} is not a satellite of this run")
            row = names.index(fault.target)
            position[row] += orbit_offsets_m(position[row], velocity[row], elapsed_s, fault)
    bus_v = bus_voltage_v(truth["installed_power"].values, sensors)[:, None]

    def current(power_w):
        amps = np.asarray(power_w, np.float64) / bus_v
        return amps + rng.normal(0.0, 1.0, shape) * (noise["current_a"] + noise["current_fraction"] * np.abs(amps))

    sunlit = truth["generated_power"].values > 0
    temperature = truth["temperature"]
    errors = corrected_upsets(truth, faults, rng)
    tracked = sensors["satellites"]
    return {
        "gnss": {**{f"position_{axis}_m": position[..., k] + rng.normal(0.0, noise["position_m"], shape)
                    for k, axis in enumerate("xyz")},
                 **{f"velocity_{axis}_m_s": velocity[..., k] + rng.normal(0.0, noise["velocity_m_s"], shape)
                    for k, axis in enumerate("xyz")},
                 "gnss_satellites_tracked": rng.integers(tracked["gnss_tracked_min"], tracked["gnss_tracked_max"] + 1, shape)},
        "power": {"array_voltage_v": np.where(sunlit, bus_v, 0.0) + rng.normal(0.0, noise["array_voltage_v"], shape),
                  "array_current_a": current(truth["generated_power"].values),
                  "load_current_a": current(truth["used_power"].values),
                  "battery_soc": truth["battery_soc"].values + rng.normal(0.0, noise["battery_soc"], shape)},
        "thermal": {f"{node}_temperature_k": temperature.sel(node=node).values
                    + rng.normal(0.0, noise["temperature_k"], shape) for node in ("payload", "bus")},
        "compute": {"compute_utilization": truth["compute_utilization"].values
                    + rng.normal(0.0, noise["compute_utilization"], shape),
                    "throttle": truth["throttle"].values + rng.normal(0.0, noise["compute_utilization"], shape),
                    "queue_length": per_satellite(truth, "cluster_queue_length"),
                    "jobs_completed": np.cumsum(per_satellite(truth, "cluster_jobs_completed"), axis=1),
                    "jobs_missed": np.cumsum(per_satellite(truth, "cluster_jobs_missed"), axis=1),
                    "memory_errors": np.cumsum(errors, axis=1)},
    }


def record(truth: xr.Dataset, sensors: dict, faults: list[InjectedFault], seed: int = 0,
           spacecraft_ids: np.ndarray | None = None) -> Recording:
    """Encode every report of ``truth`` as packets, drop and delay them, and order them by arrival."""
    rng = np.random.default_rng(seed + 1)
    links = sensors["reporting"]
    readings = sensor_readings(truth, sensors, faults, seed)
    times = truth["time"].values.astype("datetime64[ns]")
    elapsed_s = (times - times[0]) / np.timedelta64(1, "s")
    sat_count, time_count = truth["generated_power"].shape
    ids = np.arange(1, sat_count + 1) if spacecraft_ids is None else np.asarray(spacecraft_ids)
    reporting = truth["alive"].values.astype(bool)
    reporting[:, 0] = False  # power and compute are interval means: the first report comes one interval in
    layouts = layouts_by_name()
    packets, arrivals, counts = [], [], {}
    for name, values in readings.items():
        layout = layouts[name]
        sent = reporting & (rng.random((sat_count, time_count)) >= links["dropout_probability"])
        sat_index, time_index = np.nonzero(sent)
        sequence = (np.cumsum(reporting, axis=1) - 1)[sat_index, time_index]
        octets = encode(layout, ids[sat_index], sequence, times[time_index],
                        {key: _saturate(layout, key, np.asarray(array)[sat_index, time_index])
                         for key, array in values.items()})
        delay = np.minimum(rng.exponential(links["mean_delay_s"], sat_index.size), links["max_delay_s"])
        packets.append(octets)
        arrivals.append(elapsed_s[time_index] + delay)
        counts[name] = {"reports": int(reporting.sum()), "sent": int(sat_index.size),
                        "dropped": int(reporting.sum() - sat_index.size)}
    arrival_s = np.concatenate(arrivals)
    order = np.argsort(arrival_s, kind="stable")
    stream, ends = _interleave(packets, order)
    manifest = {"start": str(times[0]), "end": str(times[-1]), "interval_s": links["interval_s"], "seed": seed,
                "satellites": [str(s) for s in truth["sat"].values], "packets": counts,
                "valid_packets": int(order.size), "faults": [asdict(f) for f in faults],
                "scenario": truth.attrs.get("scenario", "")}
    return Recording(stream, arrival_s[order], ends, manifest)


def _saturate(layout, name: str, values: np.ndarray) -> np.ndarray:
    """Sensors read within their range: a noisy state of charge of 1 reads 1, not 1.002."""
    valid = layout.field(name).valid_range
    return values if valid is None else np.clip(values, *valid)


def _interleave(packets: list[np.ndarray], order: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Concatenate packets of several lengths (one (n, length) array per kind) in ``order``."""
    lengths = np.concatenate([np.full(len(p), p.shape[1]) for p in packets])
    ends = np.cumsum(lengths[order])
    output = np.empty(int(ends[-1]) if ends.size else 0, np.uint8)
    destination = np.empty(lengths.size, np.int64)
    destination[order] = ends - lengths[order]
    first = 0
    for octets in packets:
        starts = destination[first:first + len(octets)]
        output[(starts[:, None] + np.arange(octets.shape[1])).ravel()] = octets.ravel()
        first += len(octets)
    return output.tobytes(), ends


def send(recording: Recording, sender, speed: float = 0.0, chunk_s: float = 0.5) -> int:
    """Send ``recording`` through ``sender`` (a :class:`~.client.TelemetrySender`); returns octets acknowledged.

    ``speed``: 1 for real time, 60 for a minute per second, 0 for as fast as the server takes it.
    """
    began = time.monotonic()
    edges = np.arange(0.0, recording.arrival_s[-1] + chunk_s, chunk_s) if recording.arrival_s.size else []
    first = 0
    for edge in edges[1:]:
        last = int(np.searchsorted(recording.arrival_s, edge, side="left"))
        if last > first:
            if speed > 0:
                time.sleep(max(0.0, began + edge / speed - time.monotonic()))
            start = int(recording.packet_ends[first - 1]) if first else 0
            sender.send(recording.stream[start:int(recording.packet_ends[last - 1])])
            first = last
    if first < recording.arrival_s.size:
        start = int(recording.packet_ends[first - 1]) if first else 0
        sender.send(recording.stream[start:])
    return sender.flush()
