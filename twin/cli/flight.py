"""``twin flight`` (the flight-dynamics budget of a run's scenario and its closest member approach) and ``twin
export`` (a run's trajectories as CCSDS OEMs or CZML)."""

from __future__ import annotations

import sys

from twin.cli.common import UserError


def _open(path: str):
    from twin.dataset import open_run

    try:
        return open_run(path)
    except (OSError, ValueError) as error:  # missing, unreadable, not a run
        raise UserError(str(error)) from None


def _scenario(args):
    if args.scenario is None:
        return None
    from twin.cli.common import scenario_of

    return scenario_of(args)


def cmd_flight(args) -> int:
    from twin.dataset import damage_named
    from twin.report.flight import budget_table_text, flight_of_run

    run = _open(args.run)
    try:
        with damage_named(run, args.run):
            budget, closest, close_calls = flight_of_run(run, _scenario(args))
    except ValueError as error:  # a manoeuvre the propulsion cannot give, a damaged run, a scenario that does not load
        raise UserError(str(error)) from None
    for warning in close_calls:
        print(f"twin: warning: {warning}", file=sys.stderr)
    satellites = len(budget.satellites)
    print(f"{run.attrs.get('scenario', args.run)}: {satellites:,} satellites, budget over {budget.years:g} years from "
          f"{str(budget.start)[:10]}; closest member approach over the run's {run.sizes['time']} steps")
    print(budget_table_text(budget, closest, args.by))
    return 0


def cmd_export(args) -> int:
    from twin.dataset import damage_named
    from twin.safe_output import OutputError

    run = _open(args.run)
    if args.every < 1:
        raise UserError(f"--every: {args.every} must be at least 1")
    run = run.isel(time=slice(None, None, args.every))
    satellites = run.sizes["sat"] if args.satellites is None else len(args.satellites)
    try:
        with damage_named(run, args.run):
            _write_export(run, args)
    except OutputError:
        raise  # twin.cli.main names the option
    except (ImportError, ValueError) as error:  # the export extra missing, an unknown satellite, a damaged run
        raise UserError(str(error)) from None
    what = "a CZML document of" if args.format == "czml" else "one CCSDS OEM for each of"
    print(f"wrote {args.out}: {what} {satellites} satellites x {run.sizes['time']} steps")
    return 0


def _write_export(run, args) -> None:
    """The run's OEMs or CZML at ``args.out``."""
    if args.format == "czml":
        from twin.flight.czml import write_czml

        write_czml(run, args.out, args.satellites, overwrite=args.overwrite)
    else:
        from twin.flight.oem import write_oems

        write_oems(run, args.out, args.satellites, overwrite=args.overwrite)


def register(commands) -> None:
    """Add ``flight`` and ``export`` to the ``twin`` command's sub-commands."""
    flight = commands.add_parser("flight", help="decay, Δv, propellant, lifetime, disposal and closest member "
                                                "approach of a stored run, per sub-center group and fleet")
    flight.add_argument("run", help="a .zarr or .nc written by twin simulate")
    flight.add_argument("--by", choices=("group", "subcenter"), default="group",
                        help="one row per sub-center group (default) or sub-center, then the fleet")
    flight.add_argument("--scenario", help="the scenario (built-in name or file) instead of the one the run names")
    flight.set_defaults(handler=cmd_flight)

    export = commands.add_parser("export", help="write a stored run's trajectories as CCSDS OEMs (one per "
                                                "satellite) or CZML for Cesium")
    export.add_argument("run", help="a .zarr or .nc written by twin simulate")
    export.add_argument("--format", choices=("oem", "czml"), required=True)
    export.add_argument("--out", required=True, help="a new folder of OEMs, or a .czml file")
    export.add_argument("--satellites", nargs="+", metavar="NAME", help="only these satellites (default: all)")
    export.add_argument("--every", type=int, default=1, metavar="N", help="every N-th step (default 1: all)")
    export.add_argument("--overwrite", action="store_true", help="replace an earlier export at --out")
    export.set_defaults(handler=cmd_export)
