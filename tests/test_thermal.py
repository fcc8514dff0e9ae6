"""The two-node thermal model (``twin.subsystems.thermal``) against closed forms and independent integrations.

Authorities: the Stefan-Boltzmann law (radiative balance of a grey plate facing 0 K space); the
view factor from a differential plane element to a sphere (Howell, *A Catalog of Radiation Heat
Transfer Configuration Factors*; the nadir case ``(R/r)^2`` is textbook), checked here by two
numerical integrations written in this file; backward Euler's discrete energy balance.
Constants from shared/REFERENCES.md: solar constant 1361 W/m^2, Bond albedo 0.30, OLR 240 W/m^2,
sigma = 5.670374419e-8 W m^-2 K^-4, WGS-84 equatorial radius 6378.137 km.

Run with ``pytest tests/test_thermal.py -s`` to see the numbers.
"""

import dataclasses
import math

import numpy as np
import pytest

import twin
from twin.subsystems.thermal import (
    ThermalModel,
    earth_view_factor,
    environment_heat_w,
    equilibrium_temperatures,
    nadir_view_factor,
    step_temperatures,
)

SIGMA = 5.670374419e-8  # W m^-2 K^-4, exact in SI since 2019
SOLAR = 1361.0  # W/m^2 at 1 au (Kopp & Lean 2011)
ALBEDO = 0.30  # Earth Bond albedo
OLR = 240.0  # W/m^2, Earth outgoing infrared
EARTH_R_M = 6378.137e3  # WGS-84 equatorial radius
AU_M = 149_597_870_700.0  # IAU 2012 B2
ALTITUDE_M = 750e3
SPEED_M_S = 7478.0  # circular speed at 750 km, about


@pytest.fixture(scope="module")
def buses():
    return twin.load_scenario("phase1").buses


def _model(buses, names, zenith=None):
    model = ThermalModel.from_buses(buses, np.array(names))
    if zenith is None:
        return model
    return dataclasses.replace(model, radiator_zenith=np.asarray(zenith, dtype=bool))


def _vertical_plate_factor(altitude_m):
    """Howell's plane element tilted 90 deg to a sphere: F = (atan(1/X) - X/H^2) / pi, H = r/R, X = sqrt(H^2-1)."""
    h = (EARTH_R_M + altitude_m) / EARTH_R_M
    x = math.sqrt(h * h - 1.0)
    return (math.atan(1.0 / x) - x / h**2) / math.pi


def _geometry(sats, sun_elevation_deg):
    """Satellites on +x at 750 km moving along +y; the Sun at 1 au in the y-z plane.

    ``sun_elevation_deg`` is the Sun's angle out of the orbit-normal (+z) direction towards the
    velocity: 0 is the dawn-dusk geometry (Sun along the orbit normal, cos zeta = 0).
    """
    position = np.tile([EARTH_R_M + ALTITUDE_M, 0.0, 0.0], (sats, 1))
    velocity = np.tile([0.0, SPEED_M_S, 0.0], (sats, 1))
    angle = math.radians(sun_elevation_deg)
    sun = AU_M * np.array([0.0, math.sin(angle), math.cos(angle)])
    return position, velocity, sun


# 1. Settling to the radiative balance ---------------------------------------------------------


