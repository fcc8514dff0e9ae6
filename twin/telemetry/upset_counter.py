"""The corrected-memory-error counter: driven by the radiation layer's upset rate, and checked against it.

A satellite's housekeeping (the compute packet's ``memory_errors``) counts the single-event upsets its
error correction has corrected since the recording began. The virtual fleet draws each step's
increment from a Poisson law whose mean is the run's ``seu_corrected_rate`` integrated over the step
(trapezoids, as the engine integrates crashes); a run without the layer (a scenario without
``[radiation]``) gets it with the default settings (:class:`twin.radiation.RadiationSettings`).

On the ground, the measured counter's increase over consecutive windows of ``[upsets] window_s`` is
compared with the model's prediction over the same span: an exact two-sided Poisson test at
``false_alarm_probability`` per satellite and window (half on each side) flags a window whose count
the prediction makes that unlikely; flagged windows less than ``[anomalies] rejoin_s`` apart are one
anomaly, of variable ``upset_rate``, whose size is measured over predicted upsets
(:func:`twin.telemetry.anomalies.find_anomalies`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.stats import poisson

RATE_VARIABLE = "seu_corrected_rate"   # what the counter counts (s-1), from the radiation layer
COUNTER_VARIABLE = "memory_errors"     # the assimilated counter (cumulative, NaN where no packet came)


def with_upset_rates(run: xr.Dataset) -> xr.Dataset:
    """``run`` with the radiation layer's upset rates: as it is if it has them, else with the default settings."""
    if RATE_VARIABLE in run:
        return run
    from twin.radiation import radiation_layer

    return radiation_layer(run)


def expected_upsets(rate_s: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Expected upsets (sat, time) in each step (the one ending at it; 0 at the first) of rates ``rate_s`` (s-1)."""
    rate_s = np.asarray(rate_s, np.float64)
    expected = np.zeros(rate_s.shape)
    expected[:, 1:] = 0.5 * (rate_s[:, 1:] + rate_s[:, :-1]) * np.diff(np.asarray(time_s, np.float64))
    return expected


def _last_at_or_before(known: np.ndarray) -> np.ndarray:
    """Index (sat, time) of the last True of ``known`` at or before each step (-1: none yet)."""
    index = np.where(known, np.arange(known.shape[-1]), -1)
    return np.maximum.accumulate(index, axis=-1)


def upset_departures(counter: np.ndarray, expected: np.ndarray, window_steps: int,
                     false_alarm_probability: float) -> dict[str, np.ndarray]:
    """Windows (sat, window) of ``window_steps`` steps where the measured ``counter`` (sat, time; NaN: no packet)
    departs from the ``expected`` upsets of each step (:func:`expected_upsets`).

    A window's count is the counter's rise from the last report before the window (or its first report
    in it) to its last report in it, against the expectation over the same steps. Returns ``flagged``
    (bool), ``measured`` and ``predicted`` upsets, and ``first`` / ``last`` step of each window.
    """
    sat_count, time_count = counter.shape
    first = np.arange(0, time_count, window_steps)
    last = np.minimum(first + window_steps - 1, time_count - 1)
    known = ~np.isnan(counter)
    latest = _last_at_or_before(known)
    cumulative = np.cumsum(expected, axis=1)
    rows = np.arange(sat_count)[:, None]
    begin = latest[:, np.maximum(first - 1, 0)]
    begin = np.where(begin >= 0, begin, _first_report_from(known, first))  # no report before: the window's first
    end = latest[:, last]
    usable = (begin >= 0) & (end > begin)
    begin, end = np.where(usable, begin, 0), np.where(usable, end, 0)
    measured = np.where(usable, counter[rows, end] - counter[rows, begin], 0.0)
    predicted = np.where(usable, cumulative[rows, end] - cumulative[rows, begin], 0.0)
    tail = false_alarm_probability / 2
    too_many = poisson.sf(measured - 1, predicted) < tail      # P(X >= measured)
    too_few = poisson.cdf(measured, predicted) < tail          # P(X <= measured)
    return {"flagged": usable & (too_many | too_few), "measured": measured, "predicted": predicted,
            "first": first, "last": last}


def _first_report_from(known: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Index (sat, len(steps)) of the first True of ``known`` at or after each of ``steps`` (-1: none)."""
    reversed_index = np.where(known[:, ::-1], np.arange(known.shape[-1]), -1)
    last_from_end = np.maximum.accumulate(reversed_index, axis=-1)[:, ::-1]
    return np.where(last_from_end[:, steps] >= 0, known.shape[-1] - 1 - last_from_end[:, steps], -1)
