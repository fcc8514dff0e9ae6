"""Scenario files: the shipped phases, their sources, and clear errors for bad input."""

import copy
import re
import tomllib

import pytest

import twin
from twin.scenario import SCENARIO_DIR, ScenarioError, scenario_from_dict


def raw(name="phase1"):
    return tomllib.loads((SCENARIO_DIR / f"{name}.toml").read_text())


def test_builtin_scenarios_are_the_three_phases_and_the_build_up():
    assert twin.builtin_scenarios() == ["lifecycle", "phase1", "phase2", "phase3"]


def test_phase1_has_the_experimental_satellite_and_a_first_constellation():
    scenario = twin.load_scenario("phase1")
    groups = {group.name: group for group in scenario.subcenters}
    assert groups["EXP"].count * groups["EXP"].satellites == 1
    assert scenario.satellite_count > 1
    assert 700 <= scenario.orbit.altitude_km <= 800
    assert scenario.orbit.ltan_hours in (6.0, 18.0)  # dawn-dusk


def test_phase3_is_above_one_gigawatt_with_about_ten_thousand_satellites():
    scenario = twin.load_scenario("phase3")
    assert scenario.installed_power_w() > 1e9  # Seed: power capacity above 1 GW
    assert 8_000 <= scenario.satellite_count <= 12_000
    assert len(scenario.members) == 24  # Seed: a consortium of 24 organizations


def test_phases_grow():
    counts = [twin.load_scenario(name).satellite_count for name in ("phase1", "phase2", "phase3")]
    assert counts == sorted(counts) and len(set(counts)) == 3


NUMBER = re.compile(r"=\s*[-+]?[0-9]")


@pytest.mark.parametrize("name", twin.builtin_scenarios())
def test_every_number_cites_a_source_or_says_it_is_an_assumption(name):
    """Each line that sets a number carries 'source:' or 'assumption:' (in its comment or the next comment line)."""
    lines = (SCENARIO_DIR / f"{name}.toml").read_text().splitlines()
    missing = []
    for index, line in enumerate(lines):
        if NUMBER.search(line.split("#")[0]) or re.search(r"\[\s*[0-9]", line.split("#")[0]):
            window = line + (lines[index + 1] if index + 1 < len(lines) and lines[index + 1].startswith("#") else "")
            if "source:" not in window and "assumption" not in window:
                missing.append(f"{index + 1}: {line.strip()}")
    assert not missing, "numbers without a source or assumption:\n" + "\n".join(missing)


def edit(mutate):
    data = copy.deepcopy(raw())
    mutate(data)
    return data


@pytest.mark.parametrize("mutate, field, value", [
    (lambda d: d["orbit"].update(altitude_km=-5.0), "orbit.altitude_km", "-5.0"),
    (lambda d: d["orbit"].update(altitude_km=900.0), "orbit.altitude_km", "900.0"),
    (lambda d: d["orbit"].update(ltan_hours=25.0), "orbit.ltan_hours", "25.0"),
    (lambda d: d["orbit"].update(ltan_hours=24.0), "orbit.ltan_hours", "24.0"),
    (lambda d: d["orbit"].update(altitud_km=750.0), "orbit.altitud_km", "750.0"),
    (lambda d: d["orbit"].pop("eccentricity"), "orbit.eccentricity", "missing"),
    (lambda d: d["orbit"].update(altitude_km="high"), "orbit.altitude_km", "'high'"),
    (lambda d: d["scenario"].update(epoch="yesterday"), "scenario.epoch", "'yesterday'"),
    (lambda d: d["scenario"].update(step="-60s"), "scenario.step", "'-60s'"),
    (lambda d: d["buses"]["compute-s"].update(solar_cell_efficiency=1.2), "buses.compute-s.solar_cell_efficiency", "1.2"),
    (lambda d: d["buses"]["compute-s"].update(compute_capacity_units=-1.0), "buses.compute-s.compute_capacity_units", "-1.0"),
    (lambda d: d["subcenters"][1].update(bus="warp-drive"), "subcenters[1].bus", "'warp-drive'"),
    (lambda d: d["subcenters"][1].update(owners=["Nobody"]), "subcenters[1].owners", "'Nobody'"),
    (lambda d: d["subcenters"][1].update(satellites=0), "subcenters[1].satellites", "0"),
    (lambda d: d["subcenters"][1]["formation"].update(shape="cube"), "subcenters[1].formation.shape", "'cube'"),
    (lambda d: d["subcenters"][1].update(planes=9), "subcenters[1].planes", "9"),
    (lambda d: d["ground_stations"][0].update(latitude_deg=95.0), "ground_stations[0].latitude_deg", "95.0"),
    (lambda d: d["buses"]["compute-s"].update(payload_max_temperature_k=300.0), "buses.compute-s.payload_throttle_temperature_k", "343.15"),
    (lambda d: d["buses"]["compute-s"].update(array_pointing="moon"), "buses.compute-s.array_pointing", "'moon'"),
    (lambda d: d["compute"]["classes"][0].pop("jobs_per_subcenter_hour"), "compute.classes[0].jobs_per_subcenter_hour", "missing"),
    (lambda d: d["compute"]["classes"][1].update(offered_load=0.0), "compute.classes[1].offered_load", "0.0"),
    (lambda d: d["compute"].update(idle_power_fraction=1.5), "compute.idle_power_fraction", "1.5"),
    (lambda d: d.update(faults=[{"target": "CC1-009-01", "kind": "satellite_lost", "start": "6h"}]), "faults[0].target", "'CC1-009-01'"),
    (lambda d: d.update(faults=[{"target": "CC1-001-02", "kind": "exploded", "start": "6h"}]), "faults[0].kind", "'exploded'"),
    (lambda d: d.update(faults=[{"target": "CC1-001", "kind": "array_degraded", "start": "soon"}]), "faults[0].start", "'soon'"),
    (lambda d: d.update(faults=[{"target": "CC1-001", "kind": "array_degraded", "start": "2020-01-01T00:00:00Z"}]), "faults[0].start", "before"),
    (lambda d: d.update(warp={}), "warp", "unknown section"),
    (lambda d: d.pop("relays"), "relays", "missing"),
    (lambda d: d["links"].update(atmosphere_margin_km=-1.0), "links.atmosphere_margin_km", "-1.0"),
    (lambda d: d["links"].update(relay_antennas=0), "links.relay_antennas", "0"),
    (lambda d: d["links"].update(inter_rate_bps=0.0), "links.inter_rate_bps", "0.0"),
    (lambda d: d["links"].update(inter_max_range_km=500.0), "links.inter_max_range_km", "500.0"),
    (lambda d: d["links"].update(laser_colour="green"), "links.laser_colour", "'green'"),
    (lambda d: d["links"].update(relay_min_elevation_deg=-95.0), "links.relay_min_elevation_deg", "-95.0"),
    (lambda d: d["links"].update(eo_inflow_bps=-2.0e8), "links.eo_inflow_bps", "-200000000.0"),
    (lambda d: d["links"].update(eo_inflow_bps="lots"), "links.eo_inflow_bps", "'lots'"),
    (lambda d: d["links"].update(eo_inflow_bps=float("inf")), "links.eo_inflow_bps", "inf"),
    (lambda d: d.update(offload={"ground_offered_load": 0.3, "ground_capacity": 0.1, "min_battery_soc": 1.5}),
     "offload.min_battery_soc", "1.5"),
    (lambda d: d.update(offload={"ground_offered_load": 0.3, "ground_capacity": 0.1}), "offload.min_battery_soc", "missing"),
    (lambda d: d["links"].pop("hop_delay_s"), "links.hop_delay_s", "missing"),
    (lambda d: d["ground_stations"][0].update(band="Q"), "ground_stations[0].band", "'Q'"),
    (lambda d: d["ground_stations"][1].update(downlink_rate_bps=0.0), "ground_stations[1].downlink_rate_bps", "0.0"),
    (lambda d: d["ground_stations"][2].update(antennas=0), "ground_stations[2].antennas", "0"),
])

