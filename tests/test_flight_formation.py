"""Formation keeping (twin.flight.formation): relative J2 drift against SGP4's, the relative motion model
against a numerical propagation of both satellites, and the closest approach of cluster members."""

import warnings

import numpy as np
import pytest
from astropy.time import Time

import twin
from twin.constants import EARTH_EQUATORIAL_RADIUS_KM
from twin.flight.atmosphere import density_kg_m3
from twin.flight.cowell import propagate_cowell
from twin.flight.elements import mean_elements_of_fleet
from twin.flight.forces import EARTH_MU_M3_S2, SOLAR_PRESSURE_N_M2
from twin.flight.formation import (CloseApproachWarning, closest_member_approach, differential_forcing,
                                   j2_relative_rates, orbital_elements, propagate_roe, roe_from_states, rtn_frame,
                                   rtn_offsets_m)
from twin.flight.space_weather import SolarIndices
from twin.flight.spacecraft import Spacecraft
from twin.orbit.design import raan_from_ltan_rad, sun_synchronous_inclination_deg


def test_relative_inclination_drift_matches_sgp4():
    """The J2 drift of the relative inclination vector (first-order secular rates) against the one the fleet
    takes from SGP4's own secular rates (which add J2^2 and J4): within 1 % for phase 3's 81-satellite disks."""
    fleet = twin.design_fleet(twin.load_scenario("phase3"))
    elements = mean_elements_of_fleet(fleet)
    block = fleet.blocks[-1]
    rows = np.flatnonzero(fleet.group == "DC3")[: block.relative.count]
    _, diy_rate, _ = j2_relative_rates(elements.semi_major_axis_km[rows], elements.inclination_rad[rows],
                                       elements.da[rows], elements.dix[rows])
    moving = np.abs(block.relative.diy_rate) > 1e-12
    assert moving.sum() > 60
    assert np.allclose(diy_rate[moving], block.relative.diy_rate[moving], rtol=0.01)


def _states(start, altitude_km, roe, ltan_hours=18.0):
    """Chief on a circular sun-synchronous orbit at its node, and a member displaced by ``roe`` through the
    linear map, its velocity the map's central difference over +-1 s; positions and velocities (2, 3)."""
    radius_m = (EARTH_EQUATORIAL_RADIUS_KM + altitude_km) * 1e3
    inclination = np.radians(sun_synchronous_inclination_deg(altitude_km))
    raan = raan_from_ltan_rad(ltan_hours, start)
    speed = np.sqrt(EARTH_MU_M3_S2 / radius_m)
    n = speed / radius_m
    node = np.array([np.cos(raan), np.sin(raan), 0.0])
    ahead = np.array([-np.sin(raan) * np.cos(inclination), np.cos(raan) * np.cos(inclination), np.sin(inclination)])

    def chief(t):
        return (radius_m * (np.cos(n * t) * node + np.sin(n * t) * ahead),
                speed * (-np.sin(n * t) * node + np.cos(n * t) * ahead))

    def member(t):
        position, velocity = chief(t)
        return position + rtn_offsets_m(np.asarray(roe), radius_m / 1e3, n * t) @ rtn_frame(position, velocity)

    chief_position, chief_velocity = chief(0.0)
    return (np.stack([chief_position, member(0.0)]), np.stack([chief_velocity, 0.5 * (member(1.0) - member(-1.0))]),
            radius_m, inclination)