@pytest.mark.parametrize("dt_s", [60.0, 600.0])
def test_constant_sunlight_and_load_settle_at_the_radiative_balance(buses, dt_s):
    """Closed form (Stefan-Boltzmann balance of the radiator, conduction to the payload):

    Q_env = alpha S (A/2) sin(20 deg) + eps OLR F A      (Sun 20 deg off the orbit normal, cos zeta = 0)
    eps sigma A T_b^4 = Q_p + Q_b + Q_env,   T_p = T_b + Q_p / G

    stepped from 250 K and from 380 K for three days (over 30 bus time constants of about 2.3 h
    for compute-s; the payload's C_p/G is 5 min): within 0.5 K, and never past the balance.
    """
    names = ["compute-s", "experimental", "compute-s", "experimental"]
    model = _model(buses, names)
    position, velocity, sun = _geometry(len(names), 20.0)
    illumination = np.ones(len(names))
    environment = environment_heat_w(model, position, velocity, sun, illumination)
    bus = [buses[name] for name in names]
    payload_w = np.array([b.compute_power_w for b in bus])
    bus_w = np.array([b.bus_power_w + b.comms_power_w for b in bus])

    f_vertical = _vertical_plate_factor(ALTITUDE_M)
    expected_env, expected_bus, expected_payload = [], [], []
    for b, qp, qb in zip(bus, payload_w, bus_w):
        q_env = (b.radiator_absorptance * SOLAR * b.radiator_area_m2 / 2 * math.sin(math.radians(20.0))
                 + b.radiator_emissivity * OLR * f_vertical * b.radiator_area_m2)
        t_bus = ((qp + qb + q_env) / (b.radiator_emissivity * SIGMA * b.radiator_area_m2)) ** 0.25
        expected_env.append(q_env)
        expected_bus.append(t_bus)
        expected_payload.append(t_bus + qp / b.payload_conductance_w_per_k)
    np.testing.assert_allclose(environment, expected_env, rtol=1e-6)

    payload_k = np.array([250.0, 250.0, 380.0, 380.0])
    bus_k = payload_k.copy()
    start_above = payload_k > np.array(expected_payload)
    # No overshoot: a cold start stays below the model's own balance, a hot start above it (both
    # nodes; 1e-8 K allows for the Newton tolerance of 1e-9 K).
    own_payload, own_bus = equilibrium_temperatures(model, payload_w, bus_w, environment)
    for _ in range(int(3 * 86400 / dt_s)):
        payload_k, bus_k = step_temperatures(model, payload_k, bus_k, payload_w, bus_w, environment, dt_s)
        for value, balance in ((payload_k, own_payload), (bus_k, own_bus)):
            assert np.all(np.where(start_above, value >= balance - 1e-8, value <= balance + 1e-8))
    print(f"\ndt {dt_s:.0f} s: env {np.round(environment, 3)} W; closed form T_bus {np.round(expected_bus, 4)} K, "
          f"T_payload {np.round(expected_payload, 4)} K; stepped minus closed form: bus "
          f"{np.abs(bus_k - expected_bus).max():.1e} K, payload {np.abs(payload_k - expected_payload).max():.1e} K")
    np.testing.assert_allclose(bus_k, expected_bus, atol=0.5)
    np.testing.assert_allclose(payload_k, expected_payload, atol=0.5)


# 2. Stability and convergence ----------------------------------------------------------------

PERIOD_S, ECLIPSE_S = 6000.0, 2100.0  # an eclipse of 35 min every 100 min


def _sunlit_fraction(start_s, dt_s):
    """Exact mean of the square wave (eclipse during the first 35 min of each 100 min) over [start, start + dt]."""

    def sunlit_time(t):
        cycles, phase = np.divmod(t, PERIOD_S)
        return cycles * (PERIOD_S - ECLIPSE_S) + np.maximum(phase - ECLIPSE_S, 0.0)

    return (sunlit_time(start_s + dt_s) - sunlit_time(start_s)) / dt_s


def _run_square_wave(model, dt_s, env_sun, env_dark, payload_sun, payload_dark, bus_w, start, duration_s):
    """Step with inputs averaged over each step (exact for the square wave); states every 600 s."""
    payload_k, bus_k = start
    every = int(round(600.0 / dt_s))
    out = []
    for k in range(int(round(duration_s / dt_s))):
        sunlit = _sunlit_fraction(k * dt_s, dt_s)
        env = env_dark + sunlit * (env_sun - env_dark)
        payload_w = payload_dark + sunlit * (payload_sun - payload_dark)
        payload_k, bus_k = step_temperatures(model, payload_k, bus_k, payload_w, bus_w, env, dt_s)
        if (k + 1) % every == 0:
            out.append(np.stack([payload_k, bus_k]))
    return np.array(out)


