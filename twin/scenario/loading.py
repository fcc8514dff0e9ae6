"""Scenario files to :class:`Scenario`: each table checked against the keys its dataclass declares
(:mod:`twin.scenario.keys`), then what ties the tables together (a subcenter's bus and owners, a
fault's target, the number of satellites SGP4 can number). The first thing wrong raises
:class:`ScenarioError` naming its path (``subcenters[1].bus``) and value.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import tomli_w
from astropy.time import Time

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10, where the poliastro bridge runs: the same parser, packaged as tomli
    import tomli as tomllib

from twin.assets import asset_path
from twin.constants import SGP4_MAX_SATELLITE_NUMBER
from twin.scenario.keys import ScenarioError, file_keys
from twin.scenario.model import (OPTIONAL_SECTIONS, TOP_LEVEL, Bus, ComputeSettings, Fault, FlightSettings, Formation,
                                 GroundStation, JobClass, Launch, LifecycleSettings, LinkSettings, MemberShare,
                                 OffloadSettings, Orbit, PhaseTarget, RadiationDesign, Relay, Scenario, SubcenterGroup,
                                 satellite_names, subcenter_names)
from twin.timegrid import parse_date, parse_duration_s, parse_time

SCENARIO_DIR = asset_path("scenarios")


def _section(path: str, raw: Any, model: type, table: str = "") -> dict[str, Any]:
    """The keys of ``model`` in ``table`` read from the file's table ``raw`` at ``path``, by attribute: each
    checked, the defaults of those left out filled in, then the relations between them checked."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: {raw!r} must be a table")
    keys = file_keys(model, table)
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise ScenarioError(f"{path}.{unknown[0]}: unknown key (value {raw[unknown[0]]!r}); known keys: {', '.join(keys)}")
    values = {}
    for name, entry in keys.items():
        if name in raw:
            values[entry.attribute] = entry.check(f"{path}.{name}", raw[name])
        elif entry.required:
            raise ScenarioError(f"{path}.{name}: missing required field")
        else:
            values[entry.attribute] = entry.key.default
    for name, entry in keys.items():
        entry.check_relation(f"{path}.{name}", values, keys)
    return values


def _list_of_tables(path: str, raw: Any, model: type) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(f"{path}: {raw!r} must be a non-empty list of tables ([[{path}]])")
    return [_section(f"{path}[{index}]", item, model) for index, item in enumerate(raw)]


def _unique_names(path: str, items: list[dict[str, Any]]) -> None:
    seen = set()
    for index, item in enumerate(items):
        if item["name"] in seen:
            raise ScenarioError(f"{path}[{index}].name: {item['name']!r} is used twice")
        seen.add(item["name"])


