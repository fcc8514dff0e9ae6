"""Benchmark the dashboard's sign-in under password guessing: how long an ordinary request waits meanwhile.

Starts ``twin serve`` (the demo users) as a process of its own on loopback. The ordinary request is
``GET /login``, which the server's event loop answers without building a page, sent one after the
other every 50 ms. Measured first alone (the reference, in this same run), then while ``--rate``
wrong logins per second arrive for ``--seconds``:

- *spread*: each from a loopback address (127.0.1.x) and an unknown user name of its own, the worst
  case for the server: a throttle per address and per user lets every first try reach the
  password check;
- *one guesser*: all from one address, for one user.

Prints the median and 90th percentile latency of the ordinary requests in each case and their
ratio to the reference, how the wrong logins were answered (HTTP status: 302 back to the form
after a check, 429 throttled, 503 busy) and how long they took, and the server's CPU. Every request
goes to this machine's loopback, for a bounded time.

    .venv/bin/python benchmarks/login.py [--rate 24] [--seconds 20]
"""

from __future__ import annotations

import argparse
import collections
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
USERS = ROOT / "apps" / "users.example.toml"
ORDINARY_EVERY_S = 0.05
ATTACK_THREADS = 64  # wrong logins in flight at once, at most
TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(port: int, method: str, path: str, form: dict | None = None, source: str = "127.0.0.1") -> int:
    """One request to the server on loopback from ``source``: its HTTP status (0 if it failed)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S, source_address=(source, 0))
    body = urllib.parse.urlencode(form) if form is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        connection.close()


def ordinary_latencies_s(port: int, seconds: float) -> np.ndarray:
    """``GET /login`` every :data:`ORDINARY_EVERY_S` for ``seconds``: each one's latency."""
    took = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        started = time.perf_counter()
        status = call(port, "GET", "/login")
        took.append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"GET /login answered {status}")
        time.sleep(max(0.0, ORDINARY_EVERY_S - took[-1]))
    return np.array(took)


def attack(port: int, rate: float, seconds: float, spread: bool, results: list) -> None:
    """``rate`` wrong logins per second for ``seconds``, each from an address and user of its own (``spread``) or
    all from one; appends (status, seconds taken) of each to ``results``."""
    def one(index: int) -> None:
        source = f"127.0.1.{1 + index % 250}" if spread else "127.0.0.2"
        user = f"guess-{index}" if spread else "chief"
        started = time.perf_counter()
        status = call(port, "POST", "/login", {"username": user, "password": f"wrong-{index}"}, source)
        results.append((status, time.perf_counter() - started))

    with ThreadPoolExecutor(ATTACK_THREADS) as pool:
        start = time.perf_counter()
        for index in range(int(rate * seconds)):
            time.sleep(max(0.0, start + index / rate - time.perf_counter()))
            pool.submit(one, index)


def summary(name: str, latencies_s: np.ndarray, reference_s: float | None) -> str:
    median, p90 = np.median(latencies_s) * 1e3, np.percentile(latencies_s, 90) * 1e3
    ratio = f" ({median / (reference_s * 1e3):.1f}x alone)" if reference_s else ""
    return (f"{name}: GET /login median {median:.1f} ms{ratio}, 90th percentile {p90:.1f} ms "
            f"({latencies_s.size} requests)")


def scrypt_cost() -> str:
    line = next(line for line in USERS.read_text().splitlines() if line.startswith("password = "))
    n, r, p = line.split("$")[1:4]
    return f"scrypt n={n}, r={r}, p={p}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=24.0, help="wrong logins per second (default 24)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each attack lasts (default 20)")
    args = parser.parse_args()

    from apps.server import wait_until_listening

    port = free_port()
    runs = tempfile.mkdtemp(prefix="twin-bench-login-")
    server = subprocess.Popen([sys.executable, "-m", "twin", "serve", "--users", str(USERS), "--runs", runs,
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_listening(port)
        cpu = psutil.Process(server.pid)
        print(f"server: twin serve on loopback, demo users ({scrypt_cost()}), {os.cpu_count()} cores")
        ordinary_latencies_s(port, 2.0)  # warm up
        reference = ordinary_latencies_s(port, args.seconds)
        reference_s = float(np.median(reference))
        print(summary("alone", reference, None))
        for spread, name in ((True, "spread"), (False, "one guesser")):
            results: list = []
            used = cpu.cpu_times()
            guessing = threading.Thread(target=attack, args=(port, args.rate, args.seconds, spread, results))
            started = time.perf_counter()
            guessing.start()
            latencies = ordinary_latencies_s(port, args.seconds)
            guessing.join()
            elapsed_s = time.perf_counter() - started
            now = cpu.cpu_times()
            statuses = collections.Counter(status for status, _ in results)
            took = np.array([seconds for _, seconds in results])
            print(summary(f"{args.rate:g} wrong logins/s, {name}", latencies, reference_s))
            print(f"  wrong logins answered: {', '.join(f'{s} x {c}' for s, c in sorted(statuses.items()))} "
                  f"in median {np.median(took) * 1e3:.0f} ms, at most {took.max():.2f} s; server CPU "
                  f"{(now.user + now.system - used.user - used.system) / elapsed_s:.2f} cores")
            time.sleep(2.0)
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
