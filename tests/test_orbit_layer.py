"""The formation-aware orbit layer against the exact path, satellite by satellite.

Members are their chief plus linear maps (twin/orbit_layer.py); here every member of a 81-satellite
and a 37-satellite cluster is recomputed the slow, exact way (its own state rotated by the frame
matrices, ERFA-checked geodetic formula, conical shadow) and compared with physical tolerances.
"""

import numpy as np
import pytest

import twin
from twin.orbit.frames import EarthOrientation, geodetic, rotate
from twin.orbit.propagation import propagate_teme
from twin.run.simulate import run_orbits
from twin.orbit.sunlight import beta_angle_deg, illumination, sun_position_gcrs_m
from twin.subsystems.thermal import ThermalModel, environment_heat_w
from twin.timegrid import julian_dates, time_grid

EARTH_RADIUS_M = 6378137.0


@pytest.fixture(scope="module")
def layers():
    """Phase 3 over 6 h at 60 s in June (eclipse season: members cross shadow boundaries)."""
    scenario = twin.load_scenario("phase3")
    fleet = twin.design_fleet(scenario)
    offsets = time_grid(scenario.epoch, 6 * 3600.0, 60.0)
    fast = run_orbits(fleet, scenario.epoch, offsets)
    rows = np.r_[0:25, 25:62, 10485 - 81:10485]  # phase 1, one 37-satellite and one 81-satellite cluster
    jd, fr = julian_dates(scenario.epoch, offsets)
    position_km, velocity_km_s = propagate_teme(fleet, jd, fr)
    orientation = EarthOrientation(scenario.epoch, offsets)
    sun_m = sun_position_gcrs_m(scenario.epoch, offsets)
    position = rotate(orientation.teme_to_gcrs * 1e3, position_km[rows])
    velocity = rotate(orientation.teme_to_gcrs * 1e3, velocity_km_s[rows])
    latitude, longitude, height = geodetic(rotate(orientation.teme_to_itrs * 1e3, position_km[rows]))
    exact = {"position": position, "velocity": velocity, "latitude": latitude, "longitude": longitude,
             "altitude": height, "illumination": illumination(position, sun_m),
             "beta_angle": beta_angle_deg(position, velocity, sun_m)}
    return scenario, fast.isel(sat=rows), exact, sun_m


def test_positions_and_velocities_are_the_exact_linear_motion(layers):
    _, fast, exact, _ = layers
    assert np.abs(fast["position"].values - exact["position"]).max() < 1e-3  # m
    assert np.abs(fast["velocity"].values - exact["velocity"]).max() < 2e-3  # m/s (float32 storage: 0.5 mm/s)


def test_member_geodetic_coordinates_within_half_a_metre(layers):
    """First order in the offset from the chief: neglected terms offset^2 / R, under 0.3 m for 2 km."""
    _, fast, exact, _ = layers
    latitude_error_m = np.radians(np.abs(fast["latitude"].values - exact["latitude"])) * EARTH_RADIUS_M
    longitude_difference = (fast["longitude"].values - exact["longitude"] + 180.0) % 360.0 - 180.0
    longitude_error_m = np.radians(np.abs(longitude_difference)) * EARTH_RADIUS_M * np.cos(np.radians(exact["latitude"]))
    assert latitude_error_m.max() < 0.5
    assert longitude_error_m.max() < 0.5
    assert np.abs(fast["altitude"].values - exact["altitude"]).max() < 0.2  # m (float32 storage: 6 cm)


def test_member_beta_angle_and_illumination(layers):
    """Beta to first order (error far below 1e-4 deg); illumination exact: members near a shadow
    boundary are computed one by one, and some are (the June run has eclipses)."""
    _, fast, exact, _ = layers
    assert np.abs(fast["beta_angle"].values - exact["beta_angle"]).max() < 1e-4
    assert np.abs(fast["illumination"].values - exact["illumination"]).max() < 1e-6
    partial = (exact["illumination"] > 0) & (exact["illumination"] < 1)
    assert partial.any() and (exact["illumination"] == 0).any()


def test_environment_at_the_chief_geometry_is_within_a_percent(layers):
    """The engine evaluates the environment's geometry at each sub-center's chief (twin/engine.py); for
    every member the heat absorbed differs from its own geometry by under 1 % (a kilometre moves
    the Earth view factor by about 0.1 %)."""
    scenario, fast, exact, sun_m = layers
    model = ThermalModel.from_buses(scenario.buses, fast["bus"].values)
    own = environment_heat_w(model, exact["position"], exact["velocity"], sun_m, exact["illumination"])
    chief_rows = np.array([np.flatnonzero((fast["subcenter"].values == sub) & (fast["role"].values == "chief"))[0]
                           for sub in fast["subcenter"].values])
    borrowed = environment_heat_w(model, exact["position"][chief_rows], exact["velocity"][chief_rows], sun_m,
                                  exact["illumination"])
    assert np.abs(borrowed / own - 1.0).max() < 0.01
