"""``twin radiation RUN``: a stored run's dose, upsets, SAA time and capacity lost, for the fleet, per sub-center and on
circular orbits at 700, 750 and 800 km (:mod:`twin.report.radiation`)."""

from __future__ import annotations

from twin.cli.common import UserError


def cmd_radiation(args) -> int:
    from twin.dataset import damage_named, open_run
    from twin.report.radiation import radiation_report, run_radiation

    try:
        run = open_run(args.run)
        with damage_named(run, args.run):
            text = radiation_report(run_radiation(run, args.solar, args.shielding_mm), args.by)
    except (OSError, ValueError) as error:  # missing, unreadable, damaged, no orbits, a setting out of range
        raise UserError(str(error)) from None
    print(text)
    return 0


def register(commands) -> None:
    """Add ``radiation`` to the ``twin`` command's sub-commands."""
    parser = commands.add_parser(
        "radiation", help="print a stored run's dose, upsets, SAA time and capacity lost, and by altitude",
        description="Dose per year, upsets per day, time in the South Atlantic Anomaly and compute capacity expected "
                    "lost per year of a stored run, for the fleet and each sub-center, then the same on circular "
                    "dawn-dusk orbits at 700, 750 and 800 km. The run's radiation layer if it has one, else computed "
                    "from its orbits with its scenario's [radiation] keys (or their defaults).")
    parser.add_argument("run", help="a .zarr or .nc written by twin simulate")
    parser.add_argument("--solar", choices=("min", "max"),
                        help="AP8/AE8 at solar minimum or maximum instead of the run's (recomputes the layer)")
    parser.add_argument("--shielding-mm", type=float, metavar="MM",
                        help="aluminium shielding, 0.05 to 20 mm, instead of the run's (recomputes the layer)")
    parser.add_argument("--by", choices=("total", "subcenter"), default="subcenter",
                        help="rows after the fleet's: one per sub-center (default) or none")
    parser.set_defaults(handler=cmd_radiation)
