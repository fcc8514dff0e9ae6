"""The whole twin (orbit, sunlight, power, thermal, compute) on the phase-3 fleet, against SGP4 alone.

Runs, in one process, sgp4's ``SatrecArray`` on every satellite's element set over the grid, then
the whole twin over the same grid (``twin.run_scenario``), twice (a second round shows the effect of
memory already mapped by the first: on this machine fresh memory costs about 2 s per GB to touch).
Prints satellite-steps per second of both, their ratio, and peak memory.
Target (issue 3): the whole twin at no less than 1x SGP4's propagation alone, under 8 GB.
``--flight`` also runs the twin with the flight variables (air density, drag, radiation pressure:
``run_scenario(..., flight=True)``) in each round and prints its time against the twin without them.

    .venv/bin/python benchmarks/simulate.py [--scenario phase3] [--duration-s 86400] [--step-s 60] [--flight]
"""

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads: one thread, as SatrecArray
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMEXPR_NUM_THREADS", "1")

import resource  # noqa: E402
import time  # noqa: E402

from sgp4.api import SatrecArray  # noqa: E402

import twin  # noqa: E402
from twin.timegrid import julian_dates, time_grid  # noqa: E402


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="phase3")
    parser.add_argument("--duration-s", type=float, default=86400.0)
    parser.add_argument("--step-s", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--flight", action="store_true", help="time the twin with its flight variables too")
    args = parser.parse_args()

    scenario = twin.load_scenario(args.scenario)
    fleet = twin.design_fleet(scenario)
    offsets = time_grid(scenario.epoch, args.duration_s, args.step_s)
    jd, fr = julian_dates(scenario.epoch, offsets)
    satellite_steps = len(fleet) * len(offsets)
    satrecs = SatrecArray(fleet.satrecs())
    print(f"grid: {len(fleet)} satellites x {len(offsets)} steps = {satellite_steps:,} satellite-steps "
          f"({scenario.name}, step {args.step_s:g} s); BLAS and numexpr on one thread")
    for round_number in range(1, args.rounds + 1):
        start = time.perf_counter()
        errors, _, _ = satrecs.sgp4(jd, fr)
        sgp4_s = time.perf_counter() - start
        assert not errors.any()
        del errors, _
        start = time.perf_counter()
        run = twin.run_scenario(scenario, duration_s=args.duration_s, step_s=args.step_s)
        twin_s = time.perf_counter() - start
        gigabytes = run.nbytes / 2**30
        del run
        print(f"round {round_number}: sgp4 SatrecArray {satellite_steps / sgp4_s:12,.0f} satellite-steps/s ({sgp4_s:.2f} s); "
              f"whole twin {satellite_steps / twin_s:12,.0f} satellite-steps/s ({twin_s:.2f} s, dataset {gigabytes:.2f} GiB); "
              f"ratio {sgp4_s / twin_s:.2f} x (target >= 1)")
        if args.flight:
            start = time.perf_counter()
            run = twin.run_scenario(scenario, duration_s=args.duration_s, step_s=args.step_s, flight=True)
            flight_s = time.perf_counter() - start
            del run
            print(f"round {round_number}: whole twin with flight variables {flight_s:.2f} s, "
                  f"{flight_s / twin_s:.2f} x the twin without them")
    print(f"process peak RSS: {peak_rss_gib():.2f} GiB (target < 8)")


if __name__ == "__main__":
    main()
