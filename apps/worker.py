"""The dashboard's background simulator: one spawned process that runs the twin while the server keeps serving.

A run of the twin holds the GIL for much of its time; in the server's own process it would stall
every session. Here it runs in a worker process started with ``spawn`` (a fresh interpreter: none
of the server's threads, sockets or OpenGL contexts are copied into it). The worker reports each
unit of its plan's work done (:mod:`twin.run.progress`: the count the terminal's bar shows too) through
a queue, which a thread of the server reads into the job's progress; the finished run comes back
through the future.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twin.operations.forecast import LiveState

_progress_queue = None  # in the worker: where to report the work done


@dataclass(frozen=True)
class RunRequest:
    """A twin run to make: a scenario's tables (checked by the server already) and how to run it."""

    tables: dict  # the scenario as parsed TOML, what-if changes applied
    source: str   # the scenario file it came from (kept in the run's attributes)
    duration_s: float
    step_s: float
    representatives: bool
    network: bool
    live: LiveState | None = None  # start from this live state (a what-if forked from live) instead of the epoch


def report_progress(key: str, done: float, total: float) -> None:
    """In the worker: ``done`` units of ``total`` of run ``key``'s work are done (to its ``progress`` callback)."""
    _progress_queue.put((key, done, total))


def _exit_with_parent() -> None:
    """End this worker when the server's process ends, however it ends (a killed server leaves no orphan)."""
    multiprocessing.connection.wait([multiprocessing.parent_process().sentinel])
    os._exit(0)


def _start_worker(queue) -> None:
    global _progress_queue
    _progress_queue = queue
    threading.Thread(target=_exit_with_parent, name="twin-parent-watch", daemon=True).start()
    import twin  # noqa: F401  (loaded once as the worker starts, not in its first run)


def _simulate(key: str, request: RunRequest):
    from twin.scenario import scenario_from_dict
    from twin.run.simulate import run_scenario

    scenario = scenario_from_dict(request.tables, request.source)
    report = lambda progress: _progress_queue.put((key, progress.done, progress.total))
    if request.live is not None:
        from twin.operations.forecast import run_from_live

        return run_from_live(scenario, request.live, request.duration_s, request.step_s, progress=report,
                             network=request.network)
    return run_scenario(scenario, None, request.duration_s, request.step_s, report,
                        representatives=request.representatives, network=request.network)


def _build_up(key: str, scenario_source: str, out: str):
    """The build-up run of the scenario file ``scenario_source``, stored at ``out``: read if a complete run of the same
    scenario text is there, else run (resuming an interrupted one, :func:`twin.lifecycle.run_lifecycle`)."""
    from pathlib import Path

    from twin.dataset import open_run
    from twin.lifecycle import run_lifecycle
    from twin.scenario import load_scenario, scenario_record

    scenario = load_scenario(scenario_source)
    stored = Path(out)
    if stored.exists():
        run = open_run(stored)
        if run.attrs.get("scenario_sha256") == scenario_record(scenario)["scenario_sha256"]:
            return run.load()
    stored.parent.mkdir(parents=True, exist_ok=True)
    report = lambda progress: _progress_queue.put((key, progress.done, progress.total))
    return open_run(run_lifecycle(scenario, stored, overwrite=True, progress=report)).load()


class Simulator:
    """Runs :class:`RunRequest` s in ``workers`` spawned processes; progress goes to the callback given per run."""

    def __init__(self, workers: int = 1):
        context = multiprocessing.get_context("spawn")
        self._queue = context.Queue()
        self._pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                         initargs=(self._queue,))
        self._progress: dict[str, Callable[[int, int], None]] = {}
        self._listener = threading.Thread(target=self._listen, name="twin-progress", daemon=True)
        self._listener.start()
        self._pool.submit(int)  # start the worker now: its first run need not wait for it to import the twin

    def submit(self, key: str, request: RunRequest, progress: Callable[[int, int], None]) -> Future:
        """Start ``request``; ``progress(done, total)`` is called (in a server thread) as its work is done."""
        return self.start(key, progress, _simulate, request)

    def build_up(self, key: str, scenario_source: str, out: str, progress: Callable[[int, int], None]) -> Future:
        """Run (or read) the build-up of ``scenario_source`` stored at ``out`` (:func:`_build_up`); ``progress`` as
        for :meth:`submit`."""
        return self.start(key, progress, _build_up, scenario_source, out)

    def start(self, key: str, progress: Callable[[int, int], None], work, *arguments) -> Future:
        """``work(key, *arguments)`` in the worker, its reports of run ``key`` going to ``progress`` until it ends."""
        self._progress[key] = progress
        future = self._pool.submit(work, key, *arguments)
        future.add_done_callback(lambda _: self._progress.pop(key, None))
        return future

    def _listen(self) -> None:
        while True:
            key, done, total = self._queue.get()
            if key is None:
                return
            callback = self._progress.get(key)
            if callback is not None:
                callback(done, total)

    def shutdown(self) -> None:
        """Stop the worker (runs not started are dropped; one under way, seconds long, is waited for) and the progress thread."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._queue.put((None, 0, 0))
        self._listener.join()
