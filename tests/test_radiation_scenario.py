"""The scenario's [radiation] keys: checked on load naming the key, and carried into the radiation core."""

import math
import tomllib

import numpy as np
import pytest

import twin
from twin.radiation import HardwareHealth, RadiationSettings
from twin.radiation.upsets import DEFAULT_BITS
from twin.scenario import RadiationDesign, ScenarioError, scenario_from_dict


def phase1_with(radiation: dict) -> dict:
    raw = tomllib.loads((twin.scenario.SCENARIO_DIR / "phase1.toml").read_text())
    raw["radiation"] = radiation
    return raw


@pytest.mark.parametrize("key, value, message", [
    ("shielding_mm", 25.0, "radiation.shielding_mm: 25.0 is out of range; it must be at most 20.0"),
    ("shielding_mm", 0.0, "radiation.shielding_mm: 0.0 is out of range; it must be at least 0.05"),
    ("memory_saturation_cm2", 1e-6, "radiation.memory_saturation_cm2: 1e-06 is out of range; it must be at most 1e-08"),
    ("logic_saturation_cm2", 0.0, "radiation.logic_saturation_cm2: 0.0 is out of range; it must be above 0.0"),
    ("memory_threshold_mev", -1.0, "radiation.memory_threshold_mev: -1.0 is out of range; it must be at least 0.0"),
    ("logic_width_mev", 0.0, "radiation.logic_width_mev: 0.0 is out of range; it must be above 0.0"),
    ("memory_shape", 11.0, "radiation.memory_shape: 11.0 is out of range; it must be at most 10.0"),
    ("solar", "medium", "radiation.solar: 'medium' is not one of min, max"),
    ("logic_detected", 0.5, "radiation.logic_detected: 0.5 and logic_corrected (0.8) add up to more than 1"),
])
def test_a_radiation_key_out_of_physical_range_is_refused_naming_it(key, value, message):
    with pytest.raises(ScenarioError) as error:
        scenario_from_dict(phase1_with({key: value}))
    assert str(error.value) == message


def test_the_radiation_section_is_optional_and_its_defaults_are_the_cores():
    assert twin.load_scenario("phase1").radiation is None
    design = scenario_from_dict(phase1_with({})).radiation
    assert design == RadiationDesign()
    settings = RadiationSettings.of_design(design)
    assert settings == RadiationSettings() and settings.bits == DEFAULT_BITS
    memory, logic = settings.bits
    assert (memory.bits, memory.cross_section.saturation_cm2, memory.cross_section.threshold_mev,
            memory.cross_section.width_mev, memory.cross_section.shape) == (256e9, 5e-18, 5.0, 30.0, 1.5)
    assert (logic.bits, logic.cross_section.saturation_cm2, logic.outcome.corrected, logic.outcome.detected) == \
        (32 * 2**20 * 8, 1e-14, 0.80, 0.15)
    assert math.isclose(memory.outcome.silent, 1e-4, rel_tol=1e-9) and math.isclose(logic.outcome.silent, 0.05)
    health = HardwareHealth.of_design(design)
    assert health == HardwareHealth()
    assert math.isclose(health.dose_median_krad, 15 * math.exp(1.645 * 0.5))
    assert math.isclose(health.random_failures_per_year, 220 / (16_384 * 54 / 365.25))


def test_the_keys_of_a_scenario_reach_the_core():
    design = scenario_from_dict(phase1_with({"solar": "max", "shielding_mm": 5.0, "memory_bits": 1e9,
                                             "logic_shape": 2.0, "dose_median_krad": 50.0})).radiation
    settings = RadiationSettings.of_design(design)
    assert (settings.solar, settings.shielding_mm, settings.bits[0].bits, settings.bits[1].cross_section.shape) == \
        ("max", 5.0, 1e9, 2.0)
    assert HardwareHealth.of_design(design).dose_median_krad == 50.0


def test_a_run_of_a_scenario_with_radiation_carries_the_layer_as_catalogued():
    from twin.dataset.catalogue import CATALOGUE
    from twin.radiation import radiation_layer
    from twin.run.plan import RunPlan

    scenario = scenario_from_dict(phase1_with({"shielding_mm": 5.0, "solar": "max"}))
    progress = []
    run = twin.run_scenario(scenario, duration_s=3 * 3600, step_s=120, progress=progress.append)
    radiation = [name for name, variable in CATALOGUE.items() if variable.stage == "radiation"]
    assert set(radiation) <= set(run.data_vars) and "generated_power" in run
    for name in radiation:
        assert run[name].dims == CATALOGUE[name].dims and run[name].dtype == CATALOGUE[name].dtype, name
        assert dict(run[name].attrs) == dict(CATALOGUE[name].attrs), name
    assert (run.attrs["radiation_solar_activity"], run.attrs["radiation_shielding_mm"]) == ("max", 5.0)
    alone = radiation_layer(twin.run_scenario(scenario, duration_s=3 * 3600, step_s=120, subsystems=False),
                            RadiationSettings.of_design(scenario.radiation))
    for name in radiation:
        np.testing.assert_array_equal(run[name].values, alone[name].values, err_msg=name)
    assert "radiation" in {event.stage for event in progress}
    plan = RunPlan.of(scenario, duration_s=3 * 3600, step_s=120)
    assert set(radiation) <= set(plan.layout.names)
    # without [radiation], none of it
    plain = twin.run_scenario(twin.load_scenario("phase1"), duration_s=3600, step_s=120)
    assert not set(radiation) & set(plain.data_vars)


