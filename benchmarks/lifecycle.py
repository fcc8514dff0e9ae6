"""The build-up 2025-2036 in one run (``twin simulate lifecycle``), timed against a reference in the same process:
one day of phase 3 at 60 s, each sub-center's chief standing for it (``--representatives``), the same 144 rows.

Prints both wall times, the ratio, and the build-up's size (sub-centers x steps). The issue's target: the
build-up under 10 minutes on this 2-core machine.

    .venv/bin/python benchmarks/lifecycle.py [--scenario lifecycle]
"""

import argparse
import tempfile
import time
from pathlib import Path

import twin
from twin.lifecycle import run_lifecycle


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="lifecycle")
    args = parser.parse_args()
    reference, reference_s = timed(lambda: twin.run_scenario(twin.load_scenario("phase3"), duration_s=86400.0,
                                                             step_s=60.0, representatives=True))
    print(f"reference: phase 3 for 1 day at 60 s, {reference.sizes['sat']} chiefs x {reference.sizes['time']} steps: "
          f"{reference_s:.1f} s")
    with tempfile.TemporaryDirectory() as folder:
        out, buildup_s = timed(lambda: run_lifecycle(twin.load_scenario(args.scenario), Path(folder) / "life.zarr"))
        run = twin.open_run(out)
        print(f"build-up: {args.scenario} {str(run['time'].values[0])[:10]} to {str(run['time'].values[-1])[:10]}, "
              f"{run.sizes['sat']} sub-centers x {run.sizes['time']} steps of {run.attrs['step_s'] / 86400:g} d: "
              f"{buildup_s:.1f} s ({buildup_s / 60:.1f} min; target under 10 min)")
    print(f"ratio build-up / reference: {buildup_s / reference_s:.2f}")


if __name__ == "__main__":
    main()
