"""Signed-in sessions the server holds, so that signing out ends one for good, in every server process.

A signed cookie alone stays valid until it expires, wherever it was copied to. Each sign-in here
gets a random id (32 bytes) that the server keeps, with the user's name and when it ends; the
browser holds the id in a cookie. Sign-out forgets the id, and with it every copy of the cookie.

The book is a small SQLite file, so that the processes of one server (``twin serve --num-procs N``:
Bokeh forks them after the book is made) share it: a sign-in in one is known to all, a sign-out in
one ends the session in all. Without a path the file is a temporary one of the server's, removed
when the process that made it ends: a restart signs everyone out.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from twin.shared_sqlite import SharedSQLite

MAX_SESSIONS_PER_USER = 64  # a user's oldest session ends when they sign in once more than this
BUSY_TIMEOUT_S = 5.0  # a process waits this long for another's write to the book
SCHEMA = ("CREATE TABLE IF NOT EXISTS sessions (opened INTEGER PRIMARY KEY AUTOINCREMENT, "
          "id TEXT NOT NULL UNIQUE, user TEXT NOT NULL, ends REAL NOT NULL)")


def _temporary_book() -> Path:
    """A fresh file path in a directory of its own, removed when this process (not a fork of it) ends."""
    directory = tempfile.mkdtemp(prefix="twin-sessions-")
    maker = os.getpid()
    atexit.register(lambda: os.getpid() == maker and shutil.rmtree(directory, ignore_errors=True))
    return Path(directory) / "sessions.sqlite3"


class SessionBook:
    """The live sessions of a server: id -> (user name, end time in ``clock`` seconds), in the SQLite file
    ``path`` (default: a temporary one), shared by every process and thread that opens the same file."""

    def __init__(self, max_age_s: float, clock: Callable[[], float] = time.time, path: str | Path | None = None):
        self.max_age_s, self.clock = max_age_s, clock
        self.path = Path(path) if path is not None else _temporary_book()
        self._file = SharedSQLite(self.path, [SCHEMA], BUSY_TIMEOUT_S)
        self._file.connection()  # made now, before a server forks its processes

    def __len__(self) -> int:
        return self._file.connection().execute("SELECT count(*) FROM sessions").fetchone()[0]

    def open(self, name: str) -> str:
        """A new session of user ``name``: its id, for the browser's cookie."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self._file.transaction() as db:  # one transaction
            db.execute("DELETE FROM sessions WHERE ends <= ?", (now,))
            db.execute("DELETE FROM sessions WHERE opened IN (SELECT opened FROM sessions WHERE user = ? "
                       "ORDER BY opened DESC LIMIT -1 OFFSET ?)", (name, MAX_SESSIONS_PER_USER - 1))
            db.execute("INSERT INTO sessions (id, user, ends) VALUES (?, ?, ?)", (session_id, name, now + self.max_age_s))
        return session_id

    def user(self, session_id: str | None) -> str | None:
        """The user of a live session ``session_id``, else ``None`` (unknown, signed out or ended)."""
        row = self._file.connection().execute("SELECT user FROM sessions WHERE id = ? AND ends > ?",
                                 (session_id or "", self.clock())).fetchone()
        return row[0] if row else None

    def close(self, session_id: str | None) -> None:
        """End session ``session_id`` (sign-out); nothing if it is not live."""
        with self._file.transaction() as db:
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id or "",))