def test_the_dose_takes_compute_capacity_away_in_the_engine():
    """Parts failing at a median of 0.3 rad (a test value) lose most of the capacity in hours; the engine offers only
    what still works, and its compute draws power accordingly."""
    fragile = scenario_from_dict(phase1_with({"dose_median_krad": 0.0003, "random_failures_per_year": 0.0}))
    run = twin.run_scenario(fragile, duration_s=4 * 3600, step_s=120)
    plain = twin.run_scenario(twin.load_scenario("phase1"), duration_s=4 * 3600, step_s=120)
    installed = np.array([fragile.buses[bus].compute_capacity_units for bus in run.bus.values])[:, None]
    working = 1.0 - run["capacity_lost"].values.astype(float)
    assert working[:, -1].max() < 0.5  # a few rad in 4 h: most parts failed
    capacity = run["compute_capacity"].values[:, 1:]
    assert np.all(capacity <= installed * working[:, 1:] * (1 + 1e-6) + 1e-9)
    assert capacity[:, -1].sum() < 0.5 * plain["compute_capacity"].values[:, -1].sum()
    assert float(run["used_compute_power"][:, -1].sum()) < float(plain["used_compute_power"][:, -1].sum())
    # the default parts lose next to nothing in 4 h: the same capacity to 1e-4
    default = twin.run_scenario(scenario_from_dict(phase1_with({})), duration_s=4 * 3600, step_s=120)
    np.testing.assert_allclose(default["compute_capacity"].values[:, 1:], plain["compute_capacity"].values[:, 1:],
                               rtol=1e-4)


def test_the_3d_view_and_the_dashboard_offer_the_radiation_variables_to_colour_by():
    """``twin render --color-by`` and the dashboard's "Colour by" list (viz.colors.colorable) take any variable over
    (sat, time): a run with radiation offers its fluxes, dose and upsets."""
    from viz.colors import colorable, coloring

    run = twin.run_scenario(scenario_from_dict(phase1_with({})), duration_s=3600, step_s=120, subsystems=False)
    assert {"proton_flux", "electron_flux", "dose_rate", "total_dose", "seu_rate", "capacity_lost"} <= \
        set(colorable(run))
    colours = coloring(run, "total_dose")
    assert colours.title == "total_dose [Gy]"
    np.testing.assert_array_equal(colours.at(run.sizes["time"] - 1), run["total_dose"].values[:, -1].astype(np.float32))


def test_upsets_detected_but_not_corrected_crash_jobs_back_to_their_checkpoints():
    """Every logic upset detected and not corrected, checkpoints an hour apart: jobs redo work; the defaults (one
    a minute) lose far less. Without [radiation] nothing is lost to upsets."""
    hours = 6 * 3600
    crashing = scenario_from_dict(phase1_with({"logic_corrected": 0.0, "logic_detected": 1.0,
                                               "checkpoint_interval_s": 3600.0}))
    run = twin.run_scenario(crashing, duration_s=hours, step_s=120)
    default = twin.run_scenario(scenario_from_dict(phase1_with({})), duration_s=hours, step_s=120)
    plain = twin.run_scenario(twin.load_scenario("phase1"), duration_s=hours, step_s=120)
    assert "compute_crash_lost_cu_s" not in plain.attrs and plain.attrs["compute_lost_cu_s"] == 0.0
    lost, lost_default = run.attrs["compute_crash_lost_cu_s"], default.attrs["compute_crash_lost_cu_s"]
    assert lost == pytest.approx(run.attrs["compute_lost_cu_s"]) and lost > 0.0  # no fault: all lost work is the upsets'
    assert 0.0 < lost_default < 0.05 * lost
    # The expected crashes: the detected upsets summed over the run's working satellites
    detected = float((run["seu_detected_rate"].mean("time") * (1 - run["capacity_lost"].mean("time"))).sum()) * hours
    assert detected > 10.0  # so a job is crashed many times in 6 h
    assert run.attrs["compute_completed_jobs"] <= plain.attrs["compute_completed_jobs"]
