"""A what-if forked from the live state (issue 22, item 1): it starts where the telemetry says the fleet is, not at
the scenario's epoch, runs in the background worker with its progress, and says where it started."""

from __future__ import annotations

import numpy as np
import pytest

from apps.auth import UserBook
from apps.runs import Catalogue
from apps.whatif import WhatIf, WhatIfError, submit_whatif, what_if_request
from twin.operations.forecast import LiveState
from twin.scenario import Fault

from test_dashboard import USERS

START = np.datetime64("2026-06-01T01:30:00", "ns")


@pytest.fixture(scope="module")
def live(phase1_run):
    """A live state one and a half hours in: phase 1's batteries and temperatures there, CC1-002-01's array 80 %
    degraded (as the telemetry would show it), every satellite at 40 % compute utilisation."""
    at = phase1_run.sel(time=START)
    return LiveState(START, at["battery_soc"].values.astype(float), at["temperature"].values.astype(float),
                     np.full(phase1_run.sizes["sat"], 0.4), [Fault("CC1-002-01", "array_degraded", 0.0, 0.8)])


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    catalogue = Catalogue(tmp_path_factory.mktemp("runs"))
    yield catalogue
    catalogue.shutdown()


def test_a_whatif_forked_from_live_starts_from_the_live_state(live, catalogue):
    engineer = UserBook.from_file(USERS).user("engineer")
    job, baseline = submit_whatif(engineer, WhatIf("phase1", failed_station="Kashi", fault_start="1h"), catalogue, live)
    assert job.label == "phase1 with Kashi lost at 1h, from the live state at 2026-06-01 01:30:00 UTC"
    assert baseline.label == "phase1 unchanged, from the live state at 2026-06-01 01:30:00 UTC"
    seen = []
    while not job.done.wait(0.05):
        seen.append(job.progress)
    assert baseline.done.wait(300)
    assert job.error is None and baseline.error is None, (job.error, baseline.error)
    assert any(0.0 < progress < 1.0 for progress in seen), seen
    for data in (job.data, baseline.data):
        run = data.run
        assert run["time"].values[0] == START
        assert run.attrs["started_from"] == "live state at 2026-06-01T01:30:00 UTC"
        np.testing.assert_allclose(run["battery_soc"].values[:, 0], live.battery_soc, atol=1e-9)
        assert data.has_network
    # the degraded array the telemetry showed stays degraded in the fork
    row = list(job.data.run["sat"].values).index("CC1-002-01")
    healthy = list(job.data.run["sat"].values).index("CC1-002-02")
    generated = job.data.run["generated_power"].values
    assert np.nanmax(generated[row]) < 0.25 * np.nanmax(generated[healthy])


def test_a_fault_start_counts_from_the_live_state():
    start = np.datetime64("2026-06-01T01:30:00", "ns")
    state = LiveState(start, np.full(25, 0.8), np.full((25, 2), 290.0), np.full(25, 0.4))
    request = what_if_request(WhatIf("phase1", failed_station="Kashi", fault_start="90min"), state)
    assert request.tables["faults"][-1]["start"] == "2026-06-01T03:00:00.000"
    assert request.live is state and not request.representatives


def test_a_fork_from_live_keeps_the_fleet_flying():
    state = LiveState(START, np.full(25, 0.8), np.full((25, 2), 290.0), np.full(25, 0.4))
    with pytest.raises(WhatIfError, match="Satellites per sub-center: 4: a what-if from the live state keeps the fleet"):
        what_if_request(WhatIf("phase1", group="CC1", satellites_per_subcenter=4), state)
    with pytest.raises(WhatIfError, match="Scenario: the live state is of a fleet of 25 satellites, not 'phase2'"):
        what_if_request(WhatIf("phase2"), state)
