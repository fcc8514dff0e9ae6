"""What stands between the login form and scrypt: a throttle per client address and per user name, and a
bounded pool of threads that check passwords off the server's event loop.

A password check costs about 0.5 s of CPU and 128 MiB (scrypt at OWASP's minimum, :mod:`apps.auth`).
On the event loop, every other request of every session would wait behind it; with no throttle, a
guesser would get as many tries as the CPU allows. So:

- :class:`LoginThrottle`: after ``free_failures`` wrong passwords for a key (an address, a user
  name), each further try waits ``first_delay_s``, doubling with each failure up to ``max_delay_s``;
  a try before then is refused at once, without hashing. A right password starts its keys afresh.
- :class:`PasswordChecks`: checks run in ``threads`` threads of their own (hashlib's scrypt releases
  the GIL), at most ``waiting`` more queue; past that a try is refused at once ("busy").
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

FREE_FAILURES = 3  # wrong passwords per address or user before the back-off starts
FIRST_DELAY_S, MAX_DELAY_S = 1.0, 300.0  # the back-off: 1 s, 2 s, 4 s ... up to 5 minutes per try
FORGET_AFTER_S = 3600.0  # an address or user with no failure for an hour starts afresh
MAX_KEYS = 100_000  # addresses and user names remembered at once (the oldest failures are forgotten first)
CHECK_THREADS, CHECKS_WAITING = 1, 4  # scrypt checks at once (128 MiB each) and queued behind them


def throttle_keys(address: str, name: str) -> tuple[str, str]:
    """The throttle's keys for a try from client ``address`` as user ``name``: the address (for IPv6 its /64
    network, as one host may hold a whole /64; an IPv4-mapped one as IPv4) and the name."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"address {address}", f"user {name}"
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 6:
        return f"address {ipaddress.ip_network(f'{ip}/64', strict=False)}", f"user {name}"
    return f"address {ip}", f"user {name}"


class LoginThrottle:
    """Exponential back-off after wrong passwords, per key (``"address 10.0.0.7"``, ``"user vera"``).

    A try is allowed when no key of it is backing off (:meth:`wait_s` is 0). While it is checked it
    counts as wrong (:meth:`start`), so tries sent at once cannot slip past the count; :meth:`failed`
    runs the back-off from the moment it is known to be wrong; :meth:`succeeded` forgets its keys.
    """

    def __init__(self, free_failures: int = FREE_FAILURES, first_delay_s: float = FIRST_DELAY_S,
                 max_delay_s: float = MAX_DELAY_S, forget_after_s: float = FORGET_AFTER_S, max_keys: int = MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic):
        self.free_failures, self.first_delay_s, self.max_delay_s = free_failures, first_delay_s, max_delay_s
        self.forget_after_s, self.max_keys, self.clock = forget_after_s, max_keys, clock
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (failures, time of the last), oldest first

    def __len__(self) -> int:
        return len(self._failures)

    def _delay_s(self, failures: int) -> float:
        if failures < self.free_failures:
            return 0.0
        return min(self.first_delay_s * 2.0 ** (failures - self.free_failures), self.max_delay_s)

    def wait_s(self, keys: Iterable[str]) -> float:
        """Seconds until a try for ``keys`` is allowed (0: now)."""
        now = self.clock()
        waits = [last + self._delay_s(failures) - now for failures, last in
                 (self._failures.get(key, (0, now)) for key in keys)]
        return max([0.0, *waits])

    def _record(self, keys: Iterable[str], more: int) -> None:
        now = self.clock()
        for key in keys:
            failures, _ = self._failures.pop(key, (0, now))
            self._failures[key] = (failures + more, now)  # to the end: the newest
        self._forget(now)

    def _forget(self, now: float) -> None:
        while self._failures:
            oldest = next(iter(self._failures))
            if len(self._failures) <= self.max_keys and now - self._failures[oldest][1] <= self.forget_after_s:
                break
            del self._failures[oldest]

    def start(self, keys: Iterable[str]) -> None:
        """A try for ``keys`` is being checked: it counts as a wrong password until :meth:`succeeded`."""
        self._record(keys, 1)

    def failed(self, keys: Iterable[str]) -> None:
        """The try was wrong: its back-off runs from now."""
        self._record(keys, 0)

    def succeeded(self, keys: Iterable[str]) -> None:
        """The try was right: ``keys`` start afresh."""
        for key in keys:
            self._failures.pop(key, None)


class PasswordChecks:
    """Password checks in ``threads`` threads of their own, with at most ``waiting`` more queued behind them."""

    def __init__(self, threads: int = CHECK_THREADS, waiting: int = CHECKS_WAITING):
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="password-check")
        self._limit = threads + waiting
        self._pending = 0
        self._lock = threading.Lock()

    def _done(self, _future) -> None:
        with self._lock:
            self._pending -= 1

    def submit(self, check: Callable, *args) -> asyncio.Future | None:
        """``check(*args)`` in the pool, as a future of the running event loop; ``None`` if the queue is full."""
        with self._lock:
            if self._pending >= self._limit:
                return None
            self._pending += 1
        future = self._pool.submit(check, *args)
        future.add_done_callback(self._done)
        return asyncio.wrap_future(future)
