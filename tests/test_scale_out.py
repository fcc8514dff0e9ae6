"""The twin on a Dask cluster (twin.run.scale_out): a partitioned run equals the single-process run, and
a worker killed mid-run is recovered with an intact store.

Partitions are deliberately cut through sub-centers (8-satellite chunks across 8- and 37-satellite
clusters), so the scheduler's placement and the lost work of a satellite fault cross partitions.
"""

from __future__ import annotations

import dataclasses
import os
import signal

import numpy as np
import pytest
import xarray as xr
import zarr

from twin.cli import main
from twin.dataset import open_run
from twin.run.scale_out import partition_rows, simulate_partitioned
from twin.scenario import Fault, RadiationDesign, load_scenario
from twin.run.simulate import run_scenario

distributed = pytest.importorskip("distributed")

# CC1-003 (rows 17-24) straddles the partitions [8, 24) and [24, 25): the work its lost satellite held
# is shared out from sums over both.
FAULTS = [Fault("CC1-003-05", "satellite_lost", 10800.0, 1.0), Fault("CC1-002", "array_degraded", 3600.0, 0.5),
          Fault("CC1-001-02", "radiator_stuck", 5400.0, 0.6)]


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def phase1_reference():
    return run_scenario(load_scenario("phase1"), duration_s=6 * 3600.0, step_s=60.0, faults=FAULTS, network=True,
                        flight=True)


def assert_same_run(reference: xr.Dataset, run: xr.Dataset) -> None:
    """Every variable and coordinate equal: labels exactly, numbers to 1e-9 relative (float rounding of
    sums taken per partition) or 1e-6 absolute in their unit (W, J, K, bit...)."""
    assert set(reference.variables) == set(run.variables)
    for name in reference.variables:
        expected, actual = reference[name].values, run[name].values
        assert actual.dtype == expected.dtype, name
        if expected.dtype.kind == "f":
            np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-6, err_msg=name)
        else:
            np.testing.assert_array_equal(actual, expected, err_msg=name)
    assert {key: value for key, value in run.attrs.items() if key != "partitions"} == reference.attrs


def test_partitioned_run_equals_the_single_process_run(client, phase1_reference, tmp_path):
    seen = []
    result = simulate_partitioned(load_scenario("phase1"), tmp_path / "run.zarr", client, duration_s=6 * 3600.0,
                                  step_s=60.0, faults=FAULTS, network=True, sat_chunk=8, time_chunk=50, partitions=3,
                                  progress=seen.append, flight=True)
    assert result.partitions == [(0, 8), (8, 24), (24, 25)] and result.restarts == 0
    # Progress (twin.run.progress): every orbit task, step, the network and the flight variables counted once, to
    # the plan's total.
    assert seen[-1].done == seen[-1].total == result.orbit_tasks + 360 + 1 + 1
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert {p.stage: p.stage_done for p in seen} == {"orbits": result.orbit_tasks, "steps": 360, "network": 1,
                                                     "flight": 1}
    run = open_run(result.path)
    assert_same_run(phase1_reference, run)
    assert run.attrs["compute_lost_cu_s"] > 0  # the satellite lost in CC1-003 cost work
    # Chunks: one satellite's span or one step of the fleet reads a sliver of the store.
    assert zarr.open_group(result.path)["generated_power"].chunks == (8, 50)
    assert zarr.open_group(result.path)["position"].chunks == (8, 50, 3)


def test_a_partitioned_run_computes_the_radiation_layer_as_one_process_does(client, tmp_path):
    """The layer's dose carried across time chunks, and the engine's partitions offered only the compute still
    working and crashed by the detected upsets, read from the store."""
    shielded = dataclasses.replace(load_scenario("phase1"), radiation=RadiationDesign(shielding_mm=1.0))
    reference = run_scenario(shielded, duration_s=3 * 3600.0, step_s=60.0, faults=FAULTS)
    seen = []
    result = simulate_partitioned(shielded, tmp_path / "run.zarr", client, duration_s=3 * 3600.0, step_s=60.0,
                                  faults=FAULTS, sat_chunk=8, time_chunk=50, partitions=3, progress=seen.append)
    assert {p.stage: p.stage_done for p in seen}["radiation"] == 1 and "radiation" in result.seconds
    run = open_run(result.path)
    assert_same_run(reference, run)
    assert float(run["total_dose"].isel(time=-1).min()) > 0 and run.attrs["compute_crash_lost_cu_s"] > 0


def test_phase2_ground_offloading_is_coupled_across_partitions(client, tmp_path):
    phase2 = load_scenario("phase2")
    reference = run_scenario(phase2, duration_s=2 * 3600.0, step_s=60.0)
    result = simulate_partitioned(phase2, tmp_path / "phase2.zarr", client, duration_s=2 * 3600.0, step_s=60.0,
                                  sat_chunk=64, time_chunk=40, partitions=3)
    run = open_run(result.path)
    assert_same_run(reference, run)
    assert float(run["ground_offloaded_work"].sum()) > 0


