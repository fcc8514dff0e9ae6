"""``twin lifecycle`` (the figures of a stored build-up run by year or quarter) and the build-up run that
``twin simulate`` makes of a scenario with a ``[lifecycle]`` section (:func:`simulate_lifecycle`)."""

from __future__ import annotations

import sys
from pathlib import Path

from twin.cli.common import RunBar, UserError
from twin.scenario import ScenarioError


class ProgressLines:
    """A run's progress off a terminal (a log, a pipe): one line on stderr each tenth of the work."""

    def __init__(self):
        self.tenth = -1

    def __call__(self, progress) -> None:
        tenth = int(10 * progress.fraction)
        if tenth != self.tenth:
            self.tenth = tenth
            print(f"twin: {progress.stage} {progress.done}/{progress.total} ({100 * progress.fraction:.0f} %)",
                  file=sys.stderr, flush=True)


def simulate_lifecycle(scenario, args) -> int:
    """Run the build-up of ``scenario`` into ``args.out`` (resuming an interrupted run), then print its figures."""
    from twin.dataset import open_run
    from twin.lifecycle import run_lifecycle
    from twin.lifecycle.run import lifecycle_work
    from twin.lifecycle.schedule import Schedule
    from twin.report.buildup import buildup_text

    settings = scenario.lifecycle
    schedule = Schedule.of(scenario)
    print(f"{scenario.name}: build-up of {scenario.satellite_count} satellites in {scenario.subcenter_count} "
          f"sub-centers, {len(settings.launches)} launches, {schedule.offsets_s.size} steps of "
          f"{settings.step_s / 86400:g} d to {settings.end}, each sub-center's chief standing for it", file=sys.stderr)
    note = lambda text: print(f"twin: {text}", file=sys.stderr)
    on_terminal = sys.stderr.isatty()
    with RunBar(lifecycle_work(schedule), not args.quiet and on_terminal) as bar:
        progress = bar if on_terminal else (None if args.quiet else ProgressLines())
        out = run_lifecycle(scenario, args.out, args.overwrite, progress, note=note)
    run = open_run(out)
    print(f"wrote {out} ({run.sizes['sat']} sub-centers x {run.sizes['time']} steps)")
    print(buildup_text(run))
    return 0


def window_plan(args):
    """The plan of ``twin simulate SCENARIO --from LIFE.zarr --start ...``: a window at full resolution from the state
    the build-up run ``LIFE.zarr`` of the scenario stored at ``--start`` (:func:`twin.lifecycle.zoom.zoom_plan`)."""
    from twin.cli.common import scenario_of, span_of
    from twin.dataset import open_run
    from twin.lifecycle.zoom import zoom_plan
    from twin.run.plan import RunOptionError

    start, duration_s, step_s = span_of(args)
    if start is None:
        raise UserError("--start: a window of a build-up (--from) needs its start")
    scenario = scenario_of(args)
    try:
        run = open_run(args.from_run)
        if not run.attrs.get("lifecycle"):
            raise ValueError(f"run: {args.from_run!r} is not a build-up run (twin simulate lifecycle --out life.zarr)")
        return zoom_plan(run.load(), scenario, start, duration_s, step_s)
    except RunOptionError as error:
        raise UserError(f"--{error}") from None
    except (OSError, ValueError) as error:
        if isinstance(error, ScenarioError):
            raise
        raise UserError(f"--from: {error}" if str(error).startswith("run:") else str(error)) from None


def cmd_lifecycle(args) -> int:
    from twin.dataset import damage_named, open_run
    from twin.report.buildup import buildup_text, plot_buildup
    from twin.safe_output import FILE, OutputError, check_target, written_into_place

    try:
        if args.plot:
            if Path(args.plot).suffix.lower() not in (".png", ".svg", ".pdf"):
                raise UserError(f"--plot: {args.plot!r} must end in .png, .svg or .pdf")
            check_target(args.plot, FILE, args.overwrite)
        run = open_run(args.run)
        with damage_named(run, args.run):
            text = buildup_text(run, args.by, args.members)
            if args.plot:
                with written_into_place(args.plot, FILE, args.overwrite) as partial:
                    plot_buildup(run, partial, args.by)
    except OutputError as error:  # the image's path: named as the option it came from
        raise UserError(f"--plot: {str(error).removeprefix('out: ')}") from None
    except (OSError, ValueError) as error:  # missing, unreadable, damaged, or not a build-up run
        raise UserError(str(error)) from None
    print(text)
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


def register(commands) -> None:
    """Add ``lifecycle`` to the ``twin`` command's sub-commands."""
    lifecycle = commands.add_parser("lifecycle", help="figures of a stored build-up run by year or quarter")
    lifecycle.add_argument("run", help="a build-up run (twin simulate lifecycle --out life.zarr)")
    lifecycle.add_argument("--by", choices=("year", "quarter"), default="year", help="period of the figures")
    lifecycle.add_argument("--members", action="store_true", help="add the capacity units of each member")
    lifecycle.add_argument("--plot", metavar="PATH", help="also draw the build-up into an image (.png, .svg, .pdf)")
    lifecycle.add_argument("--overwrite", action="store_true", help="replace the image already at --plot")
    lifecycle.set_defaults(handler=cmd_lifecycle)
