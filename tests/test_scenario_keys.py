"""Scenario keys declared once: the built-in phases load as before, and the reference of every key is current."""

import copy
import dataclasses
import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from astropy.time import Time

import twin
from twin.scenario import ScenarioError, scenario_from_dict

SNAPSHOTS = Path(__file__).resolve().parent / "data" / "scenario_snapshots"


def flattened(value, path: str = "scenario") -> dict[str, str]:
    """Every value inside ``value`` by its attribute path, as ``type repr`` (so 1 and 1.0 differ)."""
    if dataclasses.is_dataclass(value):
        items = {field.name: getattr(value, field.name) for field in dataclasses.fields(value) if field.name != "source"}
        head = type(value).__name__
    elif isinstance(value, dict):
        items, head = value, f"dict of {len(value)}"
    elif isinstance(value, (tuple, list)):
        items, head = dict(enumerate(value)), f"{type(value).__name__} of {len(value)}"
    elif isinstance(value, Time):
        return {path: f"Time {value.isot} scale={value.scale} format={value.format} jd={value.jd1!r}+{value.jd2!r}"}
    else:
        return {path: f"{type(value).__name__} {value!r}"}
    flat = {path: head}
    for name, item in items.items():
        flat.update(flattened(item, f"{path}.{name}"))
    return flat


@pytest.mark.parametrize("name", ["phase1", "phase2", "phase3"])
def test_builtin_scenarios_load_field_by_field_as_before(name):
    """The snapshot was written by the loader of the *_SCHEMA dicts (commit 307c79a), with
    ``json.dumps(flattened(twin.load_scenario(name)), indent=1)``."""
    scenario = twin.load_scenario(name)
    expected = json.loads((SNAPSHOTS / f"{name}.json").read_text())
    assert flattened(scenario) == expected
    assert scenario.source == str(twin.scenario.SCENARIO_DIR / f"{name}.toml")


def base_raw() -> dict:
    """Phase 2 as parsed TOML (every section, offload included), with one fault."""
    raw = tomllib.loads((twin.scenario.SCENARIO_DIR / "phase2.toml").read_text())
    target = f"{raw['subcenters'][0]['name']}-001"
    raw["faults"] = [{"target": target, "kind": "array_degraded", "start": "6h", "severity": 0.5}]
    return raw


BAD_VALUES = {"text": "x", "negative": -1e30, "huge": 1e30, "nan": float("nan"), "true": True, "zero": 0, "list": [1]}


def mutations(raw) -> dict[str, Callable[[dict], None]]:
    """Edits of ``raw`` by name: each key of each table set to each of BAD_VALUES or removed, an unknown key
    added to each table, each section removed or replaced by a number, each list of tables emptied."""
    edits: dict[str, Callable[[dict], None]] = {}

    def walk(table: dict, where: tuple):
        name = ".".join(map(str, where)) or "<top>"
        edits[f"{name} + unknown key"] = lambda data, where=where: dig(data, where).update(zz_unknown=1)
        for key, value in table.items():
            here = where + (key,)
            edits[f"{'.'.join(map(str, here))} removed"] = lambda data, where=where, key=key: dig(data, where).pop(key)
            if isinstance(value, dict):
                walk(value, here)
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                edits[f"{'.'.join(map(str, here))} emptied"] = lambda data, where=where, key=key: dig(data, where).update({key: []})
                for index, item in enumerate(value):
                    walk(item, here + (index,))
            for label, bad in BAD_VALUES.items():
                edits[f"{'.'.join(map(str, here))} = {label}"] = (
                    lambda data, where=where, key=key, bad=bad: dig(data, where).update({key: copy.deepcopy(bad)}))

    walk(raw, ())
    return edits


def dig(data, where: tuple):
    for step in where:
        data = data[step]
    return data


def outcome(raw: dict, edit: Callable[[dict], None]) -> str:
    """The error an edited scenario is refused with, or 'loads'."""
    data = copy.deepcopy(raw)
    edit(data)
    try:
        scenario_from_dict(data)
    except ScenarioError as error:
        return str(error)
    return "loads"


def test_every_edit_of_a_scenario_gives_the_same_message_as_before():
    """Each edit of :func:`mutations` is refused with the message the loader of the *_SCHEMA dicts gave (commit
    307c79a), or loads as it did: ``json.dumps({name: outcome(base_raw(), edit) ...}, indent=1)``."""
    raw = base_raw()
    expected = json.loads((SNAPSHOTS / "messages.json").read_text())
    assert {name: outcome(raw, edit) for name, edit in mutations(raw).items()} == expected


def without_optional_keys(raw: dict) -> dict:
    """``raw`` without the keys an older scenario file may lack (a single formation's spacing included)."""
    data = copy.deepcopy(raw)
    data["scenario"].pop("description")
    data["links"].pop("eo_inflow_bps")
    data["faults"][0].pop("severity")
    for group in data["subcenters"]:
        for key in ("plane_spacing_deg", "phase_offset_deg", "phase_deg", "altitude_km", "ltan_hours", "launch"):
            group.pop(key, None)
        if group["formation"]["shape"] == "single":
            group["formation"].pop("spacing_m", None)
    for station in data["ground_stations"]:
        for key in ("antennas", "band", "downlink_rate_bps", "uplink_rate_bps"):
            station.pop(key)
    return data


def test_a_scenario_without_its_optional_keys_gets_the_same_defaults_as_before():
    """The snapshot was written by the loader of the *_SCHEMA dicts (commit 307c79a), with
    ``json.dumps(flattened(scenario_from_dict(without_optional_keys(base_raw()))), indent=1)``."""
    expected = json.loads((SNAPSHOTS / "phase2-without-optional-keys.json").read_text())
    assert flattened(scenario_from_dict(without_optional_keys(base_raw()))) == expected
