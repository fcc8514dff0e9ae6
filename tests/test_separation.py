"""Safe separation of the designed fleet (``twin.orbit.separation``, checked when a scenario is loaded).

Authority: the positions themselves. Every satellite of phases 1 and 2 is propagated over an orbit
(``twin.orbit.propagation.propagate_teme``, members from their relative orbits) and every pair closer than
the rule allows is searched for by a k-d tree (scipy), independently of the check's chief-level
screening: no two satellites of a formation closer than its spacing, none of different formations
within 50 m. Scenarios that break the rule are refused at load time naming both satellites.
"""

import tomllib

import numpy as np
import pytest
from scipy.spatial import cKDTree

import twin
from twin.orbit.constellation import design_fleet
from twin.orbit.propagation import propagate_teme
from twin.scenario import SCENARIO_DIR, ScenarioError, scenario_from_dict
from twin.orbit.separation import MIN_SEPARATION_M


def _raw(name):
    return tomllib.loads((SCENARIO_DIR / f"{name}.toml").read_text())


def _closest_pairs(scenario, samples, radius_m):
    """Every pair of satellites closer than ``radius_m`` at any of ``samples`` times over one orbit, with the
    formation spacing of the first one's group (pairs of one sub-center) or None (different sub-centers)."""
    fleet = design_fleet(scenario)
    chief = fleet.blocks[0].chiefs[0]
    fr = chief.jdsatepochF + np.linspace(0.0, 2 * np.pi / chief.no_kozai / 1440.0, samples, endpoint=False)
    position_km, _ = propagate_teme(fleet, np.full(samples, chief.jdsatepoch), fr)
    pairs, distances = [], []
    for step in range(samples):
        points = position_km[:, step] * 1e3
        close = cKDTree(points).query_pairs(radius_m, output_type="ndarray")
        pairs.append(close)
        distances.append(np.linalg.norm(points[close[:, 0]] - points[close[:, 1]], axis=1))
    pairs, distances = np.concatenate(pairs), np.concatenate(distances)
    keys, inverse = np.unique(pairs, axis=0, return_inverse=True)
    closest = np.full(len(keys), np.inf)
    np.minimum.at(closest, inverse.ravel(), distances)
    return fleet, {(int(a), int(b)): float(d) for (a, b), d in zip(keys, closest)}


@pytest.mark.parametrize("name, samples", [("phase1", 360), ("phase2", 360), ("phase3", 24)])
def test_no_two_satellites_come_closer_than_their_formation_spacing(name, samples):
    """Phase 1 once had EXP-001-01 and CC1-001-01 0.0 m apart all run long (same plane, same phase), and phases 2
    and 3 carried the same pair. Phase 3 (10,485 satellites) is sampled at 24 times of its orbit only."""
    scenario = twin.load_scenario(name)
    spacing = {group.name: group.formation.spacing_m for group in scenario.subcenters}
    fleet, pairs = _closest_pairs(scenario, samples, max(spacing.values()))
    for (a, b), distance in pairs.items():
        same = fleet.subcenter[a] == fleet.subcenter[b]
        allowed = spacing[fleet.group[a]] * 0.999 if same else MIN_SEPARATION_M
        assert distance >= allowed, (fleet.names[a], fleet.names[b], distance)
    experimental, first = (list(fleet.names).index(sat) for sat in ("EXP-001-01", "CC1-001-01"))
    assert (experimental, first) not in pairs and (first, experimental) not in pairs


def test_the_experimental_satellite_in_its_old_slot_is_refused_naming_both():
    raw = _raw("phase1")
    raw["subcenters"][0]["phase_deg"] = 0.0  # where it flew before: on CC1-001's chief
    with pytest.raises(ScenarioError, match=r"^satellites EXP-001-01 and CC1-001-01: 0\.0 m apart"):
        design_fleet(scenario_from_dict(raw))


def test_two_formations_within_the_safety_distance_are_refused_naming_the_closest_pair():
    """A second group in the same shell placed 0.002 deg (about 250 m) behind CC1-001: its disk overlaps CC1-001's."""
    raw = _raw("phase1")
    extra = dict(raw["subcenters"][1], name="CC9", count=1, phase_deg=0.002)
    raw["subcenters"].append(extra)
    with pytest.raises(ScenarioError) as error:
        design_fleet(scenario_from_dict(raw))
    message = str(error.value)
    assert message.startswith("satellites CC1-001-") and " and CC9-001-" in message, message
    assert "within the 50 m kept between formations" in message


def test_shells_whose_radii_meet_are_refused():
    """A group 30 m above phase 1's shell: a different period, so its satellites drift through CC1's."""
    raw = _raw("phase1")
    raw["subcenters"].append(dict(raw["subcenters"][1], name="CC9", count=1, phase_deg=30.0, altitude_km=750.03))
    with pytest.raises(ScenarioError, match=r"^satellites .* and .*: their shells' radii meet near latitude"):
        design_fleet(scenario_from_dict(raw))


def test_the_command_line_refuses_such_a_scenario_in_one_line(tmp_path, capsys):
    from twin.cli import main

    bad = tmp_path / "crowded.toml"
    bad.write_text((SCENARIO_DIR / "phase1.toml").read_text().replace("phase_deg = 60.0", "phase_deg = 0.0"))
    assert main(["simulate", str(bad), "--duration", "1h", "--out", str(tmp_path / "run.zarr")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("twin: error: satellites EXP-001-01 and CC1-001-01:") and error.count("\n") == 1
