"""The power system (``twin.subsystems.power``): solar array, battery and load shedding against closed forms.

Authorities:

- Total solar irradiance 1361 W/m^2 at 1 au (Kopp & Lean 2011, shared/REFERENCES.md) and the
  inverse-square law, with the astronomical unit of IAU 2012 Resolution B2 (149 597 870 700 m, exact).
- Space solar cells are rated at AM0 and 28 C (ISO 15387): ``P = S A eta`` at normal incidence,
  with efficiency varying linearly with cell temperature, ``eta (1 + gamma (T - 301.15 K))``, and a
  yearly loss that compounds, ``(1 - d)^years`` (REFERENCES: 1-3 % of output per year in LEO).
- A flat panel facing the orbit normal sees the Sun at ``90 deg - |beta|`` (beta the Sun's angle
  out of the orbit plane), so it collects ``|sin beta|`` of a Sun-tracking one.
- The cell temperature is the Stefan-Boltzmann balance of a thin plate radiating from both faces.
- The first law for the battery: every joule the array gives is used by the loads, lost in the
  battery, curtailed (shunted) or stored; the stored energy stays between the floor set by the
  maximum depth of discharge and the capacity; discharge and charge are limited by the C-rate.

Tolerances are in physical units (W, J, K); run with ``pytest tests/test_power.py -s`` for the numbers.
"""

import dataclasses
import math

import numpy as np
import pytest

import twin
from twin.subsystems.power import (
    ARRAY_ABSORPTANCE,
    ARRAY_EMISSIVITY,
    EARTH_INFRARED_W_M2,
    PowerModel,
    PowerStep,
    array_output_w,
    battery_step,
    compute_power_fraction,
    solar_flux_w_m2,
)

SOLAR_W_M2 = 1361.0  # total solar irradiance at 1 au (Kopp & Lean 2011)
AU_M = 149_597_870_700.0  # IAU 2012 Resolution B2, exact
SIGMA = 5.670374419e-8  # W m^-2 K^-4, exact in SI since 2019
CELL_REFERENCE_K = 301.15  # 28 C, the AM0 rating temperature of space cells (ISO 15387)
MILLIWATT = 1e-3  # W
MICROJOULE = 1e-6  # J


@pytest.fixture(scope="module")
def phase1():
    return twin.load_scenario("phase1")


@pytest.fixture(scope="module")
def model(phase1):
    """Two satellites of phase 1: a compute-s (20 m^2, 6 kWh at 1 C) and the experimental one (12 m^2, 3 kWh)."""
    return PowerModel.from_buses(phase1.buses, np.array(["compute-s", "experimental"]), phase1.compute)


def _array(model, flux=SOLAR_W_M2, illumination=1.0, beta_deg=0.0, age_years=0.0, fraction=1.0, view=0.0):
    """array_output_w on (sat,) inputs, every argument broadcast to the model's satellites."""
    sats = model.array_area_m2.shape
    full = lambda value: np.broadcast_to(np.asarray(value, dtype=float), sats).copy()
    return array_output_w(model, full(flux), full(illumination), full(beta_deg), full(age_years), full(fraction),
                          full(view))


def _cold(model, **changes):
    """The model with the cell temperature coefficient set to 0 (output independent of the cell temperature)."""
    return dataclasses.replace(model, temperature_coefficient_per_k=np.zeros_like(model.array_area_m2), **changes)


# Solar array ------------------------------------------------------------------------------------


def test_normal_incidence_at_one_au_gives_solar_constant_times_area_times_efficiency(model):
    """ISO 15387 rating: at AM0, 1 au, full sun and normal incidence, ``P = 1361 W/m^2 A eta``.

    With the temperature coefficient 0 and age 0: compute-s 1361 x 20 x 0.30 = 8166 W, experimental
    1361 x 12 x 0.30 = 4899.6 W, to 1 mW; the same on (sat, t) inputs, and linear in the lit
    fraction of the disk (penumbra) and in the working fraction of the array (faults).
    """
    cold = _cold(model)
    expected = SOLAR_W_M2 * model.array_area_m2 * model.cell_efficiency
    np.testing.assert_allclose(expected, [8166.0, 4899.6], atol=1e-9)
    output, _ = _array(cold)
    print(f"\nP at 1 au, normal incidence: {output} W")
    np.testing.assert_allclose(output, expected, rtol=0, atol=MILLIWATT)

    lit = np.array([[1.0, 0.5, 0.0], [0.25, 1.0, 0.0]])  # (sat, t)
    output_2d, _ = array_output_w(cold, np.full((1, 3), SOLAR_W_M2), lit, np.zeros((2, 3)), np.zeros((2, 3)),
                                  np.array([[1.0, 1.0, 1.0], [0.5, 0.5, 0.5]]), np.zeros((2, 3)))
    np.testing.assert_allclose(output_2d, expected[:, None] * lit * np.array([[1.0], [0.5]]), rtol=0, atol=MILLIWATT)


