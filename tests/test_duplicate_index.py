"""The ingest server's duplicate index keeps a bounded working set in memory and the rest on disk beside
the store: a copy is refused however late it comes, and a restart reads only the rows since its last
checkpoint, after a clean stop and after a SIGKILL at any instant."""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress

import numpy as np
import pytest

from test_store_readers import SENDER_TIMEOUT_S, committed_rows, wait_for_commits
from test_telemetry import START, TOKEN, free_port, make_packets, start_server_with, stop_process

from twin.telemetry import duplicates, ingest, packets, store
from twin.telemetry.client import TelemetrySender
from twin.telemetry.server import IngestServer

BUDGET_BYTES = 10_000  # about 10 of the test stream's minute buckets (960 octets each: 120 keys)
PER_MINUTE = 6 * 20 * len(packets.load_layouts())  # packets a minute in these streams: 20 satellites every 10 s


def stream_of(minutes: int, start=START) -> bytes:
    """20 satellites, every APID, every 10 s: 120 packets per APID and minute bucket."""
    return b"".join(make_packets(minutes * PER_MINUTE, satellites=20, start=start))


def ingested(path, data: bytes, **options) -> ingest.Ingestor:
    """``data`` through a new ingestor (as a restarted server), committing every ~8 KiB."""
    with store.MeasurementStore(path) as measurements:
        ingestor = ingest.Ingestor(measurements, clock="stream", max_future_s=30 * 86400.0, **options)
        ingest.ingest_stream(ingestor, data, "kashi", chunk_bytes=4096, commit_every_bytes=8192)
    return ingestor


def keys_on_disk(path) -> set[tuple[int, int, int]]:
    """Every (APID, bucket, key) in the index's files."""
    found = set()
    for apid_folder in (path / ingest.DUPLICATES_DIRECTORY).iterdir():
        if apid_folder.is_dir():
            for file in apid_folder.glob(f"*{duplicates.BUCKET_SUFFIX}"):
                bucket = int(file.name[:-len(duplicates.BUCKET_SUFFIX)])
                found.update((int(apid_folder.name), bucket, int(key)) for key in np.fromfile(file, duplicates.KEY_DTYPE))
    return found


def committed_keys(path) -> set[tuple[int, int, int]]:
    """Every (APID, bucket, key) of the rows the store has committed."""
    found = set()
    for name, group in store.open_measurements(path).items():
        time_ns = group["time"].values.astype(np.int64)
        buckets = time_ns // duplicates.BUCKET_NS
        keys = duplicates._keys(group["spacecraft_id"].values, group["sequence_count"].values, time_ns, buckets)
        found.update(zip([group.attrs["apid"]] * keys.size, buckets.tolist(), keys.tolist()))
    return found


def test_the_index_stays_within_its_budget_and_refuses_a_copy_evicted_long_ago(tmp_path):
    """150 minutes of packets (150 minute buckets of each APID, 720 kB of keys) with a 10 kB budget: the memory held
    never goes past it, and the first minutes resent at the end (evicted hours before) are all duplicates,
    to the same server and to a restarted one. Before: every key in memory, no budget."""
    path = tmp_path / "store.zarr"
    stream = stream_of(150)
    first_minutes = stream_of(3)
    with store.MeasurementStore(path) as measurements:
        ingestor = ingest.Ingestor(measurements, clock="stream", duplicate_index_bytes=BUDGET_BYTES)
        ingest.ingest_stream(ingestor, stream + first_minutes, "kashi", chunk_bytes=4096, commit_every_bytes=8192)
    index = ingestor.duplicates
    state = store.read_state(path)
    assert sum(state["rows"].values()) == 150 * PER_MINUTE
    assert state["counts"]["duplicate"] == 3 * PER_MINUTE
    assert index.peak_nbytes <= BUDGET_BYTES < sum(state["rows"].values()) * 8 / 50
    assert index.loads >= 3 * len(packets.load_layouts())  # the old buckets came back from disk
    assert keys_on_disk(path) == committed_keys(path)  # after the last checkpoint: every stored packet's key

    restarted = ingested(path, first_minutes, duplicate_index_bytes=BUDGET_BYTES)
    assert store.read_state(path)["counts"]["duplicate"] == 2 * 3 * PER_MINUTE
    assert restarted.rows_rebuilt == 0
    assert restarted.duplicates.peak_nbytes <= BUDGET_BYTES


