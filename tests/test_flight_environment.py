"""The flight environment against authorities: NRLMSIS 2.1's own reference values, the published solar
cycles, closed forms of drag, radiation pressure, J2 and the third-body tilt of an orbit plane."""

from pathlib import Path

import numpy as np
import pymsis
import pytest

from twin.assets import asset_path
from twin.constants import ASTRONOMICAL_UNIT_M, EARTH_EQUATORIAL_RADIUS_M, EARTH_J2
from twin.flight import solar_cycle
from twin.flight.atmosphere import density_kg_m3
from twin.flight.forces import (EARTH_MU_M3_S2, SOLAR_PRESSURE_N_M2, SUN_MU_M3_S2, air_velocity_m_s,
                                drag_acceleration_m_s2, j2_acceleration_m_s2, srp_acceleration_m_s2)
from twin.flight.secular import third_body_plane_rates
from twin.flight.space_weather import SolarIndices, predicted_indices, read_indices_table
from twin.flight.spacecraft import Spacecraft

REFERENCE = Path(pymsis.__file__).parent / "tests" / "msis2.1_test_ref_dp.txt"


def test_density_matches_the_nrlmsis_2_1_reference_values():
    """The 200 points of NRLMSIS 2.1's reference output (shipped with pymsis, from the model's authors):
    total mass density to the 4 digits the file prints."""
    rows = np.array([line.split() for line in REFERENCE.read_text().splitlines()[1:]], dtype=float)
    year, day = (rows[:, 0] // 1000).astype(int), (rows[:, 0] % 1000).astype(int)
    year = np.where(year > 60, 1900 + year, 2000 + year)
    times = (np.array([f"{y}-01-01" for y in year], dtype="datetime64[s]") + (day - 1) * np.timedelta64(1, "D")
             + rows[:, 1].astype("timedelta64[s]"))
    indices = SolarIndices(rows[:, 7], rows[:, 6], rows[:, 8])
    density = density_kg_m3(times, rows[:, 3], rows[:, 4], rows[:, 2], indices)
    expected = rows[:, 14] * 1e3  # g/cm3 -> kg/m3
    assert np.allclose(density, expected, rtol=2e-3)


def test_density_never_downloads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pymsis tried to download space weather")
    monkeypatch.setattr("urllib.request.urlopen", refuse)
    density = density_kg_m3(np.datetime64("2035-06-01T00:00"), 45.0, 10.0, 750.0)
    assert 1e-15 < density < 1e-12


def test_density_refuses_a_negative_altitude():
    with pytest.raises(ValueError, match=r"altitude_km: -5.0 must be finite and above the ground"):
        density_kg_m3(np.datetime64("2035-06-01"), 0.0, 0.0, np.array([400.0, -5.0]))


@pytest.mark.parametrize("cycle, start, peak, maximum", solar_cycle.CYCLES)
def test_the_cycle_model_peaks_as_published(cycle, start, peak, maximum):
    """Anchored at each cycle's start and maximum, the model's month of maximum is within 8 months of the
    published one (Hathaway's shape sets it; cycle 24 peaked twice) and its height within 2 %."""
    months = np.arange(np.datetime64(start, "M"), np.datetime64(start, "M") + 120)
    spots = solar_cycle.sunspot_number(months)
    assert abs(int((months[np.argmax(spots)] - np.datetime64(peak, "M")).astype(int))) <= 8
    assert spots.max() == pytest.approx(maximum, rel=0.02)


def test_the_shipped_table_is_the_model():
    shipped = asset_path("flight", "solar_indices.csv").read_text().splitlines()
    assert shipped == solar_cycle.table_rows()
    table = read_indices_table(asset_path("flight", "solar_indices.csv"))
    assert str(table.month[-1]) >= "2040-12"


def test_indices_outside_the_table_are_refused():
    with pytest.raises(ValueError, match=r"time: 2099-01-01T00:00:00 is outside the indices table .*pass the indices"):
        predicted_indices(np.array(["2035-01-01", "2099-01-01"], dtype="datetime64[s]"))


def test_a_bad_indices_file_names_its_line(tmp_path):
    path = tmp_path / "indices.csv"
    path.write_text("month,f107_sfu,ap\n2030-01,70,5\n2030-02,high,5\n")
    with pytest.raises(ValueError, match=r"indices.csv:3: f107_sfu 'high' is not a number"):
        read_indices_table(path)


def plate(array_m2=0.0, radiator_m2=0.0, body_m2=0.0, sun_tracking=True, along_track=True, mass_kg=1000.0):
    return Spacecraft(["S"], mass_kg, array_m2, radiator_m2, body_m2, 2.2, 1.3, 1500.0, 0.04, 50.0,
                      sun_tracking, along_track)


def test_drag_of_a_body_is_the_closed_form():
    position = np.array([[7.1e6, 0.0, 0.0]])
    velocity = np.array([[0.0, 1000.0, 7400.0]])
    flow = air_velocity_m_s(position, velocity)
    acceleration = drag_acceleration_m_s2(plate(body_m2=10.0), position, velocity, np.array([0, 1.5e11, 0]),
                                          np.array([1e-14]))
    expected = -0.5 * 1e-14 * 2.2 * 10.0 / 1000.0 * np.linalg.norm(flow) * flow
    assert np.allclose(acceleration, expected, rtol=1e-12)
    assert flow[0, 1] == pytest.approx(1000.0 - 7.1e6 * 7.292115e-5, rel=1e-6)  # the air turns with the Earth


def test_a_sun_tracking_array_flies_edge_on_when_the_sun_is_along_the_orbit_normal():
    """Dawn-dusk geometry: flow along y, orbit normal along z... the Sun along the normal: no array area
    across the flow; tilted by 30 deg towards the flow, A sin 30 deg; a radiator along track adds A/2."""
    position = np.array([[7.0e6, 0.0, 0.0]])
    flow = np.array([[0.0, 7500.0, 0.0]])
    craft = plate(array_m2=100.0, radiator_m2=40.0)
    on_normal = craft.flown_area_m2(flow, np.array([0.0, 0.0, 1.5e11]), position)
    tilted = craft.flown_area_m2(flow, 1.5e11 * np.array([0.0, np.sin(np.radians(30)), np.cos(np.radians(30))]), position)
    assert on_normal[0] == pytest.approx(20.0, abs=1e-3)  # the radiator's face only (the Sun is 150 million km off)
    assert tilted[0] == pytest.approx(100.0 * 0.5 + 20.0, rel=1e-4)


def test_radiation_pressure_is_the_closed_form_and_vanishes_in_the_umbra():
    position = np.array([[7.0e6, 0.0, 0.0]])
    sun = np.array([0.0, ASTRONOMICAL_UNIT_M, 0.0])
    craft = plate(array_m2=100.0, radiator_m2=0.0, along_track=False)
    lit = srp_acceleration_m_s2(craft, position, np.array([[0.0, 0.0, 7500.0]]), sun, np.array([1.0]))
    distance = np.linalg.norm(sun - position[0])
    expected = SOLAR_PRESSURE_N_M2 * 1.3 * (100.0 + 0.0) / 1000.0 * (ASTRONOMICAL_UNIT_M / distance) ** 2
    assert np.linalg.norm(lit) == pytest.approx(expected, rel=1e-12)
    assert np.dot(lit[0], sun - position[0]) < 0  # pushed away from the Sun
    assert np.allclose(srp_acceleration_m_s2(craft, position, np.array([[0, 0, 7500.0]]), sun, np.array([0.0])), 0.0)


def test_j2_acceleration_is_the_gradient_of_its_potential():
    """The J2 term of the geopotential, V = -mu J2 R^2 P2(sin lat) / r^3, and a = grad V (pulls inward at the equator)."""
    def potential(r):
        x, y, z = r
        radius = np.linalg.norm(r)
        return -EARTH_MU_M3_S2 * EARTH_J2 * EARTH_EQUATORIAL_RADIUS_M**2 / radius**3 * 0.5 * (3 * z * z / radius**2 - 1)
    point = np.array([4.1e6, -3.3e6, 4.9e6])
    step = 1.0
    gradient = np.array([(potential(point + step * e) - potential(point - step * e)) / (2 * step) for e in np.eye(3)])
    assert np.allclose(j2_acceleration_m_s2(point), gradient, rtol=1e-6)
    assert j2_acceleration_m_s2(np.array([7e6, 0.0, 0.0]))[0] < 0


@pytest.mark.parametrize("ltan_hours", [6.0, 9.0, 10.5, 13.5, 18.0])
def test_the_tilt_of_an_orbit_plane_by_the_sun_in_the_equator_is_the_classical_formula(ltan_hours):
    """di/dt = 3 n_s^2 / (4 n) sin i sin 2(Omega - alpha_s) for a Sun in the equator (Vallado, third-body
    secular rates); zero for a dawn-dusk orbit."""
    a_km, inclination = 7128.0, np.radians(98.4)
    sun_ra = 0.7
    raan = sun_ra + (ltan_hours - 12.0) * np.pi / 12.0
    normal = np.array([np.sin(inclination) * np.sin(raan), -np.sin(inclination) * np.cos(raan), np.cos(inclination)])
    sun = ASTRONOMICAL_UNIT_M * np.array([np.cos(sun_ra), np.sin(sun_ra), 0.0])
    rate, _ = third_body_plane_rates(normal, a_km, sun, SUN_MU_M3_S2)
    n = np.sqrt(EARTH_MU_M3_S2 / (a_km * 1e3) ** 3)
    expected = 3 * SUN_MU_M3_S2 / ASTRONOMICAL_UNIT_M**3 / (4 * n) * np.sin(inclination) * np.sin(2 * (raan - sun_ra))
    assert rate == pytest.approx(expected, rel=1e-9, abs=1e-22)
