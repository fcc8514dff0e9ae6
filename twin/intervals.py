"""Intervals where sampled values stay above a threshold, with edges interpolated between samples.

Used for ground contacts (elevation above a mask) and eclipses (a shadow margin below zero). An edge
is the root of the quadratic through the two samples that bracket it and a neighbour: a chord cuts
inside a curved function (a pass's elevation, a shadow margin), the quadratic does not.
"""

from __future__ import annotations

import numpy as np


def quadratic_roots(t0, t1, t2, v0, v1, v2) -> np.ndarray:
    """Zero of the quadratic through (t0, v0), (t1, v1), (t2, v2) that lies between t0 and t1 (v0, v1 differ in sign).

    Falls back to the chord where the quadratic has no root in the interval. Vectorised.
    """
    h1 = t1 - t0
    chord = t0 + h1 * v0 / (v0 - v1)
    slope01 = (v1 - v0) / h1
    slope12 = (v2 - v1) / (t2 - t1)
    a = (slope12 - slope01) / (t2 - t0)
    b = slope01 - a * h1
    c = v0
    with np.errstate(invalid="ignore", divide="ignore"):
        discriminant = b * b - 4.0 * a * c
        root = np.sqrt(np.maximum(discriminant, 0.0))
        # Stable pair of roots: q = -(b + sign(b) root) / 2; u1 = q / a, u2 = c / q.
        q = -0.5 * (b + np.copysign(root, b))
        u1, u2 = q / a, c / q
    best = np.full(np.shape(chord), np.nan)
    linear_u = chord - t0
    for u in (u1, u2):
        ok = np.isfinite(u) & (u >= 0.0) & (u <= h1) & (discriminant >= 0.0)
        better = ok & (np.isnan(best) | (np.abs(u - linear_u) < np.abs(best - linear_u)))
        best = np.where(better, u, best)
    return np.where(np.isnan(best), chord, t0 + best)


def threshold_intervals(times_s: np.ndarray, values: np.ndarray, threshold: np.ndarray) -> dict[str, np.ndarray]:
    """Intervals where each row of ``values`` (row, time) is at or above its ``threshold`` (row,), vectorised.

    Returns arrays, one entry per interval in (row, time) order: ``row``, ``start_s``, ``end_s``
    (edges interpolated on a quadratic), ``peak_index``, ``peak_s``, ``peak_value`` (the highest
    sample), ``start_observed`` and ``end_observed`` (False where
    the interval is cut by the first or last sample).

    Three passes over the (row, time) grid find the runs (a comparison, then their rises and
    falls); everything else touches only the samples of the runs or next to their edges.

    >>> found = threshold_intervals(np.arange(6.0), np.array([[0.0, 2.0, 3.0, 1.0, 0.0, 2.0]]), np.array([1.0]))
    >>> found["peak_s"].tolist(), found["peak_value"].tolist(), found["end_observed"].tolist()
    ([2.0, 5.0], [3.0, 2.0], [True, False])
    """
    rows, steps = values.shape
    times_s = np.asarray(times_s, float)
    threshold = np.broadcast_to(np.asarray(threshold, float).reshape(-1), (rows,))
    # x >= t is (x - t) >= 0 for every pair but equal infinities; margins are formed below only where needed.
    above = values >= threshold[:, None]
    rise, fall = np.empty_like(above), np.empty_like(above)
    rise[:, :1], fall[:, -1:] = above[:, :1], above[:, -1:]
    np.greater(above[:, 1:], above[:, :-1], out=rise[:, 1:])  # on booleans, a > b is "a and not b"
    np.greater(above[:, :-1], above[:, 1:], out=fall[:, :-1])
    first, last = np.flatnonzero(rise), np.flatnonzero(fall)  # flat indices, one rise and one fall per run
    del above, rise, fall
    row = first // steps
    start_index, end_index = first % steps, last % steps

    def crossing(of_row: np.ndarray, before: np.ndarray) -> np.ndarray:
        # Zero between samples ``before`` and ``before + 1``; the third sample is the next one (or the previous).
        after = before + 1
        third = np.clip(np.where(after + 1 < steps, after + 1, before - 1), 0, steps - 1)
        level = threshold[of_row]
        return quadratic_roots(times_s[before], times_s[after], times_s[third], values[of_row, before] - level,
                               values[of_row, after] - level, values[of_row, third] - level)

    start_s = times_s[start_index].astype(float)
    end_s = times_s[end_index].astype(float)
    start_observed, end_observed = start_index > 0, end_index < steps - 1
    if steps >= 3:
        start_s[start_observed] = crossing(row[start_observed], start_index[start_observed] - 1)
        end_s[end_observed] = crossing(row[end_observed], end_index[end_observed])

    # Highest sample of each run (its first position on ties), over the runs' samples only.
    lengths = last - first + 1
    offsets = np.cumsum(lengths) - lengths  # where each run begins among the runs' samples
    run_of = np.repeat(np.arange(first.size), lengths)
    member_index = np.arange(run_of.size) + np.repeat(start_index - offsets, lengths)
    member_values = values[row[run_of], member_index]
    peak_value = np.maximum.reduceat(member_values, offsets) if first.size else member_values[:0]
    is_peak = member_values == peak_value[run_of]
    peak_index = member_index[is_peak][np.searchsorted(run_of[is_peak], np.arange(first.size))]
    peak_s = times_s[peak_index].astype(float)
    return {"row": row, "start_s": start_s, "end_s": end_s, "peak_s": peak_s, "peak_value": peak_value,
            "peak_index": peak_index, "start_observed": start_observed, "end_observed": end_observed}


def true_runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of True along the last axis of (row, time) ``flags``: row, first and last step of each."""
    padded = np.pad(np.asarray(flags, bool).astype(np.int8), ((0, 0), (1, 1)))
    edges = np.diff(padded, axis=1)
    row, first = np.nonzero(edges == 1)
    _, stop = np.nonzero(edges == -1)
    return row, first, stop - 1
