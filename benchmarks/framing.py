"""Benchmark framing: valid packets against noise of the same size, through the ingest path's StreamDecoder.

A station sending noise must cost the server about what a station sending valid data does (issue 16
item 4: the per-octet framer took 0.25 MiB/s of noise). Frames the phase-1 fleet's packets and as
many random octets, each in the 1 MiB reads the server makes, and prints MiB/s of each and their
ratio (noise / valid; target >= 1: noise no slower than data).

    .venv/bin/python benchmarks/framing.py [--mib 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import twin
from twin.telemetry import virtual_fleet
from twin.telemetry.ingest import StreamDecoder
from twin.telemetry.packets import load_layouts
from twin.telemetry.server import READ_BYTES


def framed_mib_per_s(stream: bytes) -> tuple[float, int]:
    """MiB/s framing ``stream`` in the server's reads, and the packets found."""
    decoder = StreamDecoder(load_layouts())
    found = 0
    started = time.perf_counter()
    for first in range(0, len(stream), READ_BYTES):
        found += sum(len(octets) for octets in decoder.feed(stream[first:first + READ_BYTES])[0].values())
    found += sum(len(octets) for octets in decoder.feed(b"", final=True)[0].values())
    return len(stream) / 2**20 / (time.perf_counter() - started), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=float, default=32.0, help="MiB of each stream")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    scenario = twin.load_scenario("phase1")
    sensors = virtual_fleet.load_sensors()
    hours = args.mib * 2**20 / (25 * 4 * 31 * 360)  # 25 satellites, 4 packets of ~31 octets each every 10 s
    truth = virtual_fleet.simulate_truth(scenario, scenario.epoch, hours * 3600, sensors, [])
    valid = virtual_fleet.record(truth, sensors, [], seed=1).stream[:int(args.mib * 2**20)]
    noise = np.random.default_rng(1).integers(0, 256, len(valid), dtype=np.uint8).tobytes()
    print(f"streams: {len(valid) / 2**20:.1f} MiB of phase-1 packets, as many random octets; reads of {READ_BYTES >> 20} MiB")
    for round_ in range(1, args.rounds + 1):
        valid_rate, _ = framed_mib_per_s(valid)
        noise_rate, found = framed_mib_per_s(noise)
        print(f"round {round_}: valid {valid_rate:6.1f} MiB/s, noise {noise_rate:6.1f} MiB/s ({found} packets in the noise); "
              f"ratio noise/valid {noise_rate / valid_rate:.2f} x (target >= 1)")


if __name__ == "__main__":
    main()
