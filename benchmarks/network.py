"""Contact windows of the phase-3 fleet against every station, and the network graph of every step.

1. Contacts: every satellite against every ground station over 24 h at 10 s. The orbit layer of
   10,485 satellites x 8,641 steps would be about 5 GB, so it is built and searched a slice of
   sub-centers at a time (:func:`twin.run_orbits` on a slice of the fleet, then
   :func:`twin.network.contacts.contact_windows`, which evaluates the chiefs at every step and their
   members only around the chiefs' passes: the same passes as evaluating everyone everywhere).
2. The link graph of every step: the backbone (each sub-center's chief, the relays, the stations)
   with line of sight, ranges, antennas and rates, then per step the shortest-latency tree and the
   widest-path flows (:func:`twin.network.flows.add_network` on the chiefs' run).
Prints the time and peak memory of each part. Target (issue 4): under 60 s and 8 GB on this
machine's 2 cores, so numexpr and BLAS use both (the ratio benchmarks pin one thread; this one has
no reference to compare with).

    .venv/bin/python benchmarks/network.py [--scenario phase3] [--duration-s 86400] [--step-s 10]
"""

import argparse
import os
import resource
import time

import numexpr

import twin
from twin.network.contacts import contact_windows, stations_of
from twin.orbit.fleet import Fleet
from twin.network.flows import add_network
from twin.timegrid import time_grid

CHIEFS_PER_SLICE = 12  # 972 satellites of phase 3 x 8,641 steps: about 0.5 GB of orbit layer per slice


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def fleet_slices(fleet: Fleet):
    """Sub-fleets of at most CHIEFS_PER_SLICE chiefs with all their members (:meth:`twin.orbit.fleet.Fleet.covering`)."""
    row = 0
    for block in fleet.blocks:
        members = block.relative.count
        for first in range(0, len(block.chiefs), CHIEFS_PER_SLICE):
            chiefs = min(CHIEFS_PER_SLICE, len(block.chiefs) - first)
            yield fleet.covering(row + first * members, row + (first + chiefs) * members)[0]
        row += block.satellite_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="phase3")
    parser.add_argument("--duration-s", type=float, default=86400.0)
    parser.add_argument("--step-s", type=float, default=10.0)
    args = parser.parse_args()

    scenario = twin.load_scenario(args.scenario)
    fleet = twin.design_fleet(scenario)
    offsets = time_grid(scenario.epoch, args.duration_s, args.step_s)
    stations = stations_of(scenario)
    print(f"grid: {len(fleet)} satellites x {len(stations)} stations x {offsets.size} steps "
          f"({args.scenario}, step {args.step_s:g} s); numexpr on {numexpr.get_num_threads()} of {os.cpu_count()} cores")

    begin = time.perf_counter()
    passes, orbit_s = 0, 0.0
    for part in fleet_slices(fleet):
        started = time.perf_counter()
        run = twin.run_orbits(part, scenario.epoch, offsets)
        orbit_s += time.perf_counter() - started
        passes += len(contact_windows(run, stations))
        del run
    contacts_s = time.perf_counter() - begin
    print(f"contacts: {passes:,} passes in {contacts_s:.1f} s (orbit layer {orbit_s:.1f} s, search "
          f"{contacts_s - orbit_s:.1f} s); process peak RSS {peak_rss_gib():.2f} GiB")

    begin = time.perf_counter()
    chiefs = twin.run_orbits(fleet.chiefs_only(), scenario.epoch, offsets)
    orbit_s = time.perf_counter() - begin
    network = add_network(chiefs, scenario)
    graph_s = time.perf_counter() - begin
    up = network["link_up"].values
    print(f"link graph: {network.sizes['link']} backbone links x {offsets.size} steps in {graph_s:.1f} s "
          f"(chiefs' orbit layer {orbit_s:.1f} s); links up per step {up.sum(axis=0).mean():.0f} on average; "
          f"process peak RSS {peak_rss_gib():.2f} GiB")
    total = contacts_s + graph_s
    print(f"total {total:.1f} s (target < 60 s); process peak RSS {peak_rss_gib():.2f} GiB (target < 8)")


if __name__ == "__main__":
    main()
