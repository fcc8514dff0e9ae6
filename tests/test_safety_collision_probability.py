"""Probability of collision against published cases (twin.safety.collision_probability)."""

import numpy as np
import pytest

from twin.safety.collision_probability import (collision_probability, fleet_hard_body_radius_m,
                                               probability_in_encounter_plane, ric_to_inertial)

# Encounter-plane cases (miss x, miss y, sigma x, sigma y, radius; metres) and their published Pc:
# Chan (2008), "Spacecraft Collision Probability", cases 1-12, and Alfano (2005), "Review of conjunction
# probability methods for short-term encounters", cases 3 and 5, as tabulated in Orekit's Laas2015Test.
PLANE_CASES = [
    ((0, 10, 25, 50, 5), 9.742e-3), ((10, 0, 25, 50, 5), 9.181e-3), ((0, 10, 25, 75, 5), 6.571e-3),
    ((10, 0, 25, 75, 5), 6.125e-3), ((0, 1000, 1000, 3000, 10), 1.577e-5), ((1000, 0, 1000, 3000, 10), 1.011e-5),
    ((0, 10000, 1000, 3000, 10), 6.443e-8), ((10000, 0, 1000, 3000, 10), 3.219e-27),
    ((0, 10000, 1000, 10000, 10), 3.033e-6), ((10000, 0, 1000, 10000, 10), 9.656e-28),
    ((0, 5000, 1000, 3000, 50), 1.039e-4), ((5000, 0, 1000, 3000, 50), 1.564e-9),
    ((-3.8872073, 0.1591646, 1.4101830, 114.2585190, 15), 1.0038e-1),
    ((-1.2217895, 2.1230067, 0.0373279, 177.8109003, 10), 4.4507e-2),
]


@pytest.mark.parametrize("case, expected", PLANE_CASES)
def test_encounter_plane_probability_matches_published_cases(case, expected):
    # The published values carry four significant figures.
    assert probability_in_encounter_plane(*case) == pytest.approx(expected, rel=5e-4)


def test_probability_from_states_matches_cara_pc2d_foster_omitron_case():
    # NASA CARA Pc SDK, Pc2D_Foster_UnitTest.m, testCircularHBR (Omitron test case 01): km, km/s, km2, HBR 20 m.
    r1, v1 = [378.39559, 4305.721887, 5752.767554], [2.360800244, 5.580331936, -4.322349039]
    c1 = [[44.5757544811362, 81.6751751052616, -67.8687662707124], [81.6751751052616, 158.453402956163, -128.616921644857],
          [-67.8687662707124, -128.616921644858, 105.490542562701]]
    r2, v2 = [374.5180598, 4307.560983, 5751.130418], [-5.388125081, -3.946827739, 3.322820358]
    c2 = [[2.31067077720423, 1.69905293875632, -1.4170164577661], [1.69905293875632, 1.24957388457206, -1.04174164279599],
          [-1.4170164577661, -1.04174164279599, 0.869260558223714]]
    assert collision_probability(r1, v1, c1, r2, v2, c2, 0.020) == pytest.approx(2.70601573490125e-05, rel=1e-3)


def test_probability_from_rtn_covariances_matches_alfano_2009_case_1():
    # Alfano (2009) test case 1 as NASA CARA's sample CDM AlfanoTestCase01.cdm gives it (states in km and
    # km/s, RTN covariances in m2, HBR 15 m); expected Pc 0.146749549 (CARA's Pc2D_Foster unit test).
    x1, w1 = np.array([153.446765, 41874.155870, 0.0]), np.array([3.066874761, -0.011373615, 0.0])
    x2, w2 = np.array([153.447264, 41874.156370, 0.005]), np.array([3.066864761, -0.011363615, -0.000000001])
    c1 = np.array([[19.88970273925819, -352.4140813027809, 0], [-352.4140813027809, 6496.749385722737, 0],
                   [0, 0, 1.205039522307600]])
    c2 = np.array([[19.89074842319444, -352.4310089952797, 0], [-352.4310089952797, 6496.894829253188, 0],
                   [0, 0, 1.204674647143796]])
    pc = collision_probability(x1 * 1e3, w1 * 1e3, ric_to_inertial(c1, x1, w1), x2 * 1e3, w2 * 1e3,
                               ric_to_inertial(c2, x2, w2), 15.0)
    assert pc == pytest.approx(0.146749549, rel=1e-3)


def test_hard_body_radius_grows_with_the_bus_arrays():
    # Phase-3 compute-l (360 m2 array, 300 m2 radiator) is tens of metres; the experimental bus a few.
    radii = fleet_hard_body_radius_m([360.0, 12.0], [300.0, 4.0])
    assert radii[0] == pytest.approx(np.sqrt(330.0)) and 2.0 < radii[1] < 3.0


def test_the_short_encounter_limit_is_the_speed_that_crosses_the_uncertainty_in_a_fifth_of_a_radian_of_orbit():
    """``2 k sigma_v n / 0.2``: sigma_v the combined standard deviation along the relative velocity (here the in-track
    one of an anisotropic covariance, then the cross-track one), n the primary's mean motion by vis-viva."""
    from twin.constants import EARTH_MU_KM3_S2
    from twin.safety.collision_probability import short_encounter_min_speed_km_s

    radius_km = 7128.0
    speed = np.sqrt(EARTH_MU_KM3_S2 / radius_km)
    n = np.sqrt(EARTH_MU_KM3_S2 / radius_km**3)
    covariance = np.diag([0.2, 1.0, 0.3]) ** 2  # km2, RIC = xyz here
    limits = short_encounter_min_speed_km_s([[radius_km, 0, 0]] * 2, [[0, speed, 0]] * 2, [[0, 1e-3, 0], [0, 0, -5.0]],
                                            covariance)
    assert limits == pytest.approx([2 * 5 * 1.0 * n / 0.2, 2 * 5 * 0.3 * n / 0.2], rel=1e-12)
    assert 0.05 < limits[0] < 0.06  # a TLE object's kilometre in-track: 54 m/s
