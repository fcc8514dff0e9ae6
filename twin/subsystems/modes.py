"""Commanded operating modes: what operators set on each satellite, as the engine steps it.

A :class:`ModeChange` is one command's effect on one satellite from a time: a compute cap (the
payload may use at most that fraction of its installed capacity: the scheduler sees the capacity
reduced), the payload powered off (safe mode, a restart: no compute and no idle power), or the
bus heaters forced on or off instead of their thermostat; ``until_s`` ends a change that lasts a
while (a payload restart). :func:`operating_modes` lays the changes on a run's (sat, time) grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HEATERS_THERMOSTAT, HEATERS_ON, HEATERS_OFF = 0, 1, 2


@dataclass(frozen=True)
class ModeChange:
    """From ``start_s`` (seconds after the scenario epoch, as faults) on satellite row ``row``: each field that is
    not None replaces the mode before it, until ``until_s`` (None: for good)."""

    row: int
    start_s: float
    compute_cap: float | None = None
    payload_on: bool | None = None
    heater_mode: int | None = None
    until_s: float | None = None


@dataclass(frozen=True)
class OperatingModes:
    """Modes (sat, time): ``compute_cap`` (0-1), ``payload_on`` (bool), ``heater_mode`` (0 thermostat, 1 on, 2 off)."""

    compute_cap: np.ndarray
    payload_on: np.ndarray
    heater_mode: np.ndarray

    def rows(self, rows: slice) -> OperatingModes:
        return OperatingModes(self.compute_cap[rows], self.payload_on[rows], self.heater_mode[rows])

    def heaters(self, thermostat: np.ndarray, k: int) -> np.ndarray:
        """Heaters on at step ``k`` (sat,): the thermostat's verdict unless forced."""
        mode = self.heater_mode[:, k]
        return np.where(mode == HEATERS_ON, True, np.where(mode == HEATERS_OFF, False, thermostat))


def operating_modes(changes, satellites: int, elapsed_s: np.ndarray) -> OperatingModes:
    """The modes of ``satellites`` over the steps at ``elapsed_s`` (s after the epoch) after ``changes``, applied in
    start order. A step is the interval that ends at its time (as the engine's quantities): it takes the mode set
    at the interval's start."""
    steps = elapsed_s.size
    interval_start_s = np.r_[elapsed_s[:1], elapsed_s[:-1]]
    modes = OperatingModes(np.ones((satellites, steps)), np.ones((satellites, steps), bool),
                           np.zeros((satellites, steps), np.int8))
    for change in sorted(changes, key=lambda change: change.start_s):
        if not 0 <= change.row < satellites:
            raise ValueError(f"mode change row: {change.row} is not a satellite row (0..{satellites - 1})")
        during = (interval_start_s >= change.start_s) & (interval_start_s < (np.inf if change.until_s is None else change.until_s))
        for name in ("compute_cap", "payload_on", "heater_mode"):
            value = getattr(change, name)
            if value is not None:
                getattr(modes, name)[change.row, during] = value
    return modes
