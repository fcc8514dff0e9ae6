"""Long-encounter probability of collision by two-body Monte Carlo (twin.safety.long_encounter): its propagator,
against the 2-D Pc where that holds, against NASA CARA's published Alfano (2009) case, and against Cowell."""

import numpy as np
import pytest
from astropy.time import Time
from scipy.integrate import solve_ivp

from twin.constants import EARTH_MU_KM3_S2
from twin.safety.collision_probability import collision_probability, ric_to_inertial
from twin.safety.encounter import closest_approaches
from twin.safety.long_encounter import (encounter_half_window_s, kepler_propagate, monte_carlo_probability)


def test_kepler_propagation_matches_a_numerical_two_body_integration_both_ways():
    """An eccentric LEO orbit (e about 0.1) an orbit forward and half an orbit back, and a millisecond: to a millimetre."""
    position, velocity = np.array([7000.0, -1200.0, 300.0]), np.array([1.1, 7.9, 1.4])
    dt = np.array([-3000.0, -1.0, 1e-3, 1.0, 700.0, 6000.0])

    def two_body(_, state):
        return np.r_[state[3:], -EARTH_MU_KM3_S2 * state[:3] / np.linalg.norm(state[:3]) ** 3]

    for t in dt:
        reference = solve_ivp(two_body, (0.0, t), np.r_[position, velocity], method="DOP853", rtol=1e-13, atol=1e-12).y[:, -1]
        p, v = kepler_propagate(position, velocity, t)
        assert np.linalg.norm(p - reference[:3]) < 1e-6 and np.linalg.norm(v - reference[3:]) < 1e-9


def _rtn_covariance_km(upper_m):
    """6x6 RTN covariance (km, km/s) from the 21 CDM terms (m, m/s) in the CDM's order."""
    matrix, index = np.zeros((6, 6)), 0
    for row in range(6):
        for column in range(row + 1):
            matrix[row, column] = matrix[column, row] = upper_m[index]
            index += 1
    return matrix * 1e-6


# Alfano (2009) test cases 2 and 4 as NASA CARA's sample CDMs AlfanoTestCase02.cdm and AlfanoTestCase04.cdm give
# them (also in Orekit's test resources): two objects near GEO drifting at 1.4 and 1.9 cm/s, HBR 4 and 15 m. The
# Gaussian covariance spans hours of relative motion. CARA's two-body Monte Carlo (1e8 trials; its 95 % interval is
# +-0.2 %) and 2-D Pc, from Pc3D_Hall_Utils/Output_AlfanoTestCases_Pc3D/A09TestCases_01_12_Distributed.csv:
# case 2 0.0155469 (2-D 0.00622227), case 4 0.07364054 (2-D 0.0493221).
ALFANO = {
    2: {"radius_km": 0.004, "monte_carlo": 0.0155469, "two_d": 0.006222267,
        "state_1": [153.446180, 41874.155872, 0.0, 3.066874761, -0.011373572, 0.0],
        "state_2": [153.446679, 41874.156372, 0.005, 3.066864761, -0.011363571, -0.000000001],
        "covariance_1": [1.988970262612387e+01, -3.524140803158783e+02, 6.496749387784603e+03, 0, 0, 1.205039521089100e+00,
                         2.675448512061144e-02, -4.943011255475469e-01, 0, 3.761358715221885e-05,
                         -1.027762110336419e-03, 1.780445955556055e-02, 0, -1.349905611988324e-06, 5.376164547403754e-08,
                         0, 0, -6.070876343488300e-05, 0, 0, 3.390390013184100e-09],
        "covariance_2": [1.989074830997710e+01, -3.524310080076631e+02, 6.496894831316016e+03, -8.716498422838784e-20,
                         9.405936919789482e-19, 1.204674645925095e+00, 2.675573864894302e-02, -4.943115448463153e-01,
                         -1.695720255733707e-23, 3.761433293878509e-05, -1.027907516275906e-03, 1.780719277037638e-02,
                         4.601192157326216e-24, -1.350111723850335e-06, 5.377343760202683e-08, -8.681357463972059e-23,
                         4.651649152328218e-22, -6.071534560352124e-05, -6.257601904802552e-26, -2.988323361075778e-27,
                         3.392080347650130e-09]},
    4: {"radius_km": 0.015, "monte_carlo": 0.07364054, "two_d": 0.049323406,
        "state_1": [-28570.333448, -29444.167192, 0.0, -2.264378699, 2.161395566, 0.0],
        "state_2": [-28570.452262, -29444.104464, -0.003758, -2.264369814, 2.161412396, 0.000000250],
        "covariance_1": [4.080844572465061e-01, 4.674493755532058e+01, 6.024200059574752e+03, 0, 0, 4.593629039291300e-02,
                         -3.537751714617565e-03, -4.548842088839764e-01, 0, 3.435856642804263e-05,
                         -6.273252020647343e-05, -7.650699386632409e-03, 0, 5.782327258658237e-07, 9.966825652367994e-09,
                         0, 0, -7.601954632875100e-06, 0, 0, 9.965752792065001e-09],
        "covariance_2": [4.078489163619697e-01, 4.672853966111639e+01, 6.024412056804277e+03, 8.207065180527589e-18,
                         3.523840694673876e-18, 4.596631194107787e-02, -3.536503317994208e-03, -4.548962998661436e-01,
                         -2.646977960169689e-22, 3.435918351487822e-05, -6.271189757019788e-05, -7.650706298832539e-03,
                         -8.809473523689745e-22, 5.782298245977017e-07, 9.966658323066177e-09, 3.040636969923761e-22,
                         4.100654990471436e-22, -7.621085645682477e-06, 3.592324831076283e-26, 2.252503568006762e-26,
                         9.965579727301056e-09]},
}