@pytest.mark.parametrize("distance_au", [0.5, 0.98329, 1.0, 1.01671, 2.0])
def test_solar_flux_is_the_inverse_square_of_the_1_au_value(distance_au):
    """``S(d) = 1361 W/m^2 (1 au / d)^2`` with the IAU 2012 au: 1361 W/m^2 at 1 au, 5444 at 0.5 au,
    1407.6 at perihelion (0.98329 au) and 1316.5 at aphelion (1.01671 au); to 1e-9 W/m^2."""
    flux = solar_flux_w_m2(np.array([distance_au * AU_M]))
    np.testing.assert_allclose(flux, SOLAR_W_M2 / distance_au**2, rtol=0, atol=1e-9)
    if distance_au == 1.0:
        assert flux[0] == pytest.approx(1361.0, abs=1e-12)


def test_cell_temperature_is_the_radiative_balance_of_a_two_faced_panel(model):
    """Stefan-Boltzmann balance of the panel: ``2 eps sigma T^4 = alpha S (1 - eta) + eps E F``.

    In full sun with the Earth's infrared on the rear face (view factor 0.23, that of a vertical
    plate at 750 km) and in the dark (Earth infrared only): the balance closes to 1e-6 W/m^2.
    alpha = 0.92, eps = 0.85 are the model's stated assumptions (cover glass and rear coating).
    """
    for flux, view in ((SOLAR_W_M2, 0.2329), (SOLAR_W_M2, 0.0), (0.0, 0.2329)):
        _, cell_k = _array(model, flux=flux, view=view)
        absorbed = (ARRAY_ABSORPTANCE * flux * (1 - model.cell_efficiency)
                    + ARRAY_EMISSIVITY * EARTH_INFRARED_W_M2 * view)
        emitted = 2 * ARRAY_EMISSIVITY * SIGMA * cell_k**4
        print(f"\nS {flux} W/m^2, F {view}: cell {np.round(cell_k, 3)} K")
        np.testing.assert_allclose(emitted, absorbed, rtol=0, atol=1e-6)


def test_efficiency_falls_with_the_temperature_coefficient_above_28_c(model):
    """``eta(T) = eta (1 + gamma (T - 301.15 K))``, gamma = -0.0022 /K (phase 1's cells).

    In full sun at 1 au the cells settle near 313 K (above the 28 C rating), so they give
    ``1 - 0.0022 x 12 K``, about 2.6 % less than the rated ``S A eta``; in weak light (S/4) they are
    colder than 28 C and give more than the rating. The ratio to the coefficient-0 output matches
    the formula at the returned cell temperature to 1e-12 (relative); a coefficient of -0.005 /K
    loses more than -0.0022 /K.
    """
    assert np.all(model.temperature_coefficient_per_k == pytest.approx(-0.0022))
    for flux in (SOLAR_W_M2, SOLAR_W_M2 / 4):
        output, cell_k = _array(model, flux=flux, view=0.2329)
        rated, _ = _array(_cold(model), flux=flux, view=0.2329)
        expected = 1.0 + model.temperature_coefficient_per_k * (cell_k - CELL_REFERENCE_K)
        print(f"\nS {flux:.1f} W/m^2: cell {np.round(cell_k, 2)} K, output / rated {np.round(output / rated, 5)}")
        np.testing.assert_allclose(output / rated, expected, rtol=1e-12)
        if flux == SOLAR_W_M2:
            assert np.all(cell_k > CELL_REFERENCE_K) and np.all(output < rated)
            np.testing.assert_allclose(cell_k, 313.0, atol=3.0)
        else:
            assert np.all(cell_k < CELL_REFERENCE_K) and np.all(output > rated)
    steeper, _ = _array(dataclasses.replace(model, temperature_coefficient_per_k=np.full(2, -0.005)), view=0.2329)
    assert np.all(steeper < _array(model, view=0.2329)[0])


