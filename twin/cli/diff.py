"""``twin diff A B``: what changed between two scenarios, key by key with units (:mod:`twin.scenario.diff`)."""

from __future__ import annotations

from twin.cli.common import UserError


def cmd_diff(args) -> int:
    from twin.scenario import ScenarioError, load_scenario
    from twin.scenario.diff import scenario_diff

    try:
        old, new = load_scenario(args.old), load_scenario(args.new)
    except ScenarioError as error:
        raise UserError(str(error)) from None
    changes = scenario_diff(old, new)
    for change in changes:
        print(change)
    print(f"{len(changes)} change{'s' if len(changes) != 1 else ''} from {args.old} to {args.new}")
    return 0


def register(commands) -> None:
    """Add ``diff`` to the ``twin`` command's sub-commands."""
    diff = commands.add_parser("diff", help="what changed between two scenarios, key by key with units")
    diff.add_argument("old", help="a built-in scenario name or a scenario .toml")
    diff.add_argument("new", help="a built-in scenario name or a scenario .toml")
    diff.set_defaults(handler=cmd_diff)
