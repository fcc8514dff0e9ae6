"""The SQLite file the processes of one server share (:mod:`twin.shared_sqlite`): processes that open a file that
does not exist yet, all at once, each get to write. SQLite answers the loser of the race to switch a new file to
WAL "database is locked" at once, without its busy timeout: CI failed so once, in
``test_operations_shared.py::test_two_processes_preparing_at_once_get_distinct_commands``."""

from __future__ import annotations

import multiprocessing

from twin.shared_sqlite import SharedSQLite

FORK = multiprocessing.get_context("fork")  # as Bokeh forks the server's processes
PROCESSES, TRIALS = 8, 60  # before the fix: about one trial in seven had a process refused
SCHEMA = ("CREATE TABLE IF NOT EXISTS marks (process INTEGER NOT NULL)",)


def _open_and_write(path, barrier, answers, index: int) -> None:
    file = SharedSQLite(path, SCHEMA)
    barrier.wait()
    try:
        with file.transaction() as db:
            db.execute("INSERT INTO marks (process) VALUES (?)", (index,))
        answers.put("ok")
    except Exception as error:  # noqa: BLE001 - the test shows what went wrong in the child
        answers.put(f"{type(error).__name__}: {error}")


def test_processes_opening_a_new_file_at_once_all_write(tmp_path):
    refused = []
    for trial in range(TRIALS):
        path = tmp_path / f"trial{trial}" / "state.sqlite3"
        barrier, answers = FORK.Barrier(PROCESSES), FORK.Queue()
        processes = [FORK.Process(target=_open_and_write, args=(path, barrier, answers, index))
                     for index in range(PROCESSES)]
        for process in processes:
            process.start()
        refused += [answer for answer in (answers.get(timeout=60) for _ in processes) if answer != "ok"]
        for process in processes:
            process.join(30)
        rows = SharedSQLite(path, SCHEMA).connection().execute("SELECT count(*) FROM marks").fetchone()[0]
        assert rows == PROCESSES - len(refused), (trial, refused)
    assert not refused, f"{len(refused)} processes refused over {TRIALS} trials: {refused[:3]}"
