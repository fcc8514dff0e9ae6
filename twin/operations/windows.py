"""Command windows: when the ground can reach each satellite (a station in view, a relay, or other satellites on the
way), from the network model run over a span ahead (:func:`twin.run.reach.reach`), and the latency then."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.intervals import true_runs

STEP_S = 10.0  # the reporting interval: windows found to 10 s
AHEAD_S = 4 * 3600.0  # how far ahead windows are looked for (more than two orbits)


@dataclass(frozen=True)
class Window:
    """A span in which satellite ``row`` can be reached, with its worst latency (s)."""

    row: int
    opens: np.datetime64
    closes: np.datetime64
    max_latency_s: float


class CommandWindows:
    """The windows of every satellite of ``scenario`` over ``AHEAD_S`` from ``start`` (numpy UTC time)."""

    def __init__(self, scenario, start: np.datetime64, ahead_s: float = AHEAD_S, step_s: float = STEP_S):
        from astropy.time import Time

        from twin.run.reach import reach

        self.start = np.datetime64(start, "ns")
        network = reach(scenario, Time(self.start, scale="utc"), ahead_s, step_s)
        self.names = [str(name) for name in network["sat"].values]
        self.times = network["time"].values.astype("datetime64[ns]")
        self.latency_s = network["latency_to_ground"].values
        self.step = np.timedelta64(int(step_s * 1e9), "ns")
        rows, first, last = true_runs(np.isfinite(self.latency_s))
        self.windows = [Window(int(row), self.times[start], self.times[stop] + self.step,
                               float(np.nanmax(self.latency_s[row, start:stop + 1])))
                        for row, start, stop in zip(rows, first, last)]

    @property
    def end(self) -> np.datetime64:
        return self.times[-1]

    def next_window(self, row: int, after: np.datetime64) -> Window | None:
        """The first window of satellite ``row`` still open at or after ``after`` (None: none within the span);
        one already open starts at ``after``."""
        after = np.datetime64(after, "ns")
        for window in self.windows:
            if window.row == row and window.closes > after:
                return Window(row, max(window.opens, after), window.closes, window.max_latency_s)
        return None

    def reachable(self, row: int, moment: np.datetime64) -> bool:
        index = int(np.searchsorted(self.times, np.datetime64(moment, "ns"), side="right")) - 1
        return 0 <= index < self.times.size and bool(np.isfinite(self.latency_s[row, index]))
