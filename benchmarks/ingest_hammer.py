"""Hammer the ingest server for a bounded time, over loopback only: clean stations, noise, a slowloris, quick connections.

Starts ``twin telemetry serve`` as its own process and, at once, for ``--seconds``:

* 14 clean stations relaying a phase-2 virtual fleet's packets (each its own satellites), a batch
  every ``--batch-s``, each batch timed from ``send`` to the acknowledgement that covers it;
* 1 station sending random octets as fast as loopback takes them, connecting again each time the
  server cuts it;
* 1 slowloris, trickling its hello line an octet a second, connecting again when refused;
* 500 quick connections, one every 20 ms: half say hello as a new station and leave without a
  packet, half close at once.

Then it reports valid packets sent against stored (they must be equal: the exit status is 1 if
not), the clean stations' acknowledgement delays (worst must stay under 1 s), what became of the
abusive connections, and the server's resident memory.

    .venv/bin/python benchmarks/ingest_hammer.py [--seconds 30] [--minutes 60]
"""

from __future__ import annotations

import argparse
import re
import select
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

import twin
from twin.telemetry import store, virtual_fleet
from twin.telemetry.client import TelemetrySender

from ingest import TOKEN, free_port, peak_rss_gib, start_server, station_streams

CLEAN_STATIONS = 14
QUICK_CONNECTIONS = 500
QUICK_EVERY_S = 0.02
ACK_BOUND_S = 1.0


