"""Telemetry: packets checked against space_packet_parser and astropy, bad input, the store, the real server."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import space_packet_parser
from astropy.time import Time

from twin.telemetry import framing, ingest, packets, store
from twin.telemetry.client import SenderError, TelemetrySender
from twin.telemetry.timecode import cuc_to_datetime64, datetime64_to_cuc

RNG = np.random.default_rng(5)
TOKEN = "s3cret"
START = np.datetime64("2026-06-01T00:00:00", "ns")


def make_packets(count: int, satellites: int = 20, start=START, first_id: int = 1, first_sequence: int = 0) -> list[bytes]:
    """Valid packets of every APID, satellites ``first_id``... reporting every 10 s, in time order."""
    layouts = packets.load_layouts()
    steps = count // (satellites * len(layouts)) + 1
    sat = np.tile(np.arange(first_id, first_id + satellites), steps)
    step = np.repeat(np.arange(steps), satellites)
    times = start + step * np.timedelta64(10, "s")
    rows = []
    for layout in layouts.values():
        values = {}
        for field in layout.measurement_fields:
            low, high = field.valid_range or (0, 1000)
            values[field.name] = RNG.uniform(max(low, -1e6), min(high, 1e6), sat.size)
        rows.append(packets.encode(layout, sat, first_sequence + step, times, values))
    interleaved = [row[i].tobytes() for i in range(sat.size) for row in rows]
    return interleaved[:count]


def ingest_bytes(tmp_path, data: bytes, clock="stream", **options):
    with store.MeasurementStore(tmp_path / "store.zarr") as measurements:
        ingestor = ingest.Ingestor(measurements, clock=clock, **options)
        ingest.ingest_stream(ingestor, data, "test", chunk_bytes=4096)
    return store.read_state(tmp_path / "store.zarr")


def test_the_definitions_are_valid_xtce_1_2():
    """Checked against the OMG XTCE 1.2 schema that space_packet_parser ships (no download)."""
    result = space_packet_parser.validate_xtce(packets.DEFINITION_PATH, allow_schema_download=False,
                                               raise_on_error=False, print_results=False)
    assert result.valid, str(result)


def test_packets_decode_as_space_packet_parser_does():
    """Our batch decoder against space_packet_parser's (the XTCE reference implementation), every field."""
    definition = space_packet_parser.load_xtce(packets.DEFINITION_PATH)
    sample = make_packets(400)
    for apid, layout in packets.load_layouts().items():
        raw = b"".join(p for p in sample if ((p[0] & 0x07) << 8 | p[1]) == apid)
        decoded = packets.decode(layout, raw)
        for index in range(len(raw) // layout.length):
            reference = definition.parse_bytes(raw[index * layout.length:(index + 1) * layout.length])
            assert reference["apid"] == apid
            assert reference["spacecraft_id"] == decoded.spacecraft_id[index]
            assert reference["sequence_count"] == decoded.sequence_count[index]
            for field in layout.measurement_fields:
                assert decoded.values[field.name][index] == pytest.approx(float(reference[field.name]), abs=1e-9)


def test_time_code_matches_astropy_tai():
    """CUC seconds since 1958-01-01 TAI (CCSDS 301.0-B-4) equal astropy's TAI interval, leap seconds included."""
    times = np.array(["1999-01-01T00:00:00", "2016-12-31T23:59:59.25", "2017-01-01T00:00:00", "2026-06-01T12:34:56.789",
                      "2035-01-01T00:00:00"], "datetime64[ns]")
    coarse, fine = datetime64_to_cuc(times)
    expected = (Time(times, scale="utc").tai - Time("1958-01-01T00:00:00", scale="tai")).sec
    np.testing.assert_allclose(coarse + fine / 65536.0, expected, atol=1 / 65536)
    assert np.all(np.abs(cuc_to_datetime64(coarse, fine) - times) <= np.timedelta64(8, "us"))  # half the 15 us resolution


def damage(packets_in: list[bytes], fraction: float, rng) -> tuple[bytes, int, Counter]:
    """A stream where ``fraction`` of packets each are corrupted, truncated, duplicated and moved later."""
    out, expected, done = [], 0, Counter()
    pending: list[tuple[int, bytes]] = []
    for index, packet in enumerate(packets_in):
        roll = rng.random()
        if roll < fraction:
            broken = bytearray(packet)
            broken[rng.integers(6, len(packet))] ^= 0x5A  # one flipped octet: the CRC fails
            out.append(bytes(broken))
            done["corrupted"] += 1
        elif roll < 2 * fraction:
            out.append(packet[: rng.integers(1, len(packet))])
            done["truncated"] += 1
        elif roll < 3 * fraction:
            out += [packet, packet]
            expected += 1
            done["duplicated"] += 1
        elif roll < 4 * fraction:
            pending.append((index + int(rng.integers(100, 400)), packet))  # behind its own next report
            expected += 1
            done["reordered"] += 1
        else:
            out.append(packet)
            expected += 1
        for due in [p for p in pending if p[0] <= index]:
            out.append(due[1])
            pending.remove(due)
    out += [packet for _, packet in pending]
    return b"".join(out), expected, done


def test_damaged_stream_loses_no_valid_packet(tmp_path):
    """1 % each of corrupted, truncated, duplicated and reordered packets: every valid packet is stored once."""
    stream, expected, done = damage(make_packets(20_000), 0.01, np.random.default_rng(11))
    assert min(done.values()) > 100
    state = ingest_bytes(tmp_path, stream)
    assert sum(state["rows"].values()) == expected
    counts = state["counts"]
    assert counts["duplicate"] == done["duplicated"]
    damaged = done["corrupted"] + done["truncated"]
    assert 0.9 * damaged <= counts["corrupt"] + counts["truncated"] <= damaged  # neighbours merge into one span
    assert counts["truncated"] >= 0.8 * done["truncated"]
    assert counts["out_of_order"] >= 0.9 * done["reordered"]


def test_each_kind_of_bad_input_is_counted_and_the_good_packets_kept(tmp_path):
    good = make_packets(400)
    layouts = packets.layouts_by_name()
    thermal = layouts["thermal"]

    def thermal_packet(spacecraft, when, kelvin):
        return packets.encode(thermal, np.array([spacecraft]), np.array([0]), np.array([when]),
                              {"payload_temperature_k": np.array([kelvin]), "bus_temperature_k": np.array([300.0])})[0].tobytes()

    unknown = bytearray(thermal_packet(3, START, 300.0))
    unknown[0:2] = (0x0800 | 0x1FF).to_bytes(2, "big")  # APID 0x1FF: well formed, but not ours
    unknown[-2:] = packets.crc16(np.frombuffer(bytes(unknown[:-2]), np.uint8)[None, :]).astype(">u2").tobytes()
    bad = [bytes(unknown), thermal_packet(0, START, 300.0), thermal_packet(4, START + np.timedelta64(30, "D"), 300.0),
           thermal_packet(5, START + np.timedelta64(15, "s"), 600.0), os.urandom(57)]
    stream = b"".join(good[:200]) + b"".join(bad) + b"".join(good[200:])
    state = ingest_bytes(tmp_path, stream)
    counts = state["counts"]
    assert counts["unknown_apid"] == 1
    assert counts["unknown_spacecraft"] == 1
    assert counts["future"] == 1
    assert counts["out_of_range"] == 1            # 600 K is outside 150-450 K: stored as NaN
    assert counts["corrupt"] >= 1                 # the random octets
    assert sum(state["rows"].values()) == 400 + 1  # every good packet, and the one with a bad value
    groups = store.open_measurements(tmp_path / "store.zarr")
    thermal_rows = groups["thermal"].load()
    hot = thermal_rows.where(thermal_rows["spacecraft_id"] == 5, drop=True)
    assert np.isnan(hot["payload_temperature_k"].values).any()


def test_a_resend_weeks_old_is_recognised_across_the_whole_store(tmp_path):
    """A recorder dump resent after three weeks of live data, and again to a restarted server: every copy
    is a duplicate (before: only within the last hour). The same time with another sequence count is
    another packet."""
    early = b"".join(make_packets(800))
    live = b"".join(make_packets(800, start=START + np.timedelta64(21, "D")))
    path = tmp_path / "store.zarr"

    def ingest_with_a_new_server(data: bytes) -> dict:
        with store.MeasurementStore(path) as measurements:
            ingestor = ingest.Ingestor(measurements, clock="stream", max_future_s=30 * 86400.0)
            ingest.ingest_stream(ingestor, data, "kashi", chunk_bytes=4096)
        return store.read_state(path)

    state = ingest_with_a_new_server(early + live + early)
    assert (sum(state["rows"].values()), state["counts"]["duplicate"]) == (1600, 800)
    state = ingest_with_a_new_server(early)
    assert (sum(state["rows"].values()), state["counts"]["duplicate"]) == (1600, 1600)
    other_sequence = b"".join(make_packets(800, first_sequence=5000)[:80])
    state = ingest_with_a_new_server(other_sequence)
    assert (sum(state["rows"].values()), state["counts"]["duplicate"]) == (1680, 1600)


def test_store_recovers_rows_written_but_never_committed(tmp_path):
    """A writer killed between writing rows and committing: the store reopens at the last commit."""
    path = tmp_path / "store.zarr"
    state = ingest_bytes(tmp_path, b"".join(make_packets(800)))
    measurements = store.MeasurementStore(path)
    measurements.root["power"]["time"].resize((state["rows"]["power"] + 77,))  # an uncommitted tail
    reopened = store.MeasurementStore(path)
    assert reopened.root["power"]["time"].shape[0] == state["rows"]["power"]
    groups = store.open_measurements(path)
    assert groups["power"].sizes["record"] == state["rows"]["power"]
    assert str(groups["power"]["time"].dtype) == "datetime64[ns]"


def test_store_refuses_a_directory_that_is_not_one(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "file.txt").write_text("x")
    with pytest.raises(store.StoreError, match="not a measurement store"):
        store.MeasurementStore(tmp_path / "other")


def test_framing_waits_for_the_rest_of_a_packet():
    layouts = packets.load_layouts()
    lengths = {apid: layout.length for apid, layout in layouts.items()}
    data = b"".join(make_packets(3))
    partial = framing.frame(data[:-5], lengths)
    assert partial.packets == 2 and not partial.bad
    assert framing.frame(data[:-5], lengths, final=True).bad == Counter({"truncated": 1})


# --- the real server, in its own process ---------------------------------------------------------

STOP_S = 120.0  # how long a process the tests stop may take to end: it bounds a hang only

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server_with(store_path, port: int, **options) -> subprocess.Popen:
    """A real ingest server in its own process, with :class:`IngestServer` options the command line does not
    offer (stream clock unless told); its log goes to ``server.log`` beside the store."""
    options = {"clock": "stream", **options}
    script = ("from twin.telemetry.server import run_server; "
              f"run_server({str(store_path)!r}, {TOKEN!r}, port={port}, "
              f"ready=lambda port: print('listening', flush=True), **{options!r})")
    return _started([sys.executable, "-c", script], store_path, os.environ)


def start_server(store_path, port: int, token: str = TOKEN) -> subprocess.Popen:
    """``twin telemetry serve`` in its own process (stream clock); its log goes to ``server.log`` beside the store."""
    return _started([sys.executable, "-m", "twin", "telemetry", "serve", "--store", str(store_path), "--port", str(port),
                     "--clock", "stream"], store_path, {**os.environ, "TWIN_TELEMETRY_TOKEN": token})


def stop_process(process: subprocess.Popen) -> int:
    """SIGTERM ``process`` (a server, a fleet) and wait for its clean stop; its exit code. The wait bounds a hang
    only: an ingest server's stop (its last commit and checkpoint, then the interpreter's exit) took 2-5 s on a core
    shared with two busy loops, and past the 10 s once allowed with four."""
    process.terminate()
    return process.wait(STOP_S)


def _started(command: list[str], store_path, env) -> subprocess.Popen:
    log = Path(store_path).parent / "server.log"
    with open(log, "a") as stderr:  # a file, not a pipe: a pipe nobody reads would block the server's logging
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
    line = process.stdout.readline()
    assert line.startswith("listening"), log.read_text()
    return process


def test_real_server_refuses_a_wrong_token_and_takes_two_stations_at_once(tmp_path):
    port = free_port()
    server = start_server(tmp_path / "store.zarr", port)
    try:
        with pytest.raises(SenderError, match="wrong token"):
            TelemetrySender("127.0.0.1", port, "guess", "intruder", timeout_s=5)
        streams = {"kashi": make_packets(400, satellites=10),  # each station relays its own satellites
                   "sanya": make_packets(400, satellites=10, first_id=11)}

        def send(station):
            with TelemetrySender("127.0.0.1", port, "s3cret", station) as sender:
                sender.send(b"".join(streams[station]))
                assert sender.flush() > 0

        senders = [threading.Thread(target=send, args=(station,)) for station in streams]  # two stations at once
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join(30)
    finally:
        stop_process(server)
    state = store.read_state(tmp_path / "store.zarr")
    assert sum(state["rows"].values()) == 800, state["counts"]
    assert sorted(state["stations"]) == ["kashi", "sanya"]


def test_sigkill_loses_no_acknowledged_measurement(tmp_path):
    """Kill -9 the server mid-stream, restart it: what was acknowledged is there, and nothing is lost."""
    path = tmp_path / "store.zarr"
    port = free_port()
    stream_packets = make_packets(60_000, satellites=100)
    ends = np.cumsum([len(p) for p in stream_packets])
    stream = b"".join(stream_packets)
    server = start_server(path, port)
    sender = TelemetrySender("127.0.0.1", port, "s3cret", "kashi", timeout_s=60)
    try:
        half = len(stream) // 2
        for first in range(0, half, 8192):
            sender.send(stream[first:min(first + 8192, half)])
        deadline = time.monotonic() + 30
        while sender.acknowledged_total < len(stream) // 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        acknowledged = sender.acknowledged_total
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        acknowledged_packets = int(np.searchsorted(ends, acknowledged, side="right"))
        assert acknowledged_packets > 10_000
        stored_after_crash = sum(store.read_state(path)["rows"].values())
        assert stored_after_crash >= acknowledged_packets   # nothing acknowledged was lost

        server = start_server(path, port)
        for first in range(half, len(stream), 8192):
            sender.send(stream[first:first + 8192])           # reconnects and resends what was not acknowledged
        assert sender.flush() == len(stream)
        assert sender.reconnections >= 1
    finally:
        sender.close()
        stop_process(server)
    state = store.read_state(path)
    assert sum(state["rows"].values()) == len(stream_packets)  # every packet once: the resent copies were duplicates
    assert state["counts"].get("corrupt", 0) == 0


# --- the virtual fleet meets the twin ------------------------------------------------------------

FAULTS = ["array_degraded:CC1-001-03:3h:0.4", "radiator_stuck:CC1-003-05:2h:0.7", "manoeuvre:CC1-002-01:5h:200",
          "sensor_bias:CC1-002-06:4h:400", "satellite_lost:CC1-001-07:8h"]
EXPECTED = {"CC1-001-03": "generated_power", "CC1-003-05": "temperature", "CC1-002-01": "position",
            "CC1-002-06": "position", "CC1-001-07": "telemetry_lost"}


def assess_recording(tmp_path, scenario, hours: float, faults: list[str]):
    from twin.telemetry import assimilation, virtual_fleet
    from twin.telemetry.anomalies import find_anomalies

    sensors = virtual_fleet.load_sensors()
    injected = [virtual_fleet.InjectedFault.parse(text) for text in faults]
    truth = virtual_fleet.simulate_truth(scenario, scenario.epoch, hours * 3600, sensors, injected)
    recording = virtual_fleet.record(truth, sensors, injected, seed=3)
    path = recording.write(tmp_path / "fleet.tm")
    state = ingest_bytes(tmp_path, path.read_bytes())  # the replay path: the same code as the server's
    assert sum(state["rows"].values()) == recording.manifest["valid_packets"]
    groups = {name: group.load() for name, group in store.open_measurements(tmp_path / "store.zarr").items()}
    model = assimilation.model_run(scenario, groups, sensors)
    assessed = assimilation.assimilate(model, groups, sensors)
    return find_anomalies(assessed, sensors), assessed, json.loads((tmp_path / "fleet.tm.json").read_text())


def test_every_injected_fault_is_flagged_on_its_satellite_and_nothing_else(tmp_path, phase1):
    anomalies, assessed, manifest = assess_recording(tmp_path, phase1, 12, FAULTS)
    assert {f["target"] for f in manifest["faults"]} == set(EXPECTED)
    assert set(anomalies["satellite"]) == set(EXPECTED)  # no healthy satellite flagged
    starts = {f["target"]: START + np.timedelta64(int(f["start_s"]), "s") for f in manifest["faults"]}
    for satellite, variable in EXPECTED.items():
        flagged = anomalies[(anomalies["satellite"] == satellite) & anomalies["variable"].str.startswith(variable)]
        assert len(flagged), f"{satellite}: {variable} not flagged"
        delay = flagged["start"].min() - starts[satellite]
        assert np.timedelta64(0, "s") <= delay <= np.timedelta64(2, "h"), (satellite, delay)  # after it, within 2 h
        assert (anomalies[anomalies["satellite"] == satellite]["start"] >= starts[satellite]).all()
    manoeuvre = anomalies[(anomalies["satellite"] == "CC1-002-01") & (anomalies["variable"] == "position")]
    assert manoeuvre["size"].max() > 1000  # 200 m of semi-major axis drifts kilometres along track in 7 h

    from twin.telemetry.orbit_update import reestimate_orbits

    orbits = reestimate_orbits(phase1, assessed, anomalies).set_index("satellite")
    raised = orbits.loc["CC1-002-01"]
    assert raised["converged"] and raised["fixes_used"] > 2000
    assert raised["semi_major_axis_change_m"] == pytest.approx(200.0, abs=10.0)  # the injected raise, from GNSS alone


def test_a_fault_free_day_raises_no_alarm(tmp_path, phase1):
    anomalies, assessed, _ = assess_recording(tmp_path, phase1, 24, [])
    assert anomalies.empty, anomalies.to_string()
    residual = assessed["position_residual"].values
    assert np.nanmedian(residual) < 15.0  # 5 m per axis: the 3-D error's median is about 7.7 m
    assert np.isfinite(residual).mean() > 0.97  # 1 % dropouts; the first step has no report


def test_cli_refuses_a_missing_token_and_a_bad_fault(tmp_path, capsys):
    from twin.cli import main

    os.environ.pop("TWIN_TELEMETRY_TOKEN", None)
    assert main(["telemetry", "serve", "--store", str(tmp_path / "s.zarr")]) == 2
    assert "token" in capsys.readouterr().err
    assert main(["telemetry", "generate", "phase1", "--fault", "melted:CC1-001-01:1h", "--out", str(tmp_path / "x")]) == 2
    assert "fault.kind: 'melted'" in capsys.readouterr().err


def test_live_assessment_of_a_trailing_window_and_acknowledgements(tmp_path, phase1):
    """The last hour alone, started from the measured state, still flags the fault and nothing else;
    an acknowledgement is kept for every later session and names the operator."""
    from twin.telemetry.live import LiveAssessment

    assess_recording(tmp_path, phase1, 4, ["radiator_stuck:CC1-003-05:1h:0.7"])
    live = LiveAssessment(tmp_path / "store.zarr", phase1, window_s=3600)
    view = live.refresh()
    assert view.state.sizes["time"] == 361  # an hour at 10 s
    assert set(view.anomalies["satellite"]) == {"CC1-003-05"}
    key = view.anomalies["key"].iloc[0]
    assert (view.anomalies["acknowledged_by"] == "").all()
    live.acknowledge(key, "operator-1")
    again = LiveAssessment(tmp_path / "store.zarr", phase1, window_s=3600).refresh()
    assert again.anomalies.set_index("key").loc[key, "acknowledged_by"] == "operator-1"
    with pytest.raises(ValueError, match="key: 'CC1-003-05' is not an anomaly key"):
        live.acknowledge("CC1-003-05", "operator-1")