@pytest.mark.parametrize("age_years", [-0.5, 0.0, 1.0, 5.0, 10.0, 15.0])
def test_degradation_compounds_per_year(model, age_years):
    """Output after ``n`` years is ``(1 - d)^n`` of the new array (d = 2 %/yr): 0.98 after a year,
    0.9039 after 5, 0.8171 after 10 (not the linear 0.80), 0.7386 after 15; an array not yet
    launched (negative age) is new. To 1e-12 of the new output."""
    new, _ = _array(_cold(model), age_years=0.0)
    aged, _ = _array(_cold(model), age_years=age_years)
    expected = (1.0 - model.degradation_per_year) ** max(age_years, 0.0)
    np.testing.assert_allclose(aged / new, expected, rtol=1e-12)
    if age_years == 10.0:
        assert aged[0] / new[0] == pytest.approx(0.98**10) and abs(aged[0] / new[0] - 0.80) > 0.015


@pytest.mark.parametrize("beta_deg", [0.0, 15.0, -30.0, 60.0, 75.0, -90.0, 90.0])
def test_orbit_normal_arrays_collect_abs_sin_beta(model, beta_deg):
    """A panel facing the orbit normal sees the Sun at ``90 deg - |beta|``: ``P = S A eta |sin beta|``
    (0 at beta = 0, half at +-30 deg, full at +-90 deg), to 1 mW; a Sun-tracking array is unaffected."""
    fixed = _cold(model, sun_tracking=np.zeros(2, dtype=bool))
    output, _ = _array(fixed, beta_deg=beta_deg)
    expected = SOLAR_W_M2 * model.array_area_m2 * model.cell_efficiency * abs(math.sin(math.radians(beta_deg)))
    np.testing.assert_allclose(output, expected, rtol=0, atol=MILLIWATT)
    tracking, _ = _array(_cold(model), beta_deg=beta_deg)
    rated = SOLAR_W_M2 * model.array_area_m2 * model.cell_efficiency
    np.testing.assert_allclose(tracking, rated, rtol=0, atol=MILLIWATT)


# Battery ----------------------------------------------------------------------------------------


def _one(model, index=0):
    """The model of one satellite (compute-s by default), arrays of shape (1,)."""
    return _rows(model, slice(index, index + 1))


def _loads(compute=3000.0, comms=500.0, heaters=300.0, bus=600.0):
    """The shedding order of the engine: compute first, then comms, heaters and the bus."""
    return [np.array([compute]), np.array([comms]), np.array([heaters]), np.array([bus])]


def test_charging_is_limited_by_the_c_rate_and_the_rest_is_curtailed(model):
    """compute-s: 6 kWh at 1 C charges at most 6 kW. With 12 kW from the array and 4.4 kW of loads
    the battery takes 6 kW (storing ``6 kW eta_charge dt``, eta_charge = sqrt(0.92)) and 1.6 kW are
    curtailed; all loads are served. To 1 mW and 1 uJ."""
    one = _one(model)
    assert one.battery_max_power_w[0] == pytest.approx(6000.0)
    eta = math.sqrt(0.92)
    energy = 0.7 * one.battery_capacity_j
    step = battery_step(one, energy, np.array([12000.0]), _loads(), 60.0)
    np.testing.assert_allclose(step.load_w, 4400.0, atol=MILLIWATT)
    np.testing.assert_allclose(step.shed_w, 0.0, atol=MILLIWATT)
    np.testing.assert_allclose(step.curtailed_w, 1600.0, atol=MILLIWATT)
    np.testing.assert_allclose(step.loss_w, 6000.0 * (1 - eta), atol=MILLIWATT)
    np.testing.assert_allclose(step.energy_j - energy, 6000.0 * eta * 60.0, atol=MICROJOULE)


