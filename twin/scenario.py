"""Scenario files: the constellation of one phase, validated on load.

A scenario is a TOML file (see ``assets/scenarios/``) with the sections ``[scenario]``,
``[orbit]``, ``[buses.NAME]``, ``[[subcenters]]``, ``[[ground_stations]]``, ``[[relays]]``,
``[consortium]`` and the optional ``[links]`` (the relay and ground network, :class:`LinkSettings`)
and ``[offload]`` (phase 2: ground data centers offloading to orbit, :class:`OffloadSettings`).
:func:`load_scenario` accepts a built-in name (``phase1``, ``phase2``,
``phase3``) or a path, and raises :class:`ScenarioError` naming the field and the value of the
first thing that is wrong: an unknown key, a missing field, a value out of range.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
from astropy.time import Time

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10, where the poliastro bridge runs: the same parser, packaged as tomli
    import tomli as tomllib

from twin.constants import SGP4_MAX_SATELLITE_NUMBER
from twin.assets import asset_path
from twin.timegrid import parse_duration_s, parse_time

SCENARIO_DIR = asset_path("scenarios")


class ScenarioError(ValueError):
    """A scenario that cannot be used, with the field and value at fault."""


@dataclass(frozen=True)
class Field:
    """How one scenario key is checked: its type, bounds and default (``None``: required)."""

    kind: type
    minimum: float | None = None
    maximum: float | None = None
    default: Any = None
    optional: bool = False
    choices: tuple = ()
    exclusive_minimum: bool = False


def _check(path: str, spec: Field, value: Any) -> Any:
    if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if spec.kind is list:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise ScenarioError(f"{path}: {value!r} must be a non-empty list of names")
        return value
    if not isinstance(value, spec.kind) or isinstance(value, bool) != (spec.kind is bool):
        raise ScenarioError(f"{path}: {value!r} must be of type {spec.kind.__name__}")
    if spec.kind is float and not math.isfinite(value):
        raise ScenarioError(f"{path}: {value!r} must be a finite number")
    if spec.choices and value not in spec.choices:
        raise ScenarioError(f"{path}: {value!r} is not one of {', '.join(map(str, spec.choices))}")
    if spec.minimum is not None:
        if value < spec.minimum or (spec.exclusive_minimum and value == spec.minimum):
            relation = "above" if spec.exclusive_minimum else "at least"
            raise ScenarioError(f"{path}: {value!r} is out of range; it must be {relation} {spec.minimum}")
    if spec.maximum is not None and value > spec.maximum:
        raise ScenarioError(f"{path}: {value!r} is out of range; it must be at most {spec.maximum}")
    return value


def _section(path: str, raw: Any, schema: dict[str, Field]) -> dict[str, Any]:
    """Check one table against its schema; returns the values with defaults filled in."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: {raw!r} must be a table")
    unknown = sorted(set(raw) - set(schema))
    if unknown:
        raise ScenarioError(f"{path}.{unknown[0]}: unknown key (value {raw[unknown[0]]!r}); known keys: {', '.join(schema)}")
    values = {}
    for key, spec in schema.items():
        if key in raw:
            values[key] = _check(f"{path}.{key}", spec, raw[key])
        elif spec.default is not None or spec.optional:
            values[key] = spec.default
        else:
            raise ScenarioError(f"{path}.{key}: missing required field")
    return values


# Altitudes of the programme: a dawn-dusk orbit at about 700-800 km (Seed).
ALTITUDE_MIN_KM, ALTITUDE_MAX_KM = 700.0, 800.0