def test_eclipse_square_wave_is_stable_bounded_and_converges_with_dt(buses):
    """Backward Euler is first order: the 10 s vs 60 s gap must be well below the 60 s vs 600 s gap.

    Input: compute-s and experimental, Sun 20 deg off the orbit normal; in eclipse the
    illumination is 0 and the payload throttles to a third. Bounds: the model is cooperative
    (monotone), so from the sunlit balance the state stays between the eclipse and sunlit balances.
    """
    names = ["compute-s", "experimental"]
    model = _model(buses, names)
    position, velocity, sun = _geometry(2, 20.0)
    env_sun = environment_heat_w(model, position, velocity, sun, np.ones(2))
    env_dark = environment_heat_w(model, position, velocity, sun, np.zeros(2))
    payload_sun = np.array([buses[n].compute_power_w for n in names])
    payload_dark = payload_sun / 3.0
    bus_w = np.array([buses[n].bus_power_w + buses[n].comms_power_w for n in names])
    hot = equilibrium_temperatures(model, payload_sun, bus_w, env_sun)
    cold = equilibrium_temperatures(model, payload_dark, bus_w, env_dark)
    runs = {dt: _run_square_wave(model, dt, env_sun, env_dark, payload_sun, payload_dark, bus_w, hot, 86400.0)
            for dt in (10.0, 60.0, 600.0)}
    for dt, states in runs.items():
        assert np.all(np.isfinite(states))
        low, high = np.stack(cold), np.stack(hot)
        assert np.all(states >= low - 1e-6) and np.all(states <= high + 1e-6), dt
    fine = np.max(np.abs(runs[10.0] - runs[60.0]))
    coarse = np.max(np.abs(runs[60.0] - runs[600.0]))
    swing = runs[10.0][-10:].max(axis=0) - runs[10.0][-10:].min(axis=0)
    print(f"\nbalances (payload, bus) per satellite: sunlit {np.round(np.transpose(hot), 2).tolist()} K, "
          f"eclipse {np.round(np.transpose(cold), 2).tolist()} K; "
          f"swing over the last 100 min at 10 s {np.round(np.transpose(swing), 2).tolist()} K; "
          f"max |T(10 s) - T(60 s)| = {fine:.4f} K, max |T(60 s) - T(600 s)| = {coarse:.4f} K")
    assert fine < coarse / 5.0
    assert fine < 0.5


def test_extreme_steps_from_extreme_states_stay_finite_and_do_not_overshoot(buses):
    """dt from 1 s to 3600 s, from 3 K and 1000 K, with and without heat and radiator: finite, no overshoot."""
    names = ["compute-s", "experimental"] * 4
    model = _model(buses, names)
    payload_w = np.array([0.0, 0.0, 3000.0, 1200.0, 0.0, 0.0, 3000.0, 1200.0])
    bus_w = np.array([0.0, 0.0, 1100.0, 700.0] * 2)
    fraction = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 1e-6, 0.3, 1.0])
    eq_payload, eq_bus = equilibrium_temperatures(model, payload_w, bus_w, 0.0, fraction)
    for dt_s in (1.0, 60.0, 600.0, 3600.0):
        for start_k in (3.0, 1000.0):
            payload_k = bus_k = np.full(len(names), start_k)
            for _ in range(50):
                payload_k, bus_k = step_temperatures(model, payload_k, bus_k, payload_w, bus_w, 0.0, dt_s, fraction)
                assert np.all(np.isfinite(payload_k)) and np.all(np.isfinite(bus_k))
                assert np.all(bus_k >= 0.0)
                if start_k > 500.0:
                    assert np.all(bus_k >= np.minimum(eq_bus, start_k) - 1e-9)
                else:
                    assert np.all(bus_k <= np.maximum(eq_bus, start_k) + 1e-9)


# 3. Earth view factor ------------------------------------------------------------------------


def _view_factor_by_area_integral(h, vertical, n=200):
    """F = (1/pi) integral over the visible cap of cos(t1) cos(t2) / s^2 dA (Earth radius 1, satellite at (0, 0, h)).

    Gauss-Legendre in the cap angle psi (0..acos(1/h)) and longitude; for the vertical plate (normal
    +x) only longitudes with cos > 0 are in front of it, so the integrand is smooth on the domain.
    """
    nodes, weights = np.polynomial.legendre.leggauss(n)
    psi_max = math.acos(1.0 / h)
    psi, w_psi = (nodes + 1) / 2 * psi_max, weights * psi_max / 2
    lo, hi = (-math.pi / 2, math.pi / 2) if vertical else (-math.pi, math.pi)
    lon, w_lon = lo + (nodes + 1) / 2 * (hi - lo), weights * (hi - lo) / 2
    psi, lon = np.meshgrid(psi, lon, indexing="ij")
    point = np.stack([np.sin(psi) * np.cos(lon), np.sin(psi) * np.sin(lon), np.cos(psi)], axis=-1)
    ray = point - np.array([0.0, 0.0, h])
    s = np.linalg.norm(ray, axis=-1)
    normal = np.array([1.0, 0.0, 0.0]) if vertical else np.array([0.0, 0.0, -1.0])
    cos1 = np.clip(ray @ normal / s, 0.0, None)
    cos2 = np.clip(-np.einsum("...k,...k", ray, point) / s, 0.0, None)
    return float(w_psi @ (cos1 * cos2 / (math.pi * s * s) * np.sin(psi)) @ w_lon)


