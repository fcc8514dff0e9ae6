"""Readers of the measurement store see exactly the committed rows: while a real server commits, after
a SIGKILL at any instant, and with no server running."""

import signal
import threading
import time

import numpy as np
import pytest
import xarray as xr

from test_telemetry import TOKEN, free_port, ingest_bytes, make_packets, start_server_with, stop_process

from twin.telemetry import store
from twin.telemetry.client import TelemetrySender


def written_past_the_commit(path) -> bool:
    """Whether the row after the committed ones holds data in some column: the writer died mid-commit,
    after writing rows and before committing them (commit.json)."""
    import zarr

    state = store.read_state(path)
    root = zarr.open_group(str(path), mode="r", zarr_format=2)
    for group, rows in state["rows"].items():
        for column in ("time", "received_time", "spacecraft_id"):
            array = root[group][column]
            if array.shape[0] > rows and array[rows] != array.fill_value:
                return True
    return False


def check_read(path) -> int:
    """Open the store as a reader does; the rows it shows must be committed and whole. Returns rows seen."""
    before = store.read_state(path)["rows"]
    groups = store.open_measurements(path)
    after = store.read_state(path)["rows"]
    seen = 0
    for name, group in groups.items():
        rows = group.sizes["record"]
        assert before[name] <= rows <= after[name], (name, before[name], rows, after[name])
        tail = group.isel(record=slice(max(0, rows - 3000), rows)).load()  # the newest rows: where a commit writes
        assert (tail["spacecraft_id"].values > 0).all(), f"{name}: a row never written (fill value) among the committed"
        assert (tail["time"].values > np.datetime64("2026-01-01")).all()
        seen += rows
    return seen


def test_the_reader_opens_what_xarray_opens_on_a_quiet_store(tmp_path):
    """Same variables, values, dtypes (times decoded) and attributes as ``xarray.open_zarr``, lazily (dask)."""
    state = ingest_bytes(tmp_path, b"".join(make_packets(800)))
    path = tmp_path / "store.zarr"
    groups = store.open_measurements(path)
    for name, rows in state["rows"].items():
        expected = xr.open_zarr(str(path), group=name, consolidated=False, zarr_format=2, mask_and_scale=False)
        expected.attrs["stations"] = state["stations"]
        assert groups[name]["time"].chunks is not None  # lazy
        xr.testing.assert_identical(groups[name], expected)
        assert groups[name].sizes["record"] == rows


def test_a_column_longer_than_the_commit_is_read_to_the_committed_rows(tmp_path):
    """A writer killed mid-commit leaves some columns grown and others not: readers still open the store."""
    state = ingest_bytes(tmp_path, b"".join(make_packets(800)))
    path = tmp_path / "store.zarr"
    root = store.MeasurementStore(path).root
    root["power"]["time"].resize((state["rows"]["power"] + 77,))  # grown, the others not: the commit never finished
    root["power"]["battery_soc"].resize((state["rows"]["power"] + 5,))
    groups = store.open_measurements(path)
    assert groups["power"].sizes["record"] == state["rows"]["power"]
    assert check_read(path) == sum(state["rows"].values())


def test_a_writer_killed_while_creating_the_store_leaves_nothing_half_made(tmp_path, monkeypatch):
    """The store appears whole (with its commit.json) or not at all; a server killed while making it can start again."""
    path = tmp_path / "store.zarr"

    def killed(self, directory=None):
        raise KeyboardInterrupt  # the process dies before the store's first commit.json

    monkeypatch.setattr(store.MeasurementStore, "_write_commit", killed)
    with pytest.raises(KeyboardInterrupt):
        store.MeasurementStore(path)
    monkeypatch.undo()
    assert not path.exists()
    store.MeasurementStore(path)
    assert store.open_measurements(path)["power"].sizes["record"] == 0


SENDER_TIMEOUT_S = 600.0  # bounds a hang only: under load, with a server killed a dozen times, a sender's last flush
# took more than the 60 s once allowed ('6627511 octets never acknowledged')


def committed_rows(path) -> int:
    """Rows committed in the store, all groups together."""
    return sum(store.read_state(path)["rows"].values())


def wait_for_commits(path, rows_before: int, timeout_s: float = 60.0) -> None:
    """Wait until a commit has added rows past ``rows_before``: the server is ingesting, not idle."""
    deadline = time.monotonic() + timeout_s
    while committed_rows(path) <= rows_before:
        assert time.monotonic() < deadline, f"no commit in {timeout_s} s: the sender stalled"
        time.sleep(0.01)


