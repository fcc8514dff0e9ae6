"""Sun-synchronous orbit design: inclination from altitude, RAAN from local time of ascending node.

Pure functions on floats and arrays, in the units their names carry.
"""

import erfa
import numpy as np
from astropy.time import Time

from twin.constants import EARTH_EQUATORIAL_RADIUS_KM, EARTH_J2, EARTH_J3, EARTH_MU_KM3_S2, SUN_SYNCHRONOUS_RATE_RAD_S


def circular_orbit_period_s(altitude_km):
    """Period (s) of a circular orbit at ``altitude_km`` above the equatorial radius: 2 pi sqrt(a^3 / mu).

    >>> round(float(circular_orbit_period_s(750.0)), 1)
    5989.3
    """
    return 2 * np.pi * np.sqrt((EARTH_EQUATORIAL_RADIUS_KM + np.asarray(altitude_km, dtype=float)) ** 3 / EARTH_MU_KM3_S2)


def sun_synchronous_inclination_deg(altitude_km, eccentricity=0.0):
    """Inclination (deg) whose J2 nodal precession is sun-synchronous, to first order in J2.

    .. math:: \\cos i = -\\frac{2 \\dot\\Omega_\\odot a^{7/2} (1-e^2)^2}{3 J_2 R^2 \\sqrt{\\mu}}

    with ``a`` the equatorial radius plus ``altitude_km`` (Vallado, *Fundamentals of Astrodynamics
    and Applications*, sun-synchronous orbits; WGS-84 radius and mu, EGM-96 J2).

    >>> round(float(sun_synchronous_inclination_deg(750.0)), 3)
    98.394
    """
    semi_major_axis_km = EARTH_EQUATORIAL_RADIUS_KM + np.asarray(altitude_km, dtype=float)
    mean_motion_rad_s = np.sqrt(EARTH_MU_KM3_S2 / semi_major_axis_km**3)
    semi_latus_rectum_km = semi_major_axis_km * (1.0 - np.asarray(eccentricity, dtype=float) ** 2)
    cos_i = -2.0 * SUN_SYNCHRONOUS_RATE_RAD_S * semi_latus_rectum_km**2 / (
        3.0 * mean_motion_rad_s * EARTH_J2 * EARTH_EQUATORIAL_RADIUS_KM**2
    )
    if np.any(np.abs(cos_i) > 1.0):
        raise ValueError(f"altitude_km: {altitude_km!r} has no sun-synchronous inclination")
    return np.degrees(np.arccos(cos_i))


def frozen_eccentricity(altitude_km, inclination_deg):
    """Eccentricity of the frozen orbit (perigee held at 90 deg) at ``altitude_km`` and ``inclination_deg``.

    .. math:: e_f = -\\frac{J_3 R \\sin i}{2 J_2 a}

    to first order in J2 and J3 (Vallado, *Fundamentals of Astrodynamics and Applications*, frozen
    orbits; WGS-84 radius, EGM-96 J2 and J3), with ``a`` the equatorial radius plus ``altitude_km``.

    >>> round(float(frozen_eccentricity(750.0, 98.39)), 6)
    0.001035
    """
    semi_major_axis_km = EARTH_EQUATORIAL_RADIUS_KM + np.asarray(altitude_km, dtype=float)
    return -EARTH_J3 * EARTH_EQUATORIAL_RADIUS_KM * np.sin(np.radians(inclination_deg)) / (
        2.0 * EARTH_J2 * semi_major_axis_km)


def mean_sun_right_ascension_rad(time: Time):
    """Right ascension (rad, true equator and mean equinox of date) of the mean Sun at ``time``.

    UT1 is mean solar time at Greenwich, so the mean Sun's Greenwich hour angle is UT1 - 12 h and
    its right ascension is GMST minus that angle (GMST 1982, the sidereal time SGP4's TEME uses).
    """
    ut1 = time.ut1
    gmst_rad = erfa.gmst82(ut1.jd1, ut1.jd2)
    ut1_day_fraction = np.mod(ut1.jd1 - 0.5, 1.0) + np.mod(ut1.jd2, 1.0)
    hour_angle_rad = 2.0 * np.pi * (np.mod(ut1_day_fraction, 1.0) - 0.5)
    return np.mod(gmst_rad - hour_angle_rad, 2.0 * np.pi)


def raan_from_ltan_rad(ltan_hours, time: Time):
    """Right ascension of the ascending node (rad, TEME) that puts the node at local mean time ``ltan_hours``."""
    offset_rad = (np.asarray(ltan_hours, dtype=float) - 12.0) * np.pi / 12.0
    return np.mod(mean_sun_right_ascension_rad(time) + offset_rad, 2.0 * np.pi)