def _view_factor_by_rays(h, vertical, n=2000, seed=0):
    """Cosine-weighted ray sampling (Nusselt's unit-sphere analogue): points uniform on the unit disk, lifted
    to the hemisphere, are directions with density cos(theta)/pi; F is the fraction of rays that hit the
    sphere. Stratified: one random point in each cell of an n x n grid over the disk, so only the cells
    cut by an edge add noise: about 1e-5 (standard deviation over seeds) at n = 2000.
    """
    rng = np.random.default_rng(seed)
    centre = np.array([h, 0.0, 0.0]) if vertical else np.array([0.0, 0.0, h])  # plate normal is +z
    corner = np.arange(n) / n * 2.0 - 1.0
    hits = 0
    for rows in np.array_split(np.arange(n), 8):
        x = corner[rows][:, None] + rng.random((len(rows), n)) * (2.0 / n)
        y = corner[None, :] + rng.random((len(rows), n)) * (2.0 / n)
        rho2 = x * x + y * y
        z = np.sqrt(np.clip(1.0 - rho2, 0.0, None))
        along = x * centre[0] + y * centre[1] + z * centre[2]
        hits += np.count_nonzero((rho2 < 1.0) & (along > 0.0) & (h * h - along * along <= 1.0))
    return hits * (2.0 / n) ** 2 / math.pi


@pytest.mark.parametrize("altitude_km", [700.0, 750.0, 800.0])
def test_earth_view_factor_matches_numerical_integration(altitude_km):
    altitude_m = np.array([altitude_km * 1e3])
    h = (EARTH_R_M + altitude_km * 1e3) / EARTH_R_M
    vertical = float(earth_view_factor(altitude_m, np.array([False]))[0])
    zenith = float(earth_view_factor(altitude_m, np.array([True]))[0])
    nadir = float(nadir_view_factor(altitude_m)[0])
    area_vertical, area_nadir = _view_factor_by_area_integral(h, True), _view_factor_by_area_integral(h, False)
    rays_vertical, rays_nadir = _view_factor_by_rays(h, True), _view_factor_by_rays(h, False)
    print(f"\n{altitude_km:.0f} km: vertical {vertical:.10f} (area integral {area_vertical:.10f}, rays "
          f"{rays_vertical:.6f}); nadir {nadir:.10f} (area integral {area_nadir:.10f}, rays {rays_nadir:.6f})")
    assert zenith == 0.0
    assert vertical == pytest.approx(area_vertical, abs=1e-10)
    assert nadir == pytest.approx(area_nadir, abs=1e-10)
    assert vertical == pytest.approx(rays_vertical, abs=1e-4)  # about 10 standard deviations
    assert nadir == pytest.approx(rays_nadir, abs=1e-4)


# 4. Environment ------------------------------------------------------------------------------


def test_zenith_radiator_sees_no_earth_and_dawn_dusk_along_track_sees_no_sun(buses):
    """Zenith plate: F = 0, so no Earth IR nor albedo (in eclipse it absorbs exactly nothing).

    Along-track plate in a dawn-dusk orbit (98 deg inclination, Sun along the orbit normal): its faces
    are edge-on to the Sun, so the only load is Earth IR, eps OLR F A (cos zeta = 0: no albedo).
    """
    model = _model(buses, ["compute-s", "compute-s"], zenith=[False, True])
    inclination = math.radians(98.0)
    r = EARTH_R_M + ALTITUDE_M
    u = np.radians([0.0, 37.0])  # two points of the orbit, one per satellite
    position = r * np.stack([np.cos(u), np.sin(u) * math.cos(inclination), np.sin(u) * math.sin(inclination)], -1)
    velocity = SPEED_M_S * np.stack([-np.sin(u), np.cos(u) * math.cos(inclination),
                                     np.cos(u) * math.sin(inclination)], -1)
    normal = np.cross(position[0], velocity[0])
    sun = AU_M * normal / np.linalg.norm(normal)
    lit = environment_heat_w(model, position, velocity, sun, np.ones(2))
    dark = environment_heat_w(model, position, velocity, sun, np.zeros(2))
    b = buses["compute-s"]
    earth_ir = b.radiator_emissivity * OLR * _vertical_plate_factor(ALTITUDE_M) * b.radiator_area_m2
    print(f"\nalong-track: lit {lit[0]:.6f} W, dark {dark[0]:.6f} W, Earth IR {earth_ir:.6f} W; "
          f"zenith: lit {lit[1]:.6f} W, dark {dark[1]:.6f} W")
    assert dark[1] == 0.0
    assert dark[0] == pytest.approx(earth_ir, abs=1e-6)
    assert lit[0] - dark[0] < 0.01  # of a possible alpha S A/2 = 1020 W on a sun-facing face
    assert lit[1] < 0.1  # zenith plate edge-on too: the Sun is on the horizon


