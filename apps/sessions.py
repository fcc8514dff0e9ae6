"""Signed-in sessions the server holds, so that signing out ends one for good.

A signed cookie alone stays valid until it expires, wherever it was copied to. Each sign-in here
gets a random id (32 bytes) that the server keeps, with the user's name and when it ends; the
browser holds the id in a cookie. Sign-out forgets the id, and with it every copy of the cookie.
Sessions live in the server's memory: a restart signs everyone out.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

MAX_SESSIONS_PER_USER = 64  # a user's oldest session ends when they sign in once more than this


class SessionBook:
    """The live sessions of a server: id -> (user name, end time in ``clock`` seconds)."""

    def __init__(self, max_age_s: float, clock: Callable[[], float] = time.time):
        self.max_age_s, self.clock = max_age_s, clock
        self._sessions: dict[str, tuple[str, float]] = {}  # oldest first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def open(self, name: str) -> str:
        """A new session of user ``name``: its id, for the browser's cookie."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self._sessions = {key: (user, ends) for key, (user, ends) in self._sessions.items() if ends > now}
            users = [key for key, (user, _) in self._sessions.items() if user == name]
            for key in users[:max(0, len(users) + 1 - MAX_SESSIONS_PER_USER)]:
                del self._sessions[key]
            self._sessions[session_id] = (name, now + self.max_age_s)
        return session_id

    def user(self, session_id: str | None) -> str | None:
        """The user of a live session ``session_id``, else ``None`` (unknown, signed out or ended)."""
        name, ends = self._sessions.get(session_id or "", (None, 0.0))
        return name if ends > self.clock() else None

    def close(self, session_id: str | None) -> None:
        """End session ``session_id`` (sign-out); nothing if it is not live."""
        with self._lock:
            self._sessions.pop(session_id or "", None)
