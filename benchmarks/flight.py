"""The flight budget of phase 3 (10,485 satellites), timed against the orbit layer's propagation of the
same fleet for 24 h at 60 s, in one process; prints the ratio, the budget table per sub-center group and
for the fleet, and the closest member approach found on that propagation.

The budget covers ``--years`` from the scenario's epoch: NRLMSIS 2.1 density tables (one per LTAN half-hour),
beta angles, luni-solar tilt, drag, LTAN and formation Δv, decay over a year and the disposal search for
the 5- and 25-year rules. Flight properties are the scenario's buses' (docs/scenario_keys.md).

    .venv/bin/python benchmarks/flight.py [--scenario phase3] [--years 10] [--threshold-m 50]
"""

import argparse
import time
import warnings

import twin
from twin.flight import CloseApproachWarning, closest_member_approach, flight_budget, spacecraft_of_buses
from twin.orbit.propagation import propagate_teme
from twin.report.flight import budget_table_text
from twin.timegrid import julian_dates, time_grid, to_datetime64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="phase3")
    parser.add_argument("--years", type=float, default=10.0)
    parser.add_argument("--threshold-m", type=float, default=50.0)
    arguments = parser.parse_args()
    scenario = twin.load_scenario(arguments.scenario)
    fleet = twin.design_fleet(scenario)
    craft = spacecraft_of_buses(fleet.names, fleet.bus, scenario.buses)
    small = twin.load_scenario("phase1")  # warm up (imports, IERS tables) on a small fleet, untimed
    small_fleet = twin.design_fleet(small)
    flight_budget(small_fleet, spacecraft_of_buses(small_fleet.names, small_fleet.bus, small.buses), years=1.0,
                  horizon_years=2.0)

    offsets = time_grid(scenario.epoch, 86400.0, 60.0)
    jd, fr = julian_dates(scenario.epoch, offsets)
    started = time.perf_counter()
    position_km, _ = propagate_teme(fleet, jd, fr)
    propagation_s = time.perf_counter() - started

    started = time.perf_counter()
    budget = flight_budget(fleet, craft, years=arguments.years)
    budget_s = time.perf_counter() - started

    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        closest = closest_member_approach(position_km * 1e3, to_datetime64(scenario.epoch, offsets), fleet.names,
                                          fleet.subcenter, arguments.threshold_m)
    closest_s = time.perf_counter() - started
    del position_km

    print(f"{arguments.scenario}: {len(fleet):,} satellites, budget over {arguments.years:g} years from "
          f"{scenario.epoch.utc.isot[:10]}")
    print(f"orbit layer propagation, 24 h at 60 s (reference): {propagation_s:7.2f} s")
    print(f"flight budget:                                     {budget_s:7.2f} s  "
          f"({budget_s / propagation_s:.2f} x the propagation)")
    print(f"closest member approach on that propagation:       {closest_s:7.2f} s  "
          f"({closest_s / propagation_s:.2f} x); "
          f"{sum(issubclass(w.category, CloseApproachWarning) for w in caught)} sub-centers below {arguments.threshold_m:g} m")
    print()
    print(budget_table_text(budget, closest, "group"))

if __name__ == "__main__":
    main()
