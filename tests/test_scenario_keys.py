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
from twin.scenario import Fault, Formation, ScenarioError, SubcenterGroup, scenario_from_dict
from twin.scenario.keys import file_keys
from twin.scenario.model import SECTIONS
from twin.scenario.reference import keys_reference

SNAPSHOTS = Path(__file__).resolve().parent / "data" / "scenario_snapshots"


def flattened(value, path: str = "scenario") -> dict[str, str]:
    """Every value inside ``value`` by its attribute path, as ``type repr`` (so 1 and 1.0 differ)."""
    if dataclasses.is_dataclass(value):
        items = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)
                 if field.name not in ("source", "text")}
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
    ``json.dumps(flattened(twin.load_scenario(name)), indent=1)``; written again when the flight keys came (issue 19),
    which only added their entries."""
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
    307c79a), or loads as it did: ``json.dumps({name: outcome(base_raw(), edit) ...}, indent=1)``. One message
    changed on purpose: a local time beyond 24 h "must be below 24.0" (it said "at most 24.0", yet 24.0 itself
    was refused). Written again when the flight keys came (issue 19): their edits were added, and the lists of known
    sections and bus keys name them."""
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
    ``json.dumps(flattened(scenario_from_dict(without_optional_keys(base_raw()))), indent=1)``; written again when
    the flight keys came (issue 19), which only added their entries."""
    expected = json.loads((SNAPSHOTS / "phase2-without-optional-keys.json").read_text())
    assert flattened(scenario_from_dict(without_optional_keys(base_raw()))) == expected


ROOT = Path(__file__).resolve().parent.parent
UNIT_OF_SUFFIX = {  # a key's name ends in its unit (STYLE.md); longest suffix first
    "_j_per_k": "J/K", "_w_per_k": "W/K", "_per_k": "1/K", "_per_year": "1/year", "_per_flop": "bit/FLOP",
    "_hours": "h", "_hour": "1/h", "_units": "capacity_unit", "_flops": "FLOP/s", "_bits": "bit", "_bps": "bit/s",
    "_deg": "deg", "_km": "km", "_m2": "m²", "_kg": "kg", "_wh": "Wh", "_w": "W", "_k": "K", "_m": "m", "_s": "s",
}


def every_key():
    """(section path, FileKey) of every key a scenario file may hold."""
    return [(section.path, entry) for section in SECTIONS for entry in file_keys(section.model, section.table).values()]


def test_the_keys_reference_in_the_docs_is_what_the_declarations_render():
    page = (ROOT / "docs" / "scenario_keys.md").read_text()
    assert page == keys_reference(), "docs/scenario_keys.md is stale: python -m twin.scenario.reference > docs/scenario_keys.md"
    for path, entry in every_key():
        assert f"| `{entry.name}` |" in page, (path, entry.name)


def test_every_key_has_a_description_and_the_unit_its_name_says():
    keys = every_key()
    # as many as the 13 *_SCHEMA dicts held (Bus 26, LinkSettings 18...), each declared once, the flight keys of
    # issue 19 (Bus 5, FlightSettings 4, and its 4 keys of the indices), [radiation]'s 20 and the 19 of the build-up (issue 21: [lifecycle] 9, its
    # launches 3, shares 3, targets 4)
    assert len(keys) == 102 + 9 + 20 + 19 + 4
    for path, entry in keys:
        where = f"{path}.{entry.name}"
        assert entry.key.description and "\n" not in entry.key.description, where
        suffix = max((s for s in UNIT_OF_SUFFIX if entry.name.endswith(s)), key=len, default=None)
        if suffix:
            assert entry.key.unit == UNIT_OF_SUFFIX[suffix], where
        if entry.kind is float:
            assert entry.key.unit, f"{where}: a number needs a unit ('1' if it has none)"


def test_a_relation_between_two_keys_is_checked_and_named():
    """``below_key`` / ``at_least_key``: the message names the key, its value, the other key and its value."""
    data = edit_raw(lambda d: d["buses"]["compute-s"].update(min_temperature_k=350.0, payload_throttle_temperature_k=340.0))
    with pytest.raises(ScenarioError, match=r"^buses.compute-s.min_temperature_k: 350.0 must be below "
                                            r"payload_throttle_temperature_k \(340.0\)$"):
        scenario_from_dict(data)
    data = edit_raw(lambda d: d["links"].update(inter_max_range_km=1000, inter_reference_range_km=1000.5))
    with pytest.raises(ScenarioError, match=r"^links.inter_max_range_km: 1000.0 must be at least "
                                            r"inter_reference_range_km \(1000.5\)$"):
        scenario_from_dict(data)


@pytest.mark.parametrize("ltan_hours", [24.0, 24.5])
def test_a_local_time_of_24_hours_or_more_is_refused_the_same_way(ltan_hours):
    for path, mutate in (("orbit.ltan_hours", lambda d: d["orbit"].update(ltan_hours=ltan_hours)),
                         ("subcenters[1].ltan_hours", lambda d: d["subcenters"][1].update(ltan_hours=ltan_hours))):
        with pytest.raises(ScenarioError) as error:
            scenario_from_dict(edit_raw(mutate))
        assert str(error.value) == f"{path}: {ltan_hours!r} is out of range; it must be below 24.0"


def edit_raw(mutate: Callable[[dict], None]) -> dict:
    data = base_raw()
    mutate(data)
    return data


def test_a_scenario_builds_from_python_with_the_same_defaults_a_file_gets():
    """A default is declared once: the dataclass field's default is what a file that leaves the key out gets."""
    from_file = scenario_from_dict(without_optional_keys(base_raw()))
    group = from_file.subcenters[0]
    built = SubcenterGroup(name=group.name, count=group.count, satellites=group.satellites, planes=group.planes,
                           bus=group.bus, owners=group.owners, formation=Formation(shape=group.formation.shape))
    assert built == group
    assert Fault("CC1-001", "array_degraded", 60.0).severity == 1.0


def test_fixed_indices_need_all_three_values_and_predicted_ones_none():
    """``[flight] indices``: "fixed" takes F10.7, its 81-day mean and Ap from the file, each in its physical range;
    a value given beside the predicted cycle is refused rather than ignored."""
    fixed = {"indices": "fixed", "f107_sfu": 180.0, "f107_81day_sfu": 170.0, "ap": 12.0}
    flight = scenario_from_dict(edit_raw(lambda d: d.update(flight=dict(fixed)))).flight
    assert (flight.indices, flight.f107_sfu, flight.f107_81day_sfu, flight.ap) == ("fixed", 180.0, 170.0, 12.0)
    assert twin.load_scenario("phase1").flight.indices == "predicted"
    refusals = {
        "flight.f107_81day_sfu: missing; indices = \"fixed\" needs f107_sfu, f107_81day_sfu, ap":
            {key: value for key, value in fixed.items() if key != "f107_81day_sfu"},
        "flight.ap: 12.0 is given but indices is \"predicted\" (the shipped cycle); write indices = \"fixed\" to use it":
            {"ap": 12.0},
        "flight.f107_sfu: 700.0 is out of range; it must be at most 500.0": {**fixed, "f107_sfu": 700.0},
        "flight.ap: -1.0 is out of range; it must be at least 0.0": {**fixed, "ap": -1},
        "flight.indices: 'measured' is not one of predicted, fixed": {"indices": "measured"},
    }
    for message, section in refusals.items():
        with pytest.raises(ScenarioError) as error:
            scenario_from_dict(edit_raw(lambda d: d.update(flight=section)))
        assert str(error.value) == message