SCENARIO_SCHEMA = {
    "name": Field(str),
    "title": Field(str),
    "phase": Field(int, 1, 3),
    "epoch": Field(str),
    "duration": Field(str),
    "step": Field(str),
    "description": Field(str, default=""),
}
ORBIT_SCHEMA = {
    "altitude_km": Field(float, ALTITUDE_MIN_KM, ALTITUDE_MAX_KM),
    "eccentricity": Field(float, 0.0, 0.01),
    "argument_of_perigee_deg": Field(float, 0.0, 360.0),
    "ltan_hours": Field(float, 0.0, 24.0),
}
BUS_SCHEMA = {
    "solar_array_area_m2": Field(float, 0.0, exclusive_minimum=True),
    "solar_cell_efficiency": Field(float, 0.0, 1.0, exclusive_minimum=True),
    "array_degradation_per_year": Field(float, 0.0, 1.0),
    "battery_capacity_wh": Field(float, 0.0, exclusive_minimum=True),
    "battery_max_depth_of_discharge": Field(float, 0.0, 1.0, exclusive_minimum=True),
    "battery_round_trip_efficiency": Field(float, 0.0, 1.0, exclusive_minimum=True),
    "radiator_area_m2": Field(float, 0.0, exclusive_minimum=True),
    "radiator_emissivity": Field(float, 0.0, 1.0, exclusive_minimum=True),
    "radiator_absorptance": Field(float, 0.0, 1.0),
    "compute_capacity_units": Field(float, 0.0, exclusive_minimum=True),
    "compute_flops": Field(float, 0.0, exclusive_minimum=True),
    "compute_power_w": Field(float, 0.0),
    "bus_power_w": Field(float, 0.0),
    "comms_power_w": Field(float, 0.0),
    "mass_kg": Field(float, 0.0, exclusive_minimum=True),
    "array_pointing": Field(str, choices=("sun_tracking", "orbit_normal")),
    "cell_temperature_coefficient_per_k": Field(float, -0.05, 0.0),
    "battery_max_c_rate": Field(float, 0.0, 10.0, exclusive_minimum=True),
    "radiator_orientation": Field(str, choices=("along_track", "zenith")),
    "payload_heat_capacity_j_per_k": Field(float, 0.0, exclusive_minimum=True),
    "bus_heat_capacity_j_per_k": Field(float, 0.0, exclusive_minimum=True),
    "payload_conductance_w_per_k": Field(float, 0.0, exclusive_minimum=True),
    "payload_throttle_temperature_k": Field(float, 200.0, 450.0),
    "payload_max_temperature_k": Field(float, 200.0, 450.0),
    "min_temperature_k": Field(float, 150.0, 350.0),
    "heater_power_w": Field(float, 0.0),
}
FORMATION_SCHEMA = {
    "shape": Field(str, choices=("single", "disk", "train")),
    "spacing_m": Field(float, 0.0, default=0.0),
}
SUBCENTER_SCHEMA = {
    "name": Field(str),
    "count": Field(int, 1),
    "satellites": Field(int, 1, 1000),
    "planes": Field(int, 1),
    "plane_spacing_deg": Field(float, 0.0, 30.0, default=0.0),
    "phase_offset_deg": Field(float, 0.0, 360.0, default=0.0),
    "phase_deg": Field(float, 0.0, 360.0, default=0.0),
    "bus": Field(str),
    "owners": Field(list),
    "formation": Field(dict),
    "altitude_km": Field(float, ALTITUDE_MIN_KM, ALTITUDE_MAX_KM, optional=True),
    "ltan_hours": Field(float, 0.0, 24.0, optional=True),
    "launch": Field(str, default=""),
}
GROUND_STATION_SCHEMA = {
    "name": Field(str),
    "latitude_deg": Field(float, -90.0, 90.0),
    "longitude_deg": Field(float, -180.0, 360.0),
    "altitude_m": Field(float, -500.0, 9000.0),
    "min_elevation_deg": Field(float, 0.0, 90.0),
    "owner": Field(str),
    # Network (twin/network.py); optional so older scenario files still load.
    "antennas": Field(int, 1, 100, optional=True),
    "band": Field(str, choices=("S", "X", "Ka", "optical"), optional=True),
    "downlink_rate_bps": Field(float, 0.0, exclusive_minimum=True, optional=True),
    "uplink_rate_bps": Field(float, 0.0, exclusive_minimum=True, optional=True),
}
LINKS_SCHEMA = {
    "atmosphere_margin_km": Field(float, 0.0, 500.0),
    "intra_range_m": Field(float, 0.0, 100e3, exclusive_minimum=True),
    "intra_rate_bps": Field(float, 0.0, exclusive_minimum=True),
    "inter_rate_bps": Field(float, 0.0, exclusive_minimum=True),
    "inter_reference_range_km": Field(float, 0.0, exclusive_minimum=True),
    "inter_max_range_km": Field(float, 0.0, exclusive_minimum=True),
    "relay_rate_bps": Field(float, 0.0, exclusive_minimum=True),
    "relay_max_range_km": Field(float, 0.0, exclusive_minimum=True),
    "relay_antennas": Field(int, 1, 100),
    "hop_delay_s": Field(float, 0.0, 10.0),
    "downlink_demand_bps": Field(float, 0.0),
    "uplink_demand_bps": Field(float, 0.0),
    "input_bits_per_flop": Field(float, 0.0),
    "output_bits_per_flop": Field(float, 0.0),
    "relay_min_elevation_deg": Field(float, -90.0, 90.0),
    "inter_max_elevation_deg": Field(float, 0.0, 90.0),
    "buffer_bits": Field(float, 0.0),
    "eo_inflow_bps": Field(float, 0.0, default=0.0),  # optional so older scenario files still load
}
RELAY_SCHEMA = {
    "name": Field(str),
    "longitude_deg": Field(float, -180.0, 360.0),
    "owner": Field(str),
}
CONSORTIUM_SCHEMA = {"members": Field(list), "lead": Field(str)}
COMPUTE_SCHEMA = {
    "seed": Field(int, 0),
    "idle_power_fraction": Field(float, 0.0, 1.0),
    "battery_reserve_soc": Field(float, 0.0, 1.0),
}
JOB_CLASS_SCHEMA = {
    "name": Field(str),
    "kind": Field(str, choices=("ai_training", "inference", "eo_processing")),
    "jobs_per_subcenter_hour": Field(float, 0.0, exclusive_minimum=True),
    "offered_load": Field(float, 0.0, 10.0, exclusive_minimum=True),
    "size_spread": Field(float, 0.0, 3.0),
    "deadline_hours": Field(float, 0.0, exclusive_minimum=True),
    "priority": Field(int, 0, 9),
}
FAULT_SCHEMA = {
    "target": Field(str),
    "kind": Field(str, choices=("satellite_lost", "array_degraded", "radiator_stuck", "station_lost", "relay_lost")),
    "start": Field(str),
    "severity": Field(float, 0.0, 1.0, default=1.0),
}
OFFLOAD_SCHEMA = {
    "ground_offered_load": Field(float, 0.0, 10.0, exclusive_minimum=True),
    "ground_capacity": Field(float, 0.0, 10.0),
    "min_battery_soc": Field(float, 0.0, 1.0),
}
TOP_LEVEL = ("scenario", "orbit", "buses", "subcenters", "ground_stations", "relays", "consortium", "compute", "faults",
             "links", "offload")
