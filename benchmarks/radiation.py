"""A year of phase 3's representatives with and without radiation, side by side (issue 20: within 1.5x).

Runs, in one process, ``twin.run_scenario(scenario, representatives=True)`` (the 144 chiefs at 10 min
steps over a year: orbits, power, thermal and compute) on the scenario as shipped, then on the same
scenario with a ``[radiation]`` section (:class:`twin.scenario.RadiationDesign`: the radiation layer
after the orbits, the engine offering only the compute still working). The radiation run builds its
map (AP8/AE8 at the grid nodes, once per process and settings) inside its timing. Prints wall and CPU
time of each after an untimed hour of the plain scenario (imports and caches; the machine may be
shared: CPU time is the fairer ratio), the radiation's cost per
satellite-step and the ratio of the two runs. ``--orbits-only`` compares the orbit layer alone with it.

    .venv/bin/python benchmarks/radiation.py [--scenario phase3] [--duration-s 31557600] [--step-s 600]
"""

import argparse
import dataclasses
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads: one thread for both runs
os.environ.setdefault("OMP_NUM_THREADS", "1")

import resource  # noqa: E402
import time  # noqa: E402

import twin  # noqa: E402
from twin.scenario import RadiationDesign  # noqa: E402


def timed(scenario, args) -> tuple:
    start, start_cpu = time.perf_counter(), time.process_time()
    run = twin.run_scenario(scenario, duration_s=args.duration_s, step_s=args.step_s, representatives=True,
                            subsystems=not args.orbits_only)
    return run, time.perf_counter() - start, time.process_time() - start_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="phase3")
    parser.add_argument("--duration-s", type=float, default=365.25 * 86400.0)
    parser.add_argument("--step-s", type=float, default=600.0)
    parser.add_argument("--shielding-mm", type=float, default=2.0)
    parser.add_argument("--solar", default="min")
    parser.add_argument("--orbits-only", action="store_true", help="the orbit layer without the engine")
    args = parser.parse_args()

    plain = twin.load_scenario(args.scenario)
    shielded = dataclasses.replace(plain, radiation=RadiationDesign(solar=args.solar, shielding_mm=args.shielding_mm))
    twin.run_scenario(plain, duration_s=3600.0, step_s=args.step_s, representatives=True)  # imports, caches: untimed
    run, plain_s, plain_cpu_s = timed(plain, args)
    satellite_steps = run.sizes["sat"] * run.sizes["time"]
    what = "orbits" if args.orbits_only else "orbits, power, thermal and compute"
    print(f"grid: {run.sizes['sat']} representatives x {run.sizes['time']:,} steps = {satellite_steps:,} "
          f"satellite-steps ({plain.name}, step {args.step_s:g} s, {args.duration_s / 86400:g} days; {what}); "
          f"radiation: solar {args.solar}, {args.shielding_mm:g} mm Al; BLAS on one thread")
    del run
    print(f"without radiation: {plain_s:7.2f} s wall, {plain_cpu_s:7.2f} s CPU", flush=True)
    run, radiation_s, radiation_cpu_s = timed(shielded, args)
    assert "total_dose" in run
    extra_cpu_s = radiation_cpu_s - plain_cpu_s
    print(f"with radiation:    {radiation_s:7.2f} s wall, {radiation_cpu_s:7.2f} s CPU "
          f"({extra_cpu_s / satellite_steps * 1e6:+.2f} us CPU per satellite-step)")
    print(f"ratio with/without: {radiation_s / plain_s:.3f} wall, {radiation_cpu_s / plain_cpu_s:.3f} CPU "
          "(target: within 1.5)")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