def test_a_full_battery_curtails_the_surplus(model):
    """A full battery takes nothing: all of the surplus (12 - 4.4 = 7.6 kW) is curtailed, E unchanged.
    A battery 100 kJ short of full takes exactly what fills it (``100 kJ / (eta_charge dt)``) and
    ends full to 1 uJ; the rest is curtailed."""
    one = _one(model)
    capacity = one.battery_capacity_j
    step = battery_step(one, capacity.copy(), np.array([12000.0]), _loads(), 60.0)
    np.testing.assert_allclose(step.curtailed_w, 7600.0, atol=MILLIWATT)
    np.testing.assert_allclose(step.loss_w, 0.0, atol=MILLIWATT)
    np.testing.assert_allclose(step.energy_j, capacity, rtol=0, atol=MICROJOULE)

    eta = math.sqrt(0.92)
    step = battery_step(one, capacity - 1e5, np.array([12000.0]), _loads(), 60.0)
    charge = 1e5 / (eta * 60.0)
    np.testing.assert_allclose(step.energy_j, capacity, rtol=0, atol=MICROJOULE)
    np.testing.assert_allclose(step.curtailed_w, 7600.0 - charge, atol=MILLIWATT)


def test_discharge_stops_at_the_floor_and_loads_are_shed_compute_first(model):
    """The floor is ``(1 - max DoD) C`` = 0.6 x 6 kWh. 20 kJ above it, in the dark, with 4.4 kW of
    loads over 60 s: the battery gives ``20 kJ eta_discharge / 60 s`` = 319.8 W and ends at the
    floor (to 1 uJ); the 4080.2 W it cannot give are shed, all 3 kW of compute first."""
    one = _one(model)
    floor = one.battery_floor_j
    np.testing.assert_allclose(floor, 0.6 * 6000.0 * 3600.0)
    eta = math.sqrt(0.92)
    step = battery_step(one, floor + 2e4, np.array([0.0]), _loads(), 60.0)
    given = 2e4 * eta / 60.0
    np.testing.assert_allclose(step.energy_j, floor, rtol=0, atol=MICROJOULE)
    np.testing.assert_allclose(step.load_w, given, atol=MILLIWATT)
    np.testing.assert_allclose(step.shed_w, 4400.0 - given, atol=MILLIWATT)
    np.testing.assert_allclose(step.compute_shed_w, 3000.0, atol=MILLIWATT)
    np.testing.assert_allclose(step.loss_w, given * (1 / eta - 1), atol=MILLIWATT)


@pytest.mark.parametrize("generated_w, compute_shed, bus_shed", [
    (4400.0, 0.0, 0.0),  # the array carries every load
    (3400.0, 1000.0, 0.0),  # a shortfall smaller than compute: only compute is shed
    (1400.0, 3000.0, 0.0),  # compute off, comms and heaters still on
    (200.0, 3000.0, 400.0),  # everything else off before the bus loses anything
    (0.0, 3000.0, 600.0),
])
def test_loads_are_shed_in_the_given_order_bus_last(model, generated_w, compute_shed, bus_shed):
    """At the floor, with ``generated_w`` from the array and 4.4 kW asked (compute 3000, comms 500,
    heaters 300, bus 600 W, in that shedding order), the shortfall ``4400 - generated`` is shed from
    the front of the list: compute first, the bus last. The shed of the bus is read by grouping the
    first three loads into one (``[compute + comms + heaters, bus]``). To 1 mW."""
    one = _one(model)
    floor = one.battery_floor_j.copy()
    step = battery_step(one, floor, np.array([generated_w]), _loads(), 60.0)
    np.testing.assert_allclose(step.shed_w, 4400.0 - generated_w, atol=MILLIWATT)
    np.testing.assert_allclose(step.load_w, generated_w, atol=MILLIWATT)
    np.testing.assert_allclose(step.compute_shed_w, compute_shed, atol=MILLIWATT)
    grouped = battery_step(one, floor, np.array([generated_w]), [np.array([3800.0]), np.array([600.0])], 60.0)
    np.testing.assert_allclose(grouped.shed_w - grouped.compute_shed_w, bus_shed, atol=MILLIWATT)
    np.testing.assert_allclose(step.energy_j, floor, rtol=0, atol=MICROJOULE)