@pytest.mark.slow
def test_readers_never_fail_while_a_real_server_commits_and_is_killed_mid_commit(tmp_path):
    """A reader opens the store in a loop while a real server ingests and is SIGKILLed at random instants
    while it commits (at least twelve times, restarted each time, until four kills have landed mid-commit):
    zero failed opens, each showing committed rows only, and the store readable with no server running after
    every kill."""
    path = tmp_path / "store.zarr"
    port = free_port()
    stream_packets = make_packets(400_000, satellites=500)
    stream = b"".join(stream_packets)
    rng = np.random.default_rng(7)
    server = start_server_with(path, port, commit_interval_s=0.01)  # back-to-back commits: most instants are mid-commit
    stop = threading.Event()
    opens, failures = [], []

    def read_in_a_loop():
        while not stop.is_set():
            try:
                opens.append(check_read(path))
            except Exception as error:  # noqa: BLE001 - every kind of failure to open is what this test counts
                failures.append(f"{type(error).__name__}: {error}")
            time.sleep(0.001)  # let the sender's thread have the interpreter between opens

    def send():
        try:
            with TelemetrySender("127.0.0.1", port, TOKEN, "kashi", timeout_s=SENDER_TIMEOUT_S) as sender:
                for first in range(0, len(stream), 16384):
                    sender.send(stream[first:first + 16384])
                    time.sleep(0.01)  # spread the stream (700 pieces) over the kills
                sender.flush()
        except Exception as error:  # noqa: BLE001 - reported by the test's last assertions
            failures.append(f"sender: {type(error).__name__}: {error}")

    reader = threading.Thread(target=read_in_a_loop)
    sender = threading.Thread(target=send)
    reader.start()
    sender.start()
    kills = mid_commit = 0
    try:
        # A kill counts only if it lands mid-commit, which depends on the machine's speed: kill while rows are
        # flowing, and go on (up to 40 kills) until four have landed there.
        while sender.is_alive() and kills < 40 and (kills < 12 or mid_commit < 4):
            wait_for_commits(path, committed_rows(path))
            time.sleep(rng.uniform(0.0, 0.3))
            server.send_signal(signal.SIGKILL)
            server.wait(10)
            kills += 1
            rows = store.read_state(path)["rows"]
            mid_commit += written_past_the_commit(path)
            assert check_read(path) == sum(rows.values())  # no server running
            server = start_server_with(path, port, commit_interval_s=0.01)
        sender.join(SENDER_TIMEOUT_S)
        assert not sender.is_alive(), f"the sender had not finished after {SENDER_TIMEOUT_S:g} s"
    finally:
        stop.set()
        reader.join(30)
        stop_process(server)
    assert not failures, f"{len(failures)} of {len(opens) + len(failures)} opens failed, first: {failures[0]}"
    assert len(opens) > 50
    assert mid_commit >= 4, f"only {mid_commit} of {kills} kills landed mid-commit: the test did not test that"
    assert committed_rows(path) == len(stream_packets)  # and every packet once


@pytest.mark.slow
def test_twin_telemetry_watch_follows_a_server_while_it_ingests(tmp_path, phase1):
    """The issue's symptom: ``watch`` beside a running server crashed on every run (a commit in progress)."""
    import subprocess
    import sys

    from twin.telemetry import virtual_fleet

    sensors = virtual_fleet.load_sensors()
    truth = virtual_fleet.simulate_truth(phase1, phase1.epoch, 2 * 3600, sensors, [])
    recording = virtual_fleet.record(truth, sensors, [], seed=5)
    path = tmp_path / "store.zarr"
    port = free_port()
    server = start_server_with(path, port, commit_interval_s=0.02)
    first_hour = int(np.searchsorted(recording.arrival_s, 3600.0))
    try:
        with TelemetrySender("127.0.0.1", port, TOKEN, "kashi") as sender:
            sender.send(recording.stream[:int(recording.packet_ends[first_hour - 1])])
            sender.flush()
        done = threading.Event()

        def send_the_rest():  # the second hour in small pieces while watch refreshes
            with TelemetrySender("127.0.0.1", port, TOKEN, "kashi") as sender:
                rest = recording.stream[int(recording.packet_ends[first_hour - 1]):]
                for first in range(0, len(rest), 4096):
                    sender.send(rest[first:first + 4096])
                    if done.wait(0.01):
                        break
                sender.flush()

        rest = threading.Thread(target=send_the_rest)
        rest.start()
        watch = subprocess.run([sys.executable, "-m", "twin", "telemetry", "watch", "phase1", "--store", str(path),
                                "--every", "1s", "--count", "6"], capture_output=True, text=True, timeout=300)
        done.set()
        rest.join(60)
    finally:
        stop_process(server)
    assert watch.returncode == 0, watch.stderr
    assert watch.stdout.count("newest packet;") == 6
