"""The twin dataset: public names, CF attributes, storage round trips and the accessor."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import twin

PUBLIC = ["position", "velocity", "latitude", "longitude", "altitude", "illumination", "beta_angle"]


def test_public_variables_dims_and_units(phase1_run):
    for name in PUBLIC:
        assert name in phase1_run.data_vars
        assert "units" in phase1_run[name].attrs and "long_name" in phase1_run[name].attrs
    assert phase1_run["position"].dims == ("sat", "time", "xyz")
    assert phase1_run["position"].attrs["reference_frame"] == "GCRS"
    assert phase1_run["latitude"].attrs["standard_name"] == "latitude"
    assert phase1_run["altitude"].attrs["standard_name"] == "height_above_reference_ellipsoid"
    assert phase1_run.attrs["Conventions"].startswith("CF-")
    for coordinate in ("subcenter", "plane", "owner"):
        assert phase1_run[coordinate].dims == ("sat",)


def test_values_are_physical(phase1_run):
    speed = np.linalg.norm(phase1_run["velocity"].values, axis=-1)
    assert 7400 < speed.min() and speed.max() < 7600  # m/s at 730-790 km
    assert 700e3 < phase1_run["altitude"].min() and phase1_run["altitude"].max() < 800e3 + 25e3  # polar flattening
    assert ((0 <= phase1_run["illumination"]) & (phase1_run["illumination"] <= 1)).all()
    assert np.abs(phase1_run["latitude"]).max() < 82.0  # inclination 98.4 deg: |latitude| <= 81.6 deg


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_store_and_reopen_is_identical(phase1_run, tmp_path, suffix):
    path = twin.save(phase1_run, tmp_path / f"run{suffix}")
    reopened = twin.open_run(path).load()
    xr.testing.assert_identical(phase1_run, reopened)


def test_open_run_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.zarr"):
        twin.open_run(tmp_path / "nothing.zarr")
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(ValueError, match="empty.zarr"):
        twin.open_run(tmp_path / "empty.zarr")
    with pytest.raises(ValueError, match="must end in"):
        twin.save(xr.Dataset(), tmp_path / "run.csv")


def test_eclipse_intervals_of_a_dawn_dusk_satellite_in_june(phase1_run):
    """June is the eclipse season of an 18:00 LTAN orbit: an umbra of a dozen minutes every orbit."""
    umbra = phase1_run.twin.eclipse_intervals("EXP-001-01")
    shadow = phase1_run.twin.eclipse_intervals("EXP-001-01", kind="shadow")
    complete = umbra[umbra["complete"]]
    assert len(complete) >= 3
    period_s = np.diff(complete["start"].to_numpy()).astype("timedelta64[s]").astype(float)
    assert np.allclose(period_s, period_s.mean(), atol=30) and 5900 < period_s.mean() < 6000  # ~99.8 min orbit
    assert (600 < complete["duration_s"]).all() and (complete["duration_s"] < 1200).all()
    # The penumbra wraps the umbra on both sides.
    assert (shadow["duration_s"].to_numpy()[: len(umbra)] >= umbra["duration_s"].to_numpy()).all()
    assert isinstance(umbra["start"].iloc[0], pd.Timestamp)


def test_sunlit_fraction_agrees_with_the_intervals(phase1_run):
    """Mean illumination equals 1 - (umbra time + about half the penumbra time) / span, to a step."""
    sat = "EXP-001-01"
    span_s = (phase1_run["time"].values[-1] - phase1_run["time"].values[0]) / np.timedelta64(1, "s")
    umbra = phase1_run.twin.eclipse_intervals(sat)["duration_s"].sum()
    shadow = phase1_run.twin.eclipse_intervals(sat, kind="shadow")["duration_s"].sum()
    estimate = 1 - (umbra + 0.5 * (shadow - umbra)) / span_s
    assert abs(float(phase1_run.twin.sunlit_fraction().sel(sat=sat)) - estimate) < 60.0 / span_s


def test_accessor_errors_name_the_argument(phase1_run):
    with pytest.raises(KeyError, match="NOPE"):
        phase1_run.twin.eclipse_intervals("NOPE")
    with pytest.raises(ValueError, match="kind"):
        phase1_run.twin.eclipse_intervals("EXP-001-01", kind="dark")
    with pytest.raises(KeyError, match="subcenter"):
        phase1_run.twin.subcenter("XX")


def test_subcenter_selection(phase1_run):
    cluster = phase1_run.twin.subcenter("CC1-002")
    assert cluster.sizes["sat"] == 8 and set(cluster["owner"].values) == {"M02"}
