"""Warning lines of a twin run: figures beyond a threshold that a reader must not miss.

One place for the thresholds, each with its reason; ``twin report`` (and so the demo and ``twin
simulate``) prints these lines, and the dashboard shows them beside its key figures. Each line says
what crossed which threshold, for the fleet or for one sub-center or consortium member:

- data dropped (lost beyond the buffers) of a network flow, as a share of the data that came in, or data
  delivered below a share of it (the rest still queued: delayed);
- jobs that missed their deadline, as a share of the jobs finished or missed;
- batteries that reached their floor (the state of charge below which they are not discharged, where
  loads are shed), and load that was shed;
- compute throttled (installed capacity withheld by power or heat), mean over the run;
- satellites whose payload went above its maximum temperature.

>>> import twin
>>> run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=3600, step_s=60)
>>> warning_lines(run)
[]
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from twin.report.figures import PAYLOAD, grouping, summary

DROPPED_DATA_FRACTION = 0.01  # a network sized for its traffic loses under 1 % of it: queues and buffers absorb peaks
DELIVERED_DATA_FRACTION = 0.9  # and delivers 90 % of it within the run: a pass or a relay link clears what queued
MISSED_JOBS_FRACTION = 0.01  # a data center's service level: 99 % of jobs within their deadline
THROTTLE_FRACTION = 0.05  # 5 % of installed compute withheld on average: the power or heat design limits the work
FLOOR_SOC_MARGIN = 1e-3  # a battery within 0.1 % of its floor has reached it (the engine stops discharge there)
SHED_ENERGY_J = 3.6e6  # 1 kWh shed over a run: above rounding, any load a satellite could not run
FLOWS = {"downlink": "downlink", "uplink": "uplink", "eo": "Earth-observation inflow"}


def warning_lines(run: xr.Dataset, by: str = "total", name: str = "total") -> list[str]:
    """The warnings of ``run`` for the fleet (``by="total"``) or the sub-center or member ``name``; [] if none."""
    row = summary(run, by).loc[name]
    groups = grouping(run, by)
    index = list(groups.names).index(name)
    weight = groups.satellites.isel(group=index).values
    clusters = groups.clusters.isel(group=index).values > 0
    lines = [line for line in (_network_line(run, flow, label, clusters) for flow, label in FLOWS.items()) if line]
    finished = row["jobs_completed"] + row["jobs_missed"]
    if finished and row["jobs_missed"] / finished > MISSED_JOBS_FRACTION:
        lines.append(f"jobs missed their deadline: {int(row['jobs_missed']):,} of {int(finished):,} "
                     f"({100 * row['jobs_missed'] / finished:.1f} %, threshold {100 * MISSED_JOBS_FRACTION:g} %)")
    satellites = lambda mask: f"{weight[mask].sum():,.0f} of {weight.sum():,.0f} satellites"
    if "battery_floor_soc" in run:
        floor = run["battery_floor_soc"].values
        at_floor = (run["battery_soc"].min("time").values <= floor + FLOOR_SOC_MARGIN) & (weight > 0)
        if at_floor.any():
            lines.append(f"batteries at their floor: {satellites(at_floor)} reached the state of charge below which "
                         f"they are not discharged (lowest floor {floor[at_floor].min():.2f})")
    seconds = np.diff((run["time"].values - run["time"].values[0]) / np.timedelta64(1, "s"))
    shed_j = float((run["shed_power"].values[:, 1:].astype(float) * seconds).sum(axis=1) @ weight)
    if shed_j > SHED_ENERGY_J:
        lines.append(f"load shed: {shed_j / 3.6e9:,.3f} MWh the loads asked for and could not be given")
    if row["throttle"] > THROTTLE_FRACTION:
        lines.append(f"compute throttled: {100 * row['throttle']:.1f} % of installed capacity withheld by power or heat "
                     f"on average (threshold {100 * THROTTLE_FRACTION:g} %)")
    if "payload_max_temperature" in run:
        hottest = run["temperature"].sel(node=PAYLOAD).max("time").values
        limit = run["payload_max_temperature"].values
        over = (hottest > limit) & (weight > 0)
        if over.any():
            worst = int(np.argmax(np.where(over, hottest - limit, -np.inf)))
            lines.append(f"payload over its maximum temperature: {satellites(over)}, hottest "
                         f"{run['sat'].values[worst]} at {hottest[worst]:.1f} K (maximum {limit[worst]:.1f} K)")
    return lines


def _network_line(run: xr.Dataset, flow: str, label: str, clusters: np.ndarray) -> str | None:
    """The line of a network flow whose dropped data exceed :data:`DROPPED_DATA_FRACTION` of what came in, or whose
    delivered data fall below :data:`DELIVERED_DATA_FRACTION` of it; None if neither."""
    if f"{flow}_data_in" not in run:
        return None
    total = lambda part: float(run[f"{flow}_data_{part}"].isel(time=-1).values[clusters].sum())
    data_in, dropped, delivered = total("in"), total("dropped"), total("delivered")
    if not data_in:
        return None
    if dropped / data_in > DROPPED_DATA_FRACTION:
        return (f"{label} data dropped: {dropped / 1e9:,.1f} of {data_in / 1e9:,.1f} Gbit ({100 * dropped / data_in:.1f} %, "
                f"threshold {100 * DROPPED_DATA_FRACTION:g} %); delivered {100 * delivered / data_in:.1f} %")
    if delivered / data_in < DELIVERED_DATA_FRACTION:
        return (f"{label} data delivered: {delivered / 1e9:,.1f} of {data_in / 1e9:,.1f} Gbit "
                f"({100 * delivered / data_in:.1f} %, threshold {100 * DELIVERED_DATA_FRACTION:g} %); the rest is queued")
    return None
