"""Ground contacts against an independent authority: Skyfield's ``find_events`` with the same TLE and station.

Skyfield (Rhodes) propagates the TLE with its own SGP4 wrapper and its own TEME->ITRS rotation and
WGS-84 station; it is used here for geometry only, offline (built-in timescale, no ephemeris).
"""

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from astropy.time import Time

import twin
from twin.contacts import (
    Station,
    contact_windows,
    elevation_deg,
    itrs_from_geodetic_m,
    parse_station,
    station_itrs_m,
    station_up,
)

ISS_TLE = Path(__file__).resolve().parent.parent / "assets" / "tle" / "iss-2019-12-09.tle"
EDGE_TOLERANCE_S = 10.0  # the acceptance: rise and set within 10 s of Skyfield over a week
ELEVATION_TOLERANCE_DEG = 0.01  # maximum elevation: 0.01 deg is 140 m across track at 800 km range


def iss_week(step_s):
    tles = twin.read_tle_file(ISS_TLE.read_text())
    start = Time("2019-12-09T12:00:00", scale="utc")
    run = twin.run_orbits(twin.fleet_from_tles(tles), start, np.arange(0.0, 7 * 86400.0 + 1, step_s))
    return tles, start, run


def skyfield_events(tles, start, station, days=7):
    skyfield_api = pytest.importorskip("skyfield.api")
    timescale = skyfield_api.load.timescale(builtin=True)  # offline: no file is fetched
    satellite = skyfield_api.EarthSatellite(tles[0][1], tles[0][2], tles[0][0], timescale)
    topos = skyfield_api.wgs84.latlon(station.latitude_deg, station.longitude_deg, elevation_m=station.altitude_m)
    t0 = timescale.from_datetime(start.to_datetime(timezone=dt.UTC))
    times, events = satellite.find_events(topos, t0, t0 + days, altitude_degrees=station.min_elevation_deg)
    as_ns = lambda chosen: np.array([np.datetime64(t.utc_datetime().replace(tzinfo=None), "ns") for t in chosen])
    culminations = times[events == 1]
    elevations = (satellite - topos).at(culminations).altaz()[0].degrees
    return as_ns(times[events == 0]), as_ns(times[events == 2]), as_ns(culminations), elevations


@pytest.mark.parametrize("step_s", [10.0, 60.0])
@pytest.mark.parametrize("station", [Station("Miyun", 40.45, 116.86, 100.0, 5.0), Station("Sanya", 18.3, 109.3, 20.0, 10.0)])
def test_iss_passes_agree_with_skyfield_over_a_week(station, step_s):
    tles, start, run = iss_week(step_s)
    passes = contact_windows(run, [station])
    rises, sets, culminations, elevations = skyfield_events(tles, start, station)
    # The run starts and ends at the same instants as Skyfield's search, so the passes pair one to one.
    assert len(passes) == len(rises) == len(sets) >= 20
    seconds = lambda a, b: np.abs((a - b) / np.timedelta64(1, "s"))
    assert seconds(passes["acquisition"].to_numpy(), rises).max() < EDGE_TOLERANCE_S
    assert seconds(passes["loss"].to_numpy(), sets).max() < EDGE_TOLERANCE_S
    assert seconds(passes["culmination"].to_numpy(), culminations).max() < EDGE_TOLERANCE_S
    assert np.abs(passes["max_elevation_deg"].to_numpy() - elevations).max() < ELEVATION_TOLERANCE_DEG
    # Measured (a week from 2019-12-09 12:00): rise/set within 0.21/0.18 s (Miyun) and 0.20/0.15 s (Sanya)
    # at 10 s steps, 0.95/0.45 s and 1.63/1.12 s at 60 s steps; maximum elevation within 0.0021 deg.
    assert passes["acquisition_observed"].all() and passes["loss_observed"].all()


def test_station_on_the_ellipsoid_and_its_vertical():
    # WGS-84 (NIMA TR8350.2): a on the equator, b = a (1 - f) at the pole.
    points = station_itrs_m([0.0, 90.0, 0.0], [0.0, 0.0, 90.0], [0.0, 0.0, 1000.0])
    np.testing.assert_allclose(points, [[6378137.0, 0, 0], [0, 0, 6356752.314245], [0, 6379137.0, 0]], atol=1e-6)
    up = station_up([45.0], [0.0])
    np.testing.assert_allclose(up, [[np.sqrt(0.5), 0.0, np.sqrt(0.5)]], atol=1e-15)


def test_elevation_of_constructed_geometry():
    station = station_itrs_m([0.0], [0.0], [0.0])
    up = station_up([0.0], [0.0])
    overhead = itrs_from_geodetic_m(np.array([[0.0]]), np.array([[0.0]]), np.array([[750e3]]))
    on_horizon = station[0] + np.array([[[0.0, 1e6, 0.0]]])
    at_45 = station[0] + np.array([[[1e6, 1e6, 0.0]]])
    np.testing.assert_allclose(elevation_deg(np.concatenate([overhead, on_horizon, at_45]), station, up).ravel(),
                               [90.0, 0.0, 45.0], atol=1e-9)


def test_passes_cut_by_the_run_are_flagged():
    _, _, run = iss_week(60.0)
    station = Station("Miyun", 40.45, 116.86, 100.0, 5.0)
    passes = contact_windows(run, [station])
    middle = passes["acquisition"].iloc[3] + (passes["loss"].iloc[3] - passes["acquisition"].iloc[3]) / 2
    cut = contact_windows(run.sel(time=slice(middle, None)), [station])
    assert not cut["acquisition_observed"].iloc[0] and cut["loss_observed"].iloc[0]
    assert cut["acquisition"].iloc[0] == run["time"].sel(time=slice(middle, None)).values[0]
    assert abs((cut["loss"].iloc[0] - passes["loss"].iloc[3]).total_seconds()) < 1e-3


@pytest.mark.parametrize("text, message", [
    ("north", "station: 'north'"), ("95,10", "latitude 95.0"), ("10,400", "longitude 400.0"), ("1,2,3,4", "'1,2,3,4'"),
])
def test_bad_station_text_names_the_value(text, message):
    with pytest.raises(ValueError, match=message):
        parse_station(text)


def test_unknown_satellite_is_named(phase1_run):
    with pytest.raises(KeyError, match="NOPE"):
        contact_windows(phase1_run, [Station("Kiruna", 67.9, 21.0, 400.0, 5.0)], sats=["NOPE"])


def test_every_satellite_of_a_formation_sees_kiruna_at_nearly_the_same_times(phase1_run, phase1):
    # Members fly within a kilometre of their chief (7.5 km/s): their passes differ by well under a second.
    passes = contact_windows(phase1_run, [Station("Kiruna", 67.9, 21.0, 400.0, 5.0)])
    cluster = passes[passes["sat"].str.startswith("CC1-001-") & passes["acquisition_observed"]]
    spread = cluster.groupby(cluster.groupby("sat").cumcount())["acquisition"].agg(lambda t: (t.max() - t.min()).total_seconds())
    assert len(spread) >= 2 and spread.max() < 1.0