OPTIONAL_SECTIONS = ("faults", "links", "offload")


@dataclass(frozen=True)
class Orbit:
    """Orbit design of a dawn-dusk sun-synchronous shell (mean elements)."""

    altitude_km: float
    eccentricity: float
    argument_of_perigee_deg: float
    ltan_hours: float


@dataclass(frozen=True)
class Bus:
    """One satellite bus type: array, battery, radiator and compute payload."""

    name: str
    solar_array_area_m2: float
    solar_cell_efficiency: float
    array_degradation_per_year: float
    battery_capacity_wh: float
    battery_max_depth_of_discharge: float
    battery_round_trip_efficiency: float
    radiator_area_m2: float
    radiator_emissivity: float
    radiator_absorptance: float
    compute_capacity_units: float
    compute_flops: float
    compute_power_w: float
    bus_power_w: float
    comms_power_w: float
    mass_kg: float
    array_pointing: str
    cell_temperature_coefficient_per_k: float
    battery_max_c_rate: float
    radiator_orientation: str
    payload_heat_capacity_j_per_k: float
    bus_heat_capacity_j_per_k: float
    payload_conductance_w_per_k: float
    payload_throttle_temperature_k: float
    payload_max_temperature_k: float
    min_temperature_k: float
    heater_power_w: float


def bus_columns(buses: dict[str, Bus], bus_of_satellite) -> Callable[..., np.ndarray]:
    """``column(field, dtype=float)``: that field of each satellite's bus (sat,), each bus type read once.

    >>> buses = load_scenario("phase1").buses
    >>> bus_columns(buses, ["compute-s", "experimental", "compute-s"])("name", str).tolist()
    ['compute-s', 'experimental', 'compute-s']
    """
    unique, inverse = np.unique(np.asarray(bus_of_satellite, dtype=str), return_inverse=True)
    inverse = inverse.reshape(-1)
    return lambda field, dtype=float: np.array([getattr(buses[bus], field) for bus in unique], dtype=dtype)[inverse]


@dataclass(frozen=True)
class Formation:
    """Close formation inside one sub-center: ``single``, ``disk`` or ``train``, neighbours ``spacing_m`` apart."""

    shape: str
    spacing_m: float


