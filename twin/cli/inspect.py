"""``twin info`` (what a stored run holds), ``twin report`` (its figures) and ``twin scenarios`` (the built-in ones)."""

from __future__ import annotations

from twin.cli.common import UserError
from twin.report.text import describe, report


def cmd_report(args) -> int:
    from twin.dataset import damage_named, open_run

    if args.top is not None and args.top < 1:
        raise UserError(f"--top: {args.top} must be at least 1")
    try:
        run = open_run(args.run)
        with damage_named(run, args.run):
            if run.attrs.get("lifecycle"):  # a build-up run: its figures by year (twin lifecycle has the options)
                from twin.report.buildup import buildup_text

                text = buildup_text(run, "year", by_member=args.by == "owner")
            else:
                text = report(run, args.by, args.top)
    except (OSError, ValueError) as error:  # missing, unreadable, damaged, or not a run with power and compute
        raise UserError(str(error)) from None
    print(text)
    return 0


def cmd_info(args) -> int:
    from twin.dataset import damage_named, open_run

    try:
        run = open_run(args.run)
        with damage_named(run, args.run):
            text = describe(run)
    except (OSError, ValueError) as error:
        raise UserError(str(error)) from None
    print(text)
    return 0


def cmd_scenarios(args) -> int:
    from twin.scenario import builtin_scenarios, load_scenario

    names = builtin_scenarios()
    width = max(map(len, names))
    for name in names:
        scenario = load_scenario(name)
        print(f"{name:<{width}} {scenario.satellite_count:>6} satellites {scenario.subcenter_count:>4} sub-centers "
              f"{scenario.installed_power_w() / 1e6:>9.3f} MW  {scenario.title}")
    return 0


def register(commands) -> None:
    """Add ``info``, ``report`` and ``scenarios`` to the ``twin`` command's sub-commands."""
    info = commands.add_parser("info", help="describe a stored run")
    info.add_argument("run", help="a .zarr or .nc written by twin simulate")
    info.set_defaults(handler=cmd_info)

    report_parser = commands.add_parser("report",
                                        help="print the power, eclipse, energy and compute figures of a stored run")
    report_parser.add_argument("run", help="a .zarr or .nc written by twin simulate")
    report_parser.add_argument("--by", choices=("total", "subcenter", "owner"), default="total",
                               help="rows after the total: one per sub-center or consortium member "
                                    "(default: the total only)")
    report_parser.add_argument("--top", type=int, metavar="N",
                               help="only the N sub-centers or members that delivered the most compute")
    report_parser.set_defaults(handler=cmd_report)

    scenarios = commands.add_parser("scenarios", help="list the built-in scenarios")
    scenarios.set_defaults(handler=cmd_scenarios)
