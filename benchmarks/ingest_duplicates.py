"""Benchmark the duplicate index with a memory budget against the index all in memory, on hours of phase 3.

Synthesises the phase-3 fleet (10,485 satellites) reporting its four housekeeping APIDs every 10 s
(4,194 packets a second of packet time, 362 million a day), minute by minute, and feeds it through
the ingest path (framing, checks, the duplicate index, commits to a Zarr store every 4 MiB, as the
server does every 0.25 s at this rate) twice in this process: first with the index all in memory
and nothing on disk (the reference: the index before it had files), then with a small budget
(``--budget-mb``) and the rest of it on disk. Each run ends by resending the first five minutes (all
duplicates: with the budget, buckets evicted hours before come back from disk), then a new ingestor
opens the store as a restarted server does. Prints, for each, the peak index memory, packets per
second (the best of ``--rounds`` runs of each, alternated), start-up time and rows read at start, the
ratios, and what the index costs on disk per packet.

    .venv/bin/python benchmarks/ingest_duplicates.py [--hours 3] [--budget-mb 16] [--rounds 2]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from twin.telemetry import ingest, packets, store

SATELLITES = 10_485  # phase 3
INTERVAL_S = 10.0  # assets/telemetry/sensors.toml: each satellite reports every APID every 10 s
APIDS = ("gnss", "power", "thermal", "compute")  # command reports come only with commands
START = np.datetime64("2027-01-01T00:00:00", "ns")
CHUNK_BYTES = 1 << 20  # the server's reads
COMMIT_EVERY_BYTES = 4 << 20  # about the server's 0.25 s at this rate
RESENT_MINUTES = 5


def minute_of_packets(minute: int, values: dict) -> bytes:
    """The fleet's packets of one minute, in time order (all satellites of a step, APID after APID)."""
    layouts = {layout.name: layout for layout in packets.load_layouts().values()}
    steps = int(60 / INTERVAL_S)
    step = minute * steps + np.repeat(np.arange(steps), SATELLITES)
    spacecraft = np.tile(np.arange(1, SATELLITES + 1), steps)
    times = START + (step * INTERVAL_S * 1e9).astype("timedelta64[ns]")
    rows = [packets.encode(layouts[name], spacecraft, step, times, values[name]) for name in APIDS]
    per_step = [np.concatenate([row[s * SATELLITES:(s + 1) * SATELLITES] for row in rows], axis=None)
                for s in range(steps)]
    return b"".join(part.tobytes() for part in per_step)


def measurement_values() -> dict:
    """Values within every field's valid range, one minute's worth (the index does not look at them)."""
    rng = np.random.default_rng(3)
    layouts = {layout.name: layout for layout in packets.load_layouts().values()}
    count = int(60 / INTERVAL_S) * SATELLITES
    return {name: {field.name: rng.uniform(*(field.valid_range or (0.0, 1.0)), count)
                   for field in layouts[name].measurement_fields} for name in APIDS}


def feed(ingestor: ingest.Ingestor, decoder: ingest.StreamDecoder, data: bytes, since_commit: list[int]) -> None:
    for first in range(0, len(data), CHUNK_BYTES):
        packets_by_apid, bad = decoder.feed(data[first:first + CHUNK_BYTES])
        ingestor.accept(packets_by_apid, "station", bad)
        since_commit[0] += CHUNK_BYTES
        if since_commit[0] >= COMMIT_EVERY_BYTES:
            ingestor.commit()
            since_commit[0] = 0


