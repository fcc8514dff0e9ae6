"""Decay, lifetime and Δv budgets (twin.flight.decay, twin.flight.budget): the averaged decay against a
numerical integration, the disposal search against its own rule, and manoeuvres the propulsion cannot give."""

from dataclasses import replace

import numpy as np
import pytest
from astropy.time import Time

import twin
from twin.constants import EARTH_EQUATORIAL_RADIUS_KM, JULIAN_YEAR_S
from twin.flight.atmosphere import orbit_mean_density_table
from twin.flight.budget import flight_budget
from twin.flight.cowell import propagate_cowell
from twin.flight.decay import propagate_decay, wind_factor
from twin.flight.forces import EARTH_MU_M3_S2
from twin.flight.formation import orbital_elements
from twin.flight.space_weather import SolarIndices
from twin.flight.spacecraft import ManoeuvreError, Spacecraft, spacecraft_of_buses
from twin.orbit.design import raan_from_ltan_rad, sun_synchronous_inclination_deg

QUIET = SolarIndices(np.array(150.0), np.array(150.0), np.array(15.0))


def constant_indices(times):
    shape = np.shape(times)
    return SolarIndices(np.full(shape, 150.0), np.full(shape, 150.0), np.full(shape, 15.0))


@pytest.mark.slow
def test_averaged_decay_matches_a_numerical_integration():
    """A 500 kg body of 10 m2 at 350 km for a day: the orbit-averaged decay (density table, Gauss averaged over
    the eccentric anomaly) loses the same mean semi-major axis as Cowell's method with J2 and NRLMSIS drag
    at every point, within 6 % (the table averages density over latitude and local time at one altitude)."""
    start = Time("2035-06-01T00:00:00", scale="utc")
    altitude_km = 350.0
    radius_m = (EARTH_EQUATORIAL_RADIUS_KM + altitude_km) * 1e3
    inclination = np.radians(sun_synchronous_inclination_deg(altitude_km))
    raan = raan_from_ltan_rad(18.0, start)
    speed = np.sqrt(EARTH_MU_M3_S2 / radius_m)
    node = np.array([np.cos(raan), np.sin(raan), 0.0])
    ahead = np.array([-np.sin(raan) * np.cos(inclination), np.cos(raan) * np.cos(inclination), np.sin(inclination)])
    craft = Spacecraft(["ball"], 500.0, 0.0, 0.0, 10.0, 2.2, 1.3, 1500.0, 0.05, 10.0, False, False)
    period = 2 * np.pi * radius_m / speed
    offsets = np.linspace(0.0, 86400.0 + period, 1300)
    run = propagate_cowell((radius_m * node)[None], (speed * ahead)[None], start, offsets, craft,
                           forces=("j2", "drag"), indices=QUIET)
    a_km = orbital_elements(run.position_m[0], run.velocity_m_s[0])[0]
    first, last = offsets <= period, offsets >= 86400.0
    numerical_km = a_km[first].mean() - a_km[last].mean()
    table = orbit_mean_density_table(18.0, np.degrees(inclination), np.datetime64("2035-06-01"), 1.0,
                                     constant_indices, time_step_days=10)
    ballistic = 2.2 * 10.0 / 500.0 * wind_factor(radius_m / 1e3, inclination)
    mean_km = a_km[first].mean()  # J2 makes the mean semi-major axis a few km smaller than the osculating one
    averaged = propagate_decay(mean_km, 0.0, ballistic, table, 0.5 * period, 86400.0, max_step_days=0.05)
    averaged_km = mean_km - averaged.semi_major_axis_km[0]
    assert numerical_km > 0.5  # the check means something: half a kilometre a day or more
    assert averaged_km == pytest.approx(numerical_km, rel=0.06)


@pytest.fixture(scope="module")
def phase1():
    scenario = twin.load_scenario("phase1")
    fleet = twin.design_fleet(scenario)
    return fleet, spacecraft_of_buses(fleet.names, fleet.bus, scenario.buses)


@pytest.fixture(scope="module")
def budget(phase1):
    fleet, craft = phase1
    return flight_budget(fleet, craft, years=2.0, horizon_years=10.0)


def test_the_disposal_perigee_re_enters_within_five_years(budget, phase1):
    """The perigee the search chose for the 5-year rule re-enters in 5 years to within 3 %, decayed again."""
    fleet, craft = phase1
    row = budget.satellites.iloc[0]
    table = orbit_mean_density_table(18.0, 98.4, budget.start, 30.0, time_step_days=365.25 / 8)
    radius = EARTH_EQUATORIAL_RADIUS_KM + row["altitude_km"]
    perigee = EARTH_EQUATORIAL_RADIUS_KM + row["disposal_perigee_5y_km"]
    ballistic = 2.2 * (2 / np.pi * 0.3 * craft.array_area_m2[0] + 0.5 * craft.radiator_area_m2[0]
                       + craft.body_area_m2[0]) / craft.mass_kg[0]
    decayed = propagate_decay(0.5 * (radius + perigee), (radius - perigee) / (radius + perigee),
                              ballistic * wind_factor(radius, np.radians(98.4)), table, 2.0 * JULIAN_YEAR_S,
                              30 * JULIAN_YEAR_S)
    assert (decayed.reentry_s[0] / JULIAN_YEAR_S - 2.0) == pytest.approx(5.0, rel=0.2)


