"""Cost of the long-encounter (Monte Carlo) Pc in a screen: each screen run twice in one process, with the
default samples for every slow encounter and with none (``monte_carlo_samples=0``), and the ratio printed.

Screens: phase 1 at the catalogue's epoch against the shared catalogue and itself for a day; phase 3's formations
against each other for a day, with the closest neighbours within each formation group (``formation_closest``); and the slow case of
tests/test_safety_screening.py (phase 1 with EXP 0.01 deg, 1.3 km, ahead of CC1-001, the fleet's ephemerides taken
to 300 m in-track, so every pass of a CC1-001 member is slow) for a few hours, which prices one slow conjunction.

    .venv/bin/python benchmarks/long_encounter.py [--catalog ../shared/data/catalog-active-2026-03-19.tle]
        [--hours 24] [--slow-hours 3] [--samples N]
"""

import argparse
import sys
import time
import tomllib
from pathlib import Path

import twin
from twin.safety import place_scenario, read_catalog, screen
from twin.safety.collision_probability import DEFAULT_POSITION_SIGMA_RIC_KM
from twin.safety.long_encounter import MONTE_CARLO_SAMPLES
from twin.scenario import SCENARIO_DIR, scenario_from_dict

DEFAULT_CATALOG = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "catalog-active-2026-03-19.tle"


def timed_screen(samples: int, *args, **kwargs):
    """(screen, wall s, CPU s) of one screen with ``samples`` per slow encounter."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = screen(*args, monte_carlo_samples=samples, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def compare(name: str, samples: int, *args, **kwargs) -> None:
    """Print one screen's times with and without the Monte Carlo Pc, and their ratio (after a first screen, untimed,
    that fills the caches of the fleet's design and the catalogue's ephemeris)."""
    timed_screen(0, *args, **kwargs)
    without, wall_0, cpu_0 = timed_screen(0, *args, **kwargs)
    with_pc, wall_1, cpu_1 = timed_screen(samples, *args, **kwargs)
    found = with_pc.conjunctions
    slow = int((~found["short_encounter"]).sum()) if len(found) else 0
    neighbours = with_pc.formation_closest
    if neighbours is not None:
        slow += int((neighbours["monte_carlo_samples"] > 0).sum())
    assert len(without.conjunctions) == len(found)
    print(f"{name}: {len(found):,} conjunctions{'' if neighbours is None else f', {len(neighbours)} closest neighbours'}, "
          f"{slow:,} slow (Monte Carlo, {samples:,} samples each)")
    print(f"  without long-encounter Pc: wall {wall_0:.1f} s (CPU {cpu_0:.1f} s); with: wall {wall_1:.1f} s "
          f"(CPU {cpu_1:.1f} s); ratio with / without: CPU {cpu_1 / cpu_0:.2f}, wall {wall_1 / wall_0:.2f}")
    if slow:
        print(f"  Monte Carlo per slow encounter: CPU {(cpu_1 - cpu_0) / slow:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default=str(DEFAULT_CATALOG))
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--slow-hours", type=float, default=3.0)
    parser.add_argument("--samples", type=int, default=MONTE_CARLO_SAMPLES)
    args = parser.parse_args()
    if not Path(args.catalog).is_file():
        sys.exit(f"long-encounter benchmark: no catalogue at {args.catalog}; pass --catalog with the shared "
                 "catalog-active-2026-03-19.tle (../shared/data/ in the workspace)")
    catalog = read_catalog(args.catalog)
    span_s = args.hours * 3600.0
    compare(f"phase 1 against {len(catalog):,} catalogue entries and itself, {args.hours:g} h", args.samples,
            place_scenario(twin.load_scenario("phase1"), catalog.epoch), catalog, duration_s=span_s)
    compare(f"phase 3's formations against each other and their closest neighbours, {args.hours:g} h", args.samples,
            place_scenario(twin.load_scenario("phase3"), catalog.epoch), None, duration_s=span_s, formation_closest=True)
    raw = tomllib.loads((SCENARIO_DIR / "phase1.toml").read_text())
    raw["subcenters"][0]["phase_deg"] = 0.01
    DEFAULT_POSITION_SIGMA_RIC_KM["fleet"] = (0.1, 0.3, 0.1)
    compare(f"slow case (EXP beside CC1-001, fleet in-track sigma 300 m), {args.slow_hours:g} h", args.samples,
            place_scenario(scenario_from_dict(raw), catalog.epoch), None, duration_s=args.slow_hours * 3600.0,
            threshold_km=25.0)


if __name__ == "__main__":
    main()
