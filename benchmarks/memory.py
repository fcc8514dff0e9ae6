"""Peak memory of a run held in memory, per byte of its arrays: the factor twin.run.memory checks runs against.

Each case runs in a fresh process: the twin is imported and a one-step run made (so the modules
and caches a run needs are loaded), then the case is simulated and stored (``twin.save`` to a
temporary directory). Prints the bytes of the run's arrays as ``twin.run.memory.run_array_bytes``
counts them (and as the run holds them), the peak resident memory the run and its storing added
over the warmed-up process, their ratio, and ``twin.run.memory.PEAK_PER_ARRAY_BYTE``, which must not be
below the largest ratio.

    .venv/bin/python benchmarks/memory.py
"""

import json
import subprocess
import sys

from twin.run.memory import PEAK_PER_ARRAY_BYTE

CASES = [("phase1", 7 * 86400.0), ("phase2", 2 * 86400.0), ("phase3", 6 * 3600.0), ("phase3", 86400.0)]

CHILD = """
import json, resource, sys, tempfile
import twin
from twin.run.memory import run_array_bytes
from twin.run.plan import RunPlan

name, duration_s = sys.argv[1], float(sys.argv[2])
scenario = twin.load_scenario(name)
twin.run_scenario(scenario, duration_s=60.0, step_s=60.0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
counted = run_array_bytes(RunPlan.of(scenario, duration_s=duration_s, step_s=60.0))
run = twin.run_scenario(scenario, duration_s=duration_s, step_s=60.0)
with tempfile.TemporaryDirectory() as directory:
    twin.save(run, directory + "/run.zarr")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"satellites": run.sizes["sat"], "steps": run.sizes["time"], "counted": counted,
                  "held": int(sum(variable.nbytes for variable in run.data_vars.values())), "added": peak - before}))
"""


def main() -> None:
    print(f"{'case':<16}{'satellite-steps':>16}{'arrays counted':>16}{'arrays held':>13}{'peak added':>12}{'ratio':>7}")
    ratios = []
    for name, duration_s in CASES:
        result = subprocess.run([sys.executable, "-c", CHILD, name, str(duration_s)], capture_output=True, text=True,
                                check=True)
        case = json.loads(result.stdout.splitlines()[-1])
        ratios.append(case["added"] / case["counted"])
        print(f"{name + f' {duration_s / 3600:g} h':<16}{case['satellites'] * case['steps']:>16,}"
              f"{case['counted'] / 1e6:>13.1f} MB{case['held'] / 1e6:>10.1f} MB{case['added'] / 1e6:>9.1f} MB"
              f"{ratios[-1]:>7.2f}")
    print(f"largest ratio {max(ratios):.2f}; twin.run.memory.PEAK_PER_ARRAY_BYTE = {PEAK_PER_ARRAY_BYTE:g}"
          + ("" if PEAK_PER_ARRAY_BYTE >= max(ratios) else "  <- below the measured ratio: raise it"))


if __name__ == "__main__":
    main()
