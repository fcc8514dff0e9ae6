"""The uplink side of the ingest protocol against a real server on loopback: commands go to a station within
their window, at most once (not again after a reconnection or a restart), and what cannot go is settled and logged."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager

import numpy as np

from test_telemetry import START, TOKEN, free_port, make_packets, start_server, stop_process

from twin.telemetry import uplink
from twin.telemetry.client import TelemetrySender
from twin.telemetry.telecommands import decode_command, encode_command

MINUTE = np.timedelta64(60, "s")


def wait_for(predicate, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class Station:
    """A station that relays telemetry and records the commands the server uplinks to it."""

    def __init__(self, port: int, name: str = "kashi"):
        self.received: list[tuple[str, bytes]] = []
        self.sender = TelemetrySender("127.0.0.1", port, TOKEN, name,
                                      on_command=lambda command_id, packet: self.received.append((command_id, packet)))

    def relay(self, packets: list[bytes]) -> None:
        self.sender.send(b"".join(packets))
        assert wait_for(lambda: self.sender.acknowledged_total >= self.sender.sent_total)


@contextmanager
def serving(store, port: int):
    """A real ingest server on loopback for the block's length."""
    server = start_server(store, port)
    try:
        yield
    finally:
        stop_process(server)


def post(store, command_id: str, not_before, not_after, spacecraft: int = 3, station=None) -> bytes:
    packet = encode_command("safe_mode", spacecraft, 7, {"enter": 1})
    uplink.post(store, command_id, packet, spacecraft, not_before, not_after, station)
    return packet


def test_a_command_goes_to_the_station_when_its_window_opens_and_never_twice(tmp_path):
    store = tmp_path / "store.zarr"
    port = free_port()
    sample = make_packets(2000)  # 20 satellites x 5 packets every 10 s: 200 s of stream time
    with serving(store, port):
        station = Station(port)
        station.relay(sample[:500])  # the stream's clock reaches about 50 s
        packet = post(store, "c1", START + MINUTE, START + 10 * MINUTE)  # its window opens at 60 s
        time.sleep(1.0)
        assert station.received == []  # not yet: the window is still closed
        station.relay(sample[500:1000])  # now about 100 s
        assert wait_for(lambda: len(station.received) == 1)
        assert station.received == [("c1", packet)]
        assert decode_command(station.received[0][1]).arguments == {"enter": 1.0}
        assert (uplink.outbox(store) / "c1.sent").exists() and not (uplink.outbox(store) / "c1.json").exists()

        station.sender.close()  # the station reconnects: nothing is sent again
        station = Station(port)
        station.relay(sample[1000:1500])
        time.sleep(1.0)
        assert station.received == []
    with serving(store, port):  # nor after a restart
        station = Station(port)
        station.relay(sample[1500:])
        time.sleep(1.0)
        assert station.received == []
    log = [json.loads(line) for line in (uplink.outbox(store) / uplink.LOG).read_text().splitlines()]
    assert [(r["command_id"], r["outcome"], r["station"]) for r in log] == [("c1", "sent", "kashi")]
    assert "uplink: command c1 to spacecraft 3 through station kashi" in (tmp_path / "server.log").read_text()


def test_a_command_goes_to_the_station_it_names(tmp_path):
    store = tmp_path / "store.zarr"
    port = free_port()
    sample = make_packets(1000)
    with serving(store, port):
        kashi, sanya = Station(port, "kashi"), Station(port, "sanya")
        kashi.relay(sample[:200])
        sanya.relay(sample[200:400])  # sanya stored last, but the command names kashi
        post(store, "c2", START, START + 10 * MINUTE, station="kashi")
        kashi.relay(sample[400:600])
        assert wait_for(lambda: len(kashi.received) == 1)
        assert sanya.received == []


def test_an_expired_or_unreadable_command_is_not_sent_and_is_logged(tmp_path):
    store = tmp_path / "store.zarr"
    port = free_port()
    sample = make_packets(1000)
    with serving(store, port):
        station = Station(port)
        post(store, "late", START - 10 * MINUTE, START - MINUTE)  # its window closed before the stream began
        (uplink.outbox(store) / "bad.json").write_text('{"command_id": "bad", "packet": "zz"}')
        station.relay(sample)
        assert wait_for(lambda: (uplink.outbox(store) / "late.expired").exists()
                        and (uplink.outbox(store) / "bad.refused").exists())
        time.sleep(0.5)
        assert station.received == []
    outcomes = uplink.outcomes(store)
    assert outcomes["late"]["outcome"] == "expired"
    assert outcomes["bad"]["outcome"] == "refused" and "not an uplink entry" in outcomes["bad"]["reason"]
    log = (tmp_path / "server.log").read_text()
    assert "uplink: command late expired unsent" in log and "uplink: refused bad.json" in log
