"""The predicted solar cycle shipped as ``assets/flight/solar_indices.csv``: how it is made.

Each sunspot cycle has the shape of Hathaway, Wilson & Reichmann (1994, *Solar Physics* 151, 177;
Hathaway 2015, *Living Reviews in Solar Physics* 12:4, eq. 6):

.. math:: R(t) = \\frac{a\\,(t - t_0)^3}{\\exp\\left((t - t_0)^2 / b^2\\right) - c},\\qquad c = 0.71

with ``t`` in months. Given a cycle's start ``t0`` (its minimum), the month of its maximum and the
maximum itself (13-month smoothed sunspot number, SILSO version 2) set ``a``, and the width ``b``
follows from ``a`` by Hathaway et al.'s relation (so the month of maximum is a check of the model, not
an input: ``tests/test_flight_environment.py``); consecutive cycles overlap and add. The published anchors are in
:data:`CYCLES`; later cycles repeat the mean of cycles 24 and 25 every 11 years (an assumption: no
cycle 26 prediction is published with a shape). F10.7 and Ap follow from the sunspot number by the
proxies of :func:`f107_from_sunspot_number` and :func:`ap_from_sunspot_number`.
``assets/flight/README.md`` gives every source; ``python -m twin.flight.solar_cycle PATH`` writes the table.
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import brentq

SHAPE_C = 0.71  # Hathaway, Wilson & Reichmann (1994): the asymmetry parameter, the same for all cycles
# SILSO's version-2 sunspot number is the version-1 (Zurich/Wolfer) number divided by 0.6 (Clette & Lefevre 2016).
VERSION_1_PER_VERSION_2 = 0.6
MEAN_CYCLE_MONTHS = 132  # assumption: 11 years, the length of cycle 24 (December 2008 to December 2019)
TABLE_MONTHS = ("2010-01", "2080-12")

# (cycle, start month, month of maximum, 13-month smoothed maximum, version-2 sunspot number).
CYCLES = (
    (24, "2008-12", "2014-04", 116.4),  # SILSO; NASA MSFC "Solar Cycle 25 Status" (2023): 116.4 in April 2014
    (25, "2019-12", "2024-10", 160.0),  # start: SILSO/MSFC; maximum: NASA/NOAA, 2024-10-15, about 160 (provisional)
)


def _peak_shape_x() -> float:
    """The ``x = (t - t0) / b`` where ``x^3 / (exp(x^2) - c)`` peaks: root of ``3 (e^{x^2} - c) = 2 x^2 e^{x^2}``."""
    return brentq(lambda x: 3.0 * (np.exp(x * x) - SHAPE_C) - 2.0 * x * x * np.exp(x * x), 0.5, 3.0)


def _width_months(amplitude_v1: float) -> float:
    """Hathaway et al.'s width ``b = 27.12 + 25.15 / (1000 a)^(1/4)`` months of a cycle of amplitude ``a`` (version 1)."""
    return 27.12 + 25.15 / (amplitude_v1 * 1e3) ** 0.25


def cycle_parameters(maximum_v2: float) -> tuple[float, float]:
    """Amplitude ``a`` (version-2 sunspot number per month^3) and width ``b`` (months) of a cycle whose
    13-month smoothed maximum is ``maximum_v2``; the rise time is ``b`` times :func:`_peak_shape_x` (1.08).

    The width comes from the amplitude by Hathaway et al.'s relation, fitted on version-1 numbers, so
    the maximum is scaled to version 1 to find it.
    """
    x = _peak_shape_x()
    peak_v1 = lambda a: a * (_width_months(a) * x) ** 3 / (np.exp(x * x) - SHAPE_C)
    amplitude_v1 = brentq(lambda a: peak_v1(a) - VERSION_1_PER_VERSION_2 * maximum_v2, 1e-6, 1.0)
    return amplitude_v1 / VERSION_1_PER_VERSION_2, _width_months(amplitude_v1)


def months_since_2000(month) -> np.ndarray:
    """Months from 2000-01 to ``month`` (numpy ``datetime64`` or ISO 'YYYY-MM' strings), as floats."""
    return (np.asarray(month, dtype="datetime64[M]") - np.datetime64("2000-01", "M")).astype(float)


def cycle_anchors(until) -> list[tuple[float, float]]:
    """(start in months since 2000, maximum) of every cycle starting before ``until``: the published ones,
    then the mean maximum of the last two, one cycle every :data:`MEAN_CYCLE_MONTHS`."""
    anchors = [(float(months_since_2000(start)), maximum) for _, start, _, maximum in CYCLES]
    mean_maximum = float(np.mean([maximum for _, maximum in anchors[-2:]]))
    while anchors[-1][0] + MEAN_CYCLE_MONTHS < months_since_2000(until):
        anchors.append((anchors[-1][0] + MEAN_CYCLE_MONTHS, mean_maximum))
    return anchors


def sunspot_number(month) -> np.ndarray:
    """13-month smoothed sunspot number (SILSO version 2) of the model at ``month`` (datetime64 or 'YYYY-MM').

    >>> round(float(sunspot_number("2014-04")), 1), round(float(sunspot_number("2019-12")), 1)
    (112.9, 6.7)
    """
    t = months_since_2000(month)
    total = np.zeros(t.shape)
    for start, maximum in cycle_anchors(np.max(np.asarray(month, dtype="datetime64[M]"))):
        amplitude, width = cycle_parameters(maximum)
        since = np.maximum(t - start, 0.0)
        total += amplitude * since**3 / (np.exp((since / width) ** 2) - SHAPE_C)
    return total


def f107_from_sunspot_number(sunspot_number_v2) -> np.ndarray:
    """Smoothed F10.7 (sfu) from the version-2 sunspot number: ``63.74 + 0.727 S + 0.000895 S^2`` in the
    version-1 number ``S = 0.6 S_v2`` (the quadratic proxy used by NWRA until 2021, fitted to 1947-1972 data).

    >>> round(float(f107_from_sunspot_number(116.4)), 1)
    118.9
    """
    s = VERSION_1_PER_VERSION_2 * np.asarray(sunspot_number_v2, dtype=float)
    return 63.74 + 0.727 * s + 0.000895 * s * s


def ap_from_sunspot_number(sunspot_number_v2) -> np.ndarray:
    """Smoothed Ap from the version-2 sunspot number: the line through two 50th-percentile rows of NASA
    MSFC's July 2010 table (sunspot number 9.2, Ap 4.3 in January 2010; 85.9, Ap 9.8 in May 2013; version 1)."""
    s = VERSION_1_PER_VERSION_2 * np.asarray(sunspot_number_v2, dtype=float)
    slope = (9.8 - 4.3) / (85.9 - 9.2)
    return 4.3 + slope * (s - 9.2)


def table_rows(first: str = TABLE_MONTHS[0], last: str = TABLE_MONTHS[1]) -> list[str]:
    """The CSV lines of the table, header first: month, smoothed sunspot number, F10.7 (sfu), Ap."""
    months = np.arange(np.datetime64(first, "M"), np.datetime64(last, "M") + 1)
    spots = sunspot_number(months)
    lines = ["month,sunspot_number,f107_sfu,ap"]
    for month, spot, flux, ap in zip(months, spots, f107_from_sunspot_number(spots), ap_from_sunspot_number(spots)):
        lines.append(f"{month},{spot:.1f},{flux:.1f},{ap:.1f}")
    return lines


if __name__ == "__main__":  # python -m twin.flight.solar_cycle assets/flight/solar_indices.csv
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        out.write("\n".join(table_rows()) + "\n")