@dataclass(frozen=True)
class SubcenterGroup:
    """``count`` identical sub-centers spread over ``planes`` orbital planes."""

    name: str
    count: int
    satellites: int
    planes: int
    plane_spacing_deg: float
    phase_offset_deg: float
    phase_deg: float
    bus: str
    owners: tuple[str, ...]
    formation: Formation
    altitude_km: float | None
    ltan_hours: float | None
    launch: str


@dataclass(frozen=True)
class GroundStation:
    name: str
    latitude_deg: float
    longitude_deg: float
    altitude_m: float
    min_elevation_deg: float
    owner: str
    antennas: int | None = None
    band: str | None = None
    downlink_rate_bps: float | None = None
    uplink_rate_bps: float | None = None


@dataclass(frozen=True)
class LinkSettings:
    """The relay and ground network: link rates, ranges and margins, and the data the sub-centers exchange.

    Inside a sub-center, satellites closer than ``intra_range_m`` at the start are linked at
    ``intra_rate_bps``. Between sub-centers (chiefs: same-plane neighbours, nearest in the adjacent
    plane) a laser link gives ``inter_rate_bps`` up to ``inter_reference_range_km`` and falls as the
    inverse square of the range beyond it (received power), up to ``inter_max_range_km``, while the
    partner stays within ``inter_max_elevation_deg`` of the local horizontal (the terminal's field of
    regard). A relay serves ``relay_antennas`` sub-centers at once, seen at least
    ``relay_min_elevation_deg`` above the satellite's horizon (its terminal looks up). A line of
    sight grazing lower than ``atmosphere_margin_km`` above the ellipsoid is blocked. Each hop adds
    ``hop_delay_s``. Each sub-center sends ``downlink_demand_bps`` to the ground and receives
    ``uplink_demand_bps`` (telemetry, commands, products made elsewhere), plus the data of its own
    compute workload: ``input_bits_per_flop`` up and ``output_bits_per_flop`` down for every FLOP
    served; it queues up to ``buffer_bits`` each way. Partner Earth-observation satellites send
    ``eo_inflow_bps`` to each sub-center through the GEO data relays (0, the default: none), queued
    the same way.
    """

    atmosphere_margin_km: float
    intra_range_m: float
    intra_rate_bps: float
    inter_rate_bps: float
    inter_reference_range_km: float
    inter_max_range_km: float
    relay_rate_bps: float
    relay_max_range_km: float
    relay_antennas: int
    hop_delay_s: float
    downlink_demand_bps: float
    uplink_demand_bps: float
    input_bits_per_flop: float
    output_bits_per_flop: float
    relay_min_elevation_deg: float
    inter_max_elevation_deg: float
    buffer_bits: float
    eo_inflow_bps: float = 0.0


@dataclass(frozen=True)
class OffloadSettings:
    """Phase 2: ground data centers hand batch work to the constellation when it has spare power.

    Work arrives at the ground data centers at ``ground_offered_load`` times the constellation's
    installed compute; they serve up to ``ground_capacity`` times it themselves. Each step the
    constellation first takes what it can of the waiting work on satellites with spare capacity,
    no power or thermal limit and a battery at least ``min_battery_soc`` full (energy to spare);
    the ground serves the rest it can, and the remainder waits (:mod:`twin.subsystems.offload`).
    """

    ground_offered_load: float
    ground_capacity: float
    min_battery_soc: float


@dataclass(frozen=True)
class Relay:
    """A geostationary data relay satellite at a fixed longitude."""

    name: str
    longitude_deg: float
    owner: str


@dataclass(frozen=True)
class JobClass:
    """A class of compute jobs: how many arrive, how much work they offer, how soon they are due.

    Jobs arrive at ``jobs_per_subcenter_hour`` times the number of sub-centers; ``offered_load`` is
    the class's mean work as a fraction of the fleet's installed capacity, so a mean job is
    ``offered_load / jobs_per_subcenter_hour`` hours of an average sub-center, whatever the phase.
    """

    name: str
    kind: str
    jobs_per_subcenter_hour: float
    offered_load: float
    size_spread: float
    deadline_hours: float
    priority: int


@dataclass(frozen=True)
class ComputeSettings:
    """Workload and compute policy: job classes, idle draw, the battery charge compute may not use."""

    seed: int
    idle_power_fraction: float
    battery_reserve_soc: float
    classes: tuple[JobClass, ...]


