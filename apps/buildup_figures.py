"""The Lifecycle tab's figures of a build-up run (:mod:`twin.lifecycle`): the key figures of a year as cards, the
members' capacity in a year, the targets' outcomes, and plots by quarter and year with a band on the year shown.

Every number is :mod:`twin.report.buildup`'s (``twin lifecycle``'s tables): satellites at the end of the year, powers
and compute means over it, launches counted in it; availability is the compute delivered over the compute asked of the
satellites in service. Made once per run and shared by every session (:meth:`apps.runs.RunData.cached`).
"""

from __future__ import annotations

import holoviews as hv
import hvplot.pandas  # noqa: F401  (registers .hvplot on DataFrames)
import numpy as np
import pandas as pd

from twin.report.buildup import buildup, members, targets

from .kpis import Kpi, _number
from .plots import LINE_OPTIONS
from .runs import RunData

YEAR_BAND_COLOR = "#f2c14e"
# card label, column of twin.report.buildup.buildup, format, unit
YEAR_FIGURES = (
    ("Satellites in orbit (end of year)", "flying", "d", ""),
    ("Satellites in service (end of year)", "serving", "d", ""),
    ("Launches in the year", "launches", "d", ""),
    ("Failed so far", "failed", "d", ""),
    ("Disposed of so far", "disposed", "d", ""),
    ("Installed power (end of year)", "installed_mw", ",.1f", "MW"),
    ("Generated power (year mean)", "generated_mw", ",.1f", "MW"),
    ("Used power (year mean)", "used_mw", ",.1f", "MW"),
    ("Compute delivered (year mean)", "compute_mcu", ",.2f", "M capacity units"),
    ("Availability (delivered / asked)", "availability", ".3f", ""),
)


def by_year(data: RunData) -> pd.DataFrame:
    """:func:`twin.report.buildup.buildup` by year, indexed by the year (int), computed once."""
    return data.cached(("buildup", "year"), lambda: _by_int_year(buildup(data.run, "year")))


def by_quarter(data: RunData) -> pd.DataFrame:
    """:func:`twin.report.buildup.buildup` by quarter, with the quarter's first day as column ``start``, computed once."""
    def make():
        table = buildup(data.run, "quarter")
        return table.assign(start=[pd.Period(label, freq="Q").start_time for label in table.index])
    return data.cached(("buildup", "quarter"), make)


def members_by_year(data: RunData) -> pd.DataFrame:
    """Capacity units in service (millions) of each member at the end of each year (year x member), computed once."""
    return data.cached(("buildup", "members"), lambda: _by_int_year(members(data.run, "year")))


def _by_int_year(table: pd.DataFrame) -> pd.DataFrame:
    return table.set_axis(table.index.astype(int), axis=0).rename_axis("year")


def years(data: RunData) -> list[int]:
    """The years the build-up run covers."""
    return by_year(data).index.tolist()


def year_figures(data: RunData, year: int) -> list[Kpi]:
    """The fleet's key figures in ``year`` beside those of the run's last year."""
    table = by_year(data)
    last = int(table.index[-1])
    return [Kpi(label, _number(table.at[year, column], spec, unit),
                f"{_number(table.at[last, column], spec, unit)} in {last}")
            for label, column, spec, unit in YEAR_FIGURES]


def member_table(data: RunData, year: int) -> pd.DataFrame:
    """Each member's capacity units in service at the end of ``year`` (millions) and its share of the fleet's (%)."""
    capacity = members_by_year(data).loc[year]
    total = float(capacity.sum())
    share = capacity / total * 100.0 if total > 0 else capacity * np.nan
    return pd.DataFrame({"capacity units in service (millions)": capacity.map(lambda value: f"{value:,.2f}"),
                         "share of the fleet (%)": share.map(lambda value: _number(value, ".1f"))},
                        index=pd.Index(capacity.index, name="member"))


def target_lines(data: RunData) -> list[str]:
    """Each target of the build-up: met on a date, or missed and by how much (:class:`TargetOutcome.line`)."""
    return data.cached(("buildup", "targets"), lambda: [outcome.line() for outcome in targets(data.run)])


def _lines(table: pd.DataFrame, columns: dict[str, str], title: str, ylabel: str):
    """Columns of ``table`` (column -> label) over its ``start`` dates, one line each."""
    shown = table[["start", *columns]].rename(columns=columns)
    return shown.hvplot.line(x="start", y=list(columns.values()), xlabel="time", ylabel=ylabel, title=title,
                             **LINE_OPTIONS)


def buildup_plots(data: RunData) -> list[hv.Overlay]:
    """Satellites, power, compute and availability by quarter, and capacity units per member by year; computed once."""
    def make():
        quarters = by_quarter(data)
        member_years = members_by_year(data)
        per_member = member_years.assign(start=[pd.Timestamp(year=year, month=12, day=31) for year in member_years.index])
        return [
            _lines(quarters, {"flying": "in orbit", "serving": "in service"},
                   "Satellites (end of quarter)", "satellites"),
            _lines(quarters, {"installed_mw": "installed", "generated_mw": "generated", "used_mw": "used"},
                   "Power (quarter mean; installed at its end)", "MW"),
            _lines(quarters, {"compute_mcu": "delivered"}, "Compute delivered (quarter mean)",
                   "million capacity units"),
            _lines(quarters, {"availability": "availability"}, "Availability (delivered / asked)", "fraction"),
            _lines(per_member, {member: member for member in member_years.columns},
                   "Capacity units in service by member (end of year)", "million capacity units").opts(
                legend_position="right"),
        ]
    return data.cached(("buildup", "plots"), make)


def year_band(year: int) -> hv.VSpan:
    """The band over ``year`` that marks the slider's year on every plot."""
    return hv.VSpan(pd.Timestamp(year=year, month=1, day=1), pd.Timestamp(year=year, month=12, day=31)).opts(
        color=YEAR_BAND_COLOR, alpha=0.25)
