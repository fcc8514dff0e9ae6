"""The flight variables of a run (twin.flight.layer): density against NRLMSIS at every satellite, drag and
radiation pressure against their closed forms, the catalogue's attributes, and a store round trip."""

import numpy as np
import pytest
import xarray as xr

import twin
from twin.cli import main
from twin.constants import ASTRONOMICAL_UNIT_M
from twin.dataset import open_run, save
from twin.dataset.catalogue import CATALOGUE
from twin.flight.atmosphere import density_kg_m3
from twin.flight.forces import SOLAR_PRESSURE_N_M2
from twin.flight.layer import FLIGHT_VARIABLES
from twin.flight.space_weather import predicted_indices


@pytest.fixture(scope="module")
def run():
    return twin.run_scenario(twin.load_scenario("phase1"), duration_s=3 * 3600.0, step_s=120.0, subsystems=False,
                             flight=True)


def test_the_flight_variables_are_written_as_catalogued(run):
    for name in FLIGHT_VARIABLES:
        assert run[name].dims == ("sat", "time") and run[name].dtype == CATALOGUE[name].dtype
        assert dict(run[name].attrs) == dict(CATALOGUE[name].attrs)
        assert np.all(np.isfinite(run[name].values)) and np.all(run[name].values >= 0)


def test_density_is_nrlmsis_at_every_satellite(run):
    """NRLMSIS 2.1 evaluated at each satellite's own place and time: the sub-center's scaled density within 0.5 %."""
    times = run["time"].values
    direct = density_kg_m3(times[None, :], run["latitude"].values, run["longitude"].values,
                           run["altitude"].values / 1e3, predicted_indices(times))
    assert np.allclose(run["atmospheric_density"].values, direct, rtol=5e-3, atol=0)
    assert 1e-15 < float(direct.mean()) < 1e-12  # 750 km: the check means something


def test_drag_and_radiation_pressure_against_closed_forms(run):
    """Drag: ``1/2 rho Cd A/m v_r^2`` with the bus's flown area bounded by its body (edge-on) and body + arrays +
    half the radiators (face-on); radiation pressure: none in the umbra, ``P Cr (A_array + A_body)/m (1 au/d)^2``
    in full sun for a sun-tracking array with along-track radiators at beta 90 deg less a few per cent."""
    scenario = twin.load_scenario("phase1")
    bus = scenario.buses["compute-s"]
    rows = run["bus"].values == "compute-s"
    body_m2 = (bus.mass_kg / 200.0) ** (2.0 / 3.0)
    speed = np.linalg.norm(run["velocity"].values[rows].astype(float), axis=-1)
    per_area = 0.5 * run["atmospheric_density"].values[rows] * bus.drag_coefficient / bus.mass_kg * speed**2
    area = run["drag_acceleration"].values[rows] / per_area
    assert np.all(area > 0.9 * body_m2)
    assert np.all(area < 1.1 * (body_m2 + bus.solar_array_area_m2 + bus.radiator_area_m2 / 2))
    srp = run["srp_acceleration"].values[rows]
    lit = run["illumination"].values[rows]
    assert np.all(srp[lit == 0] == 0) and (lit == 0).any()
    distance = np.linalg.norm(run["sun_position"].values - run["position"].values[rows], axis=-1)
    full = SOLAR_PRESSURE_N_M2 * bus.reflectivity_coefficient * (bus.solar_array_area_m2 + body_m2) / bus.mass_kg \
        * (ASTRONOMICAL_UNIT_M / distance) ** 2
    ratio = srp[lit == 1] / full[lit == 1]
    assert np.all(ratio >= 1.0 - 1e-6) and np.all(ratio < 1.0 + bus.radiator_area_m2 / 2 / bus.solar_array_area_m2)


def test_a_stored_run_keeps_its_flight_variables(run, tmp_path):
    for suffix in ("zarr", "nc"):
        save(run, tmp_path / f"run.{suffix}")
        back = open_run(tmp_path / f"run.{suffix}")
        for name in FLIGHT_VARIABLES:
            xr.testing.assert_identical(back[name].load(), run[name])


def test_simulate_flight_needs_a_scenario(tmp_path, capsys):
    from twin.assets import asset_path

    tle = asset_path("tle", "iss-2019-12-09.tle")
    assert main(["simulate", str(tle), "--duration", "1h", "--flight", "--out", str(tmp_path / "r.nc")]) == 2
    assert capsys.readouterr().err == ("twin: error: --flight: needs a scenario (its buses' mass, areas and "
                                       "coefficients); a TLE file has none\n")


def test_the_3d_view_and_the_dashboard_colour_by_them(run):
    """The dashboard's "Colour by" lists viz.colors.colorable(run), and twin render --color-by takes the same."""
    colors = pytest.importorskip("viz.colors")
    assert set(FLIGHT_VARIABLES) <= set(colors.colorable(run))
    coloring = colors.coloring(run, "atmospheric_density")
    assert coloring.title == "atmospheric_density [kg m-3]"
    assert np.array_equal(coloring.at(3), run["atmospheric_density"].values[:, 3])


def with_indices(scenario, **flight):
    import dataclasses

    return dataclasses.replace(scenario, flight=dataclasses.replace(scenario.flight, **flight))


def test_fixed_indices_of_the_scenario_drive_the_density_and_the_drag(run):
    """``[flight] indices = "fixed"``: a solar maximum (F10.7 250 sfu, Ap 30) gives denser air and more drag at
    750 km than a deep minimum (F10.7 65 sfu, Ap 3), everywhere by more than 3 times and 10 times in the median; the densities are NRLMSIS's at those
    indices (the sub-center's scaled density within 0.5 %)."""
    from twin.flight.layer import add_flight
    from twin.flight.space_weather import SolarIndices

    orbits = run.drop_vars(list(FLIGHT_VARIABLES))
    scenario = twin.load_scenario("phase1")
    high = add_flight(orbits, with_indices(scenario, indices="fixed", f107_sfu=250.0, f107_81day_sfu=240.0, ap=30.0))
    low = add_flight(orbits, with_indices(scenario, indices="fixed", f107_sfu=65.0, f107_81day_sfu=68.0, ap=3.0))
    for name in ("atmospheric_density", "drag_acceleration"):
        ratio = high[name].values / low[name].values
        assert ratio.min() > 3 and np.median(ratio) > 10, (name, ratio.min(), np.median(ratio))
    np.testing.assert_array_equal(high["srp_acceleration"].values, low["srp_acceleration"].values)
    times = run["time"].values
    direct = density_kg_m3(times[None, :], run["latitude"].values, run["longitude"].values,
                           run["altitude"].values / 1e3, SolarIndices(250.0, 240.0, 30.0))
    assert np.allclose(high["atmospheric_density"].values, direct, rtol=5e-3, atol=0)
