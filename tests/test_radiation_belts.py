"""The trapped-particle models as the twin calls them (twin.radiation.belts), and the map that stands for
them along runs (twin.radiation.maps) against the models evaluated directly."""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import EarthLocation
from astropy.time import Time

import twin
from twin.radiation.belts import (PROTON_TABLE_ENERGIES_MEV, field_of, geomagnetic_coordinates, integral_flux_cm2_s,
                                  trapped_flux_cm2_s)
from twin.radiation.environment import RadiationSettings, radiation_map
from twin.radiation.maps import GRID_ASSET, geomagnetic_grid
from twin.radiation.ranges import penetration_energies_mev


def test_reproduces_the_example_documented_by_aep8():
    # aep8's README: model(solar="max", particle="p").integral_flux(EarthLocation.from_geodetic(15 deg, -45 deg,
    # 300 km), Time("2025-01-01 18:37:22"), 10 MeV) = 3.04495297 cm-2 s-1 (longitude first in from_geodetic).
    assert trapped_flux_cm2_s("p", "max", 10.0, -45.0, 15.0, 300.0) == pytest.approx(3.04495297, rel=1e-8)


def test_the_models_ignore_the_date_so_a_fixed_map_stands_for_every_epoch():
    import aep8

    location = EarthLocation.from_geodetic([-40.0, 100.0, 0.0] * u.deg, [-30.0, 10.0, 70.0] * u.deg, 750.0 * u.km)
    for particle, solar in (("p", "min"), ("p", "max"), ("e", "max")):
        model = aep8.model(particle, solar)
        early = model.geomagnetic_coordinates(location, Time("1970-01-01"))
        late = model.geomagnetic_coordinates(location, Time("2035-06-01"))
        np.testing.assert_allclose(early, late, rtol=1e-12)  # equal to rounding


def test_ap8_min_and_max_agree_at_the_equator_above_low_shells():
    # Sawyer & Vette 1976 (NSSDC/WDC-A-R&S 76-06, the AP-8 report), p. 7: "The AP8MAX equatorial radial
    # profiles differ from AP8MIN only for L below 1.3 Earth radii".
    for l_shell in (2.0, 2.5, 3.0):
        for energy_mev in (1.0, 10.0, 30.0):
            assert integral_flux_cm2_s("p", "max", energy_mev, l_shell, 1.0) == pytest.approx(
                integral_flux_cm2_s("p", "min", energy_mev, l_shell, 1.0), rel=1e-12)
    assert integral_flux_cm2_s("p", "max", 10.0, 1.2, 1.0) < 0.8 * integral_flux_cm2_s("p", "min", 10.0, 1.2, 1.0)


def test_between_its_table_energies_ap8_is_log_linear_in_energy():
    """What twin.radiation.upsets relies on to integrate the spectrum from the table energies alone."""
    l_shell, b_ratio = np.array([1.2, 1.5, 1.3]), np.array([1.2, 1.3, 1.05])
    for solar in ("min", "max"):
        for low, high in zip(PROTON_TABLE_ENERGIES_MEV[:-2], PROTON_TABLE_ENERGIES_MEV[1:-1]):
            middle = integral_flux_cm2_s("p", solar, 0.3 * low + 0.7 * high, l_shell, b_ratio)
            low_flux, high_flux = (integral_flux_cm2_s("p", solar, energy, l_shell, b_ratio) for energy in (low, high))
            both = (low_flux > 0) & (high_flux > 0)  # where the spectrum ends between them, the model does otherwise
            np.testing.assert_allclose(middle[both], low_flux[both] ** 0.3 * high_flux[both] ** 0.7, rtol=1e-9)


def test_each_model_has_its_field_and_a_bad_activity_is_refused():
    assert field_of("p", "max") == "gsfc70" and field_of("p", "min") == field_of("e", "max") == "jc60"
    with pytest.raises(ValueError, match="solar: 'mean'"):
        field_of("p", "mean")
    with pytest.raises(ValueError, match="solar: 'average'"):
        RadiationSettings(solar="average")


def test_the_shipped_grid_is_the_models_fields_at_its_nodes():
    grid = geomagnetic_grid()
    rng = np.random.default_rng(20)
    nodes = tuple(rng.integers(0, size, 40) for size in grid.grid.shape)
    latitude, longitude, altitude = grid.grid.latitude_deg[nodes[0]], grid.grid.longitude_deg[nodes[1]], \
        grid.grid.altitude_km[nodes[2]]
    for field in ("jc60", "gsfc70"):
        l_shell, b_ratio = geomagnetic_coordinates(latitude, longitude, altitude, field)
        closed = (l_shell > 0) & (l_shell < 20)  # open field lines are stored as far away (maps.FAR_L_SHELL)
        assert closed.sum() > 25
        np.testing.assert_allclose(grid.l_shell[field][nodes][closed], l_shell[closed], rtol=2e-6)
        np.testing.assert_allclose(grid.b_ratio[field][nodes][closed], b_ratio[closed], rtol=2e-6)
    assert GRID_ASSET == ("radiation", "geomagnetic_grid.npz")


@pytest.fixture(scope="module")
def phase1_day():
    return twin.run_scenario(twin.load_scenario("phase1"), duration_s=86400.0, step_s=60.0, subsystems=False,
                             representatives=True)