@dataclass(frozen=True)
class Fault:
    """A fault injected at ``start_s`` seconds after the epoch on a satellite, a whole sub-center, a
    ground station (``station_lost``) or a relay (``relay_lost``).

    ``severity`` is the fraction lost: of the array (``array_degraded``), of the radiating area
    (``radiator_stuck``); the ``*_lost`` kinds ignore it.
    """

    target: str
    kind: str
    start_s: float
    severity: float


@dataclass(frozen=True)
class Scenario:
    """A validated scenario; build one with :func:`load_scenario` or :func:`scenario_from_dict`."""

    name: str
    title: str
    phase: int
    epoch: Time
    duration_s: float
    step_s: float
    description: str
    orbit: Orbit
    buses: dict[str, Bus]
    subcenters: tuple[SubcenterGroup, ...]
    ground_stations: tuple[GroundStation, ...]
    relays: tuple[Relay, ...]
    members: tuple[str, ...]
    lead: str
    compute: ComputeSettings
    faults: tuple[Fault, ...] = ()
    source: str = field(default="")
    links: LinkSettings | None = None
    offload: OffloadSettings | None = None

    @property
    def satellite_count(self) -> int:
        return sum(group.count * group.satellites for group in self.subcenters)

    @property
    def subcenter_count(self) -> int:
        return sum(group.count for group in self.subcenters)

    def installed_power_w(self) -> float:
        """Beginning-of-life array power at normal incidence and 1 au, summed over the fleet (W)."""
        from twin.constants import SOLAR_CONSTANT_W_M2

        return sum(
            group.count
            * group.satellites
            * SOLAR_CONSTANT_W_M2
            * self.buses[group.bus].solar_array_area_m2
            * self.buses[group.bus].solar_cell_efficiency
            for group in self.subcenters
        )


def _list_of_tables(path: str, raw: Any, schema: dict[str, Field]) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(f"{path}: {raw!r} must be a non-empty list of tables ([[{path}]])")
    return [_section(f"{path}[{index}]", item, schema) for index, item in enumerate(raw)]


def _unique_names(path: str, items: list[dict[str, Any]]) -> None:
    seen = set()
    for index, item in enumerate(items):
        if item["name"] in seen:
            raise ScenarioError(f"{path}[{index}].name: {item['name']!r} is used twice")
        seen.add(item["name"])