def _random_model(rng, sats):
    """Random but plausible batteries: 0.5-50 kWh, DoD 10-90 %, round trip 80-99 %, 0.2-5 C."""
    capacity_wh = rng.uniform(500.0, 50_000.0, sats)
    one_way = np.sqrt(rng.uniform(0.80, 0.99, sats))
    zeros = np.zeros(sats)
    return PowerModel(
        array_area_m2=zeros + 1.0, cell_efficiency=zeros + 0.3, degradation_per_year=zeros,
        temperature_coefficient_per_k=zeros, sun_tracking=np.ones(sats, dtype=bool),
        battery_capacity_j=capacity_wh * 3600.0,
        battery_floor_j=capacity_wh * 3600.0 * (1.0 - rng.uniform(0.1, 0.9, sats)),
        charge_efficiency=one_way, discharge_efficiency=one_way,
        battery_max_power_w=rng.uniform(0.2, 5.0, sats) * capacity_wh,
        bus_power_w=zeros, comms_power_w=zeros, compute_power_w=zeros, heater_power_w=zeros,
        idle_fraction=0.25, reserve_soc=0.75,
    )


def _rows(model, rows):
    """The model of the satellites at ``rows``."""
    return dataclasses.replace(model, **{f.name: getattr(model, f.name)[rows] for f in dataclasses.fields(model)
                                         if isinstance(getattr(model, f.name), np.ndarray)})


def _random_inputs(rng, model):
    """Array output 0-20 kW (a fifth of it 0: eclipse) and four loads of 0-5 kW each."""
    sats = model.battery_capacity_j.size
    generated = rng.uniform(0.0, 20_000.0, sats) * (rng.random(sats) > 0.2)
    loads = [rng.uniform(0.0, 5_000.0, sats) for _ in range(4)]
    return generated, loads


