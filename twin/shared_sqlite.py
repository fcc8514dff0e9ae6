"""A small SQLite file that the processes and threads of one machine share: each thread of each process gets a
connection of its own (a connection must not cross a fork: a server's processes are forked after the file is
opened), in WAL mode so that readers never wait for a writer, and a write is one transaction that takes the
file's lock at its start (``BEGIN IMMEDIATE``), so a check and the write that depends on it are one step for
every process. What the sign-in sessions (:mod:`apps.sessions`) and the control room's alarm book and command
queue (:mod:`twin.operations.state`) keep.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


class SharedSQLite:
    """The SQLite file at ``path`` with the tables of ``schema`` (``CREATE TABLE IF NOT EXISTS`` statements); a
    process waits up to ``busy_timeout_s`` for another's write."""

    def __init__(self, path: str | Path, schema: Sequence[str], busy_timeout_s: float = 5.0):
        self.path, self.schema, self.busy_timeout_s = Path(path), tuple(schema), busy_timeout_s
        self._local = threading.local()  # (process id, connection) per thread

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (a new one in a forked process), the file and its tables made if need be."""
        held = getattr(self._local, "held", None)
        if held is None or held[0] != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None,
                                         check_same_thread=False)
            self._prepare(connection)
            held = self._local.held = (os.getpid(), connection)
        return held[1]

    def _prepare(self, connection: sqlite3.Connection) -> None:
        """WAL mode and the tables. Processes opening a new file at once race to switch it to WAL, and SQLite
        answers the loser "database is locked" at once, without waiting ``busy_timeout_s``: so try again until then."""
        give_up = time.monotonic() + self.busy_timeout_s
        while True:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                for statement in self.schema:
                    connection.execute(statement)
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > give_up:
                    raise
                time.sleep(0.01)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, the file locked from its start: committed at the end, rolled back on an error."""
        connection = self.connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
