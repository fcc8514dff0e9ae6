"""Physical constants of the twin, in SI units unless the name says otherwise.

Each constant names its source (see ``shared/REFERENCES.md``).
"""

# WGS-84 ellipsoid (NIMA TR8350.2).
EARTH_EQUATORIAL_RADIUS_KM = 6378.137
EARTH_FLATTENING = 1.0 / 298.257223563
EARTH_ECCENTRICITY_SQUARED = EARTH_FLATTENING * (2.0 - EARTH_FLATTENING)

# WGS-84 gravitational parameter, km^3/s^2.
EARTH_MU_KM3_S2 = 398600.4418

# EGM-96 / WGS-84 unnormalised second zonal harmonic.
EARTH_J2 = 1.08262668e-3

# EGM-96 unnormalised third zonal harmonic (Lemoine et al. 1998, NASA/TP-1998-206861: C30 = 9.5716e-7
# normalised, J3 = -sqrt(7) C30).
EARTH_J3 = -2.53241e-6

# Sun-synchronous nodal rate: 360 deg per tropical year of 365.2422 days.
TROPICAL_YEAR_S = 365.2422 * 86400.0
SUN_SYNCHRONOUS_RATE_RAD_S = 2.0 * 3.141592653589793 / TROPICAL_YEAR_S

# IAU 2015 nominal solar radius (Resolution B3).
SUN_RADIUS_KM = 695700.0

# Total solar irradiance at 1 au (Kopp & Lean 2011).
SOLAR_CONSTANT_W_M2 = 1361.0

# Stefan-Boltzmann constant, exact in SI since 2019.
STEFAN_BOLTZMANN_W_M2_K4 = 5.670374419e-8

SECONDS_PER_DAY = 86400.0

# Highest satellite number an SGP4 element set can carry: 339,999 ("Z9999" in the Alpha-5 scheme of
# five-column catalogue numbers; python-sgp4's Satrec.sgp4init refuses more). The twin numbers each
# designed satellite, so a scenario may have at most this many.
SGP4_MAX_SATELLITE_NUMBER = 339_999

# Julian year (IAU): the year used for ages and degradation rates.
JULIAN_YEAR_S = 365.25 * SECONDS_PER_DAY

# Astronomical unit, m (IAU 2012 Resolution B2, exact).
ASTRONOMICAL_UNIT_M = 149_597_870_700.0

# Earth's Bond albedo and outgoing longwave radiation at the top of the atmosphere, global means
# (approximate; REFERENCES.md, "Earth albedo", "Earth outgoing infrared").
EARTH_ALBEDO = 0.30
EARTH_INFRARED_W_M2 = 240.0

# Speed of light in vacuum, exact in SI.
SPEED_OF_LIGHT_M_S = 299_792_458.0

# One rotation of the Earth relative to the fixed stars (IERS), and the geostationary radius it
# sets with WGS-84 mu: 42,164.2 km.
SIDEREAL_DAY_S = 86164.0905
EARTH_ROTATION_RAD_S = 2.0 * 3.141592653589793 / SIDEREAL_DAY_S  # 7.292115e-5 rad/s, about the ITRS z axis
GEOSTATIONARY_RADIUS_M = (EARTH_MU_KM3_S2 * 1e9 * (SIDEREAL_DAY_S / (2.0 * 3.141592653589793)) ** 2) ** (1.0 / 3.0)

EARTH_EQUATORIAL_RADIUS_M = EARTH_EQUATORIAL_RADIUS_KM * 1e3
