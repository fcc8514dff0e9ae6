"""``twin diff A B`` (what changed between two scenarios, key by key with units: :mod:`twin.scenario.diff`) and
``twin review A B --out review.html`` (two stored runs side by side: :mod:`twin.report.review`, with a 3D still of
each from :mod:`viz.still`)."""

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


def cmd_review(args) -> int:
    from twin.dataset import damage_named, open_run
    from twin.report.review import recorded_scenario, review_html, review_pdf
    from twin.safe_output import FILE, check_target, written_into_place
    from twin.scenario import ScenarioError
    from viz.still import review_still_png

    if not args.out.endswith((".html", ".htm", ".pdf")):
        raise UserError(f"--out: {args.out!r} must end in .html or .pdf")
    check_target(args.out, FILE, args.overwrite)
    runs = []
    try:
        for path in (args.old, args.new):
            runs.append(open_run(path))
        with damage_named(runs[0], args.old), damage_named(runs[1], args.new):
            loaded, names = (runs[0].load(), runs[1].load()), (args.old, args.new)
            stills = tuple(review_still_png(run, recorded_scenario(run)) for run in loaded)
            page = None if args.out.endswith(".pdf") else review_html(loaded, names, stills=stills)
    except ScenarioError as error:
        raise UserError(str(error)) from None
    except (OSError, ValueError) as error:  # missing, unreadable, damaged, or not a run the report reads
        raise UserError(str(error)) from None
    with written_into_place(args.out, FILE, args.overwrite) as partial:
        if page is None:
            review_pdf(loaded, names, partial, stills=stills)
        else:
            partial.write_text(page, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def register(commands) -> None:
    """Add ``diff`` and ``review`` to the ``twin`` command's sub-commands."""
    diff = commands.add_parser("diff", help="what changed between two scenarios, key by key with units")
    diff.add_argument("old", help="a built-in scenario name or a scenario .toml")
    diff.add_argument("new", help="a built-in scenario name or a scenario .toml")
    diff.set_defaults(handler=cmd_diff)

    review = commands.add_parser("review", help="two stored runs side by side, with what changed in their scenarios")
    review.add_argument("old", help="a stored run (.zarr or .nc)")
    review.add_argument("new", help="a stored run (.zarr or .nc)")
    review.add_argument("--out", required=True, help="the review page (.html) or document (.pdf)")
    review.add_argument("--overwrite", action="store_true", help="replace the page already at --out")
    review.set_defaults(handler=cmd_review)