def scenario_from_dict(raw: dict[str, Any], source: str = "<dict>", text: str | None = None) -> Scenario:
    """Validate a scenario given as nested dicts (the parsed TOML) and build it; ``text`` is the TOML it was parsed
    from (else its ``source`` file's text if that holds the same tables, else ``raw`` written as TOML)."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"scenario: {raw!r} must be a table")
    unknown = sorted(set(raw) - set(TOP_LEVEL))
    if unknown:
        raise ScenarioError(f"{unknown[0]}: unknown section; known sections: {', '.join(TOP_LEVEL)}")
    for section in TOP_LEVEL:
        if section not in raw and section not in OPTIONAL_SECTIONS:
            raise ScenarioError(f"{section}: missing required section")

    head = _section("scenario", raw["scenario"], Scenario, "scenario")
    try:
        head["epoch"] = parse_time(head["epoch"], "scenario.epoch")
        head["duration_s"] = parse_duration_s(head["duration_s"], "scenario.duration")
        head["step_s"] = parse_duration_s(head["step_s"], "scenario.step")
    except ValueError as error:
        raise ScenarioError(str(error)) from None
    orbit = Orbit(**_section("orbit", raw["orbit"], Orbit))

    consortium = _section("consortium", raw["consortium"], Scenario, "consortium")
    if consortium["lead"] not in consortium["members"]:
        raise ScenarioError(f"consortium.lead: {consortium['lead']!r} is not in consortium.members")

    if not isinstance(raw["buses"], dict) or not raw["buses"]:
        raise ScenarioError(f"buses: {raw['buses']!r} must hold at least one [buses.NAME] table")
    buses = {name: Bus(name=name, **_section(f"buses.{name}", bus, Bus)) for name, bus in raw["buses"].items()}

    groups = _list_of_tables("subcenters", raw["subcenters"], SubcenterGroup)
    _unique_names("subcenters", groups)
    _distinct_subcenter_names(groups)
    subcenters = tuple(_subcenter_group(index, group, buses, consortium["members"]) for index, group in enumerate(groups))

    stations = _list_of_tables("ground_stations", raw["ground_stations"], GroundStation)
    relays = _list_of_tables("relays", raw["relays"], Relay)
    _unique_names("ground_stations", stations)
    _unique_names("relays", relays)
    for path, items in (("ground_stations", stations), ("relays", relays)):
        for index, item in enumerate(items):
            if item["owner"] not in consortium["members"]:
                raise ScenarioError(f"{path}[{index}].owner: {item['owner']!r} is not in consortium.members")

    compute = _compute_settings(raw["compute"])
    links = LinkSettings(**_section("links", raw["links"], LinkSettings)) if "links" in raw else None
    offload = OffloadSettings(**_section("offload", raw["offload"], OffloadSettings)) if "offload" in raw else None
    flight = _flight_settings(raw["flight"]) if "flight" in raw else FlightSettings()
    radiation = _radiation_design(raw["radiation"]) if "radiation" in raw else None
    lifecycle = (_lifecycle(raw["lifecycle"], head["epoch"], subcenters, consortium["members"])
                 if "lifecycle" in raw else None)
    faults = tuple(
        _fault(index, item, head["epoch"], subcenters, [station["name"] for station in stations],
               [relay["name"] for relay in relays])
        for index, item in enumerate(_list_of_tables("faults", raw["faults"], Fault) if raw.get("faults") else [])
    )

    scenario = Scenario(
        **head, **consortium, orbit=orbit, buses=buses, subcenters=subcenters,
        ground_stations=tuple(GroundStation(**item) for item in stations), relays=tuple(Relay(**item) for item in relays),
        compute=compute, faults=faults, source=source, links=links, offload=offload, flight=flight,
        radiation=radiation, lifecycle=lifecycle, text=_toml_text(raw, source) if text is None else text,
    )
    if scenario.satellite_count > SGP4_MAX_SATELLITE_NUMBER:
        raise ScenarioError(f"subcenters: {scenario.satellite_count:,} satellites are more than SGP4 can number; its "
                            f"satellite numbers (Alpha-5) go up to {SGP4_MAX_SATELLITE_NUMBER:,}")
    return scenario


def _distinct_subcenter_names(groups: list[dict[str, Any]]) -> None:
    """Refuse a group whose name begins with another's and a dash: their sub-center and satellite names could meet
    (``CC1`` makes ``CC1-001`` and its satellites ``CC1-001-01``...; a group ``CC1-001`` would make ``CC1-001-001``)."""
    for index, group in enumerate(groups):
        for other in groups:
            if group["name"].startswith(other["name"] + "-"):
                raise ScenarioError(f"subcenters[{index}].name: {group['name']!r} overlaps the sub-center names of "
                                    f"group {other['name']!r} ({other['name']}-001, {other['name']}-001-01...)")


def _date(text: str, path: str) -> Time:
    try:
        return parse_date(text, path)
    except ValueError as error:
        raise ScenarioError(str(error)) from None


def _lifecycle(raw: Any, epoch: Time, groups: tuple[SubcenterGroup, ...], members: tuple[str, ...]) -> LifecycleSettings:
    """The ``[lifecycle]`` section: its keys, launches (none before the epoch, none after the end, no group's
    sub-centers launched twice), the members' shares (each group's add up to 100 %) and the targets."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"lifecycle: {raw!r} must be a table")
    tables = ("launches", "shares", "targets")
    settings = _section("lifecycle", {key: value for key, value in raw.items() if key not in tables}, LifecycleSettings)
    end = _date(settings["end"], "lifecycle.end")
    if end <= epoch:
        raise ScenarioError(f"lifecycle.end: {settings['end']!r} is not after the scenario epoch ({epoch.isot})")
    try:
        settings["step_s"] = parse_duration_s(settings["step_s"], "lifecycle.step")
    except ValueError as error:
        raise ScenarioError(str(error)) from None
    counts = {group.name: group.count for group in groups}
    launches = _list_of_tables("lifecycle.launches", raw.get("launches"), Launch)
    for index, launch in enumerate(launches):
        path = f"lifecycle.launches[{index}]"
        date = _date(launch["date"], f"{path}.date")
        if date < epoch:
            raise ScenarioError(f"{path}.date: {launch['date']!r} is before the scenario epoch ({epoch.isot})")
        if date >= end:
            raise ScenarioError(f"{path}.date: {launch['date']!r} is not before lifecycle.end ({settings['end']})")
        if launch["group"] not in counts:
            raise ScenarioError(f"{path}.group: {launch['group']!r} is not a group of [[subcenters]]")
        counts[launch["group"]] -= launch["subcenters"]
        if counts[launch["group"]] < 0:
            raise ScenarioError(f"{path}.subcenters: {launch['subcenters']} overlaps sub-centers of {launch['group']} "
                                f"launched before: the group has {-counts[launch['group']]} fewer than launched")
    shares = _list_of_tables("lifecycle.shares", raw["shares"], MemberShare) if raw.get("shares") else []
    totals: dict[str, float] = {}
    for index, share in enumerate(shares):
        path = f"lifecycle.shares[{index}]"
        if share["group"] not in counts:
            raise ScenarioError(f"{path}.group: {share['group']!r} is not a group of [[subcenters]]")
        if share["member"] not in members:
            raise ScenarioError(f"{path}.member: {share['member']!r} is not in consortium.members")
        if any(other["group"] == share["group"] and other["member"] == share["member"] for other in shares[:index]):
            raise ScenarioError(f"{path}.member: {share['member']!r} already has a share of {share['group']}")
        totals[share["group"]] = totals.get(share["group"], 0.0) + share["percent"]
    for group, total in totals.items():
        if abs(total - 100.0) > 1e-6:
            raise ScenarioError(f"lifecycle.shares: the shares of {group} add up to {total:g} %, not 100 %")
    targets = _list_of_tables("lifecycle.targets", raw["targets"], PhaseTarget) if raw.get("targets") else []
    _unique_names("lifecycle.targets", targets)
    for index, target in enumerate(targets):
        _date(target["by"], f"lifecycle.targets[{index}].by")
    return LifecycleSettings(**settings, launches=tuple(Launch(**item) for item in launches),
                             shares=tuple(MemberShare(**item) for item in shares),
                             targets=tuple(PhaseTarget(**item) for item in targets))


