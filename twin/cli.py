"""The ``twin`` command line: ``twin simulate``, ``twin info``, ``twin scenarios``, ``twin demo``.

User mistakes (a bad scenario, a missing file, a malformed duration) end with one line on stderr
and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


EXIT_USER_ERROR = 2


class UserError(Exception):
    """A mistake in what the user asked for; printed as one line."""


def _progress_bar(total_steps: int, enabled: bool):
    from tqdm import tqdm

    # disable=None: shown on a terminal only, so logs and pipes stay clean.
    return tqdm(total=total_steps, unit="step", desc="twin", disable=None if enabled else True, file=sys.stderr)


def _run(args) -> "xarray.Dataset":  # noqa: F821
    from .constellation import fleet_from_tles, read_tle_file
    from .scenario import ScenarioError, load_scenario
    from .simulation import run_orbits, run_scenario
    from .timegrid import parse_duration_s, parse_time, time_grid

    try:
        duration_s = parse_duration_s(args.duration, "--duration") if args.duration else None
        step_s = parse_duration_s(args.step, "--step") if args.step else None
        start = parse_time(args.start, "--start") if args.start else None
    except ValueError as error:
        raise UserError(str(error)) from None

    source = Path(args.scenario)
    if source.suffix.lower() in (".tle", ".3le", ".txt"):
        if not source.is_file():
            raise UserError(f"scenario: {args.scenario!r} does not exist")
        try:
            fleet = fleet_from_tles(read_tle_file(source.read_text()))
        except ValueError as error:
            raise UserError(str(error)) from None
        if start is None:
            from astropy.time import Time

            chief = fleet.blocks[0].chiefs[0]
            start = Time(chief.jdsatepoch, chief.jdsatepochF, format="jd", scale="utc")
        offsets = time_grid(start, duration_s or 86400.0, step_s or 60.0)
        with _progress_bar(len(offsets), not args.quiet) as bar:
            return run_orbits(fleet, start, offsets, {"title": f"Orbital data center twin: TLEs from {source.name}",
                                                      "scenario": source.stem}, bar.update)
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as error:
        raise UserError(str(error)) from None
    duration = duration_s or scenario.duration_s
    step = step_s or scenario.step_s
    if step > duration:
        raise UserError(f"--step: {step:g} s is longer than the duration of {duration:g} s")
    print(f"{scenario.name}: {scenario.satellite_count} satellites in {scenario.subcenter_count} sub-centers, "
          f"{scenario.installed_power_w() / 1e6:.3f} MW installed", file=sys.stderr)
    with _progress_bar(int(duration // step) + 1, not args.quiet) as bar:
        return run_scenario(scenario, start, duration, step, bar.update)


def cmd_simulate(args) -> int:
    from .dataset import save

    out = Path(args.out)
    if out.suffix not in (".zarr", ".nc"):
        raise UserError(f"--out: {args.out!r} must end in .zarr or .nc")
    run = _run(args)
    save(run, out)
    print(f"wrote {out} ({run.sizes['sat']} satellites x {run.sizes['time']} steps)")
    return 0


def describe(run) -> str:
    """A human-readable description of a twin run: what it holds and its headline numbers."""
    from . import accessor  # noqa: F401  (registers the accessor)

    summary = run.twin.summary()
    lines = [
        run.attrs.get("title", "twin run"),
        f"  scenario        {summary['scenario']}",
        f"  satellites      {summary['satellites']} in {summary['subcenters']} sub-centers, {summary['owners']} owners",
        f"  time            {summary['start']} to {summary['end']}, {summary['steps']} steps",
        f"  sunlit fraction {summary['mean_sunlit_fraction']:.4f} mean, {summary['min_sunlit_fraction']:.4f} lowest satellite",
        "  altitude        {:.1f} to {:.1f} km".format(*summary["altitude_km_range"]),
        "  beta angle      {:.2f} to {:.2f} deg".format(*summary["beta_angle_deg_range"]),
    ]
    if "installed_power_w" in run.attrs:
        lines.append(f"  installed power {run.attrs['installed_power_w'] / 1e6:.3f} MW")
    lines.append("  variables")
    for name, variable in run.data_vars.items():
        lines.append(f"    {name:<14}{'(' + ', '.join(variable.dims) + ')':<20}{variable.attrs.get('units', ''):<15}"
                     f"{variable.attrs.get('long_name', '')}")
    if "earth_orientation" in run.attrs:
        lines.append(f"  earth orientation: {run.attrs['earth_orientation']}")
    return "\n".join(lines)


def cmd_info(args) -> int:
    from .dataset import open_run

    try:
        run = open_run(args.run)
    except (FileNotFoundError, ValueError) as error:
        raise UserError(str(error)) from None
    print(describe(run))
    return 0


def cmd_scenarios(args) -> int:
    from .scenario import builtin_scenarios, load_scenario

    for name in builtin_scenarios():
        scenario = load_scenario(name)
        print(f"{name:<8} {scenario.satellite_count:>6} satellites {scenario.subcenter_count:>4} sub-centers "
              f"{scenario.installed_power_w() / 1e6:>9.3f} MW  {scenario.title}")
    return 0


def cmd_demo(args) -> int:
    """Run the built-in phase-1 scenario for a day, store it, reopen it and describe it."""
    from .dataset import open_run

    args.scenario, args.start, args.duration, args.step = "phase1", None, None, None
    cmd_simulate(args)
    run = open_run(args.out)
    print(describe(run))
    longest = max(run.twin.eclipse_intervals(sat)["duration_s"].max() for sat in run["sat"].values[:1])
    print(f"  longest umbra of {run['sat'].values[0]}: {longest / 60:.1f} min")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twin", description="Digital twin of an orbital data center.")
    commands = parser.add_subparsers(dest="command", required=True)

    simulate = commands.add_parser("simulate", help="run the twin on a scenario and store the dataset")
    simulate.add_argument("scenario", help="built-in scenario name (phase1, phase2, phase3), a scenario .toml, or a .tle file")
    simulate.add_argument("--start", help="ISO 8601 UTC start (default: the scenario epoch)")
    simulate.add_argument("--duration", help="span such as 24h, 7d, 90min (default: the scenario's)")
    simulate.add_argument("--step", help="step such as 60s, 10s, 10min (default: the scenario's)")
    simulate.add_argument("--out", required=True, help="output .zarr directory or .nc file")
    simulate.add_argument("--quiet", action="store_true", help="no progress bar")
    simulate.set_defaults(handler=cmd_simulate)

    info = commands.add_parser("info", help="describe a stored run")
    info.add_argument("run", help="a .zarr or .nc written by twin simulate")
    info.set_defaults(handler=cmd_info)

    scenarios = commands.add_parser("scenarios", help="list the built-in scenarios")
    scenarios.set_defaults(handler=cmd_scenarios)

    demo = commands.add_parser("demo", help="run the phase-1 demo twin and describe it")
    demo.add_argument("--out", default="out/demo.zarr", help="where to store the demo run")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(handler=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except UserError as error:
        print(f"twin: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