@pytest.mark.slow
def test_relative_motion_follows_a_numerical_propagation_of_both_satellites():
    """Chief and member 500 m apart in a projected circular orbit, the member 10 % lighter (more drag and
    radiation pressure per kg), both propagated by Cowell's method with J2, NRLMSIS drag, radiation
    pressure with eclipses, Sun and Moon for two days. The mean ROE of the first revolution, propagated
    by the model (J2 drift, differential drag, differential radiation pressure), give the RTN offsets of
    the second day to within 5 % of the separation plus 5 m (measured: 15 m on up to 683 m); without the
    differential drag the model would be off by more than that (so the check sees the force)."""
    start = Time("2035-06-01T00:00:00", scale="utc")
    a_m = (EARTH_EQUATORIAL_RADIUS_KM + 780.0) * 1e3
    rho_m = 500.0
    roe = np.array([0.0, 0.0, -0.25, 0.0, 0.5, -0.5]) * rho_m / a_m  # a projected circular orbit of 500 m
    position, velocity, radius_m, inclination = _states(start, 780.0, roe)
    period = 2 * np.pi * np.sqrt(radius_m**3 / EARTH_MU_M3_S2)
    # J2 gives the member a mean semi-major axis other than the chief's: measure it over one revolution
    # and take it out along track (dv = v da / 2), so that the pair stays together.
    probe = propagate_cowell(position, velocity, start, np.linspace(0.0, period, 200),
                             Spacecraft(["c", "m"], 5000.0, 0.0, 0.0, 1.0, 2.2, 1.3, 1500.0, 1.0, 0.0, True, True),
                             forces=("j2",))
    drift_da = roe_from_states(probe.position_m[0], probe.velocity_m_s[0], probe.position_m[1],
                               probe.velocity_m_s[1])[:-1, 0].mean()
    velocity[1] -= 0.5 * np.linalg.norm(velocity[0]) * drift_da * velocity[0] / np.linalg.norm(velocity[0])
    craft = Spacecraft(["chief", "member"], [5000.0, 4500.0], 400.0, 300.0, 8.5, 2.2, 1.3, 1500.0, 200.0, 0.2,
                       True, True)
    offsets = np.arange(0.0, 2 * 86400.0 + 1, 60.0)
    indices = SolarIndices(np.array(140.0), np.array(140.0), np.array(12.0))
    run = propagate_cowell(position, velocity, start, offsets, craft, indices=indices)
    chief_p, chief_v = run.position_m[0], run.velocity_m_s[0]
    relative = np.einsum("tij,tj->ti", rtn_frame(chief_p, chief_v), run.position_m[1] - chief_p)
    first = offsets < period
    mean_roe = roe_from_states(chief_p[first], chief_v[first], run.position_m[1][first], run.velocity_m_s[1][first]).mean(0)
    a_km, ex, ey, i, raan, u = orbital_elements(chief_p, chief_v)
    mean_a_km = a_km[first].mean()
    # Differential forcing: the orbit-mean density along the chief and the members' areas in attitude.
    times = np.datetime64("2035-06-01T00:00:00", "ns") + (offsets * 1e9).astype("timedelta64[ns]")
    fixed_height = np.linalg.norm(chief_p, axis=1) / 1e3 - EARTH_EQUATORIAL_RADIUS_KM
    latitude = np.degrees(np.arcsin(chief_p[:, 2] / np.linalg.norm(chief_p, axis=1)))
    rho = density_kg_m3(times[::10], latitude[::10], 0.0, fixed_height[::10], indices).mean()
    sun = twin.orbit.sunlight.sun_position_gcrs_m(start, offsets[:1])[0]
    frame0 = rtn_frame(chief_p[0], chief_v[0])
    normal = frame0[2]
    beta = np.arcsin(np.dot(normal, sun / np.linalg.norm(sun)))
    node = np.array([np.cos(raan[0]), np.sin(raan[0]), 0.0])
    ahead = np.cross(normal, node)
    sun_angle = np.arctan2(np.dot(sun, ahead), np.dot(sun, node))
    speed = np.sqrt(EARTH_MU_M3_S2 / (mean_a_km * 1e3))
    flown = 2 / np.pi * np.cos(beta) * 400.0 + 150.0 + 8.5
    ballistic = 2.2 * flown / craft.mass_kg * 1.019
    srp = SOLAR_PRESSURE_N_M2 * 1.3 * (400.0 + 8.5 + 150.0 * 2 / np.pi * np.cos(beta)) / craft.mass_kg
    differential = differential_forcing(rho, speed, ballistic[1] - ballistic[0], srp[1] - srp[0], beta, sun_angle)
    middle = 0.5 * period
    later = offsets >= 86400.0
    model = rtn_offsets_m(propagate_roe(mean_roe, offsets[later] - middle, mean_a_km, inclination, differential),
                          mean_a_km, u[later])
    error = np.linalg.norm(model - relative[later], axis=1)
    separation = np.linalg.norm(relative[later], axis=1)
    assert error.max() < 0.05 * separation.max() + 5.0, (error.max(), separation.max())
    without_drag = rtn_offsets_m(propagate_roe(mean_roe, offsets[later] - middle, mean_a_km, inclination),
                                 mean_a_km, u[later])
    assert np.linalg.norm(without_drag - relative[later], axis=1).max() > 0.05 * separation.max() + 5.0


def test_closest_member_approach_is_the_brute_force_minimum_and_warns():
    """Three members of one sub-center on straight lines: the closest pair and its distance, refined between
    steps (two members pass within 3 m between samples), and a warning below the threshold."""
    times = np.datetime64("2035-06-01T00:00:00", "ns") + np.arange(0, 601, 60) * np.timedelta64(1, "s")
    t = np.arange(0, 601, 60.0)
    positions = np.zeros((4, t.size, 3))
    positions[0, :, 0] = 7e6
    positions[1, :, 0] = 7e6 + 300.0 - 1.0 * t  # passes the first at t = 300 s, 3 m off in y
    positions[1, :, 1] = 3.0
    positions[2, :, 0] = 7e6 + 1000.0
    positions[3, :, 0] = 9e6  # another sub-center, alone
    with pytest.warns(CloseApproachWarning, match=r"sub-center A: S1 and S2 came within 3.0 m"):
        table = closest_member_approach(positions, times, ["S1", "S2", "S3", "T1"], ["A", "A", "A", "B"], threshold_m=50.0)
    assert list(table["subcenter"]) == ["A"]
    assert table.loc[0, "closest_approach_m"] == pytest.approx(3.0, abs=0.5)
    assert (table.loc[0, "first"], table.loc[0, "second"]) == ("S1", "S2")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        closest_member_approach(positions, times, ["S1", "S2", "S3", "T1"], ["A", "A", "A", "B"], threshold_m=1.0)
