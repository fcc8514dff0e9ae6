"""``twin simulate`` (a scenario or a TLE file into a stored run) and ``twin demo`` (the phase-1 demo)."""

from __future__ import annotations

import sys
from pathlib import Path

from twin.cli.common import RunBar, UserError, plan_of, scenario_of
from twin.report.text import describe, report


def _run(args) -> "xarray.Dataset":  # noqa: F821
    from twin.run.memory import RunTooLargeError, check_run_fits
    from twin.run.simulate import run_plan

    if getattr(args, "from_run", None):
        from twin.cli.lifecycle import window_plan

        plan = window_plan(args)
    else:
        plan = plan_of(args)
    try:
        check_run_fits(plan)
    except RunTooLargeError as error:
        raise UserError(str(error)) from None
    if plan.scenario is not None:
        scenario = plan.scenario
        print(f"{scenario.name}: {scenario.satellite_count} satellites in {scenario.subcenter_count} sub-centers, "
              f"{scenario.installed_power_w() / 1e6:.3f} MW installed"
              + (", simulating each sub-center's chief for all its satellites" if plan.representatives else ""),
              file=sys.stderr)
    with RunBar(plan.work, not args.quiet) as bar:
        return run_plan(plan, bar)


def cmd_simulate(args) -> int:
    from twin.dataset import check_run_target, save

    out = Path(args.out)
    check_run_target(out, args.overwrite)  # a wrong suffix or a path that may not be replaced: refused now, not after the run
    scenario = _buildup_scenario(args)
    if scenario is not None:
        from twin.cli.lifecycle import simulate_lifecycle

        return simulate_lifecycle(scenario, args)
    if getattr(args, "workers", None) is not None or getattr(args, "scheduler", None):
        from twin.cli.cluster import simulate_on_cluster

        run = simulate_on_cluster(args)
    else:
        run = _run(args)
        save(run, out, args.overwrite)
    print(f"wrote {out} ({run.sizes['sat']} satellites x {run.sizes['time']} steps)")
    if "generated_power" in run:  # TLE runs have orbits only
        print(report(run, "total"))
    return 0


def _buildup_scenario(args):
    """The scenario of ``args`` if they ask for its build-up: it has a ``[lifecycle]`` section and no option of a
    run at full resolution (``--start``, ``--duration``, ``--step``, ``--representatives``, ``--network``,
    ``--flight``, a cluster) is given; else None."""
    if Path(args.scenario).suffix.lower() in (".tle", ".3le", ".txt"):
        return None
    full_resolution = (args.start, args.duration, args.step, args.representatives, args.network,
                       getattr(args, "flight", False),
                       getattr(args, "from_run", None),
                       getattr(args, "workers", None), getattr(args, "scheduler", None))
    if any(option not in (None, False) for option in full_resolution):
        return None
    scenario = scenario_of(args)
    return scenario if scenario.lifecycle is not None else None


def cmd_demo(args) -> int:
    """Run the built-in phase-1 scenario for a day, store it, reopen it and describe it."""
    from twin.dataset import open_run

    args.scenario, args.start, args.duration, args.step = "phase1", None, None, None
    args.representatives, args.network = False, True
    cmd_simulate(args)
    run = open_run(args.out)
    print(describe(run))
    longest = max(run.twin.eclipse_intervals(sat)["duration_s"].max() for sat in run["sat"].values[:1])
    print(f"  longest umbra of {run['sat'].values[0]}: {longest / 60:.1f} min")
    passes = int((run["contact_station"].values == "Miyun").sum())
    print(f"  ground contacts: {run.sizes['contact']} passes over the stations, {passes} of them at Miyun "
          f"(twin contacts {args.out} --station Miyun)")
    return 0


def register(commands) -> None:
    """Add ``simulate`` and ``demo`` to the ``twin`` command's sub-commands."""
    simulate = commands.add_parser("simulate", help="run the twin on a scenario and store the dataset")
    simulate.add_argument("scenario", help="built-in scenario name (phase1, phase2, phase3, lifecycle), a scenario .toml, or a .tle "
                               "file; a scenario with a [lifecycle] section runs its build-up unless a span, "
                               "--representatives, --network or a cluster is asked for")
    simulate.add_argument("--start", help="ISO 8601 UTC start (default: the scenario epoch)")
    simulate.add_argument("--duration", help="span such as 24h, 7d, 90min (default: the scenario's)")
    simulate.add_argument("--step", help="step such as 60s, 10s, 10min (default: the scenario's)")
    simulate.add_argument("--out", required=True, help="output .zarr directory or .nc file")
    simulate.add_argument("--overwrite", action="store_true", help="replace the twin run already at --out")
    simulate.add_argument("--representatives", action="store_true",
                          help="simulate only each sub-center's chief, standing for all its satellites: "
                               "for long studies, e.g. a year of phase 3")
    simulate.add_argument("--network", action="store_true",
                          help="add links, ground contacts, routing and data flows (memory grows with the fleet)")
    simulate.add_argument("--flight", action="store_true",
                          help="add air density and the drag and radiation-pressure accelerations (NRLMSIS 2.1)")
    simulate.add_argument("--from", dest="from_run", metavar="LIFE.zarr",
                          help="a window at full resolution (--start, --duration) from the state this build-up run "
                               "of the scenario stored: satellites in service, array ageing")
    simulate.add_argument("--quiet", action="store_true", help="no progress bar")
    simulate.add_argument("--no-checksum", action="store_true",
                          help="accept TLE lines whose checksum is wrong (with a warning)")
    from twin.cli.cluster import add_cluster_options

    add_cluster_options(simulate)
    simulate.set_defaults(handler=cmd_simulate)

    demo = commands.add_parser("demo", help="run the phase-1 demo twin and describe it")
    demo.add_argument("--out", default="out/demo.zarr", help="where to store the demo run")
    demo.add_argument("--overwrite", action="store_true", help="replace the twin run already at --out")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(handler=cmd_demo)