@pytest.mark.parametrize("number", sorted(ALFANO))
def test_slow_encounter_matches_cara_monte_carlo_of_alfano_2009(number):
    """40,000 samples: CARA's 1e8-trial Pc lies in the 95 % interval (about +-8 % for case 2, +-4 % for case 4); the
    2-D Pc, well below it, does not. The window is a quarter orbit, as CARA's TLimit for these cases (21600 s)."""
    case = ALFANO[number]
    states = np.array([case["state_1"], case["state_2"]])
    covariances = np.stack([ric_to_inertial(_rtn_covariance_km(case[f"covariance_{k}"]), states[k - 1, :3],
                                            states[k - 1, 3:]) for k in (1, 2)])
    result = monte_carlo_probability(states[None], covariances[None], case["radius_km"], samples=40_000, seed=1)
    assert result.low[0] <= case["monte_carlo"] <= result.high[0]
    assert result.high[0] / result.low[0] < 1.2
    two_d = collision_probability(states[0, :3], states[0, 3:], covariances[0, :3, :3], states[1, :3], states[1, 3:],
                                  covariances[1, :3, :3], case["radius_km"])
    assert two_d == pytest.approx(case["two_d"], rel=1e-3) and two_d < result.low[0]
    assert result.half_window_s[0] == pytest.approx(21600.0, rel=0.05)


