"""Whether a run fits in memory: the bytes of its arrays, checked against the memory available before any is allocated.

A run held in memory (:func:`twin.run_scenario`, :func:`twin.run_orbits`) allocates every variable of
its plan's layout (:attr:`twin.run.plan.RunPlan.layout`) over satellites and time at once, and a ``flight`` run
its flight variables after; the engine's work arrays and the copy made while storing add to that. ``benchmarks/memory.py`` measures the peak
resident memory a run adds per byte of its arrays.
"""

from __future__ import annotations

import os
from pathlib import Path

from twin.dataset.layout import Layout
from twin.run.plan import FLIGHT_LAYER

# Peak resident memory a run adds (simulated and stored) per byte of its arrays: benchmarks/memory.py
# measured 0.81 (phase 1, 7 d), 1.35 to 1.53 (phase 2, 2 d) and 1.43 to 1.45 (phase 3, 6 h) over three
# runs, 1.20 to 1.24 (phase 3, 24 h) over two.
PEAK_PER_ARRAY_BYTE = 1.6
MEMINFO = Path("/proc/meminfo")


class RunTooLargeError(ValueError):
    """A run whose arrays would not fit in the memory available: says how much it needs."""


def available_memory_bytes() -> int:
    """Memory available to a new allocation without swapping: Linux's ``MemAvailable``, elsewhere physical memory."""
    if MEMINFO.is_file():
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def run_array_bytes(plan) -> int:
    """Bytes of the arrays a run of ``plan`` (:class:`twin.run.plan.RunPlan`) allocates: its layout, the orbit layer
    and the engine's variables, and the flight variables of a ``flight`` run, added once it has run (read from the
    variable catalogue)."""
    flight = Layout.of_grid(FLIGHT_LAYER, plan.layout.sizes["sat"], plan.layout.sizes["time"]).nbytes if plan.flight else 0
    return plan.layout.nbytes + flight


def _size_text(size_bytes: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:.1f} {unit}"
    return f"{size_bytes / 1e3:.1f} kB"


def check_run_fits(plan) -> None:
    """Raise :class:`RunTooLargeError` if a run of ``plan`` (:class:`twin.run.plan.RunPlan`) would need more memory
    than is available."""
    array_bytes = run_array_bytes(plan)
    needed = PEAK_PER_ARRAY_BYTE * array_bytes
    available = available_memory_bytes()
    if needed > available:
        raise RunTooLargeError(
            f"memory: a run of {len(plan.fleet):,} satellites x {plan.steps:,} steps needs about {_size_text(needed)} "
            f"({PEAK_PER_ARRAY_BYTE:g} x its {_size_text(array_bytes)} of arrays) and {_size_text(available)} is "
            "available: use a longer --step, a shorter --duration, --representatives (the chiefs only) or "
            "--workers N (written to disk as it runs)")