def test_sub_solar_geometry_and_illumination_scaling(buses):
    """Sun at the zenith (cos zeta = 1): the zenith plate absorbs alpha S A and nothing from the Earth;
    the along-track plate absorbs no direct sun, eps OLR F A of infrared and alpha 0.30 S F A of albedo.
    Direct sunlight is linear in the illumination: Q(0.5) - Q(0) = (Q(1) - Q(0)) / 2.
    """
    model = _model(buses, ["compute-s", "compute-s"], zenith=[False, True])
    position = np.tile([EARTH_R_M + ALTITUDE_M, 0.0, 0.0], (2, 1))
    velocity = np.tile([0.0, SPEED_M_S, 0.0], (2, 1))
    sun = np.array([AU_M + EARTH_R_M + ALTITUDE_M, 0.0, 0.0])  # 1 au from the satellite
    b = buses["compute-s"]
    f = _vertical_plate_factor(ALTITUDE_M)
    expected = [b.radiator_emissivity * OLR * f * b.radiator_area_m2
                + b.radiator_absorptance * ALBEDO * SOLAR * f * b.radiator_area_m2,
                b.radiator_absorptance * SOLAR * b.radiator_area_m2]
    full = environment_heat_w(model, position, velocity, sun, np.ones(2))
    np.testing.assert_allclose(full, expected, rtol=1e-12)
    # Sun 30 deg from the zenith, in the velocity direction: along-track projected area (A/2) sin 30.
    angle = math.radians(30.0)
    sun = AU_M * np.array([math.cos(angle), math.sin(angle), 0.0])
    q = {i: environment_heat_w(model, position, velocity, sun, np.full(2, i)) for i in (0.0, 0.5, 1.0)}
    np.testing.assert_allclose(q[0.5] - q[0.0], (q[1.0] - q[0.0]) / 2, rtol=1e-12)
    s_hat = (sun - position[0]) / np.linalg.norm(sun - position[0])
    distance_scale = (AU_M / np.linalg.norm(sun - position[0])) ** 2
    direct = b.radiator_absorptance * SOLAR * distance_scale * b.radiator_area_m2 * np.array([s_hat[1] / 2, s_hat[0]])
    np.testing.assert_allclose(q[1.0] - q[0.0], direct, rtol=1e-12)
    # A stuck radiator absorbs in proportion to the area left.
    half = environment_heat_w(model, position, velocity, sun, np.ones(2), radiator_fraction=np.full(2, 0.5))
    np.testing.assert_allclose(half, q[1.0] / 2, rtol=1e-12)


# 5. Energy balance of one implicit step ------------------------------------------------------


@pytest.mark.parametrize("dt_s", [1.0, 60.0, 600.0, 3600.0])
def test_one_implicit_step_conserves_energy(buses, dt_s):
    """Backward Euler: C_p dT_p + C_b dT_b = (Q_p + Q_b + Q_env - eps sigma A f T_b'^4) dt, T_b' the new
    bus temperature. Exact up to the Newton tolerance (1e-9 K on T_b'): 1e-9 relative to the
    energy throughput (|heat in| + |radiated|) dt.
    """
    rng = np.random.default_rng(7)
    names = rng.choice(["compute-s", "experimental"], 50)
    model = _model(buses, names)
    payload_k, bus_k = rng.uniform(200.0, 380.0, 50), rng.uniform(200.0, 380.0, 50)
    payload_w, bus_w = rng.uniform(0.0, 3000.0, 50), rng.uniform(0.0, 1100.0, 50)
    env_w, fraction = rng.uniform(0.0, 800.0, 50), rng.uniform(0.2, 1.0, 50)
    new_payload, new_bus = step_temperatures(model, payload_k, bus_k, payload_w, bus_w, env_w, dt_s, fraction)
    stored = (model.payload_heat_capacity_j_per_k * (new_payload - payload_k)
              + model.bus_heat_capacity_j_per_k * (new_bus - bus_k))
    radiated = model.radiator_emissivity * SIGMA * model.radiator_area_m2 * fraction * new_bus**4
    heat_in = payload_w + bus_w + env_w
    throughput = (heat_in + radiated) * dt_s
    error = np.abs(stored - (heat_in - radiated) * dt_s) / throughput
    print(f"\ndt {dt_s:.0f} s: max relative energy error {error.max():.2e}")
    assert error.max() < 1e-9


