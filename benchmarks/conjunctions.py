"""Phase 3 (10,485 satellites) placed at the catalogue's epoch, screened for 24 h against the shared
catalogue and itself; then catalogue propagation (every object through SGP4/SDP4) side by side:
the twin's ephemeris, sgp4's SatrecArray and astroz (a SIMD SGP4), in one process.

Prints the screen's wall time per stage and peak RSS (targets: under 60 s and 8 GB on this 2-core
machine), then each propagator's throughput in object-steps per CPU-second (process time, all
threads: per core), the ratios, and the twin's largest deviation from SGP4 at every step.

    .venv/bin/python benchmarks/conjunctions.py [--catalog ../shared/data/catalog-active-2026-03-19.tle]
        [--scenario phase3] [--hours 24] [--threshold-km 5] [--step 60]
"""

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
from sgp4.api import SatrecArray

import twin
from twin.safety import place_scenario, read_catalog, screen
from twin.safety.ephemeris import node_steps, propagate_catalog

DEFAULT_CATALOG = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "catalog-active-2026-03-19.tle"


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def timed(function):
    """(result, wall s, CPU s of the whole process: every thread)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default=str(DEFAULT_CATALOG))
    parser.add_argument("--scenario", default="phase3")
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--threshold-km", type=float, default=5.0)
    parser.add_argument("--step", type=float, default=60.0)
    args = parser.parse_args()
    if not Path(args.catalog).is_file():
        sys.exit(f"conjunctions benchmark: no catalogue at {args.catalog}; pass --catalog with the shared "
                 "catalog-active-2026-03-19.tle (../shared/data/ in the workspace)")

    catalog, read_s, _ = timed(lambda: read_catalog(args.catalog))
    scenario = place_scenario(twin.load_scenario(args.scenario), catalog.epoch)
    result, wall_s, cpu_s = timed(lambda: screen(scenario, catalog, duration_s=args.hours * 3600.0,
                                                 threshold_km=args.threshold_km, step_s=args.step))
    summary = result.summary
    print(f"screen: {summary['fleet_satellites']:,} satellites ({summary['formations']} formations) at "
          f"{summary['start']} for {args.hours:g} h, step {args.step:g} s, threshold {args.threshold_km:g} km, "
          f"against {summary['catalog_entries']:,} catalogue entries ({summary['catalog_screened']} in reach)")
    print(f"  catalogue read {read_s:.1f} s; screen wall {wall_s:.1f} s (CPU {cpu_s:.1f} s): "
          + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in result.timings_s.items()))
    kinds = result.conjunctions["secondary_kind"].value_counts().to_dict()
    print(f"  {summary['candidates']:,} candidate pairs, {summary['conjunctions']:,} conjunctions "
          f"({kinds.get('catalog', 0):,} with catalogue objects, {kinds.get('fleet', 0):,} between formations); "
          f"peak RSS {peak_rss_gb():.2f} GB (targets: 60 s, 8 GB)")
    print("  not screened: " + "; ".join(f"{row.reason} {row.count:,}" for row in result.skipped_summary().itertuples()))

    steps = int(round(args.hours * 3600.0 / args.step)) + 1
    order = np.argsort(node_steps(catalog.satrecs, args.step), kind="stable")
    satrecs = [catalog.satrecs[i] for i in order]
    jd = catalog.epoch.utc.jd1 + np.floor(catalog.epoch.utc.jd2)
    fr = catalog.epoch.utc.jd2 - np.floor(catalog.epoch.utc.jd2)
    offsets_day = fr + np.arange(steps) * args.step / 86400.0
    states = len(satrecs) * steps
    ephemeris, twin_wall, twin_cpu = timed(lambda: propagate_catalog(satrecs, jd, fr, args.step, steps))
    (errors, reference, _), sgp4_wall, sgp4_cpu = timed(lambda: SatrecArray(satrecs).sgp4(np.full(steps, jd), offsets_day))
    ok = ~errors.any(axis=1) & (ephemeris.errors == 0)
    deviation = np.linalg.norm(ephemeris.positions_km[:, ok] - reference[ok].transpose(1, 0, 2), axis=-1)
    print(f"catalogue propagation: {len(satrecs):,} objects x {steps} steps = {states / 1e6:.1f} M states "
          f"(throughput per CPU-second, i.e. per core)")
    print(f"  twin (SGP4 at nodes, Hermite between): {states / twin_cpu / 1e6:6.1f} M/s per core "
          f"(CPU {twin_cpu:.2f} s, wall {twin_wall:.2f} s); deviation from SGP4 at every step: median "
          f"{np.median(deviation) * 1e3:.0f} m, max {deviation.max():.2f} km")
    print(f"  sgp4 SatrecArray:                      {states / sgp4_cpu / 1e6:6.1f} M/s per core "
          f"(CPU {sgp4_cpu:.2f} s, wall {sgp4_wall:.2f} s)")
    del reference
    try:
        import astroz.api as astroz
    except ImportError:
        print("  astroz: not installed (pip install 'orbital-dc-twin[benchmark]')")
        return
    lines = [(name, catalog.satrecs[i]) for i, name in enumerate(catalog.names)]
    text = Path(args.catalog).read_text().splitlines()
    by_number = {int(l1[2:7]): (l1, l2) for l1, l2 in zip(text[1::3], text[2::3])}
    az = astroz.SatrecArray([astroz.Satrec.twoline2rv(*by_number[s.satnum], astroz.WGS72) for _, s in
                             [lines[i] for i in order]])
    for velocities in (True, False):
        _, az_wall, az_cpu = timed(lambda: az.sgp4(np.full(steps, jd), offsets_day, velocities=velocities))
        print(f"  astroz ({'positions and velocities' if velocities else 'positions only'}):"
              f"{' ' * (14 if velocities else 22)}{states / az_cpu / 1e6:6.1f} M/s per core "
              f"(CPU {az_cpu:.2f} s, wall {az_wall:.2f} s)")
        if not velocities:
            print(f"  ratios per core: twin / astroz (positions) {az_cpu / twin_cpu:.2f}; "
                  f"twin / SatrecArray {sgp4_cpu / twin_cpu:.2f}; astroz / SatrecArray {sgp4_cpu / az_cpu:.2f}")


if __name__ == "__main__":
    main()
