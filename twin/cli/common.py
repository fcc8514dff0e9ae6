"""What every ``twin`` command shares: the user's mistakes as one line, the progress bar, the span and
scenario options."""

from __future__ import annotations

import sys

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
