"""The ``twin`` command line: one module per group of commands, each with a ``register(commands)``.

``simulate``, ``demo`` (:mod:`twin.cli.simulate`); ``lifecycle`` (:mod:`twin.cli.lifecycle`); ``info``,
``report``, ``scenarios`` (:mod:`twin.cli.inspect`); ``diff``, ``review`` (:mod:`twin.cli.diff`); ``contacts``
(:mod:`twin.cli.network`); ``flight``, ``export`` (:mod:`twin.cli.flight`); ``conjunctions``
(:mod:`twin.cli.safety`); ``radiation`` (:mod:`twin.cli.radiation`); ``render`` (:mod:`twin.cli.render`);
``serve`` (:mod:`twin.cli.serve`); ``telemetry ...`` (:mod:`twin.cli.telemetry`); ``ops ...``
(:mod:`twin.cli.operations`).

User mistakes (a bad scenario, a missing file, a malformed duration) and outputs that may not or
could not be written (:mod:`twin.safe_output`) end with one line on stderr and exit status 2; no
traceback. A reader that stops reading (``twin contacts ... | head``) ends the command quietly.
"""

from __future__ import annotations

import argparse
import os
import sys

from twin.cli import (diff, flight, inspect, lifecycle, network, operations, radiation, render, safety, serve, simulate,
                      telemetry)
from twin.cli.common import EXIT_USER_ERROR, UserError
from twin.safe_output import OutputError
from twin.scenario import ScenarioError
from twin.version import __version__

COMMAND_GROUPS = (simulate, lifecycle, inspect, diff, network, flight, safety, radiation, render, serve, telemetry,
                  operations)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twin", description="Digital twin of an orbital data center.")
    parser.add_argument("--version", action="version", version=f"twin {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = args.handler(args)
        sys.stdout.flush()  # here, where a closed pipe can still be caught
        return status
    except UserError as error:
        print(f"twin: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except ScenarioError as error:  # found when the fleet is designed (satellites too close)
        print(f"twin: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OutputError as error:  # every writer's option is --out
        print(f"twin: error: --{error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        # The reader went away (twin contacts ... | head): stop quietly. Python's recipe: point stdout at
        # devnull so the interpreter's last flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
