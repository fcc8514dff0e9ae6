"""Benchmark the ingest path end to end: the phase-3 fleet's packets over loopback TCP into the real server.

Simulates the phase-3 fleet (10,485 satellites) reporting every 10 s with the virtual fleet, starts
``twin telemetry serve`` as its own process, sends the packets from this process through
:class:`twin.telemetry.client.TelemetrySender`, and times first octet to last acknowledgement
(every packet committed to the Zarr store). Prints packets and measurements (stored values) per
second, the server's peak memory, and, as a reference measured in this process,
space_packet_parser decoding the same packets one at a time. Target (issue 5): at least 100,000
packets per second.

    .venv/bin/python benchmarks/ingest.py [--minutes 5] [--stations 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

import twin
from twin.telemetry import ingest, packets, store, virtual_fleet
from twin.telemetry.client import TelemetrySender

TARGET_PACKETS_PER_S = 100_000
TOKEN = "benchmark-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peak_rss_gib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def start_server(store_path: Path, port: int) -> subprocess.Popen:
    """``twin telemetry serve`` in its own process (stream clock), listening once this returns."""
    server = subprocess.Popen([sys.executable, "-m", "twin", "telemetry", "serve", "--store", str(store_path),
                               "--port", str(port), "--clock", "stream"],
                              env={**os.environ, "TWIN_TELEMETRY_TOKEN": TOKEN}, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)  # its log: a line per connection
    if not server.stdout.readline().startswith("listening"):
        raise RuntimeError(f"twin telemetry serve did not start (exit {server.wait()})")
    return server


def reference_rate(recording, seconds: float = 2.0) -> float:
    """space_packet_parser: packets per second decoding one at a time (the XTCE reference decoder)."""
    import space_packet_parser

    definition = space_packet_parser.load_xtce(packets.DEFINITION_PATH)
    ends = recording.packet_ends
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        begin = int(ends[count - 1]) if count else 0
        definition.parse_bytes(recording.stream[begin:int(ends[count])])
        count += 1
    return count / (time.perf_counter() - started)


def station_streams(recording, stations: int) -> list[tuple[bytes, np.ndarray]]:
    """The recording split among ``stations`` by satellite (each station relays its own satellites), in
    arrival order: each station's octets and where its packets end in them."""
    octets = np.frombuffer(recording.stream, np.uint8)
    starts = np.r_[0, recording.packet_ends[:-1]]
    spacecraft = octets[starts + 12].astype(np.int64) << 8 | octets[starts + 13]  # after the header and time code
    streams = []
    for station in range(stations):
        chosen = np.flatnonzero(spacecraft % stations == station)
        lengths = recording.packet_ends[chosen] - starts[chosen]
        index = np.repeat(starts[chosen] - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + np.arange(lengths.sum())
        streams.append((octets[index].tobytes(), np.cumsum(lengths)))
    return streams


def send(stream: bytes, station: str, port: int) -> None:
    with TelemetrySender("127.0.0.1", port, TOKEN, station, timeout_s=120) as sender:
        for first in range(0, len(stream), 1 << 20):
            sender.send(stream[first:first + (1 << 20)])
        sender.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="minutes of fleet telemetry to send")
    parser.add_argument("--stations", type=int, default=2, help="ground stations sending at once")
    args = parser.parse_args()

    scenario = twin.load_scenario("phase3")
    sensors = virtual_fleet.load_sensors()
    started = time.perf_counter()
    truth = virtual_fleet.simulate_truth(scenario, scenario.epoch, args.minutes * 60.0, sensors, [])
    recording = virtual_fleet.record(truth, sensors, [], seed=1)
    count = recording.arrival_s.size
    measurement_fields = sum(len(layout.measurement_fields) for layout in packets.load_layouts().values()) / 4
    print(f"stream: phase 3, {truth.sizes['sat']} satellites x {args.minutes:g} min at "
          f"{sensors['reporting']['interval_s']:g} s: {count:,d} packets, {len(recording.stream) / 2**20:.1f} MiB "
          f"(simulated in {time.perf_counter() - started:.1f} s)")
    del truth

    directory = Path(tempfile.mkdtemp(prefix="twin-ingest-"))
    port = free_port()
    server = start_server(directory / "store.zarr", port)
    try:
        senders = [threading.Thread(target=send, args=(stream, f"station-{i}", port))
                   for i, (stream, _) in enumerate(station_streams(recording, args.stations))]
        started = time.perf_counter()
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        elapsed = time.perf_counter() - started
        state = store.read_state(directory / "store.zarr")
        stored = sum(state["rows"].values())
        server_peak = peak_rss_gib(server.pid)
        server.terminate()
        server.wait(30)
        started = time.perf_counter()
        with store.MeasurementStore(directory / "store.zarr") as measurements:
            restarted = ingest.Ingestor(measurements, clock="stream")
        restart_s = time.perf_counter() - started
        index_octets = sum(file.stat().st_size for file in (directory / "store.zarr" / ingest.DUPLICATES_DIRECTORY).rglob("*.u64"))
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(directory, ignore_errors=True)

    rate = stored / elapsed
    reference = reference_rate(recording)
    print(f"end to end ({args.stations} stations over loopback TCP, acknowledged = committed to Zarr): "
          f"{stored:,d} of {count:,d} packets in {elapsed:.2f} s")
    print(f"  {rate:,.0f} packets/s, {rate * measurement_fields:,.0f} measurements/s "
          f"(ratio to target {rate / TARGET_PACKETS_PER_S:.2f} x; target >= {TARGET_PACKETS_PER_S:,d} packets/s)")
    print(f"  reference in this process: space_packet_parser {reference:,.0f} packets/s one at a time "
          f"(ingest path {rate / reference:.1f} x faster)")
    print(f"  bad input: {', '.join(f'{k} {v}' for k, v in state['counts'].items() if k != 'stored' and v) or 'none'}")
    print(f"server peak RSS: {server_peak:.2f} GiB")
    print(f"restart: the store opened and its duplicate index loaded in {restart_s:.2f} s, {restarted.rows_rebuilt:,d} rows "
          f"read from the store (index on disk: {index_octets / stored:.1f} octets a packet)")


if __name__ == "__main__":
    main()