def scenario_from_dict(raw: dict[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a scenario given as nested dicts (the parsed TOML) and build it."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"scenario: {raw!r} must be a table")
    unknown = sorted(set(raw) - set(TOP_LEVEL))
    if unknown:
        raise ScenarioError(f"{unknown[0]}: unknown section; known sections: {', '.join(TOP_LEVEL)}")
    for section in TOP_LEVEL:
        if section not in raw and section not in OPTIONAL_SECTIONS:
            raise ScenarioError(f"{section}: missing required section")

    head = _section("scenario", raw["scenario"], SCENARIO_SCHEMA)
    try:
        epoch = parse_time(head["epoch"], "scenario.epoch")
        duration_s = parse_duration_s(head["duration"], "scenario.duration")
        step_s = parse_duration_s(head["step"], "scenario.step")
    except ValueError as error:
        raise ScenarioError(str(error)) from None
    orbit = Orbit(**_section("orbit", raw["orbit"], ORBIT_SCHEMA))
    _check_ltan("orbit.ltan_hours", orbit.ltan_hours)

    consortium = _section("consortium", raw["consortium"], CONSORTIUM_SCHEMA)
    members = tuple(consortium["members"])
    if consortium["lead"] not in members:
        raise ScenarioError(f"consortium.lead: {consortium['lead']!r} is not in consortium.members")

    if not isinstance(raw["buses"], dict) or not raw["buses"]:
        raise ScenarioError(f"buses: {raw['buses']!r} must hold at least one [buses.NAME] table")
    buses = {name: _bus(name, bus) for name, bus in raw["buses"].items()}

    groups = _list_of_tables("subcenters", raw["subcenters"], SUBCENTER_SCHEMA)
    _unique_names("subcenters", groups)
    subcenters = tuple(_subcenter_group(index, group, buses, members) for index, group in enumerate(groups))

    stations = _list_of_tables("ground_stations", raw["ground_stations"], GROUND_STATION_SCHEMA)
    relays = _list_of_tables("relays", raw["relays"], RELAY_SCHEMA)
    _unique_names("ground_stations", stations)
    _unique_names("relays", relays)
    for path, items in (("ground_stations", stations), ("relays", relays)):
        for index, item in enumerate(items):
            if item["owner"] not in members:
                raise ScenarioError(f"{path}[{index}].owner: {item['owner']!r} is not in consortium.members")

    compute = _compute_settings(raw["compute"])
    links = LinkSettings(**_section("links", raw["links"], LINKS_SCHEMA)) if "links" in raw else None
    if links is not None and links.inter_max_range_km < links.inter_reference_range_km:
        raise ScenarioError(f"links.inter_max_range_km: {links.inter_max_range_km!r} must be at least "
                            f"inter_reference_range_km ({links.inter_reference_range_km})")
    offload = OffloadSettings(**_section("offload", raw["offload"], OFFLOAD_SCHEMA)) if "offload" in raw else None
    faults = tuple(
        _fault(index, item, epoch, subcenters, [station["name"] for station in stations], [relay["name"] for relay in relays])
        for index, item in enumerate(_list_of_tables("faults", raw["faults"], FAULT_SCHEMA) if raw.get("faults") else [])
    )

    scenario = Scenario(
        name=head["name"],
        title=head["title"],
        phase=head["phase"],
        epoch=epoch,
        duration_s=duration_s,
        step_s=step_s,
        description=head["description"],
        orbit=orbit,
        buses=buses,
        subcenters=subcenters,
        ground_stations=tuple(GroundStation(**item) for item in stations),
        relays=tuple(Relay(**item) for item in relays),
        members=members,
        lead=consortium["lead"],
        compute=compute,
        faults=faults,
        source=source,
        links=links,
        offload=offload,
    )
    if scenario.satellite_count > SGP4_MAX_SATELLITE_NUMBER:
        raise ScenarioError(f"subcenters: {scenario.satellite_count:,} satellites are more than SGP4 can number; its "
                            f"satellite numbers (Alpha-5) go up to {SGP4_MAX_SATELLITE_NUMBER:,}")
    return scenario


def _compute_settings(raw: Any) -> ComputeSettings:
    if not isinstance(raw, dict):
        raise ScenarioError(f"compute: {raw!r} must be a table")
    classes = _list_of_tables("compute.classes", raw.get("classes"), JOB_CLASS_SCHEMA)
    _unique_names("compute.classes", classes)
    settings = _section("compute", {key: value for key, value in raw.items() if key != "classes"}, COMPUTE_SCHEMA)
    return ComputeSettings(**settings, classes=tuple(JobClass(**item) for item in classes))


def subcenter_names(group: SubcenterGroup) -> list[str]:
    """Names of the sub-centers of a group: ``GROUP-001``, ``GROUP-002``..."""
    return [f"{group.name}-{index + 1:03d}" for index in range(group.count)]


def satellite_names(subcenter: str, satellites: int) -> list[str]:
    """Names of the satellites of a sub-center: ``SUBCENTER-01`` (the chief), ``SUBCENTER-02``..."""
    return [f"{subcenter}-{index + 1:02d}" for index in range(satellites)]


def _fault(index: int, item: dict[str, Any], epoch: Time, groups: tuple[SubcenterGroup, ...],
           stations: list[str], relays: list[str]) -> Fault:
    path = f"faults[{index}]"
    if item["kind"] in ("station_lost", "relay_lost"):
        names, what = (stations, "ground station") if item["kind"] == "station_lost" else (relays, "relay")
        if item["target"] not in names:
            raise ScenarioError(f"{path}.target: {item['target']!r} is not a {what} of this scenario")
    else:
        subcenters = {name: group for group in groups for name in subcenter_names(group)}
        satellites = {sat for name, group in subcenters.items() for sat in satellite_names(name, group.satellites)}
        if item["target"] not in subcenters and item["target"] not in satellites:
            raise ScenarioError(f"{path}.target: {item['target']!r} is neither a satellite nor a sub-center of this scenario")
    try:
        start_s = parse_duration_s(item["start"], f"{path}.start")
    except ValueError:
        try:
            start_s = float((parse_time(item["start"], f"{path}.start") - epoch).sec)
        except ValueError:
            raise ScenarioError(f"{path}.start: {item['start']!r} is neither a time after the epoch ('6h') "
                                "nor an ISO 8601 UTC time") from None
    if start_s < 0:
        raise ScenarioError(f"{path}.start: {item['start']!r} is before the scenario epoch")
    return Fault(target=item["target"], kind=item["kind"], start_s=start_s, severity=item["severity"])


def _bus(name: str, raw: Any) -> Bus:
    bus = Bus(name=name, **_section(f"buses.{name}", raw, BUS_SCHEMA))
    if bus.payload_throttle_temperature_k >= bus.payload_max_temperature_k:
        raise ScenarioError(f"buses.{name}.payload_throttle_temperature_k: {bus.payload_throttle_temperature_k!r} "
                            f"must be below payload_max_temperature_k ({bus.payload_max_temperature_k})")
    if bus.min_temperature_k >= bus.payload_throttle_temperature_k:
        raise ScenarioError(f"buses.{name}.min_temperature_k: {bus.min_temperature_k!r} "
                            f"must be below payload_throttle_temperature_k ({bus.payload_throttle_temperature_k})")
    return bus


def _check_ltan(path: str, ltan_hours: float | None) -> None:
    if ltan_hours is not None and ltan_hours >= 24.0:
        raise ScenarioError(f"{path}: {ltan_hours!r} is out of range; a local time must be below 24 h")


def _subcenter_group(index: int, group: dict[str, Any], buses: dict[str, Bus], members: tuple[str, ...]) -> SubcenterGroup:
    path = f"subcenters[{index}]"
    if group["bus"] not in buses:
        raise ScenarioError(f"{path}.bus: {group['bus']!r} is not a bus defined under [buses]; known: {', '.join(buses)}")
    for owner in group["owners"]:
        if owner not in members:
            raise ScenarioError(f"{path}.owners: {owner!r} is not in consortium.members")
    if group["planes"] > group["count"]:
        raise ScenarioError(f"{path}.planes: {group['planes']!r} is more than the {group['count']} sub-centers to place")
    _check_ltan(f"{path}.ltan_hours", group["ltan_hours"])
    formation = Formation(**_section(f"{path}.formation", group["formation"], FORMATION_SCHEMA))
    if formation.shape == "single" and group["satellites"] != 1:
        raise ScenarioError(f"{path}.formation.shape: 'single' needs satellites = 1, not {group['satellites']}")
    if formation.shape != "single" and formation.spacing_m <= 0:
        raise ScenarioError(f"{path}.formation.spacing_m: {formation.spacing_m!r} must be above 0 for a {formation.shape!r}")
    return SubcenterGroup(**{**group, "owners": tuple(group["owners"]), "formation": formation})


def builtin_scenarios() -> list[str]:
    """Names of the scenarios shipped in ``assets/scenarios``."""
    return sorted(path.stem for path in SCENARIO_DIR.glob("*.toml"))


def read_utf8(path: Path, field: str) -> str:
    """The text of the file at ``path``, or a :class:`ScenarioError` for ``field`` naming the line that is not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ScenarioError(f"{field}: cannot read {str(path)!r} ({error.strerror})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ScenarioError(f"{field}: {str(path)!r} is not UTF-8 text: line {line} has the byte "
                            f"0x{data[error.start]:02x}") from None


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a built-in scenario by name (``"phase1"``) or a scenario file by path."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = SCENARIO_DIR / f"{name_or_path}.toml"
        if not path.exists():
            raise ScenarioError(
                f"scenario: {str(name_or_path)!r} is neither a file nor a built-in scenario ({', '.join(builtin_scenarios())})"
            )
    if not path.is_file():
        raise ScenarioError(f"scenario: {str(name_or_path)!r} is not a file")
    try:
        raw = tomllib.loads(read_utf8(path, "scenario"))
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"scenario: {str(path)!r} is not valid TOML ({error})") from None
    return scenario_from_dict(raw, source=str(path))


def scenario_of_run(attrs: dict, scenario: Scenario | None = None) -> Scenario:
    """``scenario`` if given, else the scenario a run came from: its ``scenario_source`` file, else the built-in
    of its ``scenario`` name (``attrs`` are the run's attributes). Raises ScenarioError if neither loads."""
    if scenario is not None:
        return scenario
    for candidate in (attrs.get("scenario_source"), attrs.get("scenario")):
        if candidate:
            try:
                return load_scenario(candidate)
            except (ScenarioError, OSError):
                continue
    raise ScenarioError("scenario: this run does not say which scenario made it, or it no longer loads; pass one")
