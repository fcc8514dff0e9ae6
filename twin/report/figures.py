"""Constellation figures of a twin run: power, eclipse losses, stored energy, compute and jobs, for the
whole fleet, per sub-center or per consortium member.

Every figure is weighted by the ``represents`` coordinate, so a representatives run (each
sub-center's chief standing for all its satellites) gives the figures of the whole fleet.

Time follows the engine's convention. Interval quantities (powers, utilisation, throughput,
throttle) at time index ``k`` are means over the interval ``(t[k-1], t[k]]`` and index 0 is NaN;
states (battery energy, illumination) are values at ``t[k]``. Over a run of span
``T = t[-1] - t[0]``:

- an interval quantity integrates as :math:`\\sum_{k \\ge 1} x_k \\, \\Delta t_k`;
- a state integrates by the trapezoid, :math:`\\sum_{k \\ge 1} \\tfrac{1}{2}(x_{k-1} + x_k) \\, \\Delta t_k`
  (its mean over each interval, the rule the engine uses for the array output);
- a mean is that integral divided by ``T``.

>>> import twin
>>> from twin import figures
>>> run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=3 * 3600, step_s=60)
>>> table = figures.summary(run, by="owner")
>>> list(table.index), int(table["satellites"].sum())
(['BAIST', 'M02', 'M03'], 25)
>>> figures.time_series(run, by="subcenter")["generated_power"].dims
('cluster', 'time')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from twin.dataset.catalogue import entry


W_PER_MW = 1e6
J_PER_MWH = 3.6e9
FLOP_PER_EFLOP = 1e18
PAYLOAD = "payload"  # thermal node of the compute payload

# by -> (output dimension, satellite coordinate, sub-center coordinate) of each grouping
GROUPINGS = {
    "total": ("total", None, None),
    "subcenter": ("cluster", "subcenter", "cluster"),
    "owner": ("member", "owner", "cluster_owner"),
}
USED_BY_LOAD = {"compute": "used_compute_power", "comms": "used_comms_power", "heaters": "used_heater_power",
                "bus": "used_bus_power"}  # kind of load -> the run's variable
REQUIRED = ("generated_power", "used_power", *USED_BY_LOAD.values(), "curtailed_power", "shed_power",
            "battery_loss_power", "battery_energy", "battery_soc", "illumination", "compute_throughput",
            "compute_utilization", "throttle", "temperature", "cluster_jobs_completed", "cluster_jobs_missed",
            "cluster_eclipse_loss_power", "time", "subcenter", "owner", "cluster_owner")

# Series of time_series(): name -> (the run's variable it is made of, how): summed over each group's satellites
# (each counted ``represents`` times), averaged over them, or summed over its sub-centers.
SERIES = {
    "generated_power": ("generated_power", "sum"),
    # the engine stores the shadow loss per sub-center, an interval mean like the array output
    "eclipse_loss_power": ("cluster_eclipse_loss_power", "sub-center sum"),
    "used_power": ("used_power", "sum"),
    **{name: (name, "sum") for name in USED_BY_LOAD.values()},
    "curtailed_power": ("curtailed_power", "sum"),
    "shed_power": ("shed_power", "sum"),
    "battery_loss_power": ("battery_loss_power", "sum"),
    "energy_stored": ("battery_energy", "sum"),
    "sunlit_fraction": ("illumination", "mean"),
    "compute_throughput": ("compute_throughput", "sum"),
    "utilization": ("compute_utilization", "mean"),
    "throttle": ("throttle", "mean"),
    "jobs_completed": ("cluster_jobs_completed", "sub-center sum"),
    "jobs_missed": ("cluster_jobs_missed", "sub-center sum"),
}
HOW = {"sum": "summed over satellites", "mean": "mean over satellites", "sub-center sum": "summed over sub-centers"}


def series_attrs(name: str) -> dict:
    """CF attributes of the series ``name``: the units and cell methods of the run's variable it is made of
    (:mod:`twin.dataset.catalogue`), and its long name with how it was made."""
    source, how = SERIES[name]
    attrs = dict(entry(source).attrs)
    attrs["long_name"] = f"{attrs['long_name']}, {HOW[how]}"
    attrs.pop("comment", None)
    return attrs


SUMMARY_UNITS = {
    "satellites": "1", "installed_power_MW": "MW", "generated_power_MW": "MW", "eclipse_loss_MW": "MW",
    "eclipse_loss_percent": "%", "used_power_MW": "MW", "used_compute_MW": "MW", "used_comms_MW": "MW",
    "used_heaters_MW": "MW", "used_bus_MW": "MW", "curtailed_power_MW": "MW", "shed_power_MW": "MW",
    "battery_loss_MW": "MW", "stored_change_MW": "MW", "sunlit_fraction": "1", "energy_stored_MWh": "MWh", "min_battery_soc": "1",
    "compute_EFLOP": "EFLOP", "utilization": "1", "throttle": "1", "jobs_completed": "1", "jobs_missed": "1",
    "max_payload_temperature_K": "K",
}


@dataclass(frozen=True)
class Grouping:
    """Which satellites and sub-centers make up each row of a figure.

    ``satellites`` (group, sat) holds each satellite's ``represents`` weight in its group and 0
    elsewhere; ``clusters`` (group, cluster) holds 1 where a sub-center belongs to the group.
    Figures are computed along ``group`` and the result named ``dim``.
    """

    dim: str
    names: np.ndarray
    satellites: xr.DataArray
    clusters: xr.DataArray


def check_run(run: xr.Dataset) -> None:
    """Raise ``ValueError`` unless ``run`` holds the power, thermal and compute variables the figures need."""
    missing = [name for name in REQUIRED if name not in run.variables]
    if missing:
        raise ValueError(f"run: has no {', '.join(missing[:3])}{'...' if len(missing) > 3 else ''}; the figures need "
                         "a twin run with power, thermal and compute (orbit-only and TLE runs have none)")


def grouping(run: xr.Dataset, by: str) -> Grouping:
    """The :class:`Grouping` of ``run`` for ``by`` in ``"total"``, ``"subcenter"``, ``"owner"``."""
    check_run(run)
    if by not in GROUPINGS:
        raise ValueError(f"by: {by!r} is not one of {', '.join(GROUPINGS)}")
    dim, sat_coord, cluster_coord = GROUPINGS[by]
    if sat_coord is None:
        sat_labels, cluster_labels = np.full(run.sizes["sat"], "total"), np.full(run.sizes["cluster"], "total")
    else:
        sat_labels, cluster_labels = run[sat_coord].values.astype(str), run[cluster_coord].values.astype(str)
    names = np.unique(np.concatenate([sat_labels, cluster_labels]))
    weight = run["represents"].values.astype(float) if "represents" in run.coords else np.ones(run.sizes["sat"])
    satellites = xr.DataArray((names[:, None] == sat_labels[None, :]) * weight[None, :], dims=("group", "sat"))
    clusters = xr.DataArray((names[:, None] == cluster_labels[None, :]).astype(float), dims=("group", "cluster"))
    return Grouping(dim, names, satellites, clusters)


def interval_seconds(run: xr.Dataset) -> xr.DataArray:
    """Length (s) of the interval ending at each time; 0 at the first time, which ends none."""
    seconds = (run["time"].values - run["time"].values[0]) / np.timedelta64(1, "s")
    return xr.DataArray(np.diff(seconds, prepend=seconds[0]), dims="time", coords={"time": run["time"]})


def interval_integral(values: xr.DataArray, dt_s: xr.DataArray) -> xr.DataArray:
    """Integral over the run of an interval quantity (value at ``k`` = mean over the interval ending at ``k``):
    ``sum(k >= 1) values[k] dt_s[k]``, in the unit of ``values`` times seconds."""
    return (values * dt_s).isel(time=slice(1, None)).sum("time", skipna=False)


def state_to_interval(values: xr.DataArray) -> xr.DataArray:
    """Mean of a state (value at each time) over the interval ending at each time, by the trapezoid; NaN at 0."""
    return 0.5 * (values + values.shift(time=1))


def interval_mean(values: xr.DataArray, dt_s: xr.DataArray) -> xr.DataArray:
    """Mean of an interval quantity over the run: its :func:`interval_integral` over the span (sum of ``dt_s``)."""
    return interval_integral(values, dt_s) / float(dt_s.sum())


def _grouped_series(run: xr.Dataset, groups: Grouping) -> xr.Dataset:
    """:func:`time_series` with the group dimension kept, also for the whole fleet."""
    weights, members = groups.satellites, groups.clusters
    satellites = weights.sum("sat")
    make = {"sum": lambda name: xr.dot(weights, run[name], dim="sat"),
            "mean": lambda name: xr.dot(weights, run[name], dim="sat") / satellites,
            "sub-center sum": lambda name: xr.dot(members, run[name], dim="cluster")}
    series = xr.Dataset({name: make[how](source) for name, (source, how) in SERIES.items()}).compute()
    for name in SERIES:
        series[name].attrs = series_attrs(name)
    series.attrs = {"scenario": run.attrs.get("scenario", ""), "step_s": run.attrs.get("step_s", np.nan),
                    "representatives": int(run.attrs.get("representatives", 0))}
    return series


def time_series(run: xr.Dataset, by: str = "total") -> xr.Dataset:
    """Fleet figures over time, for the whole fleet or per sub-center (dim ``cluster``) or member (dim ``member``).

    Variables: ``generated_power`` (array output), ``eclipse_loss_power``, ``used_power`` (by the
    loads) and its parts ``used_compute_power``, ``used_comms_power``, ``used_heater_power``,
    ``used_bus_power``, ``curtailed_power``, ``shed_power`` and ``battery_loss_power`` (W, interval
    means, NaN at the first time), ``energy_stored`` (J), ``sunlit_fraction`` (1, mean illumination over
    satellites), ``compute_throughput`` (FLOP/s), ``utilization`` and ``throttle`` (1, means over
    satellites), ``jobs_completed`` and ``jobs_missed`` (jobs in each step). Every sum and mean
    counts each satellite ``represents`` times.

    ``eclipse_loss_power`` is an interval mean like ``generated_power``, so that their sum is the
    array's full-Sun output over the same interval.
    """
    groups = grouping(run, by)
    series = _grouped_series(run, groups)
    series.attrs["by"] = by
    if by == "total":
        return series.isel(group=0)
    return series.rename(group=groups.dim).assign_coords({groups.dim: groups.names})


def summary(run: xr.Dataset, by: str = "total") -> pd.DataFrame:
    """Figures of the whole run, one row per sub-center or member, or a single row ``total``.

    Columns (units in ``frame.attrs["units"]``): ``satellites`` (weighted count),
    ``installed_power_MW`` (beginning of life, 1 au), ``generated_power_MW`` (mean array output),
    ``eclipse_loss_MW`` (mean output lost to the Earth's shadow) and ``eclipse_loss_percent`` (of
    generated + lost), ``used_power_MW`` (mean power the loads used) and its parts
    ``used_compute_MW``, ``used_comms_MW``, ``used_heaters_MW``, ``used_bus_MW``,
    ``curtailed_power_MW`` (output nothing used), ``shed_power_MW`` (load asked for, not served),
    ``battery_loss_MW`` and ``stored_change_MW`` (energy stored at the end minus the start, over the
    span), so that ``generated = used + curtailed + battery_loss + stored_change`` (:func:`energy_identity`);
    ``sunlit_fraction``, ``energy_stored_MWh`` (mean), ``min_battery_soc``,
    ``compute_EFLOP`` (FLOP delivered over the run / 1e18), ``utilization`` and ``throttle``
    (means over satellites and time), ``jobs_completed``, ``jobs_missed``,
    ``max_payload_temperature_K``.
    """
    groups = grouping(run, by)
    series = _grouped_series(run, groups)
    dt_s = interval_seconds(run)
    generated_w = interval_mean(series["generated_power"], dt_s)
    lost_w = interval_mean(series["eclipse_loss_power"], dt_s)
    installed_w = xr.dot(groups.satellites, run["installed_power"].astype(float), dim="sat")
    mean_mw = lambda name: interval_mean(series[name], dt_s) / W_PER_MW
    stored_j = series["energy_stored"]
    columns = {
        "satellites": groups.satellites.sum("sat").round().astype(int),
        "installed_power_MW": installed_w / W_PER_MW,
        "generated_power_MW": generated_w / W_PER_MW,
        "eclipse_loss_MW": lost_w / W_PER_MW,
        "eclipse_loss_percent": 100.0 * lost_w / (generated_w + lost_w),
        "used_power_MW": mean_mw("used_power"),
        **{f"used_{kind}_MW": mean_mw(name) for kind, name in USED_BY_LOAD.items()},
        "curtailed_power_MW": mean_mw("curtailed_power"),
        "shed_power_MW": mean_mw("shed_power"),
        "battery_loss_MW": mean_mw("battery_loss_power"),
        "stored_change_MW": (stored_j.isel(time=-1) - stored_j.isel(time=0)) / float(dt_s.sum()) / W_PER_MW,
        "sunlit_fraction": interval_mean(state_to_interval(series["sunlit_fraction"]), dt_s),
        "energy_stored_MWh": interval_mean(state_to_interval(series["energy_stored"]), dt_s) / J_PER_MWH,
        "min_battery_soc": _grouped_extreme(run["battery_soc"], groups, "min"),
        "compute_EFLOP": interval_integral(series["compute_throughput"], dt_s) / FLOP_PER_EFLOP,
        "utilization": interval_mean(series["utilization"], dt_s),
        "throttle": interval_mean(series["throttle"], dt_s),
        "jobs_completed": series["jobs_completed"].sum("time").round().astype(int),
        "jobs_missed": series["jobs_missed"].sum("time").round().astype(int),
        "max_payload_temperature_K": _grouped_extreme(run["temperature"].sel(node=PAYLOAD), groups, "max"),
    }
    frame = pd.DataFrame({name: np.asarray(values) for name, values in columns.items()},
                         index=pd.Index(groups.names, name=by))
    frame.attrs["units"] = dict(SUMMARY_UNITS)
    return frame


def energy_identity(row: pd.Series) -> str:
    """The first law over a run for one row of :func:`summary`, in mean MW: generated = used (by kind) + curtailed
    + battery losses + change in storage, with what is left over (float rounding only)."""
    kinds = " + ".join(f"{kind} {row[f'used_{kind}_MW']:.3f}" for kind in USED_BY_LOAD)
    parts = ("used_power_MW", "curtailed_power_MW", "battery_loss_MW", "stored_change_MW")
    residual = row["generated_power_MW"] - sum(row[name] for name in parts)
    return (f"generated {row['generated_power_MW']:.3f} MW = used {row['used_power_MW']:.3f} ({kinds}) "
            f"+ curtailed {row['curtailed_power_MW']:.3f} + battery losses {row['battery_loss_MW']:.3f} "
            f"+ into storage {row['stored_change_MW']:.3f} (left over {residual:.1e})")


def _grouped_extreme(values: xr.DataArray, groups: Grouping, how: str) -> xr.DataArray:
    """Smallest or largest (``how``) of a (sat, time) variable over the satellites of each group and all times."""
    per_satellite = getattr(values, how)("time")
    member = groups.satellites > 0
    return getattr(per_satellite.where(member), how)("sat").compute()
