"""What every ``twin`` command shares: the user's mistakes as one line, the progress bars, the span and
scenario options, and the plan of the run they ask for."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A mistake in what the user asked for; printed as one line."""


def progress_bar(total_steps: int, enabled: bool, unit: str = "step"):
    from tqdm import tqdm

    # disable=None: shown on a terminal only, so logs and pipes stay clean.
    return tqdm(total=total_steps, unit=unit, desc="twin", disable=None if enabled else True, file=sys.stderr)


class RunBar:
    """A run's progress (:mod:`twin.run.progress`) on the terminal: one bar over the whole work of its plan, named
    after the stage under way; a ``with`` block closes it. Called with each :class:`twin.run.progress.Progress`."""

    def __init__(self, work, enabled: bool):
        self.bar = progress_bar(work.total, enabled, unit="unit")
        self.stage = None

    def __call__(self, progress) -> None:
        if self.stage != progress.stage:
            self.stage = progress.stage
            self.bar.set_description(progress.stage, refresh=False)
        self.bar.update(progress.done - self.bar.n)  # a run resumed after a lost worker moves the bar back

    def __enter__(self) -> RunBar:
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()


def span_of(args) -> tuple:
    """``--start``, ``--duration`` and ``--step`` of ``args`` (astropy Time or None, s or None, s or None)."""
    from twin.timegrid import parse_duration_s, parse_time

    try:
        duration_s = parse_duration_s(args.duration, "--duration") if args.duration else None
        step_s = parse_duration_s(args.step, "--step") if args.step else None
        start = parse_time(args.start, "--start") if args.start else None
    except ValueError as error:
        raise UserError(str(error)) from None
    return start, duration_s, step_s


def scenario_of(args) -> "twin.scenario.Scenario":  # noqa: F821
    """The scenario named by ``args.scenario``, or a clear error."""
    from twin.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(args.scenario)
    except ScenarioError as error:
        raise UserError(str(error)) from None


def _tle_fleet(source: Path, check_checksums: bool):
    """The fleet of the TLE file ``source``; a line with a wrong checksum refused, or accepted with a warning."""
    from twin.orbit.constellation import fleet_from_tles, read_tle_file
    from twin.scenario import read_utf8

    try:
        with warnings.catch_warnings(record=True) as accepted:
            warnings.simplefilter("always")
            fleet = fleet_from_tles(read_tle_file(read_utf8(source, "scenario"), check_checksums))
    except ValueError as error:  # ScenarioError too
        raise UserError(str(error)) from None
    for warning in accepted:
        print(f"twin: warning: {warning.message}", file=sys.stderr)
    return fleet


def plan_of(args, chunks=None) -> "twin.run.plan.RunPlan":  # noqa: F821
    """The plan of the run ``args`` ask for (a scenario, or a TLE file's orbit layer); every mistake in them, and
    satellites that would come too close, refused here in one line before anything runs."""
    from twin.run.plan import RunOptionError, RunPlan
    from twin.scenario import ScenarioError
    from twin.timegrid import time_grid

    start, duration_s, step_s = span_of(args)
    representatives = getattr(args, "representatives", False)
    source = Path(args.scenario)
    if source.suffix.lower() in (".tle", ".3le", ".txt"):
        if not source.is_file():
            raise UserError(f"scenario: {args.scenario!r} does not exist")
        if representatives:
            raise UserError("--representatives: needs a scenario (its sub-centers); a TLE file has none")
        fleet = _tle_fleet(source, not args.no_checksum)
        if start is None:
            from astropy.time import Time

            chief = fleet.blocks[0].chiefs[0]
            start = Time(chief.jdsatepoch, chief.jdsatepochF, format="jd", scale="utc")
        attrs = {"title": f"Orbital data center twin: TLEs from {source.name}", "scenario": source.stem}
        return RunPlan.of_fleet(fleet, start, time_grid(start, duration_s or 86400.0, step_s or 60.0), attrs)
    scenario = scenario_of(args)
    try:
        return RunPlan.of(scenario, start, duration_s, step_s, representatives=representatives,
                          network=getattr(args, "network", False), chunks=chunks)
    except RunOptionError as error:  # step: or network:, the options' names
        raise UserError(f"--{error}") from None
    except ScenarioError:
        raise
    except ValueError as error:  # a fault of the scenario whose target is not in the fleet
        raise UserError(str(error)) from None
