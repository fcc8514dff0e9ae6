"""Fleet propagation against SGP4 itself: TLE satellites to the metre, formation members to metres."""

import copy
import tomllib
from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import GCRS, TEME, CartesianRepresentation
from astropy.time import Time
from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_tle

import twin
from twin.orbit.constellation import fleet_from_tles, read_tle_file
from twin.orbit.propagation import propagate_teme
from twin.scenario import SCENARIO_DIR, scenario_from_dict
from twin.timegrid import julian_dates, time_grid

METRE_KM = 1e-3
ISS_TLE = Path(__file__).resolve().parent.parent / "assets" / "tle" / "iss-2019-12-09.tle"


def test_tle_satellite_is_propagated_exactly_as_sgp4():
    """Vallado's SGP4 through the sgp4 package is the authority for TLEs (REFERENCES.md): same TEME states."""
    fleet = fleet_from_tles(read_tle_file(ISS_TLE.read_text()))
    satrec = Satrec.twoline2rv(*ISS_TLE.read_text().splitlines()[1:3], WGS72)
    start = Time("2019-12-09T12:00:00", scale="utc")
    jd, fr = julian_dates(start, time_grid(start, 86400.0, 30.0))
    position, velocity = propagate_teme(fleet, jd, fr)
    errors, expected_position, expected_velocity = satrec.sgp4_array(jd, fr)
    assert not errors.any()
    assert np.abs(position[0] - expected_position).max() < METRE_KM
    assert np.abs(velocity[0] - expected_velocity).max() < 1e-6  # km/s: 1 mm/s


def test_tle_satellite_in_the_dataset_is_sgp4_rotated_to_gcrs_by_astropy():
    """The dataset's GCRS position equals SGP4's TEME position transformed by astropy point by point,
    to the metre: this checks the twin's interpolated rotation matrices end to end."""
    fleet = fleet_from_tles(read_tle_file(ISS_TLE.read_text()))
    start = Time("2019-12-09T12:00:00", scale="utc")
    offsets = time_grid(start, 6 * 3600.0, 97.0)
    run = twin.run_orbits(fleet, start, offsets)
    satrec = fleet.blocks[0].chiefs[0]
    _, r_teme, v_teme = satrec.sgp4_array(*julian_dates(start, offsets))
    times = start + offsets * u.s
    expected = TEME(CartesianRepresentation(r_teme.T * u.km), obstime=times).transform_to(GCRS(obstime=times))
    expected_m = expected.cartesian.xyz.to_value(u.m).T
    assert np.abs(run["position"].values[0] - expected_m).max() < 1.0


def test_read_tle_file_accepts_two_and_three_line_sets():
    text = ISS_TLE.read_text()
    three = read_tle_file(text)
    two = read_tle_file("\n".join(text.splitlines()[1:]))
    assert three[0][0] == "ISS (ZARYA)" and two[0][0] == "25544"
    with pytest.raises(ValueError, match="tle line 1"):
        read_tle_file("not a tle\n")


def formation_scenario(shape: str, satellites: int, spacing_m: float):
    raw = tomllib.loads((SCENARIO_DIR / "phase1.toml").read_text())
    raw = copy.deepcopy(raw)
    raw["subcenters"] = [raw["subcenters"][1]]
    raw["subcenters"][0].update(count=2, satellites=satellites, formation={"shape": shape, "spacing_m": spacing_m})
    return scenario_from_dict(raw)


@pytest.mark.parametrize("shape, satellites, spacing_m", [("disk", 81, 200.0), ("disk", 19, 500.0), ("train", 9, 300.0)])
def test_formation_members_follow_their_own_sgp4_to_metres(shape, satellites, spacing_m):
    """Each member has its own SGP4 element set; the twin's linear relative motion about the chief must
    reproduce SGP4 within 10 m over 24 h for a cluster up to about 2 km across (the benchmark's target
    is 1 km; the model's error scales as offset^2 / a plus J2 times the offset)."""
    scenario = formation_scenario(shape, satellites, spacing_m)
    fleet = twin.design_fleet(scenario)
    jd, fr = julian_dates(scenario.epoch, time_grid(scenario.epoch, 86400.0, 120.0))
    position, velocity = propagate_teme(fleet, jd, fr)
    for index, satrec in enumerate(fleet.satrecs()):
        errors, expected_position, expected_velocity = satrec.sgp4_array(jd, fr)
        assert not errors.any()
        assert np.linalg.norm(position[index] - expected_position, axis=-1).max() < 10 * METRE_KM, fleet.names[index]
        assert np.linalg.norm(velocity[index] - expected_velocity, axis=-1).max() < 0.05 * METRE_KM  # 5 cm/s


def test_disk_formation_is_passively_safe_and_compact():
    """Suncatcher-like cluster (REFERENCES.md): 81 satellites within about 1 km; neighbours never closer than
    90 % of the design spacing over a day (projected circular orbits keep their separation)."""
    scenario = formation_scenario("disk", 81, 200.0)
    fleet = twin.design_fleet(scenario)
    jd, fr = julian_dates(scenario.epoch, time_grid(scenario.epoch, 86400.0, 300.0))
    position, _ = propagate_teme(fleet, jd, fr)
    cluster = position[:81] * 1e3  # m
    chief = cluster[0]
    assert np.linalg.norm(cluster - chief, axis=-1).max() < 2000.0  # within 1 km radius in projection, 2 km in 3D
    pairs = np.linalg.norm(cluster[:, None] - cluster[None, :], axis=-1)
    pairs[np.arange(81), np.arange(81)] = np.inf
    assert pairs.min() > 0.9 * 200.0


def test_exported_designed_satellite_round_trips_as_a_tle():
    """Every designed satellite has an SGP4 element set that exports as a TLE and reads back the same orbit."""
    scenario = twin.load_scenario("phase1")
    satrec = twin.design_fleet(scenario).satrecs()[5]
    line1, line2 = export_tle(satrec)
    again = Satrec.twoline2rv(line1, line2, WGS72)
    jd, fr = julian_dates(scenario.epoch, time_grid(scenario.epoch, 86400.0, 600.0))
    _, r1, _ = satrec.sgp4_array(jd, fr)
    _, r2, _ = again.sgp4_array(jd, fr)
    # TLE fields are rounded (e.g. 1e-8 rev/day of mean motion, 1e-4 deg of angles): tens of metres in a day.
    assert np.linalg.norm(r1 - r2, axis=-1).max() < 0.1


def test_output_arrays_must_fit():
    fleet = fleet_from_tles(read_tle_file(ISS_TLE.read_text()))
    jd, fr = np.array([2458827.0]), np.array([0.5])
    with pytest.raises(ValueError, match="output arrays"):
        propagate_teme(fleet, jd, fr, np.empty((2, 1, 3)), np.empty((2, 1, 3)))
