"""The text of a run's report (``twin report``, ``twin simulate``, the demo and the dashboard's tables):
a header line, the power and compute tables, the energy identity, the network and the warnings."""

from __future__ import annotations

def describe(run) -> str:
    """A human-readable description of a twin run: what it holds and its headline numbers."""
    from twin.report.overview import run_overview

    summary = run_overview(run)
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
    """``frame`` (rows of :func:`twin.report.figures.summary`) as text: a header (after ``title``), a units line, one line
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
    per sub-center or member, the fleet's energy identity, the network and its warnings (:mod:`twin.report.alerts`).

    ``top`` keeps only the ``top`` rows that delivered the most compute (then the most power generated).
    """
    import pandas as pd

    from twin.report.alerts import warning_lines
    from twin.report.figures import energy_identity, summary

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
                    "warnings: none (no figure beyond the thresholds of twin.report.alerts)")
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
    from twin.network.flows import network_report

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