def test_bad_scenario_names_the_field_and_the_value(mutate, field, value):
    with pytest.raises(ScenarioError) as error:
        scenario_from_dict(edit(mutate))
    message = str(error.value)
    assert message.startswith(field + ":"), message
    assert value in message, message


def test_a_bad_scenario_leaves_the_good_ones_loadable(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((SCENARIO_DIR / "phase1.toml").read_text().replace("altitude_km = 750.0", "altitude_km = -5.0"))
    with pytest.raises(ScenarioError, match=r"orbit.altitude_km: -5.0"):
        twin.load_scenario(bad)
    assert twin.load_scenario("phase1").orbit.altitude_km == 750.0


def test_unknown_scenario_name_lists_the_builtins():
    with pytest.raises(ScenarioError, match="phase1, phase2, phase3"):
        twin.load_scenario("phase9")


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("[scenario\nname = 1")
    with pytest.raises(ScenarioError, match="broken.toml"):
        twin.load_scenario(bad)


def test_faults_are_read_with_their_start_after_the_epoch():
    data = edit(lambda d: d.update(faults=[
        {"target": "CC1-001-02", "kind": "satellite_lost", "start": "6h"},
        {"target": "CC1-002", "kind": "array_degraded", "start": "2026-06-01T12:00:00Z", "severity": 0.3},
    ]))
    faults = scenario_from_dict(data).faults
    assert [(f.target, f.kind, f.start_s, f.severity) for f in faults] == [
        ("CC1-001-02", "satellite_lost", 21600.0, 1.0), ("CC1-002", "array_degraded", 43200.0, 0.3)]


def test_links_section_and_station_network_fields_are_optional():
    data = edit(lambda d: d.pop("links"))
    for station in data["ground_stations"]:
        for key in ("antennas", "band", "downlink_rate_bps", "uplink_rate_bps"):
            station.pop(key)
    scenario = scenario_from_dict(data)
    assert scenario.links is None and scenario.ground_stations[0].downlink_rate_bps is None
    assert twin.load_scenario("phase3").links.inter_rate_bps == 1e11


def test_eo_inflow_is_optional_and_read_from_links():
    """Older scenario files without eo_inflow_bps load with no Earth-observation inflow (0 bit/s)."""
    data = edit(lambda d: d["links"].pop("eo_inflow_bps"))
    assert scenario_from_dict(data).links.eo_inflow_bps == 0.0
    assert twin.load_scenario("phase1").links.eo_inflow_bps == 2.0e8
    assert scenario_from_dict(edit(lambda d: d["links"].update(eo_inflow_bps=0))).links.eo_inflow_bps == 0.0