def test_fast_encounter_agrees_with_the_2d_probability_within_its_interval():
    """NASA CARA's Pc3D_Hall_UnitTest testSimilarTo2D (m, m/s; 3.5 km/s crossing, HBR 20 m): its Pc3D 1.029e-2 and
    the twin's 2-D Pc both lie in the Monte Carlo's 95 % interval."""
    r1, v1 = np.array([-9.841950433215101e+05, 3.932342044549424e+05, 6.991223682230414e+06]), \
        np.array([4.883696742000000e+03, 5.689086045000000e+03, 3.665361590000000e+02])
    r2, v2 = np.array([-9.839696058965517e+05, 3.936845951174244e+05, 6.991219291625473e+06]), \
        np.array([1.509562687000000e+03, 7.372938617000000e+03, -1.492509430000000e+02])
    c1 = np.array([[4.976545641899520e+04, 5.787130862568278e+04, 3.370410320935015e+03, 1.137272273949272e+01, -4.325472616114674e+00, -8.009705480233521e+01],
                   [5.787130862568278e+04, 6.730377643610841e+04, 3.926542932121541e+03, 1.321992688238858e+01, -5.035560720747812e+00, -9.314985106902773e+01],
                   [3.370410320935015e+03, 3.926542932121541e+03, 2.461403197221289e+02, 7.586865834476763e-01, -3.077848629905763e-01, -5.434034460756914e+00],
                   [1.137272273949272e+01, 1.321992688238858e+01, 7.586865834476763e-01, 2.608186227148725e-03, -9.804181796720670e-04, -1.829751672999786e-02],
                   [-4.325472616114674e+00, -5.035560720747812e+00, -3.077848629905763e-01, -9.804181796720670e-04, 3.895883508545853e-04, 6.968892326415779e-03],
                   [-8.009705480233521e+01, -9.314985106902773e+01, -5.434034460756914e+00, -1.829751672999786e-02, 6.968892326415779e-03, 1.289253320300791e-01]])
    c2 = np.array([[4.246862551076427e+04, 2.066374367781032e+05, -5.011108933888592e+03, 3.104606531932427e+01, -1.201093683199582e+01, -2.207975848324051e+02],
                   [2.066374367781032e+05, 1.005854717283451e+06, -2.434876491048039e+04, 1.510022508670080e+02, -5.850063541467530e+01, -1.074752763805685e+03],
                   [-5.011108933888592e+03, -2.434876491048039e+04, 6.131274993037449e+02, -3.667147183233717e+00, 1.391769957262238e+00, 2.601457791444154e+01],
                   [3.104606531932427e+01, 1.510022508670080e+02, -3.667147183233717e+00, 2.272826228568773e-02, -8.778253314778023e-03, -1.613538091053610e-01],
                   [-1.201093683199582e+01, -5.850063541467530e+01, 1.391769957262238e+00, -8.778253314778023e-03, 3.428801115804722e-03, 6.251148178133809e-02],
                   [-2.207975848324051e+02, -1.074752763805685e+03, 2.601457791444154e+01, -1.613538091053610e-01, 6.251148178133809e-02, 1.148404222181769e+00]])
    states = np.stack([np.r_[r1, v1], np.r_[r2, v2]]) / 1e3
    covariances = np.stack([c1, c2]) / 1e6
    result = monte_carlo_probability(states[None], covariances[None], 0.020, samples=40_000, seed=2)
    two_d = collision_probability(r1, v1, c1[:3, :3], r2, v2, c2[:3, :3], 20.0)
    assert result.low[0] <= two_d <= result.high[0] and result.low[0] <= 1.0289973e-02 <= result.high[0]
    assert result.half_window_s[0] < 2.0  # a crossing at kilometres per second: seconds, not a quarter orbit


def _slow_leo_pair():
    """Two GNSS-tracked satellites at 620 km, 12 m apart radially at TCA, drifting in-track past each other at 4 cm/s,
    20 m (1-sigma) position and 2 cm/s velocity uncertainty each: a slow encounter with a Pc of tens of percent."""
    radius = 6998.0
    speed = np.sqrt(EARTH_MU_KM3_S2 / radius)
    primary = np.array([radius, 0.0, 0.0, 0.0, speed, 0.0])
    secondary = primary + np.array([0.012, 0.0, 0.0, 0.0, 4e-5, 0.0])
    covariance = np.diag([0.02**2] * 3 + [2e-5**2] * 3)
    return np.stack([primary, secondary]), np.stack([covariance, covariance]), 0.015