def test_a_restart_reads_only_the_rows_committed_since_the_last_checkpoint(tmp_path):
    """A clean stop checkpoints: the next start reads no row of the store. A writer that dies after
    commits past its last checkpoint: the next start reads those rows only, and still refuses a copy of
    any packet. Before: every row of the store read at every start."""
    path = tmp_path / "store.zarr"
    ingested(path, stream_of(60), index_checkpoint_rows=10_000)
    assert ingested(path, b"").rows_rebuilt == 0

    later = stream_of(30, start=START + np.timedelta64(2, "h"))
    with store.MeasurementStore(path) as measurements:  # dies without its last checkpoint
        ingestor = ingest.Ingestor(measurements, clock="stream", max_future_s=30 * 86400.0, index_checkpoint_rows=10_000)
        decoder = ingestor.decoder()
        for first in range(0, len(later) + 4096, 4096):
            batch, bad = decoder.feed(later[first:first + 4096], final=first >= len(later))
            ingestor.accept(batch, "kashi", bad)
            ingestor.commit()
    total = committed_rows(path)
    assert total == 90 * PER_MINUTE
    restarted = ingested(path, stream_of(60) + later)
    assert 0 < restarted.rows_rebuilt < 10_000 < total
    assert store.read_state(path)["counts"]["duplicate"] == total


def test_keys_queued_for_a_commit_never_reach_the_files(tmp_path):
    """A checkpoint while rows wait for their commit writes the committed keys only, also of a bucket
    holding both: a server killed before that commit must not refuse those packets when they are resent."""
    path = tmp_path / "store.zarr"
    minutes = make_packets(10 * PER_MINUTE, satellites=20)
    third, half = 3 * PER_MINUTE, 7 * PER_MINUTE // 2
    ingested(path, b"".join(minutes[:third]))  # 3 minutes, checkpointed
    with store.MeasurementStore(path) as measurements:
        ingestor = ingest.Ingestor(measurements, clock="stream")
        decoder = ingestor.decoder()
        for part in (minutes[third:half], minutes[half:]):  # minute 3's bucket: committed keys, then queued ones
            batch, bad = decoder.feed(b"".join(part), final=True)
            assert ingestor.accept(batch, "kashi", bad)["stored"] == len(part)
            if part[0] == minutes[third]:
                ingestor.commit()
        ingestor.checkpoint()
        assert keys_on_disk(path) == committed_keys(path)
        ingestor.commit()
        assert keys_on_disk(path) < committed_keys(path)  # those keys go to the files with the next checkpoint
        ingestor.checkpoint()
    assert committed_rows(path) == 10 * PER_MINUTE
    assert keys_on_disk(path) == committed_keys(path)


def test_an_index_that_does_not_belong_to_its_store_is_discarded_and_rebuilt(tmp_path):
    """A checkpoint covering more rows than the store holds (another store's index) is not trusted."""
    ingested(tmp_path / "big.zarr", stream_of(10))
    path = tmp_path / "small.zarr"
    ingested(path, stream_of(2))
    shutil.rmtree(path / ingest.DUPLICATES_DIRECTORY)
    shutil.copytree(tmp_path / "big.zarr" / ingest.DUPLICATES_DIRECTORY, path / ingest.DUPLICATES_DIRECTORY)
    restarted = ingested(path, stream_of(10))
    assert restarted.rows_rebuilt == 2 * PER_MINUTE
    assert committed_rows(path) == 10 * PER_MINUTE
    assert keys_on_disk(path) == committed_keys(path)


def test_an_index_of_another_store_with_fewer_rows_is_discarded_and_rebuilt(tmp_path):
    """A checkpoint covering fewer rows than the store holds, but not this store's rows (another store's index,
    or this store's before it was restored from a copy): not trusted, so the packets it holds and this store
    does not are stored when they come. Before: trusted, and those packets were refused as duplicates."""
    other_start = START + np.timedelta64(1, "D")
    ingested(tmp_path / "other.zarr", stream_of(2, start=other_start))
    path = tmp_path / "store.zarr"
    ingested(path, stream_of(10))
    shutil.rmtree(path / ingest.DUPLICATES_DIRECTORY)
    shutil.copytree(tmp_path / "other.zarr" / ingest.DUPLICATES_DIRECTORY, path / ingest.DUPLICATES_DIRECTORY)
    restarted = ingested(path, stream_of(2, start=other_start))
    assert restarted.rows_rebuilt == 10 * PER_MINUTE
    assert committed_rows(path) == 12 * PER_MINUTE
    assert keys_on_disk(path) == committed_keys(path)


