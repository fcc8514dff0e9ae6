"""The Phase review's comparison (apps/review_compare.py) without a browser: the network and health figures of two runs
as the runs hold them, what changed between their scenarios, and the page twin review makes of them."""

from __future__ import annotations

from pathlib import Path

import pytest

import twin
from apps.review_compare import network_health, network_health_table, review_page, scenario_changes
from apps.runs import RunData
from twin.network.flows import network_report

LOST = '\n[[faults]]\ntarget = "CC1-002-03"\nkind = "satellite_lost"\nstart = "2026-06-01T00:30:00"\n'


@pytest.fixture(scope="module")
def runs(phase1, tmp_path_factory):
    """Phase 1 for an hour with its network, and the same with a satellite lost after 30 minutes (a scenario file of
    its own: a run records its file's text, which the review compares)."""
    path = tmp_path_factory.mktemp("review") / "lost.toml"
    path.write_text(Path(phase1.source).read_text(encoding="utf-8") + LOST, encoding="utf-8")
    before = twin.run_scenario(phase1, duration_s=3600, step_s=60, network=True)
    after = twin.run_scenario(twin.load_scenario(path), duration_s=3600, step_s=60, network=True)
    return {"before": RunData(before, "before"), "after": RunData(after, "after")}


def test_network_and_health_figures_are_the_runs(runs):
    before, after = network_health(runs["before"]), network_health(runs["after"])
    assert before[("healthy at the lowest", "satellites")] == 25 and before[("lost to faults", "satellites")] == 0
    assert after[("healthy at the lowest", "satellites")] == 24 and after[("lost to faults", "satellites")] == 1
    flows = network_report(runs["before"].run)
    assert before[("downlink delivered", "%")] == pytest.approx(
        100 * flows["downlink_data_delivered"] / flows["downlink_data_in"], rel=1e-12)
    assert before[("latency to ground", "ms mean")] == pytest.approx(1e3 * flows["mean_latency_s"], rel=1e-12)
    table = network_health_table(runs)
    assert list(table.index) == ["before", "after", "change (after - before)"]
    assert table.loc["change (after - before)", "lost to faults (satellites)"] == "1"


def test_the_scenario_diff_and_the_review_page_are_twin_reviews(runs):
    changes = scenario_changes(runs)
    assert changes == ["faults[0]: (absent) -> (table)"]
    page = review_page(runs).decode("utf-8")
    assert "<h1>Review: before and after</h1>" in page and "What changed in the scenario (1)" in page
    assert "faults[0]: (absent) -&gt; (table)" in page and "latency to ground" in page
