"""The twin on a 2-worker local Dask cluster at 1,000, 10,000 and 100,000 satellites (24 h at 60 s).

Fleets are phase 3 with its 81-satellite sub-centers (DC3) counted to reach each size. Each size runs
in its own process (so peak memory is that size's), which also runs the single-process twin
(``twin.run_scenario``) on the same grid as the reference, where it fits in memory (up to 10,000
satellites). Prints wall time, satellite-steps per second and peak memory per worker for each
size, the ratio to the single-process run, and how the cost per satellite-step grows with the fleet.
Targets (issue 9): cost no worse than linear in satellites; 100,000 satellites within 16 GB in all.

    .venv/bin/python benchmarks/scale.py [--sizes 1000 10000 100000] [--duration-s 86400] [--step-s 60]
"""

import argparse
import dataclasses
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import twin
from twin.run.scale_out import simulate_partitioned

SINGLE_PROCESS_LIMIT = 10_500  # satellites: above this the in-memory run needs more than a few GB
DC3_SATELLITES = 81


def fleet_of(size: int):
    """Phase 3 with as many 81-satellite sub-centers as bring the fleet nearest ``size``."""
    phase3 = twin.load_scenario("phase3")
    others = sum(group.count * group.satellites for group in phase3.subcenters if group.name != "DC3")
    count = max(1, round((size - others) / DC3_SATELLITES))
    groups = tuple(dataclasses.replace(group, count=count) if group.name == "DC3" else group for group in phase3.subcenters)
    return dataclasses.replace(phase3, subcenters=groups)


def gib(kilobytes: float) -> float:
    return kilobytes / 2**20


def one_size(size: int, duration_s: float, step_s: float, workers: int) -> None:
    """Run one size (in this process) and print its lines; the last line is machine-readable."""
    from dask.distributed import Client, LocalCluster

    scenario = fleet_of(size)
    satellites = scenario.satellite_count
    steps = int(duration_s // step_s) + 1
    satellite_steps = satellites * steps
    print(f"{satellites:,} satellites x {steps:,} steps ({duration_s / 3600:g} h at {step_s:g} s), "
          f"{workers} workers x 1 thread", flush=True)
    out_dir = tempfile.mkdtemp(prefix="twin-scale-")
    try:
        with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0") as cluster, \
                Client(cluster) as client:
            began = time.perf_counter()
            result = simulate_partitioned(scenario, os.path.join(out_dir, "run.zarr"), client, duration_s=duration_s,
                                          step_s=step_s)
            wall_s = time.perf_counter() - began
            worker_kib = sorted(client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss).values())
        store_gib = sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(out_dir)
                        for name in names) / 2**30
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    client_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    total_gib = gib(sum(worker_kib) + client_kib)
    rate = satellite_steps / wall_s
    print(f"  partitioned: {wall_s:.1f} s wall (orbit tasks {result.seconds['orbits']:.1f} s, engine "
          f"{result.seconds['engine']:.1f} s; {len(result.partitions)} partitions, {result.orbit_tasks} orbit tasks), "
          f"{rate:,.0f} satellite-steps/s; store {store_gib:.2f} GiB", flush=True)
    print(f"  peak RSS per worker: {', '.join(f'{gib(kib):.2f}' for kib in worker_kib)} GiB; client and scheduler "
          f"{gib(client_kib):.2f} GiB; total {total_gib:.2f} GiB", flush=True)
    reference_rate = float("nan")
    if satellites <= SINGLE_PROCESS_LIMIT:
        began = time.perf_counter()
        run = twin.run_scenario(scenario, duration_s=duration_s, step_s=step_s)
        reference_s = time.perf_counter() - began
        del run
        reference_rate = satellite_steps / reference_s
        print(f"  reference, single process in this process: {reference_s:.1f} s, {reference_rate:,.0f} "
              f"satellite-steps/s; partitioned / single process {rate / reference_rate:.2f} x", flush=True)
    else:
        print("  reference, single process: not run (the in-memory run of this size needs more than 16 GB)")
    print(f"RESULT {satellites} {wall_s} {rate} {total_gib} {reference_rate}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--duration-s", type=float, default=86400.0)
    parser.add_argument("--step-s", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: run one size in this process
    args = parser.parse_args()
    if args.one:
        one_size(args.one, args.duration_s, args.step_s, args.workers)
        return

    results = []
    for size in args.sizes:
        command = [sys.executable, __file__, "--one", str(size), "--duration-s", str(args.duration_s),
                   "--step-s", str(args.step_s), "--workers", str(args.workers)]
        finished = subprocess.run(command, capture_output=True, text=True, check=True)
        for line in finished.stdout.splitlines():
            if line.startswith("RESULT "):
                satellites, wall_s, rate, total_gib, _ = (float(value) for value in line.split()[1:])
                results.append((int(satellites), wall_s, rate, total_gib))
            else:
                print(line, flush=True)
    for (size_a, wall_a, _, _), (size_b, wall_b, _, _) in zip(results, results[1:]):
        growth = (wall_b / wall_a) / (size_b / size_a)
        print(f"cost growth {size_a:,} -> {size_b:,} satellites: wall time x {wall_b / wall_a:.1f} for "
              f"x {size_b / size_a:.1f} satellites, {growth:.2f} of linear (target <= 1)")
    largest = results[-1]
    print(f"largest ({largest[0]:,} satellites): total peak memory {largest[3]:.2f} GiB (target < 16)")


if __name__ == "__main__":
    main()
