"""The radiation layer on a run (twin.radiation.layer), SAA and horn passes, and the design comparison."""

import numpy as np
import pytest
import xarray as xr

import twin
from twin.radiation import RadiationSettings, altitude_comparison, radiation_layer, radiation_passes
from twin.dataset.catalogue import CATALOGUE
from twin.radiation.layer import LAYER_VARIABLES, RADIATION_VARIABLES


@pytest.fixture(scope="module")
def phase1_day():
    run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=86400.0, step_s=60.0, subsystems=False,
                            representatives=True)
    return radiation_layer(run, RadiationSettings(solar="min", shielding_mm=2.0))


def test_the_layer_has_cf_variables_over_sat_and_time(phase1_day):
    for name in RADIATION_VARIABLES:
        variable = phase1_day[name]
        assert variable.dims == ("sat", "time"), name
        assert dict(variable.attrs) == dict(CATALOGUE[name].attrs), name
        assert np.all(np.isfinite(variable.values)) and np.all(variable.values >= 0.0), name
    assert phase1_day["dose_rate"].attrs["units"] == "Gy s-1" and phase1_day["total_dose"].attrs["units"] == "Gy"
    assert (phase1_day.attrs["radiation_solar_activity"], phase1_day.attrs["radiation_shielding_mm"]) == ("min", 2.0)
    assert phase1_day["proton_flux"].max() > 100.0  # every satellite crosses the SAA in a day
    assert (phase1_day["electron_flux"].max("time") > 100.0).all()


def test_total_dose_accumulates_the_dose_rate_and_the_upsets_split_whole(phase1_day):
    time_s = (phase1_day.time.values - phase1_day.time.values[0]) / np.timedelta64(1, "s")
    rate = phase1_day["dose_rate"].values.astype(float)
    expected = np.concatenate([np.zeros((rate.shape[0], 1)),
                               np.cumsum(0.5 * (rate[:, 1:] + rate[:, :-1]) * np.diff(time_s), axis=1)], axis=1)
    np.testing.assert_allclose(phase1_day["total_dose"].values, expected, rtol=1e-6, atol=1e-12)
    assert np.all(np.diff(phase1_day["total_dose"].values, axis=1) >= 0.0)
    split = sum(phase1_day[f"seu_{outcome}_rate"] for outcome in ("corrected", "detected", "silent"))
    np.testing.assert_allclose(split.values, phase1_day["seu_rate"].values, rtol=1e-5)
    # About 2.6 krad a year behind 2 mm at 700-800 km (docs/radiation.md): 5-10 rad a day.
    assert 0.05 < float(phase1_day["total_dose"].isel(time=-1).mean()) < 0.10


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_the_layer_round_trips_through_storage(phase1_day, tmp_path, suffix):
    path = twin.save(phase1_day, tmp_path / f"run{suffix}")
    stored = twin.open_run(path)
    xr.testing.assert_identical(stored[list(LAYER_VARIABLES)].load(), phase1_day[list(LAYER_VARIABLES)])


def test_capacity_lost_follows_the_dose_and_the_random_rate(phase1_day):
    from twin.radiation import HardwareHealth

    lost = phase1_day["capacity_lost"]
    assert lost.isel(time=0).max() == 0.0 and np.all(np.diff(lost.values, axis=1) >= 0.0)
    # A day at 0.091 random failures a year and a few rad: 1 - exp(-0.091 / 365.25) of the capacity, the dose adds
    # nothing yet (the 5th percentile is 15 krad).
    expected = 1.0 - np.exp(-HardwareHealth().random_failures_per_year / 365.25)
    np.testing.assert_allclose(lost.isel(time=-1).values, expected, rtol=1e-5)


