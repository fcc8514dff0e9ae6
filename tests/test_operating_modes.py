"""Commanded operating modes in the engine: a compute cap, the payload off for a while, heaters forced on."""

from __future__ import annotations

import numpy as np
import pytest

import twin
from twin.subsystems.modes import HEATERS_ON, ModeChange, operating_modes

HOUR_S = 3600.0
CAPPED, RESTARTED, HEATED = 3, 12, 20  # rows of phase 1: CC1-001-03, CC1-002-04, CC1-003-04
CAP = 0.1


@pytest.fixture(scope="module")
def commanded(phase1):
    changes = [ModeChange(CAPPED, HOUR_S, compute_cap=CAP), ModeChange(RESTARTED, HOUR_S, payload_on=False, until_s=1.5 * HOUR_S),
               ModeChange(HEATED, HOUR_S, heater_mode=HEATERS_ON)]
    return twin.run_scenario(phase1, duration_s=4 * HOUR_S, step_s=60, modes=changes)


def _after(run, start_s, until_s=np.inf):
    elapsed = (run["time"].values - run["time"].values[0]) / np.timedelta64(1, "s")
    return (elapsed > start_s) & (elapsed <= until_s)


def test_a_capped_satellite_never_uses_more_than_its_cap(commanded):
    after = _after(commanded, HOUR_S)
    utilization = commanded["compute_utilization"].values[CAPPED]
    assert np.nanmax(utilization[after]) <= CAP + 1e-6
    assert np.nanmax(utilization[~after]) > CAP  # it did before


def test_a_restarted_payload_draws_nothing_while_off_and_runs_again_after(commanded, phase1):
    off = _after(commanded, HOUR_S + 60, 1.5 * HOUR_S)
    compute_w = commanded["used_compute_power"].values[RESTARTED]
    assert np.all(compute_w[off] == 0) and np.all(commanded["compute_utilization"].values[RESTARTED, off] == 0)
    idle_w = phase1.buses["compute-s"].compute_power_w * phase1.compute.idle_power_fraction
    assert np.all(compute_w[_after(commanded, 1.5 * HOUR_S + 60)] >= idle_w - 1e-3)


def test_forced_heaters_draw_their_power_and_energy_still_balances(commanded, phase1):
    heater_w = commanded["used_heater_power"].values[HEATED]
    assert np.all(heater_w[_after(commanded, HOUR_S + 60)] == pytest.approx(phase1.buses["compute-s"].heater_power_w))
    assert np.all(heater_w[_after(commanded, 0, HOUR_S)] == 0)  # the thermostat kept them off before
    steps = np.diff(commanded["time"].values) / np.timedelta64(1, "s")
    integral = lambda name: (commanded[name].values[:, 1:].astype(float) * steps).sum(axis=1)
    stored = commanded["battery_energy"].values[:, -1] - commanded["battery_energy"].values[:, 0]
    residual = integral("generated_power") - integral("used_power") - integral("battery_loss_power") \
        - integral("curtailed_power") - stored
    assert np.all(np.abs(residual) <= 1e-6 * integral("generated_power"))


def test_a_change_outside_the_fleet_is_refused_naming_the_row():
    with pytest.raises(ValueError, match="mode change row: 30 is not a satellite row \\(0..24\\)"):
        operating_modes([ModeChange(30, 0.0, compute_cap=0.5)], 25, np.arange(3.0))
