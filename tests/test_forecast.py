"""Forecast from now: the twin run forward from the live state assimilated from telemetry, checked against the
virtual fleet's own truth continued from the same moment (a degraded array drains a battery to its floor)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.time import Time

import twin
from twin.operations.forecast import forecast, live_state, orbital_period_s
from twin.scenario import Fault
from twin.subsystems.modes import ModeChange
from twin.telemetry import assimilation, ingest, store, virtual_fleet
from twin.telemetry.anomalies import find_anomalies

DEGRADED = "CC1-002-01"
SEVERITY = 0.8
SEEN_S = 2 * 3600.0  # telemetry so far
TRUTH_S = 6 * 3600.0


@pytest.fixture(scope="module")
def fleet(phase1, tmp_path_factory):
    """Phase 1 with CC1-002-01's array 80 % degraded: six hours of truth, the first two sent as telemetry and assimilated
    over their last hour."""
    sensors = virtual_fleet.load_sensors()
    faults = [virtual_fleet.InjectedFault.parse(f"array_degraded:{DEGRADED}:0s:{SEVERITY}")]
    truth = virtual_fleet.simulate_truth(phase1, phase1.epoch, TRUTH_S, sensors, faults)
    seen = truth.isel(time=slice(0, int(SEEN_S / sensors["reporting"]["interval_s"]) + 1))
    recording = virtual_fleet.record(seen, sensors, faults, seed=4)
    path = tmp_path_factory.mktemp("forecast") / "store.zarr"
    with store.MeasurementStore(path) as measurements:
        ingest.ingest_stream(ingest.Ingestor(measurements, clock="stream"), recording.stream, "kashi")
    newest = max(g["time"].values.max() for g in store.open_measurements(path).values() if g.sizes["record"])
    groups = {name: store.select_since(g, newest - np.timedelta64(3600, "s")).load()
              for name, g in store.open_measurements(path).items()}
    model = assimilation.model_run(phase1, groups, sensors)
    state = assimilation.assimilate(model, groups, sensors)
    return truth, state, find_anomalies(state, sensors)


def test_the_live_state_is_what_the_telemetry_measured(fleet, phase1):
    truth, state, anomalies = fleet
    live = live_state(state, anomalies, phase1)
    at = truth["time"].values.searchsorted(live.start)
    assert np.abs(live.battery_soc - truth["battery_soc"].values[:, at]).max() < 0.015  # 3 sigma of the sensor
    assert np.abs(live.temperature - truth["temperature"].values[:, at, :]).max() < 1.5
    assert [(f.target, f.kind) for f in live.faults] == [(DEGRADED, "array_degraded")]  # health from the telemetry
    assert live.faults[0].severity == pytest.approx(SEVERITY, abs=0.03)


def test_the_forecast_follows_the_truth_and_lists_the_battery_reaching_its_floor(fleet, phase1):
    truth, state, anomalies = fleet
    live = live_state(state, anomalies, phase1)
    result = forecast(phase1, live, orbits=2)
    run = result.run
    assert run["time"].values[0] == live.start
    assert (run["time"].values[-1] - live.start) / np.timedelta64(1, "s") == pytest.approx(2 * orbital_period_s(phase1), abs=60)
    # the same as a run started by hand from the same state: the forecast adds nothing of its own
    by_hand = twin.run_scenario(phase1, start=Time(live.start, scale="utc"), duration_s=2 * orbital_period_s(phase1),
                                step_s=60, faults=[Fault(DEGRADED, "array_degraded", 0.0, live.faults[0].severity)],
                                workload=np.repeat(live.compute_utilization[:, None], run.sizes["time"], axis=1),
                                initial_state={"battery_soc": live.battery_soc, "temperature": live.temperature})
    np.testing.assert_array_equal(run["battery_soc"].values, by_hand["battery_soc"].values)
    # and close to the truth it forecasts (the work the fleet does, not its jobs, goes on: so not equal)
    row = list(run["sat"].values).index(DEGRADED)
    truth_soc = truth["battery_soc"].sel(time=run["time"].values).values
    assert np.abs(run["battery_soc"].values[row] - truth_soc[row]).max() < 0.06
    floor = result.crossings.query("satellite == @DEGRADED and variable == 'battery_soc' and severity == 'critical'")
    assert len(floor) >= 1, result.crossings
    truth_floor = truth["time"].values[np.argmax(truth["battery_soc"].values[row] <= truth["battery_floor_soc"].values[row] + 1e-3)]
    assert abs(floor["crosses_at"].min() - truth_floor) <= np.timedelta64(30, "m")
    healthy = result.crossings.query("satellite != @DEGRADED and severity == 'critical'")
    assert healthy.empty, healthy


def test_a_what_if_cap_from_now_keeps_the_battery_off_its_floor(fleet, phase1):
    truth, state, anomalies = fleet
    live = live_state(state, anomalies, phase1)
    row = list(state["sat"].values).index(DEGRADED)
    now_s = float((live.start - np.datetime64(phase1.epoch.utc.isot, "ns")) / np.timedelta64(1, "s"))
    safe = forecast(phase1, live, orbits=2, modes=[ModeChange(row, now_s, payload_on=False)])
    assert safe.crossings.query("satellite == @DEGRADED and severity == 'critical'").empty, safe.crossings


def test_a_forecast_of_no_orbits_is_refused(fleet, phase1):
    truth, state, anomalies = fleet
    with pytest.raises(ValueError, match="orbits: 0 must be a positive number of orbits"):
        forecast(phase1, live_state(state, anomalies, phase1), orbits=0)
