"""Solar and geomagnetic indices for the atmosphere model: given by the caller, or read from a table.

The shipped table (``assets/flight/solar_indices.csv``, made by :mod:`twin.flight.solar_cycle`, sources
in ``assets/flight/README.md``) holds monthly 13-month smoothed values; any CSV with the same columns
(``month``, ``f107_sfu``, ``ap``) can replace it. Smoothed values stand for both the daily F10.7 and its
81-day mean, and for the daily Ap: day-to-day activity and storms are not predicted, which is what a
budget over years needs (a storm's extra drag is a margin to add). Nothing is ever downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from twin.assets import asset_path
from twin.scenario import FlightSettings

SHIPPED_TABLE = ("flight", "solar_indices.csv")


@dataclass(frozen=True)
class SolarIndices:
    """F10.7 of the previous day and its 81-day centred mean (sfu, 1e-22 W m^-2 Hz^-1) and daily Ap, broadcastable arrays."""

    f107_sfu: np.ndarray
    f107_average_sfu: np.ndarray
    ap: np.ndarray

    def __post_init__(self):
        for name in ("f107_sfu", "f107_average_sfu", "ap"):
            value = np.asarray(getattr(self, name), dtype=float)
            bad = ~(np.isfinite(value) & (value >= 0))
            if np.any(bad):
                raise ValueError(f"{name}: {float(value[bad].ravel()[0])!r} must be a finite, non-negative index")
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class IndicesTable:
    """Monthly indices: ``month`` (datetime64[M]), ``f107_sfu``, ``ap``; read by :func:`read_indices_table`."""

    month: np.ndarray
    f107_sfu: np.ndarray
    ap: np.ndarray
    source: str

    def at(self, times) -> SolarIndices:
        """Indices at UTC ``times`` (datetime64), linear between mid-months.

        Raises ``ValueError`` naming the first time outside the table.
        """
        times = np.asarray(times, dtype="datetime64[s]")
        middle = (self.month.astype("datetime64[s]") + np.timedelta64(15 * 86400, "s")).astype(float)
        seconds = times.astype(float)
        outside = (seconds < middle[0]) | (seconds > middle[-1])
        if np.any(outside):
            raise ValueError(f"time: {times.ravel()[np.flatnonzero(outside.ravel())[0]]} is outside the indices "
                             f"table {self.source} ({self.month[0]} to {self.month[-1]}); pass the indices instead")
        flux = np.interp(seconds, middle, self.f107_sfu)
        return SolarIndices(flux, flux, np.interp(seconds, middle, self.ap))


def read_indices_table(path: str | Path) -> IndicesTable:
    """A monthly indices table from a CSV with columns ``month`` (YYYY-MM), ``f107_sfu`` and ``ap``.

    Raises ``ValueError`` naming the file, line and column of the first bad value.
    """
    path = Path(path)
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    header = lines[0].split(",")
    missing = [name for name in ("month", "f107_sfu", "ap") if name not in header]
    if missing:
        raise ValueError(f"{path}: no column {missing[0]!r} (columns: {', '.join(header)})")
    columns = {name: [] for name in ("month", "f107_sfu", "ap")}
    for number, line in enumerate(lines[1:], 2):
        cells = dict(zip(header, line.split(",")))
        for name in columns:
            try:
                value = np.datetime64(cells[name], "M") if name == "month" else float(cells[name])
            except (KeyError, ValueError):
                raise ValueError(f"{path}:{number}: {name} {cells.get(name)!r} is not a "
                                 f"{'month YYYY-MM' if name == 'month' else 'number'}") from None
            columns[name].append(value)
    month = np.array(columns["month"], dtype="datetime64[M]")
    if month.size < 2 or np.any(np.diff(month) <= np.timedelta64(0, "M")):
        raise ValueError(f"{path}: months must be at least two, in increasing order")
    return IndicesTable(month, np.array(columns["f107_sfu"]), np.array(columns["ap"]), str(path))


@lru_cache(maxsize=1)
def shipped_table() -> IndicesTable:
    """The table shipped with the twin (the predicted solar cycle of :mod:`twin.flight.solar_cycle`)."""
    return read_indices_table(asset_path(*SHIPPED_TABLE))


def predicted_indices(times) -> SolarIndices:
    """Indices at UTC ``times`` (datetime64) from the shipped table."""
    return shipped_table().at(times)


@dataclass(frozen=True)
class FixedIndices:
    """The same indices at every time: called with UTC ``times``, :class:`SolarIndices` of their shape."""

    f107_sfu: float
    f107_average_sfu: float
    ap: float

    def __call__(self, times) -> SolarIndices:
        shape = np.shape(times)
        return SolarIndices(np.full(shape, self.f107_sfu), np.full(shape, self.f107_average_sfu), np.full(shape, self.ap))


def scenario_indices(settings: FlightSettings):
    """The indices a scenario's ``[flight]`` asks for, as a function of UTC ``times``: the shipped predicted cycle
    (:func:`predicted_indices`) or :class:`FixedIndices`."""
    if settings.indices == "fixed":
        return FixedIndices(settings.f107_sfu, settings.f107_81day_sfu, settings.ap)
    return predicted_indices
