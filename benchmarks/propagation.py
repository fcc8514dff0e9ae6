"""Propagate the phase-3 fleet for 24 h at 60 s, and the same grid with sgp4's SatrecArray, in one process.

Prints both throughputs in states per second and their ratio, cold (fresh output arrays) and warm
(preallocated outputs), the largest position difference from SGP4 (each satellite's own element
set) over the span, and peak memory of the twin's propagation. BLAS runs on one thread, as
SatrecArray does, so the ratio compares like with like.
Target (issue 2): at least 5x SatrecArray's throughput, at most 1 km difference, under 4 GB.

    .venv/bin/python benchmarks/propagation.py [--scenario phase3] [--steps 1440] [--repeat 3]
"""

import argparse
import resource
import time
import tracemalloc

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads: one thread, as SatrecArray
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMEXPR_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sgp4.api import SatrecArray  # noqa: E402

import twin  # noqa: E402
from twin.orbit.propagation import propagate_teme  # noqa: E402
from twin.run.simulate import run_orbits  # noqa: E402
from twin.timegrid import julian_dates, time_grid  # noqa: E402


def best_time(function, repeat: int):
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def warm_times(fleet, satrecs, jd, fr, shape, repeat: int) -> tuple[float, float]:
    """Best times of both engines filling output arrays allocated and touched beforehand (no page faults)."""
    position, velocity = np.zeros(shape), np.zeros(shape)
    errors = np.zeros(shape[:2], dtype=np.uint8)
    twin_s, _ = best_time(lambda: propagate_teme(fleet, jd, fr, position, velocity), repeat)
    sgp4_s, _ = best_time(lambda: satrecs._sgp4(jd, fr, errors, position, velocity), repeat)
    return twin_s, sgp4_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="phase3")
    parser.add_argument("--steps", type=int, default=1440)
    parser.add_argument("--step-s", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    scenario = twin.load_scenario(args.scenario)
    fleet = twin.design_fleet(scenario)
    offsets = time_grid(scenario.epoch, (args.steps - 1) * args.step_s, args.step_s)
    jd, fr = julian_dates(scenario.epoch, offsets)
    states = len(fleet) * len(offsets)
    print(f"grid: {len(fleet)} satellites x {len(offsets)} steps = {states:,} states ({scenario.name}, step {args.step_s:g} s)")

    satrecs = SatrecArray(fleet.satrecs())
    shape = (len(fleet), len(offsets), 3)

    # Cold: each engine allocates fresh output arrays, as a plain call does (page faults included).
    twin_cold_s, (twin_position, _) = best_time(lambda: propagate_teme(fleet, jd, fr), args.repeat)
    sgp4_cold_s, (errors, sgp4_position, _) = best_time(lambda: satrecs.sgp4(jd, fr), args.repeat)
    assert not errors.any(), "SGP4 reported errors"
    difference_km = np.linalg.norm(twin_position - sgp4_position, axis=-1)
    worst_sat, worst_step = np.unravel_index(np.argmax(difference_km), difference_km.shape)
    del sgp4_position, twin_position

    twin_warm_s, sgp4_warm_s = warm_times(fleet, satrecs, jd, fr, shape, args.repeat)

    orbit_layer_s, _ = best_time(lambda: run_orbits(fleet, scenario.epoch, offsets), 1)

    tracemalloc.start()  # a separate run: tracemalloc slows allocation down, so it is kept out of the timings
    propagate_teme(fleet, jd, fr)
    _, twin_peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    for label, twin_s, sgp4_s in (("cold", twin_cold_s, sgp4_cold_s), ("warm", twin_warm_s, sgp4_warm_s)):
        print(f"{label}: twin propagation (TEME) {states / twin_s:13,.0f} states/s ({twin_s:.2f} s); "
              f"sgp4 SatrecArray {states / sgp4_s:12,.0f} states/s ({sgp4_s:.2f} s); ratio {sgp4_s / twin_s:.2f} x (target >= 5)")
    print(f"largest position difference from SGP4: {difference_km.max() * 1e3:.3f} m "
          f"({fleet.names[worst_sat]} at +{offsets[worst_step] / 3600:.2f} h; target <= 1000 m); "
          f"median {np.median(difference_km) * 1e3:.3f} m")
    print(f"peak memory of twin propagation (tracemalloc): {twin_peak_bytes / 2**30:.2f} GiB (target < 4); "
          f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    print(f"whole orbit layer (GCRS, geodetic, illumination, beta): {states / orbit_layer_s:,.0f} states/s "
          f"({orbit_layer_s:.2f} s, {sgp4_cold_s / orbit_layer_s:.2f} x SatrecArray cold)")

if __name__ == "__main__":
    main()
