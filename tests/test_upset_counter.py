"""The corrected-memory-error counter of the virtual fleet follows the radiation layer's upset rate, and a
satellite whose upsets come ten times as often as its orbit predicts is one anomaly (the others none)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import poisson

from twin.run.simulate import run_scenario
from twin.telemetry import assimilation, ingest, store, virtual_fleet
from twin.telemetry.anomalies import anomalies_of
from twin.telemetry.upset_counter import expected_upsets, upset_departures, with_upset_rates

HOT = "CC1-002-04"


def test_the_counters_increments_over_ten_days_match_the_predicted_rate_within_poisson_error(phase1):
    truth = with_upset_rates(run_scenario(phase1, duration_s=10 * 86400, step_s=60, subsystems=False))
    time_s = (truth["time"].values - truth["time"].values[0]) / np.timedelta64(1, "s")
    expected = expected_upsets(truth["seu_corrected_rate"].values, time_s)
    drawn = virtual_fleet.corrected_upsets(truth, [], np.random.default_rng(7))
    predicted, counted = expected.sum(axis=1), drawn.sum(axis=1)
    assert predicted.min() > 30  # tens of corrected upsets per satellite in ten days
    assert np.all(np.abs(counted - predicted) < 4.5 * np.sqrt(predicted)), (counted, predicted)
    assert abs(counted.sum() - predicted.sum()) < 4 * np.sqrt(predicted.sum())
    # they come where the orbit predicts: the steps of the highest decile of the rate (the SAA) hold their share
    high = expected > np.quantile(expected[:, 1:], 0.9)
    assert abs(drawn[high].sum() - expected[high].sum()) < 4 * np.sqrt(expected[high].sum())
    assert expected[high].sum() > 0.3 * expected.sum()


def test_an_upset_rate_fault_multiplies_the_expected_upsets_from_its_start(phase1):
    truth = with_upset_rates(run_scenario(phase1, duration_s=86400, step_s=60, subsystems=False))
    fault = virtual_fleet.InjectedFault.parse(f"upset_rate:{HOT}:12h:10")
    assert fault.value == 10 and fault.start_s == 43200
    drawn = virtual_fleet.corrected_upsets(truth, [fault], np.random.default_rng(1))
    row = list(truth["sat"].values).index(HOT)
    time_s = (truth["time"].values - truth["time"].values[0]) / np.timedelta64(1, "s")
    expected = expected_upsets(truth["seu_corrected_rate"].values, time_s)[row]
    before, after = time_s < 43200, time_s >= 43200
    assert poisson.sf(drawn[row, after].sum() - 1, expected[after].sum()) < 1e-6  # far too many for the prediction
    assert abs(drawn[row, after].sum() - 10 * expected[after].sum()) < 4 * np.sqrt(10 * expected[after].sum())
    assert drawn[row, before].sum() < poisson.isf(1e-4, expected[before].sum())
    with pytest.raises(ValueError, match="fault.value: factor -1.0 of upset_rate must be at least 0"):
        virtual_fleet.InjectedFault.parse(f"upset_rate:{HOT}:0s:-1")


def test_the_poisson_test_counts_across_dropped_packets_and_flags_both_sides():
    expected = np.full((3, 100), 0.5)
    expected[:, 0] = 0.0
    counter = np.cumsum(expected, axis=1).round()  # as predicted
    counter[1] = np.cumsum(np.r_[0.0, np.full(99, 5.0)])  # ten times as many
    counter[2] = 0.0                                       # none at all, 25 expected a window
    counter[:, 30:45] = np.nan                             # packets lost across a window's edge
    found = upset_departures(counter, expected, 50, 1e-6)
    assert found["flagged"].tolist() == [[False, False], [True, True], [True, True]]
    np.testing.assert_allclose(found["predicted"][0], [24.5, 25.0])  # from the first report, then from the last before
    np.testing.assert_allclose(found["measured"][1], [245.0, 250.0])


@pytest.fixture(scope="module")
def upset_state(phase1, tmp_path_factory):
    """Twelve hours of phase 1's telemetry (every 60 s) with HOT's corrected upsets ten times its orbit's rate."""
    sensors = virtual_fleet.load_sensors()
    sensors["reporting"]["interval_s"] = 60.0
    faults = [virtual_fleet.InjectedFault.parse(f"upset_rate:{HOT}:0s:10")]
    truth = virtual_fleet.simulate_truth(phase1, phase1.epoch, 12 * 3600, sensors, faults)
    recording = virtual_fleet.record(truth, sensors, faults, seed=3)
    path = tmp_path_factory.mktemp("upsets") / "store.zarr"
    with store.MeasurementStore(path) as measurements:
        ingest.ingest_stream(ingest.Ingestor(measurements, clock="stream"), recording.stream, "kashi")
    groups = store.open_measurements(path)
    model = assimilation.model_run(phase1, groups, sensors)
    return assimilation.assimilate(model, groups, sensors), sensors


def test_a_satellite_at_ten_times_its_predicted_upset_rate_is_one_anomaly_and_the_others_none(upset_state):
    state, sensors = upset_state
    assert "seu_corrected_rate" in state and np.isfinite(state["memory_errors"].values).any()
    anomalies = anomalies_of(state, sensors)
    upsets = anomalies[anomalies["variable"] == "upset_rate"]
    assert list(upsets["satellite"]) == [HOT], anomalies
    row = upsets.iloc[0]
    assert 5 < row["size"] < 20 and row["size"] > row["band"] > 1 and row["units"] == "1"
    assert row["subcenter"] == "CC1-002"