@pytest.mark.slow
def test_sigkill_mid_ingest_leaves_an_index_that_covers_exactly_committed_rows(tmp_path):
    """A real server with a small budget and frequent checkpoints, SIGKILLed at random instants while it
    ingests four hours of packets, restarted each time: its files never hold a key of a row not committed,
    a restart reads only the rows committed since the last checkpoint (most of the store is not read), and
    in the end every packet is stored once."""
    path = tmp_path / "store.zarr"
    port = free_port()
    stream = stream_of(240)
    options = dict(commit_interval_s=0.01, duplicate_index_bytes=BUDGET_BYTES, index_checkpoint_rows=5_000)
    rng = np.random.default_rng(11)
    server = start_server_with(path, port, **options)
    failures = []

    def send():
        try:
            with TelemetrySender("127.0.0.1", port, TOKEN, "kashi", timeout_s=SENDER_TIMEOUT_S) as sender:
                for first in range(0, len(stream), 16384):
                    sender.send(stream[first:first + 16384])
                    time.sleep(0.02)
                sender.flush()
        except Exception as error:  # noqa: BLE001 - reported by the test's last assertion
            failures.append(f"sender: {type(error).__name__}: {error}")

    sender = threading.Thread(target=send)
    sender.start()
    rebuilt = []
    try:
        for _ in range(6):
            wait_for_commits(path, committed_rows(path))
            time.sleep(rng.uniform(0.0, 0.3))
            server.send_signal(signal.SIGKILL)
            server.wait(10)
            assert keys_on_disk(path) <= committed_keys(path)  # no key of a row never committed
            rows = committed_rows(path)
            with store.MeasurementStore(path) as measurements:
                restarted = ingest.Ingestor(measurements, clock="stream", duplicate_index_bytes=BUDGET_BYTES)
            covered = int(restarted.duplicates.state["rows"].sum()) if restarted.duplicates.state else 0
            rebuilt.append((restarted.rows_rebuilt, covered, rows))
            server = start_server_with(path, port, **options)
        sender.join(SENDER_TIMEOUT_S)
        assert not sender.is_alive(), f"the sender had not finished after {SENDER_TIMEOUT_S:g} s"
    finally:
        stop_process(server)
    assert not failures, failures
    assert all(read == rows - covered for read, covered, rows in rebuilt), rebuilt  # only the rows since the checkpoint
    assert sum(read for read, _, _ in rebuilt) < sum(rows for _, _, rows in rebuilt) / 2, rebuilt
    assert committed_rows(path) == 240 * PER_MINUTE  # every packet once
    assert keys_on_disk(path) == committed_keys(path)  # the clean stop checkpointed everything


@pytest.mark.parametrize("value", ["0", "-5", "lots", "nan"])
def test_a_bad_duplicate_index_budget_is_refused_naming_the_option(tmp_path, value):
    result = subprocess.run([sys.executable, "-m", "twin", "telemetry", "serve", "--store", str(tmp_path / "s.zarr"),
                             "--port", "0", "--duplicate-index-mb", value],
                            env={**os.environ, "TWIN_TELEMETRY_TOKEN": TOKEN}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(f"twin: error: --duplicate-index-mb: {value!r}"), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "s.zarr").exists()


def test_a_server_stopped_mid_commit_waits_for_that_commit_before_its_last_one(tmp_path):
    """Stopping while a commit runs in its thread: the last commit and the index's checkpoint come after it,
    never beside it (before: the commit loop was cancelled and the last commit ran alongside the first)."""
    path = tmp_path / "store.zarr"
    layouts = packets.load_layouts()

    async def stop_mid_commit() -> list[int]:
        with store.MeasurementStore(path) as measurements:
            server = IngestServer(measurements, TOKEN, commit_interval_s=0.01, clock="stream")
            await server.start()
            running, most_at_once = [], []
            commit = measurements.commit

            def slow_commit(pending, refused=None):
                running.append(True)
                most_at_once.append(len(running))
                time.sleep(0.3)
                try:
                    return commit(pending, refused)
                finally:
                    running.pop()

            measurements.commit = slow_commit
            serving = asyncio.create_task(server.serve_forever())
            decoder = server.ingestor.decoder()
            for minute in range(2):  # the first batch's commit starts, the second batch waits for the next
                octets = stream_of(1, start=START + np.timedelta64(minute, "m"))
                batch, bad = decoder.feed(octets, final=True)
                server.ingestor.accept(batch, "kashi", bad)
                while not running:
                    await asyncio.sleep(0.005)
            server.close()
            with suppress(asyncio.CancelledError):  # as run_server does
                await serving
        return most_at_once

    assert max(asyncio.run(stop_mid_commit())) == 1
    assert committed_rows(path) == 2 * PER_MINUTE == len(layouts) * 240
    with store.MeasurementStore(path) as measurements:
        assert ingest.Ingestor(measurements, clock="stream").rows_rebuilt == 0
    assert keys_on_disk(path) == committed_keys(path)
