"""One control room served by several processes (``twin serve --num-procs N --telemetry``): the alarm book and the
command queue are one SQLite file in the store, so an acknowledgement or a shelve made in one process is seen in
the others and after a restart, two processes sending or refreshing the same command at once uplink it and log each
step of it once, and a process killed while sending leaves the command recoverable, never sent twice."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from test_dashboard import USERS
from test_dashboard_signin import ROOT, call, free_port, sign_in
from test_telemetry import STOP_S

from twin.operations.alarms import AlarmBook
from twin.operations.queue import CommandQueue, QueueError
from twin.operations.windows import CommandWindows
from twin.telemetry import uplink

FORK = multiprocessing.get_context("fork")  # as Bokeh forks the server's processes
RACES = 25


class Person:
    def __init__(self, name: str, role: str):
        self.name, self.roles = name, frozenset({role})


OLGA, OTTO = Person("olga", "operator"), Person("otto", "operator")


def symptoms_of(*satellites: str) -> pd.DataFrame:
    return pd.DataFrame({"satellite": list(satellites), "variable": "temperature:payload", "kind": "limit",
                         "severity": "critical"})


def in_processes(count: int, work, *args) -> list:
    """``work(index, barrier, *args)`` in ``count`` forked processes started together; their answers by index."""
    barrier, answers = FORK.Barrier(count), FORK.Queue()

    def run(index: int) -> None:
        try:
            answers.put((index, work(index, barrier, *args)))
        except BaseException as error:  # noqa: BLE001 - the test shows what went wrong in the child
            answers.put((index, f"{type(error).__name__}: {error}"))

    processes = [FORK.Process(target=run, args=(index,)) for index in range(count)]
    for process in processes:
        process.start()
    results = dict(answers.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(30)
    return [results[index] for index in range(count)]


# -- alarms ---------------------------------------------------------------------------------------------------


def test_acknowledgements_and_shelves_made_in_one_book_are_seen_by_another_and_after_a_restart(tmp_path):
    now = np.datetime64("2030-03-20T06:00:00")
    here, there = AlarmBook(tmp_path), AlarmBook(tmp_path)  # as two server processes hold them
    here.acknowledge(OLGA, "CC1-001-02", now, symptoms_of("CC1-001-02"))
    there.shelve(OTTO, "CC1-002-01", now + np.timedelta64(3600, "s"), reason="radiator checked")
    assert there.records()["CC1-001-02"]["acknowledged"]["user"] == "olga"
    assert here.records()["CC1-002-01"]["shelved"] | {"time": ""} == {"user": "otto", "time": "",
                                                                       "until": "2030-03-20T07:00:00",
                                                                       "reason": "radiator checked"}
    there.forget_cleared({"CC1-002-01"})  # CC1-001-02's alarm cleared, seen in the other process
    assert "acknowledged" not in here.records().get("CC1-001-02", {})
    restarted = AlarmBook(tmp_path)
    assert restarted.records()["CC1-002-01"]["shelved"]["user"] == "otto"
    with sqlite3.connect(restarted.path) as db:  # a SQLite file in WAL mode: readers never wait for a writer
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_process_whose_view_lags_does_not_forget_an_acknowledgement_made_in_another(tmp_path):
    now = np.datetime64("2030-03-20T06:00:00")
    AlarmBook(tmp_path).acknowledge(OLGA, "CC1-001-02", now, symptoms_of("CC1-001-02"))
    lagging = AlarmBook(tmp_path)
    lagging.forget_cleared(set(), newest=now - np.timedelta64(10, "s"))  # its view older: no alarm there yet
    assert lagging.records()["CC1-001-02"]["acknowledged"]["user"] == "olga"
    lagging.forget_cleared(set(), newest=now + np.timedelta64(10, "s"))  # newer, and the alarm has cleared
    assert lagging.records() == {}


def _acknowledge_many(index: int, barrier, store, satellites: list[str]) -> int:
    book, who = AlarmBook(store), (OLGA, OTTO)[index]
    barrier.wait()
    for satellite in satellites[index::2]:
        book.acknowledge(who, satellite, np.datetime64("2030-03-20T06:00:00"), symptoms_of(satellite))
        book.shelve(who, satellite, np.datetime64("2030-03-20T07:00:00"))
    return len(book.records())


def test_two_processes_acknowledging_at_once_lose_nothing(tmp_path):
    satellites = [f"CC1-{plane:03d}-{slot:02d}" for plane in range(1, 6) for slot in range(1, 9)]
    assert all(isinstance(count, int) for count in in_processes(2, _acknowledge_many, tmp_path, satellites))
    records = AlarmBook(tmp_path).records()
    assert sorted(records) == sorted(satellites)
    for satellite, index in zip(satellites, [0, 1] * len(satellites)):
        who = (OLGA, OTTO)[index].name
        assert (records[satellite]["acknowledged"]["user"], records[satellite]["shelved"]["user"]) == (who, who)


# -- commands ---------------------------------------------------------------------------------------------------

SATELLITE = "CC1-001-03"


@pytest.fixture(scope="module")
def windows(phase1):
    return CommandWindows(phase1, np.datetime64(phase1.epoch.utc.isot, "ns"), ahead_s=3 * 3600, step_s=60)


@pytest.fixture
def queue(tmp_path, phase1, windows):
    return CommandQueue(tmp_path / "store", phase1, windows=windows)


def _prepare_many(index: int, barrier, queue) -> list[str]:
    barrier.wait()
    return [queue.prepare(OLGA, SATELLITE, "set_compute_cap", {"compute_cap": 0.5}, queue.windows.start).command_id
            for _ in range(RACES)]


def test_two_processes_preparing_at_once_get_distinct_commands(queue):
    first, second = in_processes(2, _prepare_many, queue)
    assert isinstance(first, list) and isinstance(second, list), (first, second)
    assert len(set(first) | set(second)) == 2 * RACES
    commands = queue.commands()
    assert len(commands) == 2 * RACES
    assert len({command.sequence_count for command in commands.values()}) == 2 * RACES  # the satellite tells them apart


def _send_each(index: int, barrier, queue, command_ids: list[str]) -> list[str]:
    sent = []
    for command_id in command_ids:
        barrier.wait()  # a race per command
        try:
            queue.send((OLGA, OTTO)[index], command_id, queue.windows.start)
            sent.append(command_id)
        except QueueError as error:
            assert f"command {command_id}: it is " in str(error)
    return sent


def test_two_processes_sending_the_same_command_at_once_uplink_it_once(queue, monkeypatch):
    now = queue.windows.start
    command_ids = [queue.prepare(OLGA, SATELLITE, "heaters", {"heater_mode": 1}, now).command_id for _ in range(RACES)]
    posts = FORK.Queue()
    post = uplink.post
    monkeypatch.setattr(uplink, "post", lambda store, command_id, *rest: (posts.put(command_id),
                                                                          post(store, command_id, *rest))[1])
    first, second = in_processes(2, _send_each, queue, command_ids)
    assert isinstance(first, list) and isinstance(second, list), (first, second)
    assert sorted(first + second) == command_ids  # each sent by one of them
    posted = [posts.get(timeout=5) for _ in range(RACES)]
    assert sorted(posted) == command_ids and posts.empty()  # each put in the outbox once
    queued = [event["command_id"] for event in queue.history() if event["event"] == "queued"]
    assert sorted(queued) == command_ids
    assert {command.status for command in queue.commands().values()} == {"queued"}


def _refresh(index: int, barrier, queue, now) -> int:
    barrier.wait()
    return len(queue.refresh(now, groups={}))


def test_two_processes_refreshing_at_once_log_each_step_once(queue):
    now = queue.windows.start
    command_ids = [queue.submit(OLGA, SATELLITE, "heaters", {"heater_mode": 1}, now).command_id for _ in range(RACES)]
    for command_id in command_ids:  # the ingest server sent them all
        uplink.log(queue.store, command_id, "sent", station="kashi", clock=str(now))
    for attempt in range(3):
        assert in_processes(2, _refresh, queue, now) == [RACES, RACES]
    sent = [event["command_id"] for event in queue.history() if event["event"] == "sent"]
    assert sorted(sent) == command_ids
    assert {command.status for command in queue.commands().values()} == {"sent"}


def _killed_while_sending(queue, after_posting: bool) -> str:
    """A command prepared, then claimed by a process killed in the outbox's write (``after_posting``: once the
    packet is there); its id."""
    command_id = queue.prepare(OLGA, SATELLITE, "heaters", {"heater_mode": 1}, queue.windows.start).command_id
    post = uplink.post

    def dies(store, *rest):
        if after_posting:
            post(store, *rest)
        os._exit(9)  # killed: the queue never told

    def sender() -> None:
        uplink.post = dies
        queue.send(OLGA, command_id, queue.windows.start)

    process = FORK.Process(target=sender)
    process.start()
    process.join(60)
    assert process.exitcode == 9
    return command_id


def test_a_command_whose_sender_died_before_the_outbox_may_be_sent_again(queue):
    now, command_id = queue.windows.start, _killed_while_sending(queue, after_posting=False)
    assert queue.commands()[command_id].status == "sending"  # claimed by a process now gone
    assert queue.refresh(now, groups={})[command_id].status == "prepared"
    sent = queue.send(OTTO, command_id, now)
    assert (sent.status, sent.sent_by, sent.reason) == ("queued", "otto", "")
    assert [path.name for path in uplink.outbox(queue.store).glob(f"{command_id}.*")] == \
        [f"{command_id}.json"]
    events = [event["event"] for event in queue.history() if event["command_id"] == command_id]
    assert events == ["prepared", "sending", "unclaimed", "sending", "queued"]


def test_a_command_whose_sender_died_after_the_outbox_is_never_sent_twice(queue):
    now, command_id = queue.windows.start, _killed_while_sending(queue, after_posting=True)
    path = uplink.outbox(queue.store) / f"{command_id}.json"
    assert uplink.settle(path, "sent")  # the ingest server sent it meanwhile
    with pytest.raises(QueueError, match=f"command {command_id}: it is queued, not prepared"):
        queue.send(OTTO, command_id, now)  # found in the outbox: queued, in the window it was claimed for
    assert [path.name for path in uplink.outbox(queue.store).glob(f"{command_id}.*")] == \
        [f"{command_id}.sent"]
    recovered = queue.commands()[command_id]
    assert recovered.status == "queued" and recovered.sent_by == "olga" and recovered.window is not None


def test_a_claim_whose_process_number_was_taken_again_is_settled(queue):
    """The sender died, and its process number now belongs to another process (here: process 1, as after a
    reboot): the claim is settled, not kept as ``sending`` for ever."""
    now, command_id = queue.windows.start, _killed_while_sending(queue, after_posting=False)
    with queue.file.transaction() as db:
        seq, record = db.execute("SELECT seq, record FROM command_events WHERE event = 'sending'").fetchone()
        claim = json.loads(record)
        assert claim["pid_started"]  # this machine says when a process started
        claim.update(pid=1, pid_started=f"an-earlier-boot:{claim['pid_started'].split(':')[1]}")
        db.execute("UPDATE command_events SET record = ? WHERE seq = ?", (json.dumps(claim), seq))
    assert queue.refresh(now, groups={})[command_id].status == "prepared"
    assert queue.send(OTTO, command_id, now).status == "queued"


def test_the_files_of_an_earlier_version_are_taken_in_once(tmp_path, phase1, windows, queue):
    now = queue.windows.start
    queue.prepare(OLGA, SATELLITE, "heaters", {"heater_mode": 1}, now)
    events = queue.history()
    shelved = {"user": "otto", "time": "2030-03-20T06:00:00+00:00", "until": "", "reason": ""}
    marks = {"CC1-001-02": {"shelved": shelved}}
    store = tmp_path / "old"
    store.mkdir()
    (store / "commands.jsonl").write_text("".join(f"{json.dumps(event)}\n" for event in events) + '{"event": "cut')
    (store / "alarms.json").write_text(json.dumps(marks))
    assert CommandQueue(store, phase1, windows=windows).history() == events
    assert AlarmBook(store).records() == marks
    assert sorted(path.name for path in store.iterdir() if "adopted" in path.name) == ["alarms.json.adopted",
                                                                                      "commands.jsonl.adopted"]
    assert CommandQueue(store, phase1, windows=windows).history() == events  # once


# -- the server ----------------------------------------------------------------------------------------------------


def test_twin_serve_with_two_processes_and_a_telemetry_store_serves_pages_from_both(tmp_path):
    """The dashboard following a telemetry store (``--telemetry``, no longer refused) from two processes: each page
    on a connection of its own, which the kernel hands to either; every page is served, and both processes build
    pages (a page costs about a second of CPU)."""
    import psutil

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "twin", "serve", "--users", str(USERS), "--port", str(port),
                                "--num-procs", "2", "--telemetry", str(tmp_path / "live.zarr")], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        from apps.server import wait_until_listening

        wait_until_listening(port, timeout_s=90)
        deadline = time.monotonic() + 60  # the port is bound before the processes are forked
        while len(servers := psutil.Process(process.pid).children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(servers) == 2, servers
        idle_s = [sum(server.cpu_times()[:2]) for server in servers]
        base_url = f"http://localhost:{port}"
        cookies = sign_in(base_url, "operator", "127.0.0.21")
        answers = [call(base_url, "GET", "/", cookies=cookies) for _ in range(10)]
        assert [status for status, _, _ in answers] == [200] * 10
        busy_s = [sum(server.cpu_times()[:2]) - idle for server, idle in zip(servers, idle_s)]
        assert min(busy_s) > 0.3, busy_s
    finally:
        process.terminate()  # its server processes end with it
        _, stderr = process.communicate(timeout=STOP_S)
    assert "Traceback" not in stderr, stderr
