"""The Phase review's comparison, as ``twin review`` makes it (:mod:`twin.report.review`): each run's figures and
warnings (``twin report``'s text: power, compute, energy identity, network, warnings), the network and health figures
of both runs in one table, what changed between their scenarios key by key with units, and the review page itself.
"""

from __future__ import annotations

import math

import pandas as pd

from .kpis import BITS_PER_GBIT, _number
from .runs import RunData

# column, unit, format of the network and health table
NETWORK_HEALTH_COLUMNS = (
    ("satellites", "", "d"),
    ("healthy at the lowest", "satellites", "d"),
    ("lost to faults", "satellites", "d"),
    ("min battery SoC", "", ".3f"),
    ("max payload temperature", "K", ".1f"),
    ("jobs missed", "", "d"),
    ("downlink delivered", "%", ".1f"),
    ("uplink delivered", "%", ".1f"),
    ("EO inflow delivered", "%", ".1f"),
    ("downlink delivered", "Gbit", ",.1f"),
    ("latency to ground", "ms mean", ".1f"),
    ("path to the ground", "% of satellite-steps", ".1f"),
    ("warnings", "", "d"),
)


def run_text(data: RunData) -> str:
    """The run's figures and warnings as ``twin review`` prints them (:func:`twin.report.review.run_text`), once."""
    from twin.report.review import run_text as review_text

    return data.cached(("review_text",), lambda: review_text(data.run))


def network_health(data: RunData) -> dict[tuple[str, str], float]:
    """The run's network and health figures by (name, unit) of :data:`NETWORK_HEALTH_COLUMNS`; NaN where the run has
    no network (or no Earth-observation inflow)."""
    return data.cached(("network_health",), lambda: _network_health(data))


def _network_health(data: RunData) -> dict[tuple[str, str], float]:
    from twin.report.alerts import warning_lines

    run = data.run
    row = data.summary("total").iloc[0]
    weights = run["represents"] if "represents" in run.coords else 1
    healthy = float((run["alive"] * weights).sum("sat").min())
    figures = {("satellites", ""): float(row["satellites"]), ("healthy at the lowest", "satellites"): healthy,
               ("lost to faults", "satellites"): float(row["satellites"]) - healthy,
               ("min battery SoC", ""): float(row["min_battery_soc"]),
               ("max payload temperature", "K"): float(row["max_payload_temperature_K"]),
               ("jobs missed", ""): float(row["jobs_missed"]), ("warnings", ""): float(len(warning_lines(run)))}
    network = {}
    if "downlink_data_in" in run.data_vars:
        from twin.network.flows import network_report

        network = network_report(run)
    percent = lambda flow: (100.0 * network[f"{flow}_data_delivered"] / network[f"{flow}_data_in"]
                            if network.get(f"{flow}_data_in") else math.nan)
    figures.update({("downlink delivered", "%"): percent("downlink"), ("uplink delivered", "%"): percent("uplink"),
                    ("EO inflow delivered", "%"): percent("eo"),
                    ("downlink delivered", "Gbit"): network.get("downlink_data_delivered", math.nan) / BITS_PER_GBIT,
                    ("latency to ground", "ms mean"): network.get("mean_latency_s", math.nan) * 1e3,
                    ("path to the ground", "% of satellite-steps"): 100.0 * network.get("reachable_fraction", math.nan)})
    return figures


def network_health_table(runs: dict[str, RunData]) -> pd.DataFrame:
    """Network and health figures of each run (label -> run) as rows; with two runs a last row of the change."""
    rows = {label: network_health(data) for label, data in runs.items()}
    if len(rows) == 2:
        (first_label, first), (second_label, second) = rows.items()
        rows[f"change ({second_label} - {first_label})"] = {key: second[key] - first[key] for key in first}
    header = lambda name, unit: f"{name} ({unit})" if unit else name
    return pd.DataFrame({header(name, unit): [_number(row[(name, unit)], spec) for row in rows.values()]
                         for name, unit, spec in NETWORK_HEALTH_COLUMNS},
                        index=pd.Index(list(rows), name="run"))


def scenario_changes(runs: dict[str, RunData]) -> list[str]:
    """What changed from the first run's scenario to the second's, key by key with units (``twin diff``'s lines)."""
    from twin.report.review import recorded_scenario
    from twin.scenario.diff import scenario_diff

    first, second = (recorded_scenario(data.run) for data in runs.values())
    return [str(change) for change in scenario_diff(first, second)]


def changes_table(changes: list[str]) -> pd.DataFrame:
    """The changes as a one-column table (the exported review's)."""
    return pd.DataFrame({"what changed in the scenario": changes or ["no change"]},
                        index=pd.RangeIndex(1, max(len(changes), 1) + 1, name="change"))


def review_page(runs: dict[str, RunData]) -> bytes:
    """``twin review``'s HTML page of the two runs (label -> run), UTF-8."""
    from twin.report.review import review_html

    labels = tuple(runs)
    return review_html(tuple(data.run for data in runs.values()), labels).encode("utf-8")

