"""The ``twin`` command line: ``twin simulate``, ``twin info``, ``twin report``, ``twin scenarios``, ``twin demo``.

User mistakes (a bad scenario, a missing file, a malformed duration) and outputs that may not or
could not be written (:mod:`twin.safe_output`) end with one line on stderr and exit status 2; no
traceback. A reader that stops reading (``twin contacts ... | head``) ends the command quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A mistake in what the user asked for; printed as one line."""


def _progress_bar(total_steps: int, enabled: bool):
    from tqdm import tqdm

    # disable=None: shown on a terminal only, so logs and pipes stay clean.
    return tqdm(total=total_steps, unit="step", desc="twin", disable=None if enabled else True, file=sys.stderr)


def span_of(args) -> tuple:
    """``--start``, ``--duration`` and ``--step`` of ``args`` (astropy Time or None, s or None, s or None)."""
    from .timegrid import parse_duration_s, parse_time

    try:
        duration_s = parse_duration_s(args.duration, "--duration") if args.duration else None
        step_s = parse_duration_s(args.step, "--step") if args.step else None
        start = parse_time(args.start, "--start") if args.start else None
    except ValueError as error:
        raise UserError(str(error)) from None
    return start, duration_s, step_s


def scenario_of(args) -> "twin.scenario.Scenario":  # noqa: F821
    """The scenario named by ``args.scenario``, or a clear error."""
    from .scenario import ScenarioError, load_scenario

    try:
        return load_scenario(args.scenario)
    except ScenarioError as error:
        raise UserError(str(error)) from None


def _tle_fleet(source: Path, check_checksums: bool):
    """The fleet of the TLE file ``source``; a line with a wrong checksum refused, or accepted with a warning."""
    from .constellation import fleet_from_tles, read_tle_file
    from .scenario import ScenarioError, read_utf8

    try:
        with warnings.catch_warnings(record=True) as accepted:
            warnings.simplefilter("always")
            fleet = fleet_from_tles(read_tle_file(read_utf8(source, "scenario"), check_checksums))
    except ValueError as error:  # ScenarioError too
        raise UserError(str(error)) from None
    for warning in accepted:
        print(f"twin: warning: {warning.message}", file=sys.stderr)
    return fleet


