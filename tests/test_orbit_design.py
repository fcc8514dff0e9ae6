"""Orbit design against authorities: SSO inclination, RAAN rate, local time of the ascending node."""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import ITRS, TEME, CartesianRepresentation
from astropy.time import Time

import twin
from twin.orbit.constellation import sgp4_sun_synchronous_elements
from twin.orbit.fleet import satrec_from_elements
from twin.orbit.design import raan_from_ltan_rad, sun_synchronous_inclination_deg

HUNDREDTH_DEGREE = 0.01


@pytest.mark.parametrize("altitude_km", [700.0, 750.0, 800.0])
def test_sso_inclination_matches_the_published_relation(altitude_km):
    """Wertz & Larson, *Space Mission Analysis and Design* (3rd ed.), sun-synchronous orbits, and
    Wikipedia 'Sun-synchronous orbit': for a circular orbit, cos i = -(a / 12 352 km)^(7/2)."""
    a_km = 6378.137 + altitude_km
    published_deg = np.degrees(np.arccos(-((a_km / 12352.0) ** 3.5)))
    assert abs(sun_synchronous_inclination_deg(altitude_km) - published_deg) < HUNDREDTH_DEGREE


@pytest.mark.parametrize("altitude_km, published_deg", [(700.0, 98.19), (750.0, 98.39), (800.0, 98.60)])
def test_sso_inclination_matches_vallado_relation_with_wgs84_constants(altitude_km, published_deg):
    """REFERENCES.md: cos i = -2 rate a^2 (1-e^2)^2 / (3 n J2 R^2) (Vallado), WGS-84 a and mu, EGM-96 J2,
    rate 360 deg per tropical year; the values quoted to 0.01 deg are those this relation gives."""
    mu, radius, j2 = 398600.4418, 6378.137, 1.08262668e-3
    rate = 2 * np.pi / (365.2422 * 86400)
    a = radius + altitude_km
    independent = np.degrees(np.arccos(-2 * rate * a**2 / (3 * np.sqrt(mu / a**3) * j2 * radius**2)))
    assert abs(independent - published_deg) < 0.005
    assert abs(sun_synchronous_inclination_deg(altitude_km) - published_deg) < HUNDREDTH_DEGREE


def test_sentinel1_inclination():
    """REFERENCES.md, Sentinel-1: about 693 km, 98.18 deg. ESA quotes a mean altitude over the oblate
    Earth rather than a - R_equator, so agreement is expected to a few hundredths of a degree."""
    assert abs(sun_synchronous_inclination_deg(693.0) - 98.18) < 0.03


def test_eccentricity_moves_the_inclination_towards_polar():
    """A smaller semi-latus rectum p = a(1-e^2) speeds the node up, so cos i must shrink: i moves towards 90 deg."""
    assert 90.0 < sun_synchronous_inclination_deg(750.0, 0.01) < sun_synchronous_inclination_deg(750.0, 0.0)


def test_no_sso_above_the_limit():
    with pytest.raises(ValueError, match="altitude_km"):
        sun_synchronous_inclination_deg(7000.0)


def osculating_raan_deg(satrec, jd, fr):
    _, r, v = satrec.sgp4(jd, fr)
    h = np.cross(r, v)
    return np.degrees(np.arctan2(h[0], -h[1]))


def test_designed_raan_advances_360_degrees_per_year():
    """A sun-synchronous plane turns 360 deg per tropical year (REFERENCES.md, 0.98565 deg/day).
    Measured from SGP4 osculating states one tropical year apart: within 1 deg."""
    epoch = Time("2026-03-20T00:00:00", scale="utc")
    jd = epoch.jd1 + epoch.jd2
    mean_motion, inclination = sgp4_sun_synchronous_elements(jd, 750.0, 0.00115, np.pi / 2)
    satrec = satrec_from_elements(jd, mean_motion, 0.00115, inclination, 1.0, np.pi / 2, 0.0)
    start = osculating_raan_deg(satrec, jd, 0.0)
    end = osculating_raan_deg(satrec, jd + 365.0, 0.2422)
    advance = (end - start) % 360.0
    advance = advance + 360.0 if advance < 180 else advance  # one full turn plus the remainder
    assert abs(advance - 360.0) < 1.0, advance
    # Halfway, the plane has turned half a turn (no large secular error hiding behind a full turn).
    half = (osculating_raan_deg(satrec, jd + 182.0, 0.6211) - start) % 360.0
    assert abs(half - 180.0) < 0.5


