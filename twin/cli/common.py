"""What every ``twin`` command shares: the user's mistakes as one line, the progress bar, the span and
scenario options."""

from __future__ import annotations

import sys

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A mistake in what the user asked for; printed as one line."""


def progress_bar(total_steps: int, enabled: bool):
    from tqdm import tqdm

    # disable=None: shown on a terminal only, so logs and pipes stay clean.
    return tqdm(total=total_steps, unit="step", desc="twin", disable=None if enabled else True, file=sys.stderr)


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