def _run(args) -> "xarray.Dataset":  # noqa: F821
    from .memory import RunTooLargeError
    from .simulation import run_orbits, run_scenario, run_span
    from .timegrid import time_grid

    start, duration_s, step_s = span_of(args)
    representatives = getattr(args, "representatives", False)
    source = Path(args.scenario)
    if source.suffix.lower() in (".tle", ".3le", ".txt"):
        if not source.is_file():
            raise UserError(f"scenario: {args.scenario!r} does not exist")
        if representatives:
            raise UserError("--representatives: needs a scenario (its sub-centers); a TLE file has none")
        fleet = _tle_fleet(source, not args.no_checksum)
        if start is None:
            from astropy.time import Time

            chief = fleet.blocks[0].chiefs[0]
            start = Time(chief.jdsatepoch, chief.jdsatepochF, format="jd", scale="utc")
        offsets = time_grid(start, duration_s or 86400.0, step_s or 60.0)
        try:
            with _progress_bar(len(offsets), not args.quiet) as bar:
                return run_orbits(fleet, start, offsets, {"title": f"Orbital data center twin: TLEs from {source.name}",
                                                          "scenario": source.stem}, bar.update)
        except RunTooLargeError as error:
            raise UserError(str(error)) from None
    scenario = scenario_of(args)
    network = getattr(args, "network", False)
    try:
        start, duration, step = run_span(scenario, start, duration_s, step_s, network)
    except ValueError as error:  # step: or network:, the options' names
        raise UserError(f"--{error}") from None
    print(f"{scenario.name}: {scenario.satellite_count} satellites in {scenario.subcenter_count} sub-centers, "
          f"{scenario.installed_power_w() / 1e6:.3f} MW installed"
          + (", simulating each sub-center's chief for all its satellites" if representatives else ""),
          file=sys.stderr)
    try:
        with _progress_bar(int(duration // step) + 1, not args.quiet) as bar:
            return run_scenario(scenario, start, duration, step, bar.update, representatives=representatives,
                                network=network)
    except RunTooLargeError as error:
        raise UserError(str(error)) from None


def cmd_simulate(args) -> int:
    from .dataset import check_run_target, save

    out = Path(args.out)
    check_run_target(out, args.overwrite)  # a wrong suffix or a path that may not be replaced: refused now, not after the run
    if getattr(args, "workers", None) is not None or getattr(args, "scheduler", None):
        from .scale_out_cli import simulate_on_cluster

        run = simulate_on_cluster(args)
    else:
        run = _run(args)
        save(run, out, args.overwrite)
    print(f"wrote {out} ({run.sizes['sat']} satellites x {run.sizes['time']} steps)")
    if "generated_power" in run:  # TLE runs have orbits only
        print(report(run, "total"))
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
    width = max(len(name) for name in run.data_vars) + 2
    for name, variable in run.data_vars.items():
        lines.append(f"    {name:<{width}}{'(' + ', '.join(variable.dims) + ')':<20}{variable.attrs.get('units', ''):<15}"
                     f"{variable.attrs.get('long_name', '')}")
    if "earth_orientation" in run.attrs:
        lines.append(f"  earth orientation: {run.attrs['earth_orientation']}")
    return "\n".join(lines)


# Columns of ``twin report``'s two tables, power and compute: summary column, header, unit, format.
POWER_COLUMNS = (
    ("satellites", "sats", "", "d"),
    ("installed_power_MW", "installed", "MW", ".3f"),
    ("generated_power_MW", "generated", "MW", ".3f"),
    ("eclipse_loss_MW", "shadow loss", "MW", ".3f"),
    ("eclipse_loss_percent", "shadow loss", "%", ".1f"),
    ("used_power_MW", "used", "MW", ".3f"),
    ("used_compute_MW", "compute", "MW", ".3f"),
    ("used_comms_MW", "comms", "MW", ".3f"),
    ("used_heaters_MW", "heaters", "MW", ".3f"),
    ("used_bus_MW", "bus", "MW", ".3f"),
    ("curtailed_power_MW", "curtailed", "MW", ".3f"),
    ("shed_power_MW", "shed", "MW", ".3f"),
    ("battery_loss_MW", "battery loss", "MW", ".3f"),
    ("sunlit_fraction", "sunlit", "", ".4f"),
    ("energy_stored_MWh", "stored", "MWh", ".3f"),
    ("min_battery_soc", "min SoC", "", ".3f"),
)
COMPUTE_COLUMNS = (
    ("satellites", "sats", "", "d"),
    ("compute_EFLOP", "compute", "EFLOP", ".4g"),
    ("utilization", "utilised", "", ".3f"),
    ("throttle", "throttled", "", ".3f"),
    ("jobs_completed", "jobs done", "", "d"),
    ("jobs_missed", "missed", "", "d"),
    ("max_payload_temperature_K", "max payload", "K", ".1f"),
)
REPORT_COLUMNS = POWER_COLUMNS + COMPUTE_COLUMNS[1:]  # every column once (the dashboard's tables)
ROW_NAMES = {"subcenter": ("sub-center", "sub-centers"), "owner": ("member", "members")}


def _span_text(seconds: float) -> str:
    """``3 h``, ``90 min``, ``365.25 d``: a span in the unit a reader expects."""
    if seconds < 2 * 3600:
        return f"{seconds / 60:g} min"
    if seconds < 2 * 86400:
        return f"{round(seconds / 3600, 3):g} h"
    return f"{round(seconds / 86400, 3):g} d"


def report_header(run) -> str:
    """One line: scenario, span, step, and whether each row was simulated or stood for a sub-center."""
    import numpy as np

    times = run["time"].values
    span_s = float((times[-1] - times[0]) / np.timedelta64(1, "s"))
    step_s = float(run.attrs.get("step_s", span_s / max(len(times) - 1, 1)))
    satellites = int(run["represents"].sum()) if "represents" in run.coords else run.sizes["sat"]
    if int(run.attrs.get("representatives", 0)):
        mode = f"representatives run: {run.sizes['sat']} chiefs stand for {satellites} satellites"
    else:
        mode = f"full run: {satellites} satellites simulated"
    return (f"{run.attrs.get('scenario', 'twin run')}: {str(times[0])[:19]}Z to {str(times[-1])[:19]}Z "
            f"({_span_text(span_s)}), step {step_s:g} s, {mode}")


def _cell(value, spec: str) -> str:
    import math

    return "n/a" if math.isnan(value) else format(int(value) if spec == "d" else float(value), spec)


def format_table(frame: "pd.DataFrame", columns=REPORT_COLUMNS, title: str = "") -> str:  # noqa: F821
    """``frame`` (rows of :func:`twin.figures.summary`) as text: a header (after ``title``), a units line, one line
    per row."""
    lines = [[title, *(header for _, header, _, _ in columns)],
             ["", *(unit for _, _, unit, _ in columns)]]
    for name, row in frame.iterrows():
        lines.append([str(name), *(_cell(row[column], spec) for column, _, _, spec in columns)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    aligned = lambda line: [line[0].ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(line[1:], widths[1:]))]
    return "\n".join("  ".join(aligned(line)).rstrip() for line in lines)


def report(run, by: str = "total", top: int | None = None) -> str:
    """The ``twin report`` text of ``run``: a header line, then two tables (power; compute) of the total and a row
    per sub-center or member, the fleet's energy identity, the network and its warnings (:mod:`twin.alerts`).

    ``top`` keeps only the ``top`` rows that delivered the most compute (then the most power generated).
    """
    import pandas as pd

    from .alerts import warning_lines
    from .figures import energy_identity, summary

    rows = summary(run, "total")
    hidden = 0
    if by != "total":
        groups = summary(run, by)
        if top is not None and top < len(groups):
            hidden = len(groups) - top
            most = groups.sort_values(["compute_EFLOP", "generated_power_MW"], ascending=False, kind="stable")
            groups = most.head(top)
        rows = pd.concat([rows, groups])
    text = "\n".join([report_header(run), format_table(rows, POWER_COLUMNS, "power"),
                      format_table(rows, COMPUTE_COLUMNS, "compute")])
    if hidden:
        text += (f"\n({hidden} more {ROW_NAMES[by][hidden > 1]} not shown: --top {top} keeps those that delivered "
                 "the most compute)")
    text += "\nenergy (fleet, mean over the run): " + energy_identity(rows.iloc[0])
    if "downlink_data_in" in run.data_vars:
        text += "\n" + network_lines(run)
    if "ground_arrived_work" in run.data_vars:
        text += "\n" + offload_line(run)
    warnings = warning_lines(run)
    text += "\n" + ("\n".join(f"warning: {line}" for line in warnings) if warnings else
                    "warnings: none (no figure beyond the thresholds of twin.alerts)")
    return text


def offload_line(run) -> str:
    """Phase 2: the ground data centers' work over the run, and the share the constellation took."""
    arrived, offloaded, served = (float(run[name].sum()) for name in
                                  ("ground_arrived_work", "ground_offloaded_work", "ground_served_work"))
    backlog = float(run["ground_backlog_work"].isel(time=-1))
    share = 100.0 * offloaded / arrived if arrived else 0.0
    return (f"ground data centers: {arrived / 3.6e6:.1f} CU-hours of work arrived, {offloaded / 3.6e6:.1f} "
            f"({share:.1f} %) offloaded to orbit, {served / 3.6e6:.1f} served on the ground, "
            f"{backlog / 3.6e6:.1f} waiting")


def network_lines(run) -> str:
    """Data moved through the network over the run, each way (and the Earth-observation inflow when the run has
    one), and what was delayed (queued) or lost (dropped)."""
    from .network import network_report

    figures = network_report(run)
    table = [["network", "in (Gbit)", "delivered", "queued (delayed)", "dropped (lost)"]]
    for direction, label in (("downlink", "downlink"), ("uplink", "uplink"), ("eo", "eo inflow")):
        if f"{direction}_data_in" not in figures:  # a run without an Earth-observation inflow
            continue
        table.append([label, *(f"{figures[f'{direction}_data_{part}'] / 1e9:,.3f}"
                               for part in ("in", "delivered", "queued", "dropped"))])
    widths = [max(len(row[column]) for row in table) for column in range(len(table[0]))]
    lines = ["  ".join([row[0].ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(row[1:], widths[1:]))])
             for row in table]
    lines.append(f"latency to ground {figures['mean_latency_s'] * 1e3:.1f} ms mean; a path to the ground "
                 f"{100 * figures['reachable_fraction']:.1f} % of satellite-steps")
    return "\n".join(lines)


def cmd_report(args) -> int:
    from .dataset import damage_named, open_run

    if args.top is not None and args.top < 1:
        raise UserError(f"--top: {args.top} must be at least 1")
    try:
        run = open_run(args.run)
        with damage_named(run, args.run):
            text = report(run, args.by, args.top)
    except (OSError, ValueError) as error:  # missing, unreadable, damaged, or not a run with power and compute
        raise UserError(str(error)) from None
    print(text)
    return 0


def cmd_info(args) -> int:
    from .dataset import damage_named, open_run

    try:
        run = open_run(args.run)
        with damage_named(run, args.run):
            text = describe(run)
    except (OSError, ValueError) as error:
        raise UserError(str(error)) from None
    print(text)
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
    args.representatives, args.network = False, True
    cmd_simulate(args)
    run = open_run(args.out)
    print(describe(run))
    longest = max(run.twin.eclipse_intervals(sat)["duration_s"].max() for sat in run["sat"].values[:1])
    print(f"  longest umbra of {run['sat'].values[0]}: {longest / 60:.1f} min")
    passes = int((run["contact_station"].values == "Miyun").sum())
    print(f"  ground contacts: {run.sizes['contact']} passes over the stations, {passes} of them at Miyun "
          f"(twin contacts {args.out} --station Miyun)")
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
    simulate.add_argument("--overwrite", action="store_true", help="replace the twin run already at --out")
    simulate.add_argument("--representatives", action="store_true",
                          help="simulate only each sub-center's chief, standing for all its satellites: "
                               "for long studies, e.g. a year of phase 3")
    simulate.add_argument("--network", action="store_true",
                          help="add links, ground contacts, routing and data flows (memory grows with the fleet)")
    simulate.add_argument("--quiet", action="store_true", help="no progress bar")
    simulate.add_argument("--no-checksum", action="store_true",
                          help="accept TLE lines whose checksum is wrong (with a warning)")
    from .scale_out_cli import add_cluster_options

    add_cluster_options(simulate)
    simulate.set_defaults(handler=cmd_simulate)

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

    demo = commands.add_parser("demo", help="run the phase-1 demo twin and describe it")
    demo.add_argument("--out", default="out/demo.zarr", help="where to store the demo run")
    demo.add_argument("--overwrite", action="store_true", help="replace the twin run already at --out")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(handler=cmd_demo)
    from .network_cli import register as register_network
    from .render_cli import register as register_render
    from .serve_cli import register as register_serve
    from .telemetry_cli import register as register_telemetry

    register_network(commands)
    register_render(commands)
    register_serve(commands)
    register_telemetry(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .safe_output import OutputError

    args = build_parser().parse_args(argv)
    try:
        status = args.handler(args)
        sys.stdout.flush()  # here, where a closed pipe can still be caught
        return status
    except UserError as error:
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