def test_budget_figures_hang_together(budget):
    frame = budget.satellites
    assert (frame["decay_km_per_year"] > 0).all()
    assert (frame["disposal_delta_v_5y_m_s"] > frame["disposal_delta_v_25y_m_s"]).all()
    assert (frame["disposal_perigee_5y_km"] < frame["disposal_perigee_25y_km"]).all()
    assert (frame.loc[frame["role"] == "chief", "formation_delta_v_m_s_per_year"] == 0).all()
    assert (frame.loc[frame["role"] == "member", "formation_delta_v_m_s_per_year"] > 0).all()
    total = frame["drag_delta_v_m_s_per_year"] + frame["ltan_delta_v_m_s_per_year"] + frame["formation_delta_v_m_s_per_year"]
    assert np.allclose(frame["delta_v_m_s_per_year"], total)
    table = budget.table()
    assert list(table.index) == ["EXP", "CC1", "fleet"]
    assert table.loc["fleet", "satellites"] == 25


def test_a_disposal_the_propellant_cannot_give_names_the_satellite(phase1):
    fleet, craft = phase1
    starved = replace(craft, propellant_kg=np.where(craft.names == "CC1-002-03", 0.05, craft.propellant_kg))
    with pytest.raises(ManoeuvreError, match=r"satellite CC1-002-03: its disposal burn of [0-9.]+ m/s .* more than "
                                             r"its propellant gives \(0\.[0-9] m/s\)"):
        flight_budget(fleet, starved, years=1.0, horizon_years=5.0)


def test_a_thrust_below_the_drag_names_the_satellite(phase1):
    fleet, craft = phase1
    weak = replace(craft, thrust_n=np.where(craft.names == "EXP-001-01", 1e-9, craft.thrust_n))
    with pytest.raises(ManoeuvreError, match=r"satellite EXP-001-01: its thrust of 1e-09 N cannot match a drag"):
        flight_budget(fleet, weak, years=1.0, horizon_years=5.0)


def test_bad_spacecraft_properties_name_the_satellite():
    with pytest.raises(ValueError, match=r"mass_kg: -1.0 for satellite B must be positive"):
        Spacecraft(["A", "B"], [10.0, -1.0], 1.0, 1.0, 1.0, 2.2, 1.3, 1500.0, 0.1, 0.0, True, True)
    with pytest.raises(ValueError, match=r"propellant_kg: 20.0 for satellite A is not less than its mass"):
        Spacecraft(["A"], 10.0, 1.0, 1.0, 1.0, 2.2, 1.3, 1500.0, 0.1, 20.0, True, True)


def phase1_raw() -> dict:
    import tomllib

    return tomllib.loads((twin.scenario.SCENARIO_DIR / "phase1.toml").read_text())


def test_the_buses_flight_keys_reach_the_spacecraft():
    """Cd, Cr, Isp, thrust and propellant come from each satellite's bus; left out, thrust and propellant follow
    the mass (40 mN per tonne, 5 %)."""
    raw = phase1_raw()
    raw["buses"]["compute-s"].update(drag_coefficient=2.7, reflectivity_coefficient=1.8, specific_impulse_s=2100.0,
                                     thrust_n=0.05, propellant_kg=64.0)
    del raw["buses"]["experimental"]["thrust_n"], raw["buses"]["experimental"]["propellant_kg"]
    scenario = twin.scenario_from_dict(raw)
    fleet = twin.design_fleet(scenario)
    craft = spacecraft_of_buses(fleet.names, fleet.bus, scenario.buses)
    compute, experimental = fleet.bus == "compute-s", fleet.bus == "experimental"
    for field, value in (("drag_coefficient", 2.7), ("reflectivity_coefficient", 1.8), ("specific_impulse_s", 2100.0),
                         ("thrust_n", 0.05), ("propellant_kg", 64.0)):
        assert np.all(getattr(craft, field)[compute] == value), field
    assert craft.thrust_n[experimental] == pytest.approx(0.02)  # 500 kg
    assert craft.propellant_kg[experimental] == pytest.approx(25.0)
    assert craft.drag_coefficient[experimental] == pytest.approx(2.2)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("propellant_kg", 900.0, r"buses.compute-s.propellant_kg: 900.0 must be below mass_kg \(800.0\)"),
    ("drag_coefficient", 0.5, r"buses.compute-s.drag_coefficient: 0.5 is out of range; it must be at least 1.0"),
    ("thrust_n", 0.0, r"buses.compute-s.thrust_n: 0.0 is out of range; it must be above 0.0"),
])
def test_a_bad_flight_key_is_refused_naming_the_bus(key, value, message):
    raw = phase1_raw()
    raw["buses"]["compute-s"][key] = value
    with pytest.raises(twin.scenario.ScenarioError, match=f"^{message}$"):
        twin.scenario_from_dict(raw)
