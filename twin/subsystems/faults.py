"""Faults injected into a run: which satellites they hit, from when, and what they leave working."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.scenario import Fault

KINDS = ("satellite_lost", "array_degraded", "radiator_stuck")
NETWORK_KINDS = ("station_lost", "relay_lost")  # handled by the network (twin.network.flows.Outage), not here


@dataclass(frozen=True)
class ResolvedFault:
    """A fault with its target resolved to satellite rows of the run."""

    rows: np.ndarray
    kind: str
    start_s: float
    severity: float


def resolve_faults(faults, names: np.ndarray, subcenters: np.ndarray, label: str = "faults") -> list[ResolvedFault]:
    """Check ``faults`` against the run's satellites and sub-centers; errors name ``label[index].field``."""
    resolved = []
    for index, fault in enumerate(faults):
        where = f"{label}[{index}]"
        if not isinstance(fault, Fault):
            raise ValueError(f"{where}: {fault!r} is not a twin.scenario.Fault")
        if fault.kind in NETWORK_KINDS:
            continue
        rows = np.flatnonzero((names == fault.target) | (subcenters == fault.target))
        if rows.size == 0:
            raise ValueError(f"{where}.target: {fault.target!r} is neither a satellite nor a sub-center of this run")
        if fault.kind not in KINDS:
            raise ValueError(f"{where}.kind: {fault.kind!r} is not one of {', '.join(KINDS + NETWORK_KINDS)}")
        if not 0.0 <= fault.severity <= 1.0:
            raise ValueError(f"{where}.severity: {fault.severity!r} must be between 0 and 1")
        if not np.isfinite(fault.start_s) or fault.start_s < 0:
            raise ValueError(f"{where}.start_s: {fault.start_s!r} must be a time after the epoch (s)")
        resolved.append(ResolvedFault(rows, fault.kind, float(fault.start_s), float(fault.severity)))
    return resolved


def fault_factors(faults: list[ResolvedFault], satellites: int, elapsed_s: np.ndarray):
    """What is left working (sat, t) at ``elapsed_s`` seconds after the epoch: alive (bool), array and radiator fractions."""
    alive = np.ones((satellites, len(elapsed_s)), bool)
    array_fraction = np.ones((satellites, len(elapsed_s)))
    radiator_fraction = np.ones((satellites, len(elapsed_s)))
    for fault in faults:
        after = elapsed_s >= fault.start_s
        if not after.any():
            continue
        cells = np.ix_(fault.rows, np.flatnonzero(after))
        if fault.kind == "satellite_lost":
            alive[cells] = False
        elif fault.kind == "array_degraded":
            array_fraction[cells] *= 1.0 - fault.severity
        else:
            radiator_fraction[cells] *= 1.0 - fault.severity
    return alive, array_fraction, radiator_fraction


def losses_by_step(faults: list[ResolvedFault], elapsed_s: np.ndarray) -> dict[int, np.ndarray]:
    """Satellite rows lost at each step (the first step at or after each ``satellite_lost`` fault)."""
    lost: dict[int, np.ndarray] = {}
    for fault in faults:
        after = np.flatnonzero(elapsed_s >= fault.start_s)
        if fault.kind == "satellite_lost" and after.size and after[0] > 0:
            lost[int(after[0])] = np.union1d(lost.get(int(after[0]), np.array([], int)), fault.rows)
    return lost
