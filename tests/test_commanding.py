"""Commanding end to end on loopback: the queue, the ingest server's uplink and a live virtual fleet in their own
processes. An operator's command waits for its satellite's window, goes up through the station's connection, is
accepted and executed on board, and its effect is verified in the telemetry; engineers and viewers may not send,
and a malformed command is refused with its reason; all of it in the history."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import pytest

from test_telemetry import TOKEN, free_port, start_server, stop_process

from twin.operations.queue import CommandQueue
from twin.operations.roles import NotPermitted
from twin.operations.windows import CommandWindows
from twin.telemetry.store import open_measurements
from twin.telemetry.telecommands import CommandError

SATELLITE = "CC1-001-03"


@dataclass(frozen=True)
class Person:
    name: str
    roles: frozenset


OPERATOR, ENGINEER, VIEWER = (Person("olga", frozenset({"operator"})), Person("emil", frozenset({"engineer"})),
                              Person("vera", frozenset({"viewer"})))


def newest(store) -> np.datetime64 | None:
    groups = open_measurements(store)
    times = [group["time"][-1].values for group in groups.values() if group.sizes["record"]]
    return max(times) if times else None


def wait_for(predicate, timeout_s: float, every_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    return predicate()


@pytest.fixture(scope="module")
def flying(tmp_path_factory, phase1):
    """An ingest server, phase 1 flown live at 30 x real time sending to it from its epoch, and the command
    windows from then (found before the fleet flies, so that the test's first command is sent well before its
    satellite's first window)."""
    windows = CommandWindows(phase1, np.datetime64(phase1.epoch.utc.isot, "ns"))
    store = tmp_path_factory.mktemp("ops") / "store.zarr"
    port = free_port()
    server = start_server(store, port)
    fleet = subprocess.Popen([sys.executable, "-m", "twin", "telemetry", "fly", "phase1", "--to", f"127.0.0.1:{port}",
                              "--speed", "30", "--duration", "2h", "--station", "kashi"],
                             env={**os.environ, "TWIN_TELEMETRY_TOKEN": TOKEN}, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    assert wait_for(lambda: newest(store) if (store / "commit.json").exists() else None, 120), fleet.stdout.read()
    yield store, fleet, windows
    stop_process(fleet)
    stop_process(server)


def test_a_command_waits_for_its_window_executes_and_is_verified(flying, phase1):
    store, fleet, windows = flying
    queue = CommandQueue(store, phase1, windows=windows)
    now = newest(store)
    row = queue.names.index(SATELLITE)
    window = windows.next_window(row, now)
    assert window.opens > now, "the satellite should be out of reach when the command is sent"

    command = queue.submit(OPERATOR, SATELLITE, "set_compute_cap", {"compute_cap": 0.05}, now)
    assert command.status == "queued" and command.sent_by == "olga"
    assert np.datetime64(command.window[0]) == np.datetime64(window.opens, "ms")

    def verified():
        commands = queue.refresh(newest(store))
        return commands[command.command_id] if commands[command.command_id].done else None

    done = wait_for(verified, 240, every_s=1.0)
    assert done is not None, (queue.commands()[command.command_id], fleet.stdout)
    assert done.status == "verified", done
    assert list(done.stages) == ["prepared", "queued", "sent", "accepted", "executed", "verified"]
    sent = np.datetime64(done.stages["sent"])
    assert sent >= np.datetime64(window.opens, "ms"), "sent before the window opened"
    assert np.datetime64(done.stages["sent"]) <= np.datetime64(done.stages["accepted"]) <= np.datetime64(done.stages["executed"])
    assert "compute utilisation at most" in done.reason and done.station == "kashi"
    events = [event["event"] for event in queue.history() if event["command_id"] == command.command_id]
    assert events == ["prepared", "sending", "queued", "sent", "accepted", "executed", "verified"]  # claimed first


def test_engineers_and_viewers_may_not_send_and_bad_commands_are_refused_with_their_reason(flying, phase1):
    store, _, windows = flying
    queue = CommandQueue(store, phase1, windows=windows)
    now = newest(store)
    with pytest.raises(NotPermitted, match="emil \\(engineer\\) may not send a command: that needs the operator role"):
        queue.submit(ENGINEER, SATELLITE, "safe_mode", {"enter": 1}, now)
    prepared = queue.prepare(ENGINEER, SATELLITE, "safe_mode", {"enter": 1}, now)  # an engineer prepares
    assert prepared.status == "prepared" and prepared.prepared_by == "emil"
    with pytest.raises(NotPermitted, match="emil \\(engineer\\) may not send"):
        queue.send(ENGINEER, prepared.command_id, now)
    with pytest.raises(NotPermitted, match="vera \\(viewer\\) may not prepare a command"):
        queue.prepare(VIEWER, SATELLITE, "safe_mode", {"enter": 1}, now)
    with pytest.raises(CommandError, match="set_compute_cap.compute_cap: 1.5 is outside its range 0 to 1"):
        queue.submit(OPERATOR, SATELLITE, "set_compute_cap", {"compute_cap": 1.5}, now)
    refused = [event for event in queue.history() if event["event"] == "refused"]
    assert [event["user"] for event in refused] == ["emil", "emil", "vera", "olga"]
    assert all(event["reason"] for event in refused)
    assert queue.commands()[prepared.command_id].status == "prepared"  # an operator may still send it
