"""Line of sight between two points against the raised WGS-84 ellipsoid, on constructed cases with exact answers."""

import numpy as np
import pytest

from twin.constants import EARTH_EQUATORIAL_RADIUS_KM, EARTH_FLATTENING
from twin.network.links import GEOSTATIONARY_RADIUS_M, assign_antennas, line_of_sight_clear, link_set, relay_itrs_m

A_M = EARTH_EQUATORIAL_RADIUS_KM * 1e3  # WGS-84 (NIMA TR8350.2)
B_M = A_M * (1.0 - EARTH_FLATTENING)
MARGIN_M = 100e3
MILLIMETRE = 1e-3


@pytest.mark.parametrize("offset_m, clear", [(-MILLIMETRE, False), (0.0, True), (MILLIMETRE, True)])
def test_equatorial_chord_is_blocked_exactly_below_the_raised_equator(offset_m, clear):
    # A chord symmetric about the x axis: its closest point to the centre is (x, 0, 0).
    x = A_M + MARGIN_M + offset_m
    a, b = np.array([x, 3e6, 0.0]), np.array([x, -3e6, 0.0])
    assert line_of_sight_clear(a, b, MARGIN_M) == clear


@pytest.mark.parametrize("offset_m, clear", [(-MILLIMETRE, False), (0.0, True), (MILLIMETRE, True)])
def test_polar_chord_is_blocked_exactly_below_the_raised_pole(offset_m, clear):
    # Over the pole the raised surface is at b + h, 21.4 km lower than over the equator.
    z = B_M + MARGIN_M + offset_m
    a, b = np.array([3e6, 0.0, z]), np.array([-3e6, 0.0, z])
    assert line_of_sight_clear(a, b, MARGIN_M) == clear


def test_tangent_at_45_degrees_latitude_on_the_scaled_sphere():
    # In coordinates scaled by (a + h)/(b + h) along z, the raised ellipsoid is a sphere of radius a + h:
    # a chord tangent to it at 45 deg grazes it; 1 mm outside it is clear, 1 mm inside blocked (the exact
    # tangent is left out: scaling back and forth rounds at the 1e-9 m level).
    radius = A_M + MARGIN_M
    scale = (A_M + MARGIN_M) / (B_M + MARGIN_M)
    normal = np.array([1.0, 0.0, 1.0]) / np.sqrt(2.0)
    along = np.array([-1.0, 0.0, 1.0]) / np.sqrt(2.0)
    unscale = np.array([1.0, 1.0, 1.0 / scale])
    for depth, clear in ((-MILLIMETRE, True), (MILLIMETRE, False)):
        centre = normal * (radius - depth)
        a, b = (centre + 2e6 * along) * unscale, (centre - 2e6 * along) * unscale
        assert line_of_sight_clear(a, b, MARGIN_M) == clear


def test_line_through_the_earth_but_segment_outside_is_clear():
    # Both points on the same side, the segment pointing away: the infinite line crosses the Earth, the segment does not.
    a, b = np.array([7e6, 0.0, 0.0]), np.array([8e6, 0.0, 0.0])
    assert line_of_sight_clear(a, b, MARGIN_M)
    assert not line_of_sight_clear(a, -a, MARGIN_M)  # through the centre
    assert line_of_sight_clear(a, a, MARGIN_M)  # a zero-length segment above the surface
    assert not line_of_sight_clear(np.array([A_M, 0, 0]), np.array([A_M, 0, 0]), MARGIN_M)  # inside the margin


def test_vectorised_over_any_leading_shape():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 5, 3)) * 8e6
    b = rng.normal(size=(4, 5, 3)) * 8e6
    together = line_of_sight_clear(a, b, MARGIN_M)
    one_by_one = np.array([[line_of_sight_clear(a[i, j], b[i, j], MARGIN_M) for j in range(5)] for i in range(4)])
    assert together.shape == (4, 5) and (together == one_by_one).all()


def test_two_leo_satellites_lose_sight_beyond_the_horizon():
    # Two satellites at 750 km on the equator, separated by an angle 2 phi: the chord's lowest point is r cos(phi).
    r = A_M + 750e3
    limit = np.arccos((A_M + MARGIN_M) / r)  # half-angle at which the chord grazes
    for half, clear in ((limit - 1e-6, True), (limit + 1e-6, False)):
        a = r * np.array([np.cos(half), np.sin(half), 0.0])
        b = r * np.array([np.cos(half), -np.sin(half), 0.0])
        assert line_of_sight_clear(a, b, MARGIN_M) == clear


def test_geostationary_radius():
    # (GM T^2 / 4 pi^2)^(1/3) with WGS-84 GM and the sidereal day: 42,164.17 km.
    assert GEOSTATIONARY_RADIUS_M == pytest.approx(42_164.17e3, abs=100.0)
    np.testing.assert_allclose(relay_itrs_m([90.0]), [[0.0, GEOSTATIONARY_RADIUS_M, 0.0]], atol=1e-6)


def test_antennas_serve_the_best_available_links():
    available = np.array([[1, 1], [1, 0], [1, 1], [0, 1]], bool)
    score = np.array([[10.0, 1.0], [20.0, 50.0], [5.0, 30.0], [99.0, 2.0]])
    served = assign_antennas(available, score, np.array([0, 0, 0, 1]), np.array([2, 1]))
    # Station 0 (two antennas) takes links 1 and 0 at the first step; at the second link 1 is unavailable, so 2 and 0.
    assert served.tolist() == [[True, True], [True, False], [False, True], [False, True]]


def test_link_set_of_phase1(phase1_run):
    links = link_set(phase1_run, ["TL-77E"], ["Miyun", "Kashi", "Sanya"], 250.0)
    counts = {kind: int((links.kind == kind).sum()) for kind in np.unique(links.kind)}
    chiefs = int((phase1_run["role"] == "chief").sum())
    assert counts["ground"] == chiefs * 3 and counts["relay"] == chiefs
    # An 8-satellite hexagonal disk at 200 m: the centre and 7... each intra pair within 250 m, all in one sub-center.
    intra = links.kind == "intra"
    subcenter = phase1_run["subcenter"].values
    assert (subcenter[links.node_a[intra]] == subcenter[links.node_b[intra]]).all()
    distance = np.linalg.norm(phase1_run["position"].values[links.node_a[intra], 0]
                              - phase1_run["position"].values[links.node_b[intra], 0], axis=-1)
    assert distance.max() <= 250.0 and distance.min() >= 199.0
    # Three sub-centers 120 deg apart in one plane: a ring of three in-plane links.
    assert counts["in_plane"] == 3
