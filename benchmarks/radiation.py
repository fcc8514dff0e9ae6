"""The radiation layer's cost against the orbit layer's, on a year of phase 3's representatives.

Runs, in one process, the orbit layer (``twin.run_scenario(..., subsystems=False, representatives=True)``:
the 144 chiefs at 10 min steps over a year) and then :func:`twin.radiation.radiation_layer` on it,
twice: the first round includes building the radiation map (AP8/AE8 at the grid nodes, once per
process and settings), the second reuses it. Prints wall and CPU time of each (the machine may be
shared: CPU time is the fairer ratio), the cost per satellite-step and the ratio of the radiation
layer to the orbit layer (issue 20's target: a run with radiation within 1.5x
the run without, so the layer at most 0.5x).

    .venv/bin/python benchmarks/radiation.py [--scenario phase3] [--duration-s 31557600] [--step-s 600]
"""

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads: one thread for both layers
os.environ.setdefault("OMP_NUM_THREADS", "1")

import resource  # noqa: E402
import time  # noqa: E402

import twin  # noqa: E402
from twin.radiation import RadiationSettings, radiation_layer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="phase3")
    parser.add_argument("--duration-s", type=float, default=365.25 * 86400.0)
    parser.add_argument("--step-s", type=float, default=600.0)
    parser.add_argument("--shielding-mm", type=float, default=2.0)
    parser.add_argument("--solar", default="min")
    args = parser.parse_args()

    scenario = twin.load_scenario(args.scenario)
    settings = RadiationSettings(solar=args.solar, shielding_mm=args.shielding_mm)
    start, start_cpu = time.perf_counter(), time.process_time()
    run = twin.run_scenario(scenario, duration_s=args.duration_s, step_s=args.step_s, subsystems=False,
                            representatives=True)
    orbit_s, orbit_cpu_s = time.perf_counter() - start, time.process_time() - start_cpu
    satellite_steps = run.sizes["sat"] * run.sizes["time"]
    print(f"grid: {run.sizes['sat']} representatives x {run.sizes['time']:,} steps = {satellite_steps:,} "
          "satellite-steps "
          f"({scenario.name}, step {args.step_s:g} s, {args.duration_s / 86400:g} days); solar {settings.solar}, "
          f"{settings.shielding_mm:g} mm Al; BLAS on one thread")
    print(f"orbit layer:            {orbit_s:6.2f} s wall, {orbit_cpu_s:6.2f} s CPU "
          f"({orbit_cpu_s / satellite_steps * 1e6:.2f} us CPU per satellite-step)")
    for label in ("radiation (map built)", "radiation (map reused)"):
        start, start_cpu = time.perf_counter(), time.process_time()
        layer = radiation_layer(run, settings)
        radiation_s, radiation_cpu_s = time.perf_counter() - start, time.process_time() - start_cpu
        print(f"{label}: {radiation_s:6.2f} s wall, {radiation_cpu_s:6.2f} s CPU "
              f"({radiation_cpu_s / satellite_steps * 1e6:.2f} us CPU per satellite-step); ratio to the orbit layer "
              f"{radiation_s / orbit_s:.3f} wall, {radiation_cpu_s / orbit_cpu_s:.3f} CPU; orbit + radiation = "
              f"{(orbit_cpu_s + radiation_cpu_s) / orbit_cpu_s:.3f} x the orbit layer alone (CPU)")
        del layer
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
