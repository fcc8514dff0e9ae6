"""The control room's shared state: the alarm book (acknowledgements, shelves) and the command queue's history of
one measurement store, in one SQLite file, ``<store>/operations.sqlite3`` (:class:`twin.shared_sqlite.SharedSQLite`).
Every process of a server (``twin serve --num-procs N``), the command line (``twin ops``) and a restarted server
read and write the same file: each change is one transaction, so a check and the write that depends on it (is
the command still prepared? then claim it) are one step for all of them.

An earlier version kept them in ``alarms.json`` and ``commands.jsonl``: found beside an empty table, a file is
taken in once and renamed ``*.adopted``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from twin.shared_sqlite import SharedSQLite

STATE_FILE = "operations.sqlite3"
BUSY_TIMEOUT_S = 30.0  # a process waits this long for another's change (a refresh of every open command)
SCHEMA = ("CREATE TABLE IF NOT EXISTS alarm_marks (satellite TEXT NOT NULL, mark TEXT NOT NULL, record TEXT NOT NULL, "
          "PRIMARY KEY (satellite, mark))",
          "CREATE TABLE IF NOT EXISTS command_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, command_id TEXT NOT NULL, "
          "event TEXT NOT NULL, record TEXT NOT NULL)")


def state_file(store: str | Path) -> SharedSQLite:
    """The shared state of the store at ``store`` (the file is made at its first write)."""
    return SharedSQLite(Path(store) / STATE_FILE, SCHEMA, BUSY_TIMEOUT_S)


def adopt(file: SharedSQLite, legacy: Path, table: str, rows: Callable[[str], Iterable[tuple]], insert: str) -> None:
    """Take the file ``legacy`` of an earlier version in, once: its ``rows`` (of its text) into ``table`` with
    ``insert`` if the table is empty; the file then renamed ``<name>.adopted``."""
    if not legacy.exists():
        return
    with file.transaction() as db:
        if not legacy.exists():  # another process took it in meanwhile
            return
        if db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0:
            db.executemany(insert, rows(legacy.read_text()))
        os.replace(legacy, legacy.with_name(f"{legacy.name}.adopted"))
