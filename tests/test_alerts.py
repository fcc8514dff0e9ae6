"""Warning lines (``twin.report.alerts``): every figure beyond its threshold is flagged, in ``twin report`` (and so the
demo and ``twin simulate``) and on the dashboard; a run with none says so.

Each case provokes one condition with the physics that causes it: a network buffer too small for the
offered data (drops), batteries too small for June's umbras (the floor, shed load, throttling), a
radiator stuck from the start (the payload passes its maximum temperature), a workload far beyond
capacity (missed deadlines).
"""

import dataclasses
import tomllib

import numpy as np
import pytest

import twin
from twin.report.alerts import DROPPED_DATA_FRACTION, warning_lines
from twin.report.text import report
from twin.network.flows import add_network
from twin.scenario import SCENARIO_DIR, Fault, scenario_from_dict

SIX_HOURS_S = 6 * 3600


def _raw():
    return tomllib.loads((SCENARIO_DIR / "phase1.toml").read_text())


def _run(raw, **kwargs):
    return twin.run_scenario(scenario_from_dict(raw), duration_s=SIX_HOURS_S, step_s=60, **kwargs)


def test_a_nominal_run_has_no_warning_and_the_report_says_so(phase1_run):
    assert warning_lines(phase1_run) == []
    assert report(phase1_run).splitlines()[-1] == "warnings: none (no figure beyond the thresholds of twin.report.alerts)"


def test_data_dropped_beyond_the_threshold_is_a_warning(phase1_run, phase1):
    """A 200 Gbit buffer and 2 Gbit/s of downlink demand per sub-center: most of it cannot reach the ground."""
    scenario = dataclasses.replace(phase1, links=dataclasses.replace(phase1.links, buffer_bits=2e11,
                                                                     downlink_demand_bps=2e9))
    run = add_network(phase1_run, scenario)
    dropped = float(run["downlink_data_dropped"].isel(time=-1).sum() / run["downlink_data_in"].isel(time=-1).sum())
    assert dropped > DROPPED_DATA_FRACTION
    lines = warning_lines(run)
    assert any(line.startswith("downlink data dropped: ") and f"({100 * dropped:.1f} %" in line for line in lines)
    text = report(run)
    assert f"warning: downlink data dropped: " in text and "warnings: none" not in text


def test_batteries_at_their_floor_shed_load_and_throttled_compute_are_warnings():
    """compute-s with 0.8 kWh at 8 C (tests/test_engine.py): June's umbras take the batteries to their floor,
    load is shed and compute throttled."""
    raw = _raw()
    raw["buses"]["compute-s"].update(battery_capacity_wh=800.0, battery_max_c_rate=8.0)
    run = _run(raw)
    lines = warning_lines(run)
    assert any(line.startswith("batteries at their floor: 24 of 25 satellites") for line in lines), lines
    assert any(line.startswith("load shed: ") for line in lines), lines
    assert any(line.startswith("compute throttled: ") for line in lines), lines
    by_subcenter = warning_lines(run, "subcenter", "EXP-001")  # the experimental satellite keeps its own battery
    assert not any(line.startswith(("batteries at their floor", "load shed")) for line in by_subcenter)


def test_a_payload_above_its_maximum_temperature_is_a_warning_naming_the_hottest():
    raw = _raw()
    run = _run(raw, faults=[Fault("CC1-002-04", "radiator_stuck", 0.0, 1.0)])
    hottest = float(run["temperature"].sel(sat="CC1-002-04", node="payload").max())
    assert hottest > float(run["payload_max_temperature"].sel(sat="CC1-002-04"))
    line = next(line for line in warning_lines(run) if line.startswith("payload over its maximum temperature"))
    assert "1 of 25 satellites, hottest CC1-002-04 at" in line


def test_jobs_missing_their_deadlines_beyond_the_threshold_are_a_warning():
    """Inference offered at three times the installed capacity with half-hour deadlines."""
    raw = _raw()
    raw["compute"]["classes"][1]["offered_load"] = 3.0
    run = _run(raw)
    line = next(line for line in warning_lines(run) if line.startswith("jobs missed their deadline"))
    missed, completed = int(run["cluster_jobs_missed"].sum()), int(run["cluster_jobs_completed"].sum())
    assert f"{missed:,} of {missed + completed:,}" in line


def test_the_dashboard_cards_show_the_runs_warnings(phase1_run):
    from apps.kpi_cards import NO_WARNINGS, KeyFigureCards, warning_text
    from apps.kpis import key_figures, run_warnings
    from apps.runs import RunData

    data = RunData(phase1_run, "phase1")
    cards = KeyFigureCards()
    cards.show("Fleet", key_figures(data, 10), run_warnings(data))
    assert cards.warnings == [NO_WARNINGS]
    assert run_warnings(data) is run_warnings(data)  # computed once per run and group
    assert warning_text(["load shed: 1 MWh"]) == ["warning: load shed: 1 MWh"]
    labels = [kpi.label for kpi in key_figures(data, 10)]
    assert {"Installed power", "Generated power (arrays)", "Used power (loads)", "Used by compute", "Curtailed power",
            "Shed power", "Battery losses"} <= set(labels)


def test_data_delivered_below_the_threshold_is_a_warning_even_when_none_is_dropped(phase1_run, phase1):
    """Ten times the Earth-observation inflow through the relay, with buffers large enough to keep it all:
    nothing is dropped in 6 h, but most of it still waits in the queues."""
    from twin.report.alerts import DELIVERED_DATA_FRACTION

    scenario = dataclasses.replace(phase1, links=dataclasses.replace(phase1.links, eo_inflow_bps=2e9, buffer_bits=1e16))
    run = add_network(phase1_run, scenario)
    last = lambda part: float(run[f"eo_data_{part}"].isel(time=-1).sum())
    assert last("dropped") == 0 and last("delivered") / last("in") < DELIVERED_DATA_FRACTION
    line = next(line for line in warning_lines(run) if line.startswith("Earth-observation inflow data delivered: "))
    assert line.endswith("the rest is queued")
