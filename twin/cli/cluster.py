"""``twin simulate ... --workers N`` or ``--scheduler ADDRESS``: the run on a Dask cluster (:mod:`twin.run.scale_out`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """The Dask options of ``twin simulate``."""
    cluster = parser.add_argument_group("scale out (Dask)")
    cluster.add_argument("--workers", type=int, metavar="N",
                         help="run on a local Dask cluster of N worker processes (output must be .zarr)")
    cluster.add_argument("--scheduler", metavar="ADDRESS",
                         help="run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 (output must be a .zarr "
                              "path every worker can write)")
    cluster.add_argument("--partitions", type=int, metavar="P",
                         help="engine partitions (default: one per worker thread)")
    cluster.add_argument("--sat-chunk", type=int, default=512, metavar="S", help="satellites per Zarr chunk (default 512)")
    cluster.add_argument("--time-chunk", type=int, default=240, metavar="T", help="steps per Zarr chunk (default 240)")
    cluster.add_argument("--dashboard", default=":8787", metavar="ADDRESS",
                         help="where a local cluster serves its Dask dashboard (default :8787)")


def _check(args) -> None:
    from twin.cli.common import UserError

    if args.workers is not None and args.scheduler:
        raise UserError("--workers and --scheduler: give one (a local cluster of N workers, or an existing scheduler)")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers: {args.workers} must be at least 1")
    if Path(args.out).suffix != ".zarr":
        raise UserError(f"--out: {args.out!r} must end in .zarr on a Dask cluster (workers write one Zarr store)")
    if Path(args.scenario).suffix.lower() in (".tle", ".3le", ".txt"):
        raise UserError(f"scenario: {args.scenario!r} is a TLE file; a Dask run needs a scenario (its sub-centers)")
    for name in ("partitions", "sat_chunk", "time_chunk"):
        value = getattr(args, name)
        if value is not None and value < (1 if name == "partitions" else 2):
            raise UserError(f"--{name.replace('_', '-')}: {value} must be at least {1 if name == 'partitions' else 2}")


def simulate_on_cluster(args):
    """Run ``args`` on the Dask cluster they name and return the stored run (opened lazily)."""
    from dask.distributed import Client, LocalCluster

    from twin.cli.common import RunBar, UserError, plan_of
    from twin.dataset import open_run
    from twin.run.plan import Chunks
    from twin.run.scale_out import simulate_plan

    _check(args)
    plan = plan_of(args, Chunks(args.sat_chunk, args.time_chunk))  # refused here, before a cluster is started
    if args.scheduler:
        try:
            client, cluster = Client(args.scheduler, timeout="20s"), None
        except OSError as error:
            raise UserError(f"--scheduler: cannot reach {args.scheduler!r} ({error})") from None
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=args.dashboard)
        client = Client(cluster)
    scenario = plan.scenario
    print(f"{scenario.name}: {scenario.satellite_count} satellites on Dask ({len(client.nthreads())} workers); "
          f"dashboard {client.dashboard_link}", file=sys.stderr)
    try:
        with RunBar(plan.work, not args.quiet) as bar:
            result = simulate_plan(plan, args.out, client, args.partitions, bar, overwrite=args.overwrite)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    print(f"{len(result.partitions)} partitions, {result.orbit_tasks} orbit tasks"
          + (f", resumed {result.restarts} time(s) after a lost worker" if result.restarts else ""), file=sys.stderr)
    return open_run(result.path)