def _compute_settings(raw: Any) -> ComputeSettings:
    if not isinstance(raw, dict):
        raise ScenarioError(f"compute: {raw!r} must be a table")
    classes = _list_of_tables("compute.classes", raw.get("classes"), JobClass)
    _unique_names("compute.classes", classes)
    settings = _section("compute", {key: value for key, value in raw.items() if key != "classes"}, ComputeSettings)
    return ComputeSettings(**settings, classes=tuple(JobClass(**item) for item in classes))


FIXED_INDICES = ("f107_sfu", "f107_81day_sfu", "ap")


def _flight_settings(raw: Any) -> FlightSettings:
    """``[flight]``: fixed indices need all three values, predicted ones none (a value given would be ignored)."""
    values = _section("flight", raw, FlightSettings)
    fixed = values["indices"] == "fixed"
    for name in FIXED_INDICES:
        if fixed and values[name] is None:
            raise ScenarioError(f"flight.{name}: missing; indices = \"fixed\" needs {', '.join(FIXED_INDICES)}")
        if not fixed and values[name] is not None:
            raise ScenarioError(f"flight.{name}: {values[name]!r} is given but indices is \"predicted\" (the shipped "
                                "cycle); write indices = \"fixed\" to use it")
    return FlightSettings(**values)


def _radiation_design(raw: Any) -> RadiationDesign:
    values = _section("radiation", raw, RadiationDesign)
    for part in ("memory", "logic"):
        shares = values[f"{part}_corrected"] + values[f"{part}_detected"]
        if shares > 1.0:
            raise ScenarioError(f"radiation.{part}_detected: {values[f'{part}_detected']!r} and {part}_corrected "
                                f"({values[f'{part}_corrected']!r}) add up to more than 1")
    return RadiationDesign(**values)


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
    start = item["start_s"]  # as written: a duration after the epoch or a UTC time
    try:
        start_s = parse_duration_s(start, f"{path}.start")
    except ValueError:
        try:
            start_s = float((parse_time(start, f"{path}.start") - epoch).sec)
        except ValueError:
            raise ScenarioError(f"{path}.start: {start!r} is neither a time after the epoch ('6h') "
                                "nor an ISO 8601 UTC time") from None
    if start_s < 0:
        raise ScenarioError(f"{path}.start: {start!r} is before the scenario epoch")
    return Fault(**{**item, "start_s": start_s})