def ascending_node_local_mean_time_h(satrec, start: Time) -> float:
    """Local mean solar time (h) at the first ascending node after ``start``, measured independently:
    node found by bisection on z (TEME), its Earth-fixed longitude from astropy's TEME->ITRS, and
    local mean time = UT1 + longitude / 15 deg per hour."""
    jd = start.jd1 + start.jd2
    seconds = np.arange(0, 7200, 10.0)
    _, r, _ = satrec.sgp4_array(np.full(seconds.size, jd), seconds / 86400.0)
    k = np.flatnonzero((r[:-1, 2] < 0) & (r[1:, 2] >= 0))[0]
    lo, hi = seconds[k], seconds[k + 1]
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        _, rm, _ = satrec.sgp4(jd, mid / 86400.0)
        lo, hi = (mid, hi) if rm[2] < 0 else (lo, mid)
    node_time = start + lo * u.s
    _, rn, _ = satrec.sgp4(jd, lo / 86400.0)
    itrs = TEME(CartesianRepresentation(np.array(rn) * u.km), obstime=node_time).transform_to(ITRS(obstime=node_time))
    longitude_deg = np.degrees(np.arctan2(itrs.y.value, itrs.x.value))
    ut1_hours = (node_time.ut1.jd1 - 0.5 + node_time.ut1.jd2) % 1.0 * 24.0
    return (ut1_hours + longitude_deg / 15.0) % 24.0


@pytest.mark.parametrize("ltan_hours", [18.0, 6.0, 10.5])
def test_raan_from_ltan_puts_the_node_at_that_local_time(ltan_hours):
    """Within 30 s of local time (0.125 deg of longitude; osculating vs mean node: about 0.01 deg)."""
    epoch = Time("2035-06-01T00:00:00", scale="utc")
    jd = epoch.jd1 + epoch.jd2
    mean_motion, inclination = sgp4_sun_synchronous_elements(jd, 750.0, 0.0, 0.0)
    raan = raan_from_ltan_rad(ltan_hours, epoch)
    satrec = satrec_from_elements(jd, mean_motion, 0.0, inclination, raan, 0.0, 0.0)
    measured = ascending_node_local_mean_time_h(satrec, epoch)
    difference_s = ((measured - ltan_hours + 12) % 24 - 12) * 3600
    assert abs(difference_s) < 30.0, difference_s


def test_designed_altitude_is_the_scenario_altitude():
    """SGP4's mean semi-major axis of a designed satellite is the WGS-84 equatorial radius plus the altitude."""
    scenario = twin.load_scenario("phase1")
    chief = twin.design_fleet(scenario).blocks[0].chiefs[0]
    assert abs(chief.a * chief.radiusearthkm - (6378.137 + 750.0)) < 1e-3  # km


def test_refined_inclination_is_close_to_first_order():
    """The refinement for SGP4's J2^2 and J4 node-rate terms moves the inclination by hundredths of a degree."""
    epoch = Time("2026-06-01", scale="utc")
    _, inclination = sgp4_sun_synchronous_elements(epoch.jd1 + epoch.jd2, 750.0, 0.00115, np.pi / 2)
    assert 0.001 < abs(np.degrees(inclination) - sun_synchronous_inclination_deg(750.0, 0.00115)) < 0.05


@pytest.mark.parametrize("name", ["phase1", "phase2", "phase3"])
def test_scenario_eccentricity_is_the_frozen_orbit_value_its_comment_gives(name):
    """The scenarios' comment gives e = -J3 R sin i / (2 J2 a) (Vallado, frozen orbits): 1.035e-3 at 750 km, not
    the 1.15e-3 they once used; the value must be what the formula yields at the orbit's altitude."""
    from twin.orbit.design import frozen_eccentricity

    orbit = twin.load_scenario(name).orbit
    inclination = sun_synchronous_inclination_deg(orbit.altitude_km, orbit.eccentricity)
    assert orbit.eccentricity == pytest.approx(float(frozen_eccentricity(orbit.altitude_km, inclination)), abs=1e-6)


def test_frozen_eccentricity_follows_j3_over_j2():
    """Vallado's first-order frozen eccentricity for a polar 750 km orbit: -J3 R / (2 J2 a) with EGM-96 J2, J3."""
    from twin.orbit.design import frozen_eccentricity

    expected = 2.53241e-6 * 6378.137 / (2 * 1.08262668e-3 * (6378.137 + 750.0))
    assert float(frozen_eccentricity(750.0, 90.0)) == pytest.approx(expected, rel=1e-12)
