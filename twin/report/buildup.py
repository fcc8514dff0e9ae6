"""Figures of a build-up run (:mod:`twin.lifecycle`) by year or quarter: satellites in orbit, launches, installed,
generated and used power, compute delivered and its availability, capacity units per member, and the date each
target of the build-up is met or missed.

States (satellites, capacity) are at the end of each period; powers and compute are means over the period of the
step means; launches are counted in it. Availability is the compute delivered over the compute the workload asked
of the satellites in service.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from twin.scenario import Scenario, scenario_from_dict
from twin.timegrid import parse_date

PERIODS = {"year": "YS", "quarter": "QS"}  # pandas period starts
W_PER_MW = 1e6
UNITS_PER_MILLION = 1e6


def check_buildup(run: xr.Dataset) -> None:
    """Raise ``ValueError`` naming the run if it is not a build-up run."""
    if not run.attrs.get("lifecycle"):
        raise ValueError(f"run: {run.attrs.get('scenario', '?')!r} is not a build-up run; make one with "
                         "twin simulate lifecycle --out life.zarr")


def fleet_series(run: xr.Dataset) -> xr.Dataset:
    """The fleet's series over time: satellites launched, flying, serving, failed, disposed; installed power (W, of
    the satellites flying), generated and used power (W), compute offered and delivered (capacity units)."""
    check_buildup(run)
    total = lambda name: run[name].sum("sat", min_count=1)  # NaN at the epoch, where no step ends
    return xr.Dataset({
        **{state: total(f"{state}_satellites") for state in ("launched", "flying", "serving", "failed", "disposed")},
        "installed_power": (run["flying_satellites"] * run["installed_power"]).sum("sat"),
        "generated": total("subcenter_generated_power"), "used": total("subcenter_used_power"),
        "compute_offered": total("subcenter_compute_offered"), "compute_delivered": total("subcenter_compute_delivered"),
        "launches": run["launches"],
    })


def member_capacity(run: xr.Dataset) -> xr.DataArray:
    """Capacity units in service of each member over time (member, time): its share of each sub-center's."""
    check_buildup(run)
    return (run["member_share"] * run["serving_satellites"] * run["installed_compute"]).sum("sat")


def buildup(run: xr.Dataset, by: str = "year") -> pd.DataFrame:
    """The build-up's figures by ``year`` or ``quarter`` (one row per period, by its first day)."""
    series = fleet_series(run).isel(time=slice(1, None))  # the epoch has no step
    rule = PERIODS[by]
    end = series.resample(time=rule).last()
    mean = series.resample(time=rule).mean()
    total = series.resample(time=rule).sum()
    delivered, offered = total["compute_delivered"].values, total["compute_offered"].values
    table = pd.DataFrame({
        "launches": total["launches"].values.astype(int),
        "flying": end["flying"].values.astype(int), "serving": end["serving"].values.astype(int),
        "failed": end["failed"].values.astype(int), "disposed": end["disposed"].values.astype(int),
        "installed_mw": end["installed_power"].values / W_PER_MW,
        "generated_mw": mean["generated"].values / W_PER_MW, "used_mw": mean["used"].values / W_PER_MW,
        "compute_mcu": mean["compute_delivered"].values / UNITS_PER_MILLION,
        "availability": np.divide(delivered, offered, out=np.full(delivered.shape, np.nan), where=offered > 0),
    }, index=pd.Index(period_labels(end["time"].values, by), name=by))
    return table


def period_labels(starts: np.ndarray, by: str) -> list[str]:
    stamps = pd.DatetimeIndex(starts)
    return [str(stamp.year) if by == "year" else f"{stamp.year}-Q{stamp.quarter}" for stamp in stamps]


def members(run: xr.Dataset, by: str = "year") -> pd.DataFrame:
    """Capacity units in service (millions) of each member at the end of each period (period x member)."""
    capacity = member_capacity(run).isel(time=slice(1, None)).resample(time=PERIODS[by]).last()
    return pd.DataFrame(capacity.values.T / UNITS_PER_MILLION, columns=run["member"].values,
                        index=pd.Index(period_labels(capacity["time"].values, by), name=by))


def scenario_of_buildup(run: xr.Dataset) -> Scenario:
    """The scenario a build-up run recorded (its text, ``scenario_text``)."""
    return scenario_from_dict(tomllib.loads(run.attrs["scenario_text"]), source=run.attrs.get("scenario_source", ""))


@dataclass(frozen=True)
class TargetOutcome:
    """A target of the build-up: when it was ``reached`` (None: never in the run), what the quantity was on the
    date it was due (``at_due``) and whether it was ``met`` by then."""

    name: str
    quantity: str
    value: float
    due: np.datetime64
    reached: np.datetime64 | None
    at_due: float

    @property
    def met(self) -> bool:
        return self.reached is not None and self.reached <= self.due

    def line(self) -> str:
        scale, unit = (W_PER_MW * 1e3, "GW") if self.quantity == "installed_power_w" else (1.0, "satellites")
        what = f"{self.name}: {self.value / scale:,.6g} {unit} by {str(self.due)[:10]}"
        reached = f"reached {str(self.reached)[:10]}" if self.reached is not None else "not reached in the run"
        if self.met:
            return f"{what}: met, {reached}"
        return f"{what}: missed by {(self.value - self.at_due) / scale:,.6g} {unit} on the day ({reached})"