def test_a_worker_killed_mid_run_is_recovered_with_an_intact_store(phase1_reference, tmp_path):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as dask_client:
        kills = []

        def kill_a_worker(progress) -> None:
            """SIGKILL a worker once among the orbit tasks, and in the engine one that holds a partition."""
            stage, done = progress.stage, progress.stage_done
            if (stage, done) in (("orbits", 2), ("steps", 120)) and stage not in kills:
                workers = dask_client.run(lambda dask_worker: (os.getpid(), len(dask_worker.state.actors)))
                pid = max(workers.values(), key=lambda pid_actors: pid_actors[1])[0]
                os.kill(pid, signal.SIGKILL)
                kills.append(stage)

        result = simulate_partitioned(load_scenario("phase1"), tmp_path / "run.zarr", dask_client,
                                      duration_s=6 * 3600.0, step_s=60.0, faults=FAULTS, network=True, sat_chunk=8,
                                      time_chunk=50, partitions=2, progress=kill_a_worker, flight=True)
    assert kills == ["orbits", "steps"]
    assert result.restarts >= 1
    assert_same_run(phase1_reference, open_run(result.path))


def test_partitions_are_whole_chunks():
    assert partition_rows(10485, 512, 2) == [(0, 5120), (5120, 10485)]
    assert partition_rows(25, 8, 8) == [(0, 8), (8, 16), (16, 24), (24, 25)]  # never more partitions than chunks


def test_bad_settings_are_named(client, tmp_path):
    phase1 = load_scenario("phase1")
    with pytest.raises(ValueError, match=r"sat_chunk: 1 must be an integer of at least 2"):
        simulate_partitioned(phase1, tmp_path / "run.zarr", client, sat_chunk=1)
    with pytest.raises(ValueError, match=r"out: .*run.nc.* must end in .zarr"):
        simulate_partitioned(phase1, tmp_path / "run.nc", client)
    assert not (tmp_path / "run.zarr").exists()


@pytest.mark.parametrize("arguments, message", [
    (["--workers", "0"], "--workers: 0 must be at least 1"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "--workers and --scheduler: give one"),
    (["--workers", "2", "--time-chunk", "1"], "--time-chunk: 1 must be at least 2"),
])
def test_cluster_options_are_checked(arguments, message, tmp_path, capsys):
    assert main(["simulate", "phase1", "--out", str(tmp_path / "run.zarr"), *arguments]) == 2
    assert message in capsys.readouterr().err


def test_a_netcdf_output_is_refused_on_a_cluster(tmp_path, capsys):
    assert main(["simulate", "phase1", "--out", str(tmp_path / "run.nc"), "--workers", "2"]) == 2
    assert "must end in .zarr on a Dask cluster" in capsys.readouterr().err


def test_the_command_line_runs_on_a_local_cluster(tmp_path, capsys):
    out = tmp_path / "run.zarr"
    assert main(["simulate", "phase1", "--duration", "2h", "--out", str(out), "--workers", "2", "--sat-chunk", "8",
                 "--time-chunk", "30", "--dashboard", ":0", "--quiet"]) == 0
    printed = capsys.readouterr()
    assert "2 partitions, 5 orbit tasks" in printed.err and "dashboard http://" in printed.err
    assert f"wrote {out} (25 satellites x 121 steps)" in printed.out and "total    25" in printed.out
    run = open_run(out)
    assert run.attrs["partitions"] == 2 and float(run["generated_power"].isel(time=-1).sum()) > 0


def test_a_partitioned_run_is_written_beside_its_path_and_renamed_in_when_complete(client, tmp_path):
    """The Dask run follows twin.save's rules: what is not a run is never touched, a run is replaced only with
    ``overwrite``, and a run that fails midway leaves nothing under its name (nor beside it)."""
    from twin.safe_output import OutputError

    phase1 = load_scenario("phase1")
    out = tmp_path / "run.zarr"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="exists and is not a twin run"):
        simulate_partitioned(phase1, out, client, duration_s=3600.0, overwrite=True)
    assert [path.name for path in out.iterdir()] == ["notes.txt"]

    def fail_midway(progress) -> None:
        if progress.stage == "steps" and progress.stage_done == 30:
            raise RuntimeError("the cluster went away")

    out = tmp_path / "new.zarr"
    with pytest.raises(RuntimeError, match="the cluster went away"):
        simulate_partitioned(phase1, out, client, duration_s=3600.0, sat_chunk=8, time_chunk=20, progress=fail_midway)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run.zarr"]
    simulate_partitioned(phase1, out, client, duration_s=1800.0, sat_chunk=8, time_chunk=20)
    with pytest.raises(OutputError, match="already holds a twin run"):
        simulate_partitioned(phase1, out, client, duration_s=3600.0)
    result = simulate_partitioned(phase1, out, client, duration_s=3600.0, sat_chunk=8, time_chunk=20, overwrite=True)
    assert result.path == out and open_run(out).sizes["time"] == 61
    assert sorted(path.name for path in tmp_path.iterdir()) == ["new.zarr", "run.zarr"]
    # Every chunk is stored, so a deleted one is found (4 x 4 chunks of up to 8 satellites x 20 steps)
    (out / "generated_power" / "1.2").unlink()
    with pytest.raises(ValueError, match="variable 'generated_power' has 1 of its 16 chunks missing"):
        open_run(out)
