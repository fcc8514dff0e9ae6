"""A run is planned once (twin.run.plan): the fleet designed once, mistakes refused before anything runs, and
progress counted in one place, reaching exactly the plan's work (twin.run.progress). The Dask executor's count
is checked in tests/test_scale_out.py."""

import queue

import pytest

import twin
from twin.run.plan import Chunks, RunPlan
from twin.run.progress import Progress


@pytest.fixture
def fleet_designs(monkeypatch):
    """How many times a fleet is designed (each design checks its separation once)."""
    from twin.orbit import constellation

    designs = []
    check = constellation.check_separation
    monkeypatch.setattr(constellation, "check_separation", lambda *args: designs.append(1) or check(*args))
    return designs


def assert_counted_to_the_end(seen: list[Progress], plan: RunPlan) -> None:
    """Every unit of the plan's work counted once, in order: each stage to its units, the run to its total."""
    assert [progress.total for progress in seen] == [plan.work.total] * len(seen)
    assert [progress.done for progress in seen] == sorted(progress.done for progress in seen)
    assert seen[-1].done == plan.work.total
    for stage in plan.work.stages:
        assert max(p.stage_done for p in seen if p.stage == stage.name) == stage.units, stage


def test_progress_reaches_exactly_the_work_of_the_plan_in_one_process(phase1):
    plan = RunPlan.of(phase1, duration_s=3600, step_s=60, network=True)
    assert [(stage.name, stage.units) for stage in plan.work.stages] == [("orbits", 2), ("steps", 60), ("network", 1)]
    seen = []
    twin.run_scenario(phase1, duration_s=3600, step_s=60, network=True, progress=seen.append)
    assert_counted_to_the_end(seen, plan)
    assert len(seen) == plan.work.total  # one report per unit


def test_the_orbit_layer_alone_counts_its_formation_blocks(phase1):
    fleet = twin.design_fleet(phase1)
    seen = []
    run = twin.run_orbits(fleet, phase1.epoch, [0.0, 60.0, 120.0], progress=seen.append)
    assert run.sizes["time"] == 3 and [p.done for p in seen] == [1, 2] and seen[-1].total == len(fleet.blocks)


def test_the_dashboard_worker_reports_the_same_count(phase1):
    """What a What-if job shows: the plan's units done out of its total, from the first report to the last."""
    from apps import worker
    from apps.runs import scenario_tables

    reports = queue.Queue()
    worker._progress_queue = reports
    try:
        request = worker.RunRequest(scenario_tables(phase1), phase1.source, 3600.0, 60.0, False, True)
        worker._simulate("key", request)
    finally:
        worker._progress_queue = None
    counts = [reports.get_nowait() for _ in range(reports.qsize())]
    total = RunPlan.of(phase1, duration_s=3600, step_s=60, network=True).work.total
    assert counts[-1] == ("key", total, total) and len(counts) == total


def test_a_run_designs_its_fleet_once(phase1, fleet_designs, tmp_path):
    from twin.cli import main

    assert main(["simulate", "phase1", "--duration", "1h", "--out", str(tmp_path / "run.zarr"), "--quiet"]) == 0
    assert len(fleet_designs) == 1


def test_the_twin_against_telemetry_designs_its_fleet_once(phase1, fleet_designs, tmp_path):
    from twin.telemetry import assimilation, ingest, store, virtual_fleet

    sensors = virtual_fleet.load_sensors()
    truth = virtual_fleet.simulate_truth(phase1, phase1.epoch, 1200, sensors, [])
    ingest.ingest_stream(ingest.Ingestor(store.MeasurementStore(tmp_path / "tm.zarr"), clock="stream"),
                         virtual_fleet.record(truth, sensors, []).stream, "station")
    groups = {kind: group.load() for kind, group in store.open_measurements(tmp_path / "tm.zarr").items()}
    fleet_designs.clear()
    assimilation.model_run(phase1, groups, sensors)
    assert len(fleet_designs) == 1


def test_a_plan_refuses_what_cannot_run_before_anything_runs(phase1):
    from twin.run.plan import RunOptionError
    from twin.scenario import Fault

    with pytest.raises(RunOptionError, match=r"step: 7200 s is longer than the duration of 3600 s"):
        RunPlan.of(phase1, duration_s=3600, step_s=7200)
    with pytest.raises(ValueError, match=r"faults\[0\].target: 'CC1-001-02' is neither a satellite nor a sub-center"):
        RunPlan.of(phase1, duration_s=3600, representatives=True,
                   faults=[Fault("CC1-001-02", "satellite_lost", 0.0, 1.0)])
    with pytest.raises(ValueError, match="sat_chunk: 1 must be an integer of at least 2"):
        Chunks(1, 240)


def test_a_plan_stored_as_it_runs_counts_its_orbit_tasks(phase1):
    """On Dask the orbit layer is counted in tasks of whole chunks: 25 satellites in chunks of 8 fit in one task
    per time chunk, so 2 h at 60 s in chunks of 30 steps are 5 tasks (the CLI test's "5 orbit tasks")."""
    plan = RunPlan.of(phase1, duration_s=7200, step_s=60, chunks=Chunks(8, 30))
    assert plan.work.stage("orbits").units == 5 and plan.work.stage("steps").units == 120
