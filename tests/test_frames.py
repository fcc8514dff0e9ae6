"""Frames and geodetic coordinates against astropy and ERFA; the offline policy for 2035."""

import socket
import warnings

import erfa
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import GCRS, ITRS, TEME, CartesianRepresentation
from astropy.time import Time

import twin
from twin.orbit.frames import EarthOrientation, geodetic, rotate
from twin.offline import apply_offline_policy


@pytest.mark.parametrize("start", ["2026-06-01T00:00:00", "2035-06-01T00:00:00"])
def test_rotation_matrices_match_astropy_to_a_millimetre(start):
    """The interpolated TEME->GCRS and TEME->ITRS rotations applied to a LEO position equal astropy's own
    transformation at off-node times within 1 mm (7,000 km radius: 1.4e-10 rad)."""
    start = Time(start, scale="utc")
    offsets = np.linspace(0.0, 2 * 86400.0, 577) + 17.3  # not on the hourly nodes
    orientation = EarthOrientation(start, offsets)
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(1, offsets.size, 3))
    vectors *= 7000.0 / np.linalg.norm(vectors, axis=-1, keepdims=True)
    times = start + offsets * u.s
    teme = TEME(CartesianRepresentation(vectors[0].T * u.km), obstime=times)
    gcrs = teme.transform_to(GCRS(obstime=times)).cartesian.xyz.to_value(u.km).T
    itrs = teme.transform_to(ITRS(obstime=times)).cartesian.xyz.to_value(u.km).T
    assert np.abs(rotate(orientation.teme_to_gcrs, vectors)[0] - gcrs).max() < 1e-6
    assert np.abs(rotate(orientation.teme_to_itrs, vectors)[0] - itrs).max() < 1e-6


def test_geodetic_matches_erfa_to_a_millimetre():
    """ERFA's gc2gd (SOFA, WGS-84) is the authority for geodetic coordinates."""
    rng = np.random.default_rng(2)
    directions = rng.normal(size=(5000, 3))
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    radii = rng.uniform(6357.0, 8000.0, size=(5000, 1))
    points = directions * radii
    latitude, longitude, height = geodetic(points * 1e3)
    expected_longitude, expected_latitude, expected_height = erfa.gc2gd(1, points * 1e3)  # WGS84, metres
    assert np.abs(height - expected_height).max() < 1e-3
    assert np.abs(np.radians(latitude) - expected_latitude).max() * 6378137.0 < 1e-3
    assert np.abs(np.radians(longitude) - expected_longitude).max() * 6378137.0 < 1e-3


def test_2035_runs_offline_without_warnings(monkeypatch):
    """Dates past the bundled IERS tables and leap-second file work, with no download attempt and no
    warning a user must act on (the policy is in twin/offline.py)."""
    def no_network(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        apply_offline_policy()  # what `import twin` does
        scenario = twin.load_scenario("phase1")
        start = Time("2035-12-31T12:00:00", scale="utc")
        run = twin.run_scenario(scenario, start=start, duration_s=3600.0, step_s=60.0)
    assert np.isfinite(run["latitude"].values).all()
    assert "IERS" in run.attrs["earth_orientation"]


def test_astropy_is_configured_never_to_download():
    from astropy.utils import data, iers

    assert iers.conf.auto_download is False
    assert data.conf.allow_internet is False