def targets(run: xr.Dataset) -> list[TargetOutcome]:
    """The outcome of each ``[[lifecycle.targets]]`` of the run's scenario."""
    series = fleet_series(run)
    quantity = {"flying_satellites": series["flying"], "installed_power_w": series["installed_power"]}
    times = run["time"].values
    outcomes = []
    for target in scenario_of_buildup(run).lifecycle.targets:
        values = quantity[target.quantity].values
        due = np.datetime64(parse_date(target.by, "by").utc.isot, "ns")
        reached = np.flatnonzero(values >= target.value)
        on_due = np.searchsorted(times, due, side="right") - 1
        outcomes.append(TargetOutcome(target.name, target.quantity, target.value, due,
                                      times[reached[0]] if reached.size else None,
                                      float(values[max(on_due, 0)])))
    return outcomes


COLUMNS = {"launches": ("launches", "d"), "flying": ("flying", ",d"), "serving": ("serving", ",d"),
           "failed": ("failed", ",d"), "disposed": ("disposed", ",d"), "installed_mw": ("installed MW", ",.1f"),
           "generated_mw": ("generated MW", ",.1f"), "used_mw": ("used MW", ",.1f"),
           "compute_mcu": ("compute M units", ",.2f"), "availability": ("availability", ".3f")}


def _table_text(table: pd.DataFrame, columns: dict[str, tuple[str, str]]) -> str:
    cells = [[table.index.name] + [label for label, _ in columns.values()]]
    for index in table.index:
        cells.append([str(index)] + ["-" if pd.isna(table.at[index, name]) else format(table.at[index, name], spec)
                                     for name, (_, spec) in columns.items()])
    widths = [max(len(line[column]) for line in cells) for column in range(len(cells[0]))]
    return "\n".join("  ".join(cell.rjust(width) if column else cell.ljust(width)
                               for column, (cell, width) in enumerate(zip(line, widths))) for line in cells)


def buildup_text(run: xr.Dataset, by: str = "year", by_member: bool = False) -> str:
    """The build-up as text: the fleet's figures by ``year`` or ``quarter``, the targets' outcomes, and with
    ``by_member`` the capacity units in service of each member."""
    lines = [f"{run.attrs.get('title', '')}",
             f"{by} by {by}: satellites at the end of the {by}, powers and compute means over it "
             "(1 capacity unit = 1 TOPS)", _table_text(buildup(run, by), COLUMNS), "", "targets:"]
    lines += [f"  {outcome.line()}" for outcome in targets(run)]
    if by_member:
        table = members(run, by).T.rename_axis("member")
        lines += ["", f"capacity units in service by member (millions), end of the {by}:",
                  _table_text(table, {period: (period, ",.2f") for period in table.columns})]
    return "\n".join(lines)


def plot_buildup(run: xr.Dataset, path, by: str = "quarter", image_format: str | None = None) -> None:
    """Draw the build-up by ``by`` into the image ``path`` (a file, whose suffix says the format, or a binary
    stream of ``image_format``): satellites in orbit and launches; installed, generated and used power; compute
    delivered; the targets' dates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = fleet_series(run).isel(time=slice(1, None))
    rule = PERIODS[by]
    end, mean = series.resample(time=rule).last(), series.resample(time=rule).mean()
    launches = series["launches"].resample(time=rule).sum()
    when = pd.DatetimeIndex(end["time"].values)
    figure, (satellites, power, compute) = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
    satellites.plot(when, end["flying"], label="in orbit")
    satellites.plot(when, end["serving"], label="in service")
    satellites.bar(when, launches * max(1.0, float(end["flying"].max()) / 50), width=20, color="grey",
                   label="launches (scaled)")
    satellites.set_ylabel("satellites")
    for name, label in (("installed_power", "installed (beginning of life)"), ("generated", "generated"),
                        ("used", "used")):
        power.plot(when, (end if name == "installed_power" else mean)[name] / (W_PER_MW * 1e3), label=label)
    power.set_ylabel("GW")
    compute.plot(when, mean["compute_delivered"] / UNITS_PER_MILLION, label="delivered")
    compute.set_ylabel("million capacity units (TOPS)")
    for outcome in targets(run):
        for axes in (satellites, power, compute):
            axes.axvline(pd.Timestamp(outcome.due), color="red" if not outcome.met else "green", linewidth=0.8)
        satellites.annotate(outcome.name, (pd.Timestamp(outcome.due), 0), rotation=90, fontsize=8,
                            verticalalignment="bottom")
    for axes in (satellites, power, compute):
        axes.legend(loc="upper left", fontsize=8)
        axes.grid(alpha=0.3)
    satellites.set_title(f"{run.attrs.get('title', '')}\nby {by}; lines: targets' due dates (green met, red missed)",
                         fontsize=9)
    figure.tight_layout()
    figure.savefig(path, format=image_format or str(path).rsplit(".", 1)[-1])
    plt.close(figure)
