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
from twin.network.contacts import (
    Station,
    contact_windows,
    elevation_deg,
    elevation_sine,
    elevation_sine_margin,
    formation_chiefs,
    formation_spread_m,
    itrs_from_geodetic_m,
    parse_station,
    satellite_itrs_m,
    station_itrs_m,
    station_up,
    stations_of,
)

ISS_TLE = Path(__file__).resolve().parent.parent / "assets" / "tle" / "iss-2019-12-09.tle"
EDGE_TOLERANCE_S = 10.0  # the acceptance: rise and set within 10 s of Skyfield over a week
ELEVATION_TOLERANCE_DEG = 0.01  # maximum elevation: 0.01 deg is 140 m across track at 800 km range
KIRUNA = Station("Kiruna", 67.9, 21.0, 400.0, 5.0)


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


def assert_same_passes(screened, full):
    """Same rows in the same order: names and flags equal, times within 1 ms, elevations within 1e-9 deg."""
    assert list(screened.columns) == list(full.columns) and len(screened) == len(full)
    for column in full.columns:
        got, expected = screened[column].to_numpy(), full[column].to_numpy()
        if expected.dtype.kind == "M":
            assert np.abs((got - expected) / np.timedelta64(1, "ns")).max(initial=0.0) <= 1e6, column
        elif expected.dtype.kind == "f":
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9 if column == "max_elevation_deg" else 1e-3,
                                       err_msg=column)
        else:
            np.testing.assert_array_equal(got, expected, err_msg=column)


def stations_in_view(scenario):
    return stations_of(scenario) + [KIRUNA]  # Kiruna (67.9 N) sees the polar orbits on most revolutions


def test_screening_members_by_their_chief_finds_the_passes_of_the_full_search(phase1_run, phase1):
    rows = np.arange(phase1_run.sizes["sat"])
    assert (formation_chiefs(phase1_run, rows) >= 0).sum() == 21  # every member of the three formations
    full = contact_windows(phase1_run, stations_in_view(phase1), screen=False)
    assert len(full) > 100 and full["station"].nunique() == 4
    assert_same_passes(contact_windows(phase1_run, stations_in_view(phase1)), full)


def test_screened_search_on_a_cut_run_keeps_the_cut_passes_flagged(phase1_run, phase1):
    member = contact_windows(phase1_run, [KIRUNA], sats=["CC1-002-05"], screen=False)
    middle = lambda i: member["acquisition"].iloc[i] + (member["loss"].iloc[i] - member["acquisition"].iloc[i]) / 2
    cut = phase1_run.sel(time=slice(middle(0), middle(len(member) - 1)))  # the run starts and ends in a pass
    screened, full = contact_windows(cut, [KIRUNA]), contact_windows(cut, [KIRUNA], screen=False)
    members = full["sat"].str.startswith("CC1-002-") & (full["sat"] != "CC1-002-01")
    assert (members & ~full["acquisition_observed"]).sum() == (members & ~full["loss_observed"]).sum() == 7
    assert_same_passes(screened, full)


def test_screened_search_of_some_members_and_of_a_run_without_labels(phase1_run, phase1):
    members = ["CC1-001-03", "CC1-001-07", "CC1-002-02"]  # their chiefs are not asked for but screen them
    assert_same_passes(contact_windows(phase1_run, stations_in_view(phase1), sats=members),
                       contact_windows(phase1_run, stations_in_view(phase1), sats=members, screen=False))
    unlabelled = phase1_run.drop_vars(["role", "subcenter"])
    assert (formation_chiefs(unlabelled, np.arange(unlabelled.sizes["sat"])) == -1).all()
    assert_same_passes(contact_windows(unlabelled, [KIRUNA]), contact_windows(phase1_run, [KIRUNA], screen=False))


def test_screened_search_of_phase2_formations_at_10_s():
    phase2 = twin.load_scenario("phase2")  # formations of 37 satellites, 24 sub-centers
    run = twin.run_scenario(phase2, duration_s=2 * 3600, step_s=10, subsystems=False)
    full = contact_windows(run, stations_of(phase2), screen=False)
    assert len(full) > 1000
    assert_same_passes(contact_windows(run, stations_of(phase2)), full)


def test_member_elevation_sine_stays_within_the_margin_of_its_chief(phase1_run, phase1):
    # The bound of elevation_sine_margin without its safety factor, on every step of the run.
    stations = stations_in_view(phase1)
    station_m = station_itrs_m([s.latitude_deg for s in stations], [s.longitude_deg for s in stations],
                               [s.altitude_m for s in stations])
    up = station_up([s.latitude_deg for s in stations], [s.longitude_deg for s in stations])
    sine = elevation_sine(satellite_itrs_m(phase1_run), station_m, up)
    rows = np.arange(phase1_run.sizes["sat"])
    chief_of, position_m = formation_chiefs(phase1_run, rows), phase1_run["position"].values
    for chief in np.unique(chief_of[chief_of >= 0]):
        members = rows[chief_of == chief]
        spread_m = formation_spread_m(position_m[members], position_m[chief])
        radius_m = np.linalg.norm(position_m[chief], axis=-1).min()
        bound = spread_m / (radius_m - np.linalg.norm(station_m, axis=-1) - spread_m)
        difference = np.abs(sine[members] - sine[chief][None]).max(axis=(0, 2))
        assert (difference <= bound).all() and (bound < elevation_sine_margin(spread_m, radius_m, station_m)).all()
        assert 300.0 < spread_m < 1000.0  # phase 1 formations: members within a kilometre of their chief
