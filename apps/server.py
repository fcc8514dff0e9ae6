"""Serving the dashboard with sign-in: what ``twin serve``, the browser tests and the benchmark start."""

from __future__ import annotations

import atexit
import os
import secrets
import socket
import time

import panel as pn
from tornado.ioloop import PeriodicCallback

from .dashboard import TITLE, DashboardConfig, create_app
from .demo_users import check_demo_users
from .login import SESSION_COOKIE, PasswordAuthProvider
from .runs import shutdown_catalogues

COOKIE_SECRET_ENV = "TWIN_COOKIE_SECRET"  # the key signing the cookies; else a new secret per process


def serve(config: DashboardConfig, port: int = 5006, address: str = "localhost", threaded: bool = False,
          ssl_certfile: str | None = None, ssl_keyfile: str | None = None, num_procs: int = 1):
    """Serve the dashboard at ``http://address:port/`` (``https://`` with a certificate and its key, PEM files),
    every page behind the sign-in of ``config.users``, from ``num_procs`` processes sharing the port (Bokeh forks
    them; 0: one per core), its sessions' pages spread over them by the kernel. They share the cookie secret
    (made before the fork) and the signed-in sessions (:class:`apps.sessions.SessionBook`, a file); each process
    reads or simulates the runs its pages ask for itself.

    Blocks until stopped; with ``threaded``, serves from a thread and returns it (``.stop()`` ends it).
    :class:`apps.auth.UsersFileError` if ``config.users`` holds the demo users and ``address`` is not
    loopback (:func:`apps.demo_users.check_demo_users`; the warning on loopback is the caller's to show).
    """
    if config.users is None:
        raise ValueError("users: the dashboard is served with sign-in only; give a users file")
    if num_procs != 1 and threaded:
        raise ValueError(f"num_procs: {num_procs} processes cannot be served from a thread; give 1")
    check_demo_users(config.users, address)
    atexit.register(shutdown_catalogues)
    def app():  # a function, so that each session gets its own page
        return create_app(config)

    origins = sorted({f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"})
    server = pn.serve(app, port=port, address=address, websocket_origin=origins, start=num_procs == 1,
                    show=False, threaded=threaded, title=TITLE, verbose=not threaded,
                    auth_provider=PasswordAuthProvider(config.users),
                    exclude_cookies=[SESSION_COOKIE],  # not in the page's session token, which its scripts can read
                    cookie_secret=os.environ.get(COOKIE_SECRET_ENV) or secrets.token_hex(32),
                    ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile, num_procs=num_procs)
    if num_procs != 1:  # in each forked process from here on
        end_with_parent(server.io_loop)
        server.start()
        server.io_loop.start()
    return server


def end_with_parent(io_loop, every_s: float = 1.0) -> None:
    """Stop ``io_loop`` once the process that forked this one has ended: Tornado's parent of the server processes
    dies of a plain ``kill`` without passing it on, which would leave them serving."""
    parent = os.getppid()

    def check() -> None:
        if os.getppid() != parent:
            io_loop.stop()

    PeriodicCallback(check, every_s * 1e3).start()


def wait_until_listening(port: int, timeout_s: float = 60.0, address: str = "localhost") -> None:
    """Return once something accepts connections at ``address:port`` (a server started in a thread or a
    process listens a moment later); :class:`TimeoutError` naming the port after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"port {port}: nothing listening at {address} after {timeout_s:g} s")
