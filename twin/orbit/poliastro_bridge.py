"""The twin and poliastro: satellites to and from poliastro ``Orbit`` s, and the twin's propagation
checked against poliastro's numerical propagation (Cowell's method with J2).

poliastro's last release (0.17.0) needs Python < 3.11, astropy < 6 and numpy < 2, so it is an
extra (``pip install '.[poliastro]'`` on Python 3.10) and is imported only inside the functions
that need it; :func:`satrec_from_state`, the heart of the way back, needs only ``sgp4``.

A twin satellite is an SGP4 element set (:meth:`twin.orbit.fleet.Fleet.satrecs`): **mean** elements,
which only SGP4 interprets correctly (REFERENCES: SGP4). A poliastro ``Orbit`` is an
**osculating** state. The bridge therefore goes through the state at an epoch:

* :func:`to_poliastro`: SGP4's position and velocity of the satellite at the epoch, rotated from
  TEME to GCRS by astropy (:class:`twin.orbit.frames.EarthOrientation`), as an ``Orbit`` about
  poliastro's Earth;
* :func:`from_poliastro`: the orbit's state rotated back to TEME and turned into the SGP4 element
  set whose state at that epoch is exactly that one (:func:`satrec_from_state`, Newton's method
  on SGP4 itself), so the satellite the twin flies passes through the orbit's state.

Both ways are exact at the epoch, so a designed satellite goes twin -> poliastro -> twin and
comes back as the same SGP4 trajectory: within a millimetre over a day
(``tests/test_poliastro_bridge.py``). Away from the epoch SGP4 and a numerical propagation part:
:func:`cross_check` measures by how much.

Examples
--------
The way back needs no poliastro: the state of a designed satellite gives its elements again.

>>> import twin
>>> from twin.orbit.poliastro_bridge import satrec_from_state, sgp4_state_teme
>>> scenario = twin.load_scenario("phase1")
>>> designed = twin.design_fleet(scenario).satrecs()[0]
>>> position_m, velocity_m_s = sgp4_state_teme(designed, scenario.epoch)
>>> again = satrec_from_state(scenario.epoch, position_m, velocity_m_s)
>>> bool(abs(again.no_kozai / designed.no_kozai - 1) < 1e-12 and abs(again.inclo - designed.inclo) < 1e-12)
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from astropy import units as u
from astropy.time import Time
from sgp4.api import Satrec
from sgp4.earth_gravity import wgs72

from twin.orbit.fleet import Fleet, FormationBlock, RelativeOrbits, satrec_from_elements
from twin.orbit.frames import EarthOrientation
from twin.orbit.propagation import PropagationError, chief_states
from twin.timegrid import julian_dates, time_grid, to_datetime64

# Newton's method on SGP4's state at the epoch: finite-difference steps on the elements (rad, or
# relative for the mean motion: each moves the state by centimetres, far above SGP4's round-off
# and far below its curvature) and the convergence test.
MEAN_MOTION_RELATIVE_STEP = 1e-8
ELEMENT_STEP = 1e-8
POSITION_TOLERANCE_M = 1e-5
VELOCITY_TOLERANCE_M_S = 1e-8
MAX_ITERATIONS = 30


def element_epoch(satrec: Satrec) -> Time:
    """The epoch (UTC) of an SGP4 element set."""
    return Time(satrec.jdsatepoch, satrec.jdsatepochF, format="jd", scale="utc")


def sgp4_states_teme(satrec: Satrec, start: Time, offsets_s) -> tuple[np.ndarray, np.ndarray]:
    """TEME positions (m) and velocities (m/s), shape (time, 3), of an SGP4 element set at ``start + offsets_s``."""
    jd, fr = julian_dates(start, np.atleast_1d(np.asarray(offsets_s, dtype=float)))
    position_km, velocity_km_s = chief_states([satrec], jd, fr)
    return position_km[0] * 1e3, velocity_km_s[0] * 1e3


def sgp4_state_teme(satrec: Satrec, time: Time) -> tuple[np.ndarray, np.ndarray]:
    """TEME position (m) and velocity (m/s), shape (3,), of an SGP4 element set at ``time``."""
    position_m, velocity_m_s = sgp4_states_teme(satrec, time, 0.0)
    return position_m[0], velocity_m_s[0]


def satrec_of(fleet: Fleet, name: str) -> Satrec:
    """The SGP4 element set of satellite ``name`` of ``fleet`` (a formation member's own: :meth:`Fleet.satrecs`).

    The twin flies a formation member as its chief plus linear relative motion, within 10 m of
    this element set over a day (``tests/test_propagation.py``); a chief is this element set.
    """
    names = list(fleet.names)
    if name not in names:
        raise KeyError(f"name: {name!r} is not a satellite of the fleet")
    return fleet.satrecs()[names.index(name)]


def _chosen(satellite: Fleet | Satrec, name: str | None) -> Satrec:
    if isinstance(satellite, Satrec):
        return satellite
    if name is None:
        raise ValueError("name: which satellite of the fleet? (name is required with a fleet)")
    return satrec_of(satellite, name)


def _two_body_elements(position_m: np.ndarray, velocity_m_s: np.ndarray, mu_m3_s2: float) -> np.ndarray:
    """Osculating (n rad/min, e cos w, e sin w, i, RAAN, u = w + M) of a state: Newton's first guess.

    Non-singular for near-circular orbits (the fleet's ``e ~ 0.001``); an equatorial orbit's node
    is put on the x axis.
    """
    radius, speed2 = np.linalg.norm(position_m), velocity_m_s @ velocity_m_s
    normal = np.cross(position_m, velocity_m_s)
    normal /= np.linalg.norm(normal)
    node = np.array([-normal[1], normal[0], 0.0])
    node = node / np.linalg.norm(node) if np.linalg.norm(node) > 1e-12 else np.array([1.0, 0.0, 0.0])
    ahead = np.cross(normal, node)
    eccentricity = ((speed2 - mu_m3_s2 / radius) * position_m - (position_m @ velocity_m_s) * velocity_m_s) / mu_m3_s2
    ecc = np.linalg.norm(eccentricity)
    semi_major_axis_m = 1.0 / (2.0 / radius - speed2 / mu_m3_s2)
    perigee = np.arctan2(eccentricity @ ahead, eccentricity @ node)
    true_anomaly = np.arctan2(position_m @ ahead, position_m @ node) - perigee
    eccentric_anomaly = np.arctan2(np.sqrt(1.0 - ecc**2) * np.sin(true_anomaly), ecc + np.cos(true_anomaly))
    mean_anomaly = eccentric_anomaly - ecc * np.sin(eccentric_anomaly)
    return np.array([np.sqrt(mu_m3_s2 / semi_major_axis_m**3) * 60.0, ecc * np.cos(perigee), ecc * np.sin(perigee),
                     np.arccos(np.clip(normal[2], -1.0, 1.0)), np.arctan2(node[1], node[0]), perigee + mean_anomaly])


def _element_set(epoch_jd: float, elements: np.ndarray, satnum: int) -> Satrec:
    mean_motion, ex, ey, incl, raan, latitude_argument = elements
    perigee = np.arctan2(ey, ex)
    return satrec_from_elements(epoch_jd, mean_motion, float(np.hypot(ex, ey)), incl, raan, perigee,
                                latitude_argument - perigee, satnum=satnum)


def satrec_from_state(epoch: Time, position_teme_m, velocity_teme_m_s, satnum: int = 0) -> Satrec:
    """The SGP4 element set (WGS-72, no drag) whose state at ``epoch`` is the given TEME state.

    Osculating to mean elements by Newton's method on SGP4 itself: from the two-body elements of
    the state, the six mean elements (mean motion, eccentricity vector, inclination, node,
    argument of latitude) are corrected until SGP4's position and velocity at ``epoch`` match
    within 10 um and 1e-8 m/s, in three or four iterations. The Jacobian is taken by finite
    differences and solved by least squares, so an eccentricity SGP4 cannot see (it holds mean
    eccentricities below 1e-6 at 1e-6) gets no step.

    Parameters
    ----------
    epoch : astropy.time.Time
        Epoch of the state; it becomes the element set's epoch.
    position_teme_m, velocity_teme_m_s : array_like
        Position (m) and velocity (m/s) in TEME, SGP4's frame, shape (3,).
    satnum : int
        Catalogue number of the element set.

    Returns
    -------
    sgp4.api.Satrec

    Raises
    ------
    ValueError
        If no element set reproduces the state (a hyperbolic or decaying orbit, for instance).
    """
    position_m, velocity_m_s = (np.asarray(value, dtype=float) for value in (position_teme_m, velocity_teme_m_s))
    target = np.concatenate([position_m, velocity_m_s])
    if target.shape != (6,) or not np.isfinite(target).all():
        raise ValueError(f"state: position and velocity must be three finite numbers each, not {target.tolist()}")
    mu_m3_s2 = wgs72.mu * 1e9  # the gravity model of satrec_from_elements
    if velocity_m_s @ velocity_m_s >= 2.0 * mu_m3_s2 / max(np.linalg.norm(position_m), 1.0):
        raise ValueError(f"state: {target.tolist()} is not a closed orbit about the Earth")
    elements = _two_body_elements(position_m, velocity_m_s, mu_m3_s2)
    epoch_jd = float(epoch.utc.jd1 + epoch.utc.jd2)
    scale = np.r_[np.ones(3), np.full(3, 60.0 / elements[0])]  # velocity times 1/n: metres, like position

    def missing(values: np.ndarray) -> np.ndarray:
        try:
            state = np.concatenate(sgp4_state_teme(_element_set(epoch_jd, values, satnum), epoch))
        except PropagationError:
            return np.full(6, np.nan)
        return (target - state) * scale

    steps = np.full(6, ELEMENT_STEP)
    gap = missing(elements)
    for _ in range(MAX_ITERATIONS):
        if not np.isfinite(gap).all():
            break
        if np.abs(gap[:3]).max() < POSITION_TOLERANCE_M and np.abs(gap[3:] / scale[3:]).max() < VELOCITY_TOLERANCE_M_S:
            return _element_set(epoch_jd, elements, satnum)
        steps[0] = MEAN_MOTION_RELATIVE_STEP * elements[0]
        jacobian = np.empty((6, 6))
        for column in range(6):
            moved = elements.copy()
            moved[column] += steps[column]
            jacobian[:, column] = (gap - missing(moved)) / steps[column]
        elements = elements + np.linalg.lstsq(jacobian, gap, rcond=1e-12)[0]
        gap = missing(elements)
    raise ValueError(f"state: no SGP4 element set reproduces {target.tolist()} at {epoch.utc.isot} "
                     f"(position missed by {np.abs(gap[:3]).max():.3g} m)")


def _teme_to_gcrs(time: Time) -> np.ndarray:
    """The TEME -> GCRS rotation (3, 3) at ``time``: astropy's, exactly (a single node)."""
    return EarthOrientation(time, np.zeros(1)).teme_to_gcrs[0]


def to_poliastro(satellite: Fleet | Satrec, name: str | None = None, epoch: Time | None = None):
    """A twin satellite as a poliastro ``Orbit`` about the Earth (GCRS) at ``epoch``.

    Parameters
    ----------
    satellite : Fleet or sgp4.api.Satrec
        A fleet (``name`` picks the satellite) or one SGP4 element set.
    name : str, optional
        The satellite's name in the fleet.
    epoch : astropy.time.Time, optional
        When; default the epoch of the satellite's elements.

    Returns
    -------
    poliastro.twobody.Orbit
        The osculating orbit through SGP4's position and velocity at ``epoch``, rotated from TEME
        to GCRS (the rotation's own rate, precession and nutation, would change the velocity by
        under 1e-4 m/s and is left out).
    """
    from poliastro.bodies import Earth
    from poliastro.twobody import Orbit

    satrec = _chosen(satellite, name)
    epoch = element_epoch(satrec) if epoch is None else epoch
    position_m, velocity_m_s = sgp4_state_teme(satrec, epoch)
    rotation = _teme_to_gcrs(epoch)
    return Orbit.from_vectors(Earth, (rotation @ position_m) * u.m, (rotation @ velocity_m_s) * (u.m / u.s),
                              epoch=epoch)


def from_poliastro(orbits, names) -> Fleet:
    """A twin fleet of poliastro ``Orbit`` s about the Earth, one SGP4 element set each.

    Each orbit's state at its epoch (rotated from GCRS to TEME) becomes the mean elements with
    which SGP4 passes through exactly that state (:func:`satrec_from_state`); the element set's
    epoch is the orbit's. The satellites are chiefs of no formation, labelled as satellites from
    TLEs are (plane -1, group ``poliastro``).

    Parameters
    ----------
    orbits : poliastro.twobody.Orbit or list of them
    names : str or list of str
        One unique name per orbit.

    Returns
    -------
    twin.orbit.fleet.Fleet
    """
    from poliastro.bodies import Earth
    from poliastro.frames import Planes

    orbits = list(orbits) if isinstance(orbits, (list, tuple)) else [orbits]
    names = np.array([names] if isinstance(names, str) else list(names))
    if len(names) != len(orbits) or len(set(names)) != len(names):
        raise ValueError(f"names: {len(names)} names for {len(orbits)} orbits; give one unique name per orbit")
    satrecs = []
    for index, orbit in enumerate(orbits):
        if orbit.attractor != Earth:
            raise ValueError(f"orbits[{index}]: an orbit about {orbit.attractor}, not the Earth")
        if orbit.plane != Planes.EARTH_EQUATOR:
            orbit = orbit.change_plane(Planes.EARTH_EQUATOR)
        to_teme = _teme_to_gcrs(orbit.epoch).T
        position, velocity = orbit.rv()
        satrecs.append(satrec_from_state(orbit.epoch, to_teme @ position.to_value(u.m),
                                         to_teme @ velocity.to_value(u.m / u.s), satnum=index + 1))
    count = len(satrecs)
    return Fleet([FormationBlock(satrecs, RelativeOrbits.chief_only())], names=names, subcenter=names.copy(),
                 plane=np.full(count, -1), owner=np.full(count, ""), group=np.full(count, "poliastro"),
                 bus=np.full(count, ""), role=np.full(count, "chief"))


def cross_check(satellite: Fleet | Satrec, name: str | None = None, duration_s: float = 86400.0,
                step_s: float = 60.0, start: Time | None = None, mu_km3_s2: float | None = None,
                rtol: float = 1e-11) -> pd.DataFrame:
    """How far poliastro's Cowell propagation with J2 takes a twin satellite from the twin's SGP4.

    Both start from SGP4's state at ``start`` (default: the elements' epoch). poliastro integrates
    two-body gravity (``mu_km3_s2``, default poliastro's Earth: the WGS-84 value) plus its
    ``J2_perturbation`` (its Earth's J2 and radius) with DOP853 at ``rtol``. Its J2 acts about the
    z axis of the frame it is given, so the integration runs in TEME, whose z axis is the Earth's
    pole of date: in GCRS (the J2000 pole, 0.36 deg away in 2026) the orbit plane would precess
    about the wrong axis and drift about a kilometre cross-track in a day.

    Parameters
    ----------
    satellite : Fleet or sgp4.api.Satrec
        A fleet (``name`` picks the satellite) or one SGP4 element set.
    name : str, optional
    duration_s, step_s : float
        Span and step of the comparison (s).
    start : astropy.time.Time, optional
    mu_km3_s2 : float, optional
        Gravitational parameter of the numerical propagation (km3 s-2).
    rtol : float
        Relative tolerance of the integrator.

    Returns
    -------
    pandas.DataFrame
        Indexed by UTC time: poliastro minus twin along the twin satellite's radial, along-track
        and cross-track directions, and its length (``radial_m``, ``along_track_m``,
        ``cross_track_m``, ``distance_m``; units in ``attrs["units"]``).

    Notes
    -----
    SGP4 is an analytic theory (WGS-72 constants; secular and periodic J2, J3 and J4 terms, some
    truncated); Cowell here integrates J2 alone. A day from a common state, for the phase-1
    orbit (750 km, e = 0.00115) the two differ by under 0.5 km radially, 0.3 km cross-track and
    up to 8.5 km along track (``tests/test_poliastro_bridge.py``), the along-track part depending
    on where on the orbit they start. It is a drift: each model reads its own mean semi-major axis
    from the same osculating state, and a difference ``da`` drifts ``1.5 n da t``, so 8.5 km a day
    is about 60 m of semi-major axis (the size of SGP4's short-period terms times their
    truncation, and of the J3 terms J2-only Cowell lacks). 1.15 km of it, whatever the start, is
    the gravitational parameters alone: WGS-72's 398600.8 against 398600.4418 km3/s2 gives the
    same state a mean motion larger by twice their relative difference, 1.8e-6 (vis-viva and
    Kepler's third law).
    """
    from poliastro.bodies import Earth
    from poliastro.core.perturbations import J2_perturbation
    from poliastro.core.propagation import func_twobody
    from poliastro.twobody import Orbit
    from poliastro.twobody.propagation import CowellPropagator
    from poliastro.twobody.sampling import EpochsArray

    satrec = _chosen(satellite, name)
    start = element_epoch(satrec) if start is None else start
    offsets_s = time_grid(start, duration_s, step_s)
    position_m, velocity_m_s = sgp4_states_teme(satrec, start, offsets_s)
    mu = Earth.k.to_value(u.km**3 / u.s**2) if mu_km3_s2 is None else float(mu_km3_s2)
    j2, radius_km = float(Earth.J2.value), Earth.R.to_value(u.km)

    def acceleration(t0, state, k):
        rate = func_twobody(t0, state, mu)
        rate[3:] += J2_perturbation(t0, state, mu, J2=j2, R=radius_km)
        return rate

    orbit = Orbit.from_vectors(Earth, position_m[0] * u.m, velocity_m_s[0] * (u.m / u.s), epoch=start)
    ephemeris = orbit.to_ephem(EpochsArray(start + offsets_s * u.s, method=CowellPropagator(rtol=rtol, f=acceleration)))
    difference_m = ephemeris.sample().get_xyz(xyz_axis=1).to_value(u.m) - position_m
    radial = position_m / np.linalg.norm(position_m, axis=-1, keepdims=True)
    normal = np.cross(position_m, velocity_m_s)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    along = np.cross(normal, radial)
    frame = pd.DataFrame({
        "radial_m": np.sum(difference_m * radial, axis=-1),
        "along_track_m": np.sum(difference_m * along, axis=-1),
        "cross_track_m": np.sum(difference_m * normal, axis=-1),
        "distance_m": np.linalg.norm(difference_m, axis=-1),
    }, index=pd.Index(to_datetime64(start, offsets_s), name="time"))
    frame.attrs["units"] = {column: "m" for column in frame.columns}
    return frame