def _subcenter_group(index: int, group: dict[str, Any], buses: dict[str, Bus], members: tuple[str, ...]) -> SubcenterGroup:
    path = f"subcenters[{index}]"
    if group["bus"] not in buses:
        raise ScenarioError(f"{path}.bus: {group['bus']!r} is not a bus defined under [buses]; known: {', '.join(buses)}")
    for owner in group["owners"]:
        if owner not in members:
            raise ScenarioError(f"{path}.owners: {owner!r} is not in consortium.members")
    if group["planes"] > group["count"]:
        raise ScenarioError(f"{path}.planes: {group['planes']!r} is more than the {group['count']} sub-centers to place")
    formation = Formation(**_section(f"{path}.formation", group["formation"], Formation))
    if formation.shape == "single" and group["satellites"] != 1:
        raise ScenarioError(f"{path}.formation.shape: 'single' needs satellites = 1, not {group['satellites']}")
    if formation.shape != "single" and formation.spacing_m <= 0:
        raise ScenarioError(f"{path}.formation.spacing_m: {formation.spacing_m!r} must be above 0 for a {formation.shape!r}")
    return SubcenterGroup(**{**group, "formation": formation})


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
    text = read_utf8(path, "scenario")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"scenario: {str(path)!r} is not valid TOML ({error})") from None
    return scenario_from_dict(raw, source=str(path), text=text)


def _toml_text(raw: dict[str, Any], source: str) -> str:
    """The TOML text of the tables ``raw``: the ``source`` file's if it holds the same tables, else ``raw`` written
    out (a what-if: a file's tables with changes); empty if ``raw`` holds values TOML cannot write."""
    path = Path(source)
    if path.suffix == ".toml" and path.is_file():
        text = read_utf8(path, "scenario")
        if tomllib.loads(text) == raw:
            return text
    try:
        return tomli_w.dumps(raw)
    except TypeError:
        return ""


def scenario_record(scenario: Scenario) -> dict[str, str]:
    """What a run records of the scenario it came from: the TOML it was made from (``scenario_text``: its file's
    text, or a what-if's tables with their changes) and the text's SHA-256 in hex (``scenario_sha256``)."""
    text = scenario.text
    return {"scenario_text": text, "scenario_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest() if text else ""}


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