def test_every_joule_is_accounted_for_in_one_step():
    """First law, per step: ``generated dt = used dt + loss dt + curtailed dt + (E' - E)``, exactly up to
    rounding (1e-9 of the largest energy in play), for 20,000 random batteries, inputs and steps of
    1 s to 1 h, starting anywhere between the floor and the capacity (both ends included). Every
    term is non-negative and the served load never exceeds the demand."""
    rng = np.random.default_rng(2026)
    sats = 20_000
    model = _random_model(rng, sats)
    generated, loads = _random_inputs(rng, model)
    energy = model.battery_floor_j + rng.uniform(0.0, 1.0, sats) * (model.battery_capacity_j - model.battery_floor_j)
    energy[:100], energy[100:200] = model.battery_floor_j[:100], model.battery_capacity_j[100:200]
    dt = np.repeat(np.exp(np.linspace(0.0, math.log(3600.0), 20)), sats // 20)  # 20 steps from 1 s to 1 h
    parts = [battery_step(_rows(model, rows), energy[rows], generated[rows], [load[rows] for load in loads],
                          float(dt[rows][0])) for rows in np.split(np.arange(sats), 20)]
    step = PowerStep(**{name: np.concatenate([getattr(part, name) for part in parts])
                        for name in ("energy_j", "load_w", "shed_w", "compute_shed_w", "loss_w", "curtailed_w")})
    demand = sum(loads)
    residual = generated * dt - (step.load_w * dt + step.loss_w * dt + step.curtailed_w * dt + step.energy_j - energy)
    scale = np.maximum.reduce([generated * dt, demand * dt, energy])
    print(f"\nlargest residual {np.abs(residual).max():.2e} J, relative {np.abs(residual / scale).max():.1e}")
    assert np.all(np.abs(residual) <= 1e-9 * scale)
    for name in ("load_w", "shed_w", "compute_shed_w", "loss_w", "curtailed_w"):
        assert np.all(getattr(step, name) >= 0.0), name
    np.testing.assert_allclose(step.load_w + step.shed_w, demand, rtol=1e-12)
    assert np.all(step.compute_shed_w <= loads[0])
    # charge and discharge within the C-rate
    stored_w = (step.energy_j - energy) / dt
    assert np.all(stored_w <= model.battery_max_power_w * model.charge_efficiency * (1 + 1e-12))
    assert np.all(-stored_w * model.discharge_efficiency <= model.battery_max_power_w * (1 + 1e-12))


def test_any_step_from_1_s_to_1_h_keeps_the_energy_between_floor_and_capacity():
    """Stability: 1,000 random batteries stepped 500 times with a random step of 1 s to 3600 s each
    time and random inputs stay within [floor, capacity] to 1 uJ, starting inside; they reach both
    ends (so the limits are exercised, not avoided)."""
    rng = np.random.default_rng(7)
    sats = 1_000
    model = _random_model(rng, sats)
    energy = model.battery_floor_j + rng.uniform(0.0, 1.0, sats) * (model.battery_capacity_j - model.battery_floor_j)
    at_floor = at_full = np.zeros(sats, dtype=bool)
    for _ in range(500):
        dt = float(np.exp(rng.uniform(0.0, math.log(3600.0))))
        generated, loads = _random_inputs(rng, model)
        energy = battery_step(model, energy, generated, loads, dt).energy_j
        assert np.all(energy >= model.battery_floor_j - MICROJOULE)
        assert np.all(energy <= model.battery_capacity_j + MICROJOULE)
        at_floor = at_floor | (energy <= model.battery_floor_j + MICROJOULE)
        at_full = at_full | (energy >= model.battery_capacity_j - MICROJOULE)
    print(f"\n{at_floor.mean():.0%} of the batteries touched the floor, {at_full.mean():.0%} the capacity")
    assert at_floor.mean() > 0.5 and at_full.mean() > 0.5


# What compute may use ---------------------------------------------------------------------------


def test_compute_runs_at_full_power_in_sunlight_with_margin(model):
    """compute-s: 3 kW of compute, 1.1 kW of bus and comms. In full sun the array gives about 7.8 kW,
    so compute runs at full power whatever the battery holds (even at its floor); with exactly
    ``base + idle + half the span`` = 1100 + 750 + 1125 W from the array and the battery at its
    reserve, it runs at half (fraction to 1e-12)."""
    one = _one(model)
    base = np.array([1100.0])
    for energy in (one.battery_floor_j, one.reserve_soc * one.battery_capacity_j, one.battery_capacity_j):
        fraction = compute_power_fraction(one, np.array([7800.0]), energy, base, 60.0)
        np.testing.assert_allclose(fraction, 1.0, atol=1e-12)
    half = compute_power_fraction(one, np.array([1100.0 + 750.0 + 1125.0]), one.reserve_soc * one.battery_capacity_j,
                                  base, 60.0)
    np.testing.assert_allclose(half, 0.5, atol=1e-12)


def test_in_eclipse_compute_draws_on_the_battery_only_above_the_reserve(model):
    """In the dark, compute may use ``min(C-rate power, (E - reserve) eta_discharge / dt)``, the reserve
    being ``battery_reserve_soc`` = 75 % of capacity (phase 1). At or below the reserve: fraction 0
    (compute idles); ``(1100 + 750 + 1125 W) dt / eta`` above it: 0.5; a full battery at 1 C
    (6 kW): 1; a full battery at 0.5 C (3 kW): ``(3000 - 1100 - 750) / 2250`` = 0.511. Fractions to
    1e-12; the fraction never falls as the battery fills."""
    one = _one(model)
    base, dark, dt = np.array([1100.0]), np.array([0.0]), 60.0
    capacity = one.battery_capacity_j
    reserve = one.reserve_soc * capacity
    eta = one.discharge_efficiency
    for energy in (one.battery_floor_j, reserve - 1.0, reserve):
        np.testing.assert_allclose(compute_power_fraction(one, dark, energy, base, dt), 0.0, atol=1e-12)
    half = compute_power_fraction(one, dark, reserve + 2975.0 * dt / eta, base, dt)
    np.testing.assert_allclose(half, 0.5, atol=1e-12)
    np.testing.assert_allclose(compute_power_fraction(one, dark, capacity, base, dt), 1.0, atol=1e-12)
    slow = dataclasses.replace(one, battery_max_power_w=np.array([3000.0]))
    np.testing.assert_allclose(compute_power_fraction(slow, dark, capacity, base, dt), 1150.0 / 2250.0, atol=1e-12)
    energies = np.linspace(one.battery_floor_j[0], capacity[0], 401)
    fractions = [compute_power_fraction(one, dark, np.array([e]), base, dt)[0] for e in energies]
    assert np.all(np.diff(fractions) >= 0.0)
    assert np.all(np.array(fractions)[energies <= reserve[0]] == 0.0)