def test_the_map_follows_the_models_along_a_real_orbit(phase1_day):
    """500 random steps of a day of a phase-1 satellite (710-830 km): the map against AP8/AE8 evaluated at
    each position. The models' own stated uncertainty is a factor of 2; the map's error is a few per cent
    inside the belts and larger only at their edges, where the flux changes by an order of magnitude
    between two grid nodes (2 deg, about 240 km)."""
    satellite = phase1_day.isel(sat=1)
    steps = np.sort(np.random.default_rng(0).choice(satellite.sizes["time"], 500, replace=False))
    latitude, longitude = satellite.latitude.values[steps], satellite.longitude.values[steps]
    altitude_km = satellite.altitude.values[steps] / 1e3
    settings = RadiationSettings(solar="min", shielding_mm=2.0)
    proton_mev, electron_mev = penetration_energies_mev(settings.shielding_mm)
    mapped = radiation_map(settings, altitude_km.min(), altitude_km.max()).at(latitude, longitude, altitude_km)
    for name, particle, energy_mev, median_bound, p90_bound in (("proton_flux_cm2_s", "p", proton_mev, 0.05, 0.15),
                                                                ("electron_flux_cm2_s", "e", electron_mev, 0.08, 0.35)):
        exact = trapped_flux_cm2_s(particle, "min", energy_mev, latitude, longitude, altitude_km)
        assert mapped[name].mean() == pytest.approx(exact.mean(), rel=0.02), name
        inside = exact > 0.01 * exact.max()
        assert inside.sum() >= 30, name
        error = np.abs(mapped[name][inside] / exact[inside] - 1.0)
        assert np.median(error) < median_bound and np.percentile(error, 90) < p90_bound, (name, np.median(error))
        assert np.all(mapped[name][exact == 0.0] < 0.05 * exact.max()), name


def test_the_saa_of_ap8_is_where_it_was_measured():
    """Knoll, Holzer & Schmidtke 1977 (J. Geophys. Res. 82, 5281; Aeros A and B, 1973-74, 700-800 km): the
    SAA's centre near 30 S, 40 W, the era of AP8's fields. At about 500 km it spans -50..0 deg latitude
    and -90..+40 deg longitude (Wikipedia, South Atlantic Anomaly, "Position and shape"; it has since
    drifted west about 0.3 deg a year)."""
    grid = geomagnetic_grid()
    latitude, longitude = np.meshgrid(grid.grid.latitude_deg, grid.grid.longitude_deg[:-1], indexing="ij")
    for altitude_km, solar in ((750.0, "min"), (750.0, "max"), (500.0, "min"), (500.0, "max")):
        level = int(np.flatnonzero(grid.grid.altitude_km == altitude_km)[0])
        field = field_of("p", solar)
        flux = integral_flux_cm2_s("p", solar, 10.0, grid.l_shell[field][:, :-1, level],
                                   grid.b_ratio[field][:, :-1, level])
        peak = np.unravel_index(np.argmax(flux), flux.shape)
        if altitude_km == 750.0:
            assert abs(latitude[peak] + 30.0) <= 8.0 and abs(longitude[peak] + 40.0) <= 8.0, (solar, peak)
        else:
            strong = flux >= 0.1 * flux.max()
            step = 2.0  # one grid step
            assert latitude[strong].min() >= -50.0 - step and latitude[strong].max() <= 0.0 + step, solar
            assert longitude[strong].min() >= -90.0 - step and longitude[strong].max() <= 40.0 + step, solar
            assert (latitude[strong].max() - latitude[strong].min()) >= 30.0  # not a speck: most of the box


def test_a_run_outside_the_maps_altitudes_is_refused_naming_altitude():
    settings = RadiationSettings()
    with pytest.raises(ValueError, match=r"altitude: 1200\.0-1300\.0 km is outside"):
        from twin.radiation.environment import radiation_arrays

        radiation_arrays(np.zeros((1, 2)), np.zeros((1, 2)), np.array([[1200.0, 1300.0]]), np.array([0.0, 60.0]),
                         settings)


def test_the_grid_writer_makes_what_the_loader_reads(tmp_path, monkeypatch):
    from twin.radiation import maps

    path = tmp_path / "grid.npz"
    maps.write_geomagnetic_grid(path, step_deg=60.0, altitude_km=np.array([700.0, 800.0]))
    monkeypatch.setattr(maps, "asset_path", lambda *parts: path)
    maps.geomagnetic_grid.cache_clear()
    try:
        small = maps.geomagnetic_grid()
    finally:
        maps.geomagnetic_grid.cache_clear()
    assert small.grid.shape == (4, 7, 2)
    latitude, longitude, altitude = small.grid.mesh()
    l_shell, _ = geomagnetic_coordinates(latitude.ravel(), longitude.ravel(), altitude.ravel(), "gsfc70")
    closed = (l_shell > 0) & (l_shell < maps.FAR_L_SHELL)
    np.testing.assert_allclose(small.l_shell["gsfc70"].ravel()[closed], l_shell[closed], rtol=2e-6)
    assert np.all(small.l_shell["gsfc70"].ravel()[~closed] == maps.FAR_L_SHELL)