def rss_gib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def connect(port: int, station: str | None = None) -> socket.socket:
    """A connection, authenticated as ``station`` if one is given."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if station is not None:
        sock.sendall(f"TWIN-TM/1 token={TOKEN} station={station}\n".encode())
        answer = sock.makefile("rb").readline()
        if answer != b"OK\n":
            raise ConnectionError(f"{station}: {answer!r}")
    return sock


def clean_station(name: str, stream: bytes, ends: np.ndarray, port: int, seconds: float, batch_s: float,
                  delays: list[float]) -> None:
    """Send ``stream`` in a batch every ``batch_s`` over ``seconds``, timing each batch until the
    acknowledgement that covers it (without waiting for it to send the next)."""
    batches = max(1, int(seconds / batch_s))
    cuts = ends[np.linspace(0, ends.size - 1, batches + 1).astype(int)[1:]].tolist()
    unacknowledged: list[tuple[int, float]] = []  # (end of a batch in the stream, when it was sent)
    with TelemetrySender("127.0.0.1", port, TOKEN, name, timeout_s=60) as sender:
        began, start = time.monotonic(), 0
        while cuts or unacknowledged:
            now = time.monotonic()
            while unacknowledged and sender.acknowledged_total >= unacknowledged[0][0]:
                delays.append(now - unacknowledged.pop(0)[1])
            if cuts and now >= began + len(delays + unacknowledged) * batch_s:
                sender.send(stream[start:cuts[0]])
                unacknowledged.append((cuts[0], now))
                start = cuts.pop(0)
            time.sleep(0.005)
        sender.flush()


def noise_station(port: int, until: float, report: dict) -> None:
    """Random octets on an authenticated connection until the server cuts it (its reason kept); then again."""
    noise = np.random.default_rng(3).integers(0, 256, 1 << 16, dtype=np.uint8).tobytes()
    while time.monotonic() < until:
        with connect(port, "noisy") as sock:
            answer = b""
            try:
                while time.monotonic() < until and b"DENIED" not in answer:
                    if select.select([sock], [], [], 0)[0]:
                        if not (received := sock.recv(1 << 16)):
                            break
                        answer += received  # COUNTS and ACK lines for the noise counted as corrupt, then DENIED
                    else:
                        sock.sendall(noise)
                        report["octets"] += len(noise)
            except OSError as error:
                answer += f"\n{type(error).__name__}".encode()
        denied = [line for line in answer.decode(errors="replace").splitlines()
                  if line and not line.startswith(("COUNTS", "ACK"))]
        if denied:
            report["cuts"] += 1
            report["reasons"][re.sub(r"\d[\d,]*", "N", denied[0])] += 1


def slowloris(port: int, until: float, report: dict) -> None:
    """A hello line trickled one octet a second; a new connection each time the server refuses it."""
    line = f"TWIN-TM/1 token={TOKEN} station=slow\n".encode()
    while time.monotonic() + 1 < until:
        opened = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            for octet in line:
                sock.sendall(bytes([octet]))
                if select.select([sock], [], [], 1.0)[0] or time.monotonic() > until:
                    break
            answer = sock.makefile("rb").readline().decode().strip() if select.select([sock], [], [], 0.5)[0] else ""
        if answer:
            report["refused_after_s"].append(time.monotonic() - opened)
            report["reasons"][answer] += 1


def quick_connections(port: int, report: dict) -> None:
    began = time.monotonic()
    for index in range(QUICK_CONNECTIONS):
        time.sleep(max(0.0, began + index * QUICK_EVERY_S - time.monotonic()))
        try:
            connect(port, f"quick-{index}" if index % 2 else None).close()
            report["done"] += 1
        except OSError as error:
            report["failed"].append(str(error))
    report["seconds"] = time.monotonic() - began


def reasons(report: dict) -> str:
    return "; ".join(f"{reason} (x{count})" for reason, count in report["reasons"].most_common()) or "never"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the clean stations send")
    parser.add_argument("--minutes", type=float, default=60.0, help="minutes of phase-2 telemetry they relay")
    parser.add_argument("--batch-s", type=float, default=0.2, help="seconds between a clean station's batches")
    args = parser.parse_args()

    scenario = twin.load_scenario("phase2")
    sensors = virtual_fleet.load_sensors()
    truth = virtual_fleet.simulate_truth(scenario, scenario.epoch, args.minutes * 60.0, sensors, [])
    recording = virtual_fleet.record(truth, sensors, [], seed=4)
    streams = station_streams(recording, CLEAN_STATIONS)
    valid = sum(ends.size for _, ends in streams)

    directory = Path(tempfile.mkdtemp(prefix="twin-hammer-"))
    port = free_port()
    server = start_server(directory / "store.zarr", port)
    try:
        until = time.monotonic() + args.seconds
        delays: list[list[float]] = [[] for _ in streams]
        noise = {"octets": 0, "cuts": 0, "reasons": Counter()}
        slow = {"refused_after_s": [], "reasons": Counter()}
        quick = {"done": 0, "failed": [], "seconds": 0.0}
        threads = [threading.Thread(target=clean_station, args=(f"station-{i}", stream, ends, port, args.seconds,
                                                                args.batch_s, delays[i]))
                   for i, (stream, ends) in enumerate(streams)]
        threads += [threading.Thread(target=noise_station, args=(port, until, noise)),
                    threading.Thread(target=slowloris, args=(port, until, slow)),
                    threading.Thread(target=quick_connections, args=(port, quick))]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        state = store.read_state(directory / "store.zarr")
        resident, peak = rss_gib(server.pid), peak_rss_gib(server.pid)
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(directory, ignore_errors=True)

    stored = sum(state["rows"].values())
    every = np.concatenate([np.asarray(d) for d in delays])
    worst = every.max()
    print(f"hammer: twin telemetry serve over loopback for {elapsed:.1f} s; phase 2, {truth.sizes['sat']} satellites "
          f"x {args.minutes:g} min: {valid:,d} valid packets ({len(recording.stream) / 2**20:.1f} MiB) relayed by "
          f"{CLEAN_STATIONS} clean stations, a batch each every {args.batch_s:g} s")
    print(f"  valid packets sent {valid:,d}, stored {stored:,d}: {'equal' if stored == valid else 'NOT EQUAL'}")
    print(f"  clean stations' acknowledgements over {every.size:,d} batches: median {np.median(every):.2f} s, "
          f"p99 {np.percentile(every, 99):.2f} s, worst {worst:.2f} s (bound {ACK_BOUND_S:g} s)")
    print(f"  noise station: {noise['octets'] / 2**20:,.0f} MiB sent, cut {noise['cuts']} times: {reasons(noise)}")
    refused = slow["refused_after_s"]
    print(f"  slowloris: {len(refused)} connections, each refused after {min(refused, default=0):.1f}-"
          f"{max(refused, default=0):.1f} s: {reasons(slow)}")
    print(f"  quick connections: {quick['done']} of {QUICK_CONNECTIONS} in {quick['seconds']:.1f} s "
          f"(every other one a new station saying hello without a packet)"
          + (f"; {len(quick['failed'])} failed: {quick['failed'][0]}" if quick["failed"] else ""))
    print(f"  store: stations {len(state['stations'])}; refused connections "
          + ", ".join(f"{kind} {count:,d}" for kind, count in sorted(state.get("refused_connections", {}).items())))
    print(f"server RSS: {resident:.2f} GiB at the end, peak {peak:.2f} GiB")
    return 0 if stored == valid and worst < ACK_BOUND_S and not quick["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