# 6. Stuck radiator ---------------------------------------------------------------------------


def test_half_a_radiator_raises_the_balance_by_the_fourth_root_of_two(buses):
    """No environment: eps sigma (A f) T_b^4 = Q, so T_b(f = 1/2) / T_b(f = 1) = 2^(1/4) exactly;
    T_p - T_b = Q_p / G is unchanged."""
    model = _model(buses, ["compute-s", "experimental"])
    payload_w, bus_w = np.array([3000.0, 1200.0]), np.array([1100.0, 700.0])
    full_payload, full_bus = equilibrium_temperatures(model, payload_w, bus_w, 0.0)
    half_payload, half_bus = equilibrium_temperatures(model, payload_w, bus_w, 0.0, np.full(2, 0.5))
    np.testing.assert_allclose(half_bus / full_bus, 2.0**0.25, rtol=1e-14)
    np.testing.assert_allclose(half_payload - half_bus, full_payload - full_bus, rtol=1e-14)
    # The stepped model settles there too.
    payload_k, bus_k = full_payload, full_bus
    for _ in range(200):
        payload_k, bus_k = step_temperatures(model, payload_k, bus_k, payload_w, bus_w, 0.0, 3600.0, np.full(2, 0.5))
    np.testing.assert_allclose(bus_k, half_bus, atol=1e-6)
    np.testing.assert_allclose(payload_k, half_payload, atol=1e-6)


# 7. Bad input --------------------------------------------------------------------------------


def test_unknown_bus_names_the_satellite_and_the_bus(buses):
    with pytest.raises(ValueError, match=r"satellite 2: bus 'compute-xl' is not defined"):
        ThermalModel.from_buses(buses, np.array(["compute-s", "experimental", "compute-xl", "compute-xl"]))


def test_from_buses_gathers_each_satellite_parameters(buses):
    names = ["experimental", "compute-s", "experimental"]
    model = ThermalModel.from_buses(buses, np.array(names))
    for field, attribute in (("payload_heat_capacity_j_per_k", "payload_heat_capacity_j_per_k"),
                             ("bus_heat_capacity_j_per_k", "bus_heat_capacity_j_per_k"),
                             ("conductance_w_per_k", "payload_conductance_w_per_k"),
                             ("radiator_area_m2", "radiator_area_m2"), ("radiator_emissivity", "radiator_emissivity"),
                             ("radiator_absorptance", "radiator_absorptance")):
        np.testing.assert_array_equal(getattr(model, field), [getattr(buses[n], attribute) for n in names])
    np.testing.assert_array_equal(model.radiator_zenith, [buses[n].radiator_orientation == "zenith" for n in names])
    assert ThermalModel.from_buses(buses, np.array([], dtype=str)).radiator_area_m2.shape == (0,)


# Speed ---------------------------------------------------------------------------------------


def test_ten_thousand_satellites_at_once_step_as_each_alone(buses):
    """Vectorised over satellites: stepping 10,000 mixed satellites at once gives, for every one of a
    sample, exactly what stepping that satellite alone gives (no cross-talk between rows). Speed is
    measured by benchmarks/simulate.py, not here."""
    rng = np.random.default_rng(1)
    names = rng.choice(["compute-s", "experimental"], 10_000)
    model = _model(buses, names)
    payload_k, bus_k = rng.uniform(280.0, 330.0, 10_000), rng.uniform(280.0, 320.0, 10_000)
    payload_w, bus_w, env_w = rng.uniform(0, 3000, 10_000), rng.uniform(0, 1100, 10_000), rng.uniform(0, 500, 10_000)
    together = step_temperatures(model, payload_k, bus_k, payload_w, bus_w, env_w, 60.0)
    for row in rng.choice(10_000, 20, replace=False):
        alone = step_temperatures(_model(buses, names[row:row + 1]), payload_k[row:row + 1], bus_k[row:row + 1],
                                  payload_w[row:row + 1], bus_w[row:row + 1], env_w[row:row + 1], 60.0)
        np.testing.assert_allclose([together[0][row], together[1][row]], [alone[0][0], alone[1][0]], rtol=0, atol=1e-9)