def test_saa_and_horn_passes_are_where_they_belong(phase1_day):
    time_s = (phase1_day.time.values - phase1_day.time.values[0]) / np.timedelta64(1, "s")
    latitude = phase1_day.latitude.values
    passes = radiation_passes(time_s, latitude, phase1_day.proton_flux.values, phase1_day.electron_flux.values)
    saa, horns = passes["saa"], passes["horns"]
    assert len(saa["row"]) >= 4 * 3 and len(horns["row"]) >= 4 * 15  # a few SAA and many horn passes a day each
    # Strong passes peak inside the SAA's published box (-50..0 deg, -90..+40 deg; test_radiation_belts), to a
    # few degrees; grazing ones (1 cm-2 s-1 is a thousandth of the peak) touch its edges.
    strong = saa["peak_value"] > 100.0
    assert strong.sum() >= 4
    peak_latitude = latitude[saa["row"], saa["peak_index"]]
    peak_longitude = phase1_day.longitude.values[saa["row"], saa["peak_index"]]
    assert np.all((peak_latitude[strong] > -55.0) & (peak_latitude[strong] < 5.0))
    assert np.all((peak_longitude[strong] > -95.0) & (peak_longitude[strong] < 45.0))
    assert np.all((peak_latitude > -70.0) & (peak_latitude < 15.0))
    assert np.all((peak_longitude > -110.0) & (peak_longitude < 65.0))
    assert np.all(np.abs(latitude[horns["row"], horns["peak_index"]]) >= 45.0)
    assert np.all(saa["end_s"] > saa["start_s"]) and np.all((saa["end_s"] - saa["start_s"]) < 30 * 60)


def test_the_comparison_table_orders_altitudes_shielding_and_solar_activity():
    table = altitude_comparison(altitudes_km=(700.0, 800.0), shielding_mm=(2.0, 10.0), solar=("min", "max"))
    assert len(table) == 8
    by = table.set_index(["altitude_km", "shielding_mm", "solar"])
    for shielding_mm in (2.0, 10.0):
        for solar in ("min", "max"):
            low, high = by.loc[(700.0, shielding_mm, solar)], by.loc[(800.0, shielding_mm, solar)]
            assert high.dose_krad_per_year > low.dose_krad_per_year and high.upsets_per_day > low.upsets_per_day
            assert by.loc[(700.0, 10.0, solar)].dose_krad_per_year < by.loc[(700.0, 2.0, solar)].dose_krad_per_year
    # AP8 MAX has fewer protons at low altitude (the atmosphere expands at solar maximum); AE8 MAX more electrons.
    assert by.loc[(700.0, 10.0, "max")].upsets_per_day < by.loc[(700.0, 10.0, "min")].upsets_per_day
    assert by.loc[(700.0, 2.0, "max")].dose_krad_per_year > by.loc[(700.0, 2.0, "min")].dose_krad_per_year
    assert table.saa_time_fraction.between(0.05, 0.2).all()


def test_edges_of_the_settings_and_of_the_maps():
    from twin.radiation import radiation_arrays
    from twin.radiation.upsets import DEFAULT_BITS

    time_s = np.array([0.0, 60.0])
    # A run at the grid's top altitude is inside the maps.
    top = radiation_arrays(np.array([[-30.0, -29.0]]), np.array([[-40.0, -39.0]]), np.array([[1000.0, 1000.0]]), time_s)
    assert top["proton_flux_cm2_s"][0, 0] > 0.0
    # No bits on board: no upsets, but the rest of the layer.
    bare = radiation_arrays(np.array([[-30.0, -29.0]]), np.array([[-40.0, -39.0]]), np.array([[750.0, 751.0]]), time_s,
                            RadiationSettings(bits=()))
    assert bare["seu_rate_s"].shape == (1, 2) and not bare["seu_rate_s"].any() and bare["dose_rate_rad_s"].all()
    with pytest.raises(ValueError, match=r"^bits: two populations are named 'memory'"):
        RadiationSettings(bits=(DEFAULT_BITS[0], DEFAULT_BITS[0]))