def test_kepler_minimum_distances_match_cowell_with_j2_sample_by_sample():
    """The independent check: 60 samples of the slow LEO pair propagated by the twin's Cowell integrator with J2
    (twin.flight.cowell, DOP853) across the window, forwards and (velocities reversed) backwards, their minimum
    distance taken on a 1 s grid, agree with the two-body minimum refined between 17 samples to millimetres (median),
    0.3 m at most (J2's differential pull over separations of tens of metres, a few 1e-3 of them), far below the 15 m
    hard-body radius, and the same samples hit."""
    from twin.flight.cowell import propagate_cowell
    from twin.flight.spacecraft import Spacecraft

    states, covariances, _ = _slow_leo_pair()
    rng = np.random.default_rng(5)
    samples = 60
    drawn = states[None] + rng.standard_normal((samples, 2, 6)) * np.sqrt(np.diagonal(covariances, axis1=1, axis2=2))
    half = float(encounter_half_window_s(states[0, :3], states[0, 3:], states[1, 3:] - states[0, 3:],
                                         covariances[0, :3, :3] + covariances[1, :3, :3]))
    assert half == pytest.approx(0.25 * 2 * np.pi * np.sqrt(6998.0**3 / EARTH_MU_KM3_S2), rel=1e-6)
    offsets = np.arange(0.0, np.floor(half) + 1.0)
    flat = drawn.reshape(-1, 6) * 1e3
    craft = Spacecraft([str(k) for k in range(len(flat))], 1000.0, 0.0, 0.0, 1.0, 2.2, 1.3, 1500.0, 1.0, 0.0, True, True)
    start = Time("2026-03-19T00:00:00", scale="utc")
    forward = propagate_cowell(flat[:, :3], flat[:, 3:], start, offsets, craft, forces=("j2",)).position_m
    backward = propagate_cowell(flat[:, :3], -flat[:, 3:], start, offsets, craft, forces=("j2",)).position_m
    cowell = np.concatenate([backward[:, :0:-1], forward], axis=1).reshape(samples, 2, -1, 3)  # time -T..T
    cowell_min_m = np.min(np.linalg.norm(cowell[:, 1] - cowell[:, 0], axis=-1), axis=-1)

    times = np.broadcast_to(np.linspace(-half, half, 17), (samples, 17))
    p, v = kepler_propagate(drawn[:, :, None, :3], drawn[:, :, None, 3:], times[:, None, :])
    kepler = closest_approaches(times, p[:, 0], v[:, 0], p[:, 1], v[:, 1])
    sampled = np.min(np.linalg.norm(p[:, 1] - p[:, 0], axis=-1), axis=-1)
    kepler_min_m = np.minimum(kepler.miss_distance_km, sampled) * 1e3
    difference_m = np.abs(kepler_min_m - cowell_min_m)
    assert np.median(difference_m) < 0.01 and np.max(difference_m) < 0.3  # measured: 3 mm median, 0.16 m at most
    assert np.array_equal(kepler_min_m < 15.0, cowell_min_m < 15.0)  # the same samples hit
    assert 0.1 < np.mean(cowell_min_m < 15.0) < 0.9  # the case does decide hits and misses


def test_two_draws_of_the_slow_pair_agree_within_their_intervals():
    """The Monte Carlo of the slow LEO pair with two seeds of 20,000 samples: the intervals overlap."""
    states, covariances, radius_km = _slow_leo_pair()
    first = monte_carlo_probability(states[None], covariances[None], radius_km, samples=20_000, seed=3)
    second = monte_carlo_probability(states[None], covariances[None], radius_km, samples=20_000, seed=4)
    assert first.low[0] <= second.high[0] and second.low[0] <= first.high[0]
    assert 0.05 < first.probability[0] < 0.95 and first.samples == 20_000


def test_several_conjunctions_are_drawn_at_once_and_none_is_zero_with_an_upper_bound():
    """A pair 50 km apart never collides: Pc 0 with the 95 % upper bound 3.7 / samples; the slow pair beside it is
    unchanged by being computed together."""
    states, covariances, radius_km = _slow_leo_pair()
    far = states.copy()
    far[1, :3] += [50.0, 0.0, 0.0]
    result = monte_carlo_probability(np.stack([far, states]), np.stack([covariances] * 2), radius_km, samples=5_000, seed=3)
    assert result.hits[0] == 0 and result.probability[0] == 0.0 and result.high[0] == pytest.approx(3.689 / 5_000, rel=1e-3)
    assert 0.05 < result.probability[1] < 0.95
    with pytest.raises(ValueError, match=r"^samples: 0 must be at least 1$"):
        monte_carlo_probability(states[None], covariances[None], radius_km, samples=0)