def run(path: Path, minutes: list[bytes], budget_bytes: int | None) -> dict:
    """Ingest ``minutes`` then the first ones again into a new store; then open it as a restarted server."""
    options = dict(clock="stream", duplicate_index_bytes=budget_bytes)
    elapsed = 0.0
    with store.MeasurementStore(path) as measurements:
        ingestor = ingest.Ingestor(measurements, **options)
        decoder, since_commit = ingestor.decoder(), [0]
        for data in minutes:
            started = time.perf_counter()
            feed(ingestor, decoder, data, since_commit)
            elapsed += time.perf_counter() - started
        first_pass = sum(measurements.rows.values())
        for data in minutes[:RESENT_MINUTES]:
            feed(ingestor, decoder, data, since_commit)
        packets_by_apid, bad = decoder.feed(b"", final=True)
        ingestor.accept(packets_by_apid, "station", bad)
        ingestor.commit()
        ingestor.checkpoint()
    state = store.read_state(path)
    index = ingestor.duplicates
    started = time.perf_counter()
    with store.MeasurementStore(path) as measurements:
        restarted = ingest.Ingestor(measurements, **options)
    start_s = time.perf_counter() - started
    on_disk = sum(file.stat().st_size for file in (path / ingest.DUPLICATES_DIRECTORY).rglob("*") if file.is_file()) \
        if budget_bytes is not None else 0
    store_octets = sum(file.stat().st_size for file in path.rglob("*") if file.is_file()) - on_disk
    stored = sum(state["rows"].values())
    return dict(stored=stored, rate=first_pass / elapsed, elapsed=elapsed, duplicates=state["counts"].get("duplicate", 0),
                peak=max(index.peak_nbytes, index.nbytes), loads=index.loads, start_s=start_s,
                rows_read=restarted.rows_rebuilt, on_disk=on_disk, store_octets=store_octets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=3.0, help="hours of packet time to ingest")
    parser.add_argument("--budget-mb", type=float, default=16.0, help="the bounded index's memory (MB, 10^6 octets)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each, alternated (the best is printed)")
    args = parser.parse_args()

    started = time.perf_counter()
    values = measurement_values()
    count = int(args.hours * 60)
    minutes = [minute_of_packets(minute, values) for minute in range(count)]
    per_minute = int(60 / INTERVAL_S) * SATELLITES * len(APIDS)
    print(f"stream: phase 3, {SATELLITES:,d} satellites x {len(APIDS)} APIDs every {INTERVAL_S:g} s for {args.hours:g} h "
          f"({count} minute buckets): {per_minute * count:,d} packets, {sum(map(len, minutes)) / 2**30:.2f} GiB "
          f"(made in {time.perf_counter() - started:.0f} s); then its first {RESENT_MINUTES} minutes again")
    directory = Path(tempfile.mkdtemp(prefix="twin-duplicates-"))
    try:
        configurations = {"all in memory (reference)": None, f"budget {args.budget_mb:g} MB": int(args.budget_mb * 1e6)}
        results = {label: [] for label in configurations}
        for _ in range(args.rounds):  # alternated: the machine's other load falls on both alike
            for label, budget in configurations.items():
                results[label].append(run(directory / "store.zarr", minutes, budget))
                shutil.rmtree(directory / "store.zarr")
        for label, rounds in results.items():
            result = results[label] = {**rounds[0], "rate": max(r["rate"] for r in rounds),
                                       "start_s": min(r["start_s"] for r in rounds)}
            print(f"{label}: {result['rate']:,.0f} packets/s (best of {args.rounds}; {result['stored']:,d} stored); "
                  f"peak index memory {result['peak'] / 1e6:,.1f} MB; resent minutes: {result['duplicates']:,d} "
                  f"duplicates ({result['loads']:,d} buckets read back from disk); start-up {result['start_s']:.2f} s, "
                  f"{result['rows_read']:,d} rows read from the store")
        reference, bounded = results.values()
        print(f"ratio budget/reference: packets/s {bounded['rate'] / reference['rate']:.2f} x, peak index memory "
              f"{bounded['peak'] / reference['peak']:.3f} x, start-up {bounded['start_s'] / reference['start_s']:.2f} x")
        print(f"index on disk: {bounded['on_disk'] / 1e6:,.1f} MB, {bounded['on_disk'] / bounded['stored']:.2f} octets "
              f"a stored packet (the store itself: {bounded['store_octets'] / bounded['stored']:.1f}); phase 3 at "
              f"362 million packets a day: {bounded['on_disk'] / bounded['stored'] * 362e6 / 1e9:.2f} GB of index a day")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
