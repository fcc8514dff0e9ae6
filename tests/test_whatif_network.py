"""A what-if with a failed ground station shows the network's figures beside the power and compute ones (issue 22,
item 5): the data delivered and dropped each way, the latency to the ground and how often a path to it exists."""

from __future__ import annotations

import pytest

import twin
from apps.kpis import figures_table
from apps.runs import RunData
from apps.whatif import WhatIf, what_if_request

SPAN_S = 2 * 3600.0


@pytest.fixture(scope="module")
def compared(phase1):
    request = what_if_request(WhatIf("phase1", failed_station="Kashi", fault_start="10min"))
    changed = twin.scenario_from_dict(request.tables, request.source)
    assert request.network
    runs = {label: RunData(twin.run_scenario(scenario, duration_s=SPAN_S, step_s=60, network=True), label)
            for label, scenario in (("baseline", phase1), ("what-if", changed))}
    return figures_table(runs)


def test_the_comparison_lists_network_figures(compared):
    for column in ("downlink delivered (Gbit)", "downlink dropped (Gbit)", "uplink delivered (Gbit)",
                   "uplink dropped (Gbit)", "latency to ground (ms)", "path to ground (% of satellite-steps)"):
        assert column in compared.columns
        assert "n/a" not in compared.loc["baseline", column]


def test_losing_a_station_shows_in_the_network_figures(compared):
    """Without Kashi the data go round by the other stations and the relay: later (2 h of phase 1: 177 ms -> 220 ms)."""
    number = lambda row, column: float(compared.loc[row, column].replace(",", ""))
    latency, change = "latency to ground (ms)", "change (what-if - baseline)"
    assert number("what-if", latency) > number("baseline", latency) + 10.0
    assert number(change, latency) == pytest.approx(number("what-if", latency) - number("baseline", latency), abs=0.1)
