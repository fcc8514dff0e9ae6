"""``twin conjunctions``: a stored run's fleet screened against a catalogue of element sets and itself
(:func:`twin.safety.screen`), as a table, with CCSDS Conjunction Data Messages and the table kept beside the run
(:mod:`twin.safety.saved`, which the dashboard lists) on demand."""

from __future__ import annotations

from twin.cli.common import UserError
from twin.safe_output import OutputError, OutputKind, check_target, written_into_place

# A folder twin conjunctions may replace: one holding only CDM files.
CDM_FOLDER = OutputKind("a folder of CDM files", lambda path: path.is_dir() and all(
    item.is_file() and item.suffix in (".cdm", ".xml") for item in path.iterdir()))
SAVED_SCREEN = OutputKind("a saved conjunction screen", lambda path: path.is_file() and path.name.endswith(".conjunctions.csv"))


def _option_error(option: str, error: OutputError) -> UserError:
    """An output error named after ``option`` rather than --out."""
    return UserError(f"{option}{str(error).removeprefix('out')}")


def cmd_conjunctions(args) -> int:
    from twin.dataset import open_run
    from twin.safety import read_catalog, screen
    from twin.safety.saved import conjunctions_csv, saved_conjunctions_path

    if args.top is not None and args.top < 1:
        raise UserError(f"--top: {args.top} must be at least 1")
    saved = saved_conjunctions_path(args.run)
    if args.save:
        try:  # before the screen: a refusal loses no work
            check_target(saved, SAVED_SCREEN, args.overwrite)
        except OutputError as error:
            raise _option_error("--save", error) from None
    try:
        run = open_run(args.run)
        catalog = read_catalog(args.catalog)
    except (OSError, ValueError) as error:  # missing, unreadable, not a run or a catalogue
        raise UserError(str(error)) from None
    try:
        result = screen(run, catalog, duration_s=None if args.days is None else args.days * 86400.0,
                        threshold_km=args.threshold_km,
                        **({} if args.samples is None else {"monte_carlo_samples": args.samples}))
    except ValueError as error:  # a bad threshold, span or sample count, named
        raise UserError(str(error).replace("threshold_km", "--threshold-km").replace("duration_s", "--days")
                        .replace("monte_carlo_samples", "--samples"))
    summary = result.summary
    print(f"{summary['fleet_satellites']:,} satellites from {summary['start']} for {summary['duration_s'] / 3600:g} h "
          f"against {summary['catalog_entries']:,} catalogue entries ({summary['catalog_screened']:,} in reach) "
          f"and themselves: {summary['conjunctions']:,} conjunctions closer than {summary['threshold_km']:g} km")
    table = result.table().sort_values("miss_distance_m")
    if len(table):
        print((table.head(args.top) if args.top else table).to_string(index=False))
    for row in result.skipped_summary().itertuples():
        print(f"not screened: {row.count:,} {row.reason} ({row.meaning}), e.g. {row.examples}")
    if args.cdm_dir:
        from twin.safety import write_cdms

        try:
            with written_into_place(args.cdm_dir, CDM_FOLDER, args.overwrite) as partial:
                paths = write_cdms(result, partial)
        except ImportError as error:  # the safety extra is not installed
            raise UserError(str(error)) from None
        except OutputError as error:  # named after the option here, not --out
            raise _option_error("--cdm-dir", error) from None
        print(f"wrote {len(paths)} CDMs to {args.cdm_dir}")
    if args.save:
        try:
            with written_into_place(saved, SAVED_SCREEN, args.overwrite) as partial:
                partial.write_text(conjunctions_csv(result), encoding="utf-8")
        except OutputError as error:
            raise _option_error("--save", error) from None
        print(f"wrote {saved}: the run's {summary['conjunctions']:,} conjunctions, listed by the dashboard with the run")
    return 0


def register(commands) -> None:
    """Add ``conjunctions`` to the ``twin`` command's sub-commands."""
    conjunctions = commands.add_parser("conjunctions", help="screen a stored run's fleet against a catalogue (TLE or "
                                                            "OMM) and itself: miss distances and collision probability")
    conjunctions.add_argument("run", help="a .zarr or .nc written by twin simulate (its fleet and start)")
    conjunctions.add_argument("--catalog", required=True, help="element sets: TLE/3LE, CCSDS OMM XML, OMM JSON or CSV")
    conjunctions.add_argument("--days", type=float, help="span screened from the run's start (default: the run's)")
    conjunctions.add_argument("--threshold-km", type=float, default=5.0,
                              help="report approaches closer than this (default 5 km)")
    conjunctions.add_argument("--samples", type=int, metavar="N",
                              help="Monte Carlo samples of the Pc of each slow encounter, where the 2-D Pc does not hold "
                                   "(default: twin.safety.long_encounter.MONTE_CARLO_SAMPLES; 0: none, their Pc flagged NONE)")
    conjunctions.add_argument("--top", type=int, metavar="N", help="print only the N closest")
    conjunctions.add_argument("--cdm-dir", help="write one CCSDS CDM per conjunction into this new folder")
    conjunctions.add_argument("--save", action="store_true",
                              help="keep the table beside the run (NAME.conjunctions.csv) for the dashboard to list")
    conjunctions.add_argument("--overwrite", action="store_true", help="replace an earlier folder of CDMs or saved table")
    conjunctions.set_defaults(handler=cmd_conjunctions)
