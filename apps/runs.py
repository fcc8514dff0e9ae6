"""The runs the dashboard shows: stored runs under a runs directory and the built-in scenarios.

Each run is read or simulated once per process, in the background, and then shared read-only by
every session (:class:`RunData` also keeps the figures derived from it). A scenario not yet run is
simulated for :data:`SPAN_S` from its epoch at :data:`STEP_S`; a fleet larger than
:data:`FULL_RUN_SATELLITES_MAX` is run with one chief per sub-center standing for its satellites
(``representatives``: phase 3 in seconds), and a scenario with links gets its network.

Sources are named by keys: ``scenario:phase1``, ``run:demo.zarr`` (a path under the runs
directory), ``whatif:<digest>``. Build-up runs (:mod:`twin.lifecycle`, years at daily steps) are sources of the
Lifecycle tab only (:meth:`Catalogue.buildup_sources`): ``run:life.zarr`` for one stored under the runs directory,
``buildup:lifecycle`` for a built-in build-up scenario, run once in the background into
``<runs>/.built-in/lifecycle.zarr`` (hidden: not listed as a stored run; resumed after a restart, read again when
its scenario is unchanged).
"""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import tomllib
import xarray as xr

from twin.report import figures
from twin.dataset import RUN_SUFFIXES, open_run
from twin.safety.saved import read_saved_conjunctions, saved_conjunctions_path
from twin.scenario import Scenario, builtin_scenarios, load_scenario

from .run_screening import screen_in_worker
from .worker import RunRequest, Simulator

BUILT_IN_DIR = ".built-in"  # under the runs directory: the built-in build-ups' runs
SPAN_S = 6 * 3600.0       # what the dashboard simulates of a scenario
STEP_S = 60.0
FULL_RUN_SATELLITES_MAX = 2000  # above this, one chief per sub-center stands for its satellites
LOAD_BYTES_MAX = 2 * 2**30       # stored runs up to this size are read into memory; larger ones stay lazy


class SourceError(ValueError):
    """A source that names no scenario and no stored run."""


class RunData:
    """A run and what the dashboard derives from it, each computed once and shared (read-only) by all sessions."""

    def __init__(self, run: xr.Dataset, label: str, path: Path | None = None):
        self.run = run
        self.label = label
        self.path = path  # where a stored run was read from (None: simulated here)
        self._lock = threading.RLock()  # a derived value may derive from another
        self._cache: dict[tuple, object] = {}

    def cached(self, key: tuple, make):
        """``make()``, computed once per ``key`` and kept: anything derived from the run."""
        with self._lock:
            if key not in self._cache:
                self._cache[key] = make()
            return self._cache[key]

    @property
    def has_network(self) -> bool:
        return "downlink_data_delivered" in self.run.data_vars

    @property
    def has_figures(self) -> bool:
        """True if the run has power, thermal and compute (orbit-only and TLE runs have none)."""
        try:
            figures.check_run(self.run)
        except ValueError:
            return False
        return True

    def summary(self, by: str = "total"):
        """:func:`twin.report.figures.summary` of the run (a DataFrame), computed once."""
        return self.cached(("summary", by), lambda: figures.summary(self.run, by))

    def series(self, by: str = "total") -> xr.Dataset:
        """:func:`twin.report.figures.time_series` of the run, computed once."""
        return self.cached(("series", by), lambda: figures.time_series(self.run, by))

    def grouping(self, by: str) -> figures.Grouping:
        """:func:`twin.report.figures.grouping` of the run, computed once."""
        return self.cached(("grouping", by), lambda: figures.grouping(self.run, by))

    def names(self, coordinate: str) -> list[str]:
        """Sorted distinct values of a per-satellite coordinate (``subcenter``, ``owner``, ``sat``)."""
        return self.cached(("names", coordinate),
                            lambda: sorted(set(self.run[coordinate].values.astype(str).tolist())))

    def conjunctions(self) -> tuple[pd.DataFrame, dict[str, str]] | None:
        """The conjunction screen saved beside a stored run (:mod:`twin.safety.saved`): its table and summary, or
        None (none saved, or a run simulated here). Raises ``ValueError`` naming a saved file that cannot be read."""
        def load():
            saved = saved_conjunctions_path(self.path) if self.path is not None else None
            return read_saved_conjunctions(saved) if saved is not None and saved.is_file() else None
        return self.cached(("conjunctions",), load)

    def scenario(self) -> Scenario | None:
        """The scenario the run came from (its stations and relays are drawn), if it can still be loaded."""
        def load():
            for candidate in (self.run.attrs.get("scenario_source"), self.run.attrs.get("scenario")):
                if candidate:
                    try:
                        return load_scenario(candidate)
                    except (OSError, ValueError):
                        continue
            return None
        return self.cached(("scenario",), load)


class Job:
    """A run being read or simulated in the background: ``progress`` (0..1), then ``data`` or ``error``."""

    def __init__(self, key: str, label: str, path: Path | None = None):
        self.key, self.label, self.path = key, label, path
        self.fraction_done = 0.0
        self.data: RunData | None = None
        self.error: str | None = None
        self.done = threading.Event()

    @property
    def progress(self) -> float:
        return 1.0 if self.done.is_set() else min(self.fraction_done, 0.99)

    def advance(self, done: int, total: int) -> None:
        """``done`` units of the run's ``total`` work (:mod:`twin.run.progress`) are done."""
        self.fraction_done = done / total if total else 0.0

    def finish(self, future: Future) -> None:
        """Take the outcome of ``future`` (a dataset, or the exception that ended the run)."""
        try:
            self.data = RunData(future.result(), self.label, self.path)
        except Exception as error:  # a run that fails is reported on the page, whatever went wrong
            self.error = f"{self.label}: {error}"
        self.done.set()


class ScreenJob(Job):
    """A conjunction screen of a run in the background (:mod:`apps.run_screening`): ``screened`` (a
    :class:`apps.run_screening.ScreenedRun`) once done, and ``data`` the run placed at the catalogue's epoch if the
    scenario was."""

    def __init__(self, key: str, label: str, source_label: str):
        super().__init__(key, label)
        self.source_label = source_label
        self.screened = None

    def finish(self, future: Future) -> None:
        try:
            self.screened = future.result()
            if self.screened.placed_run is not None:
                self.data = RunData(self.screened.placed_run,
                                    f"{self.source_label} placed at the catalogue's epoch {self.screened.placed_epoch}")
        except Exception as error:  # a screen that fails is reported on the page, whatever went wrong
            self.error = f"{self.label}: {error}"
        self.done.set()


def scenario_run_options(scenario: Scenario) -> tuple[bool, bool]:
    """(representatives, network) of the dashboard's runs of ``scenario``."""
    return scenario.satellite_count > FULL_RUN_SATELLITES_MAX, scenario.links is not None


def scenario_tables(scenario: Scenario) -> dict:
    """The parsed TOML tables of ``scenario`` (a new copy: a what-if changes these, then the twin validates them
    again)."""
    return tomllib.loads(scenario.text)


def _span_label(scenario: Scenario) -> str:
    representatives, _ = scenario_run_options(scenario)
    chiefs = f", {scenario.subcenter_count} chiefs standing for {scenario.satellite_count:,} satellites" \
        if representatives else ""
    return f"{SPAN_S / 3600:g} h from its epoch at {STEP_S:g} s{chiefs}"


class Catalogue:
    """Stored runs and built-in scenarios, each run once per process and shared; what-if runs too."""

    def __init__(self, runs_dir: str | Path):
        self.runs_dir = Path(runs_dir)
        self.simulator = Simulator()
        self._readers = ThreadPoolExecutor(1, thread_name_prefix="twin-read")
        self._jobs: dict[str, Job] = {}
        self._requests: dict[str, RunRequest] = {}  # what made each simulated source: its fleet is screened from it
        self._lock = threading.Lock()

    def _stored(self) -> list[Path]:
        """The stored runs under the runs directory (newest listing each call)."""
        return sorted(path for path in self.runs_dir.glob("*")  # not a hidden run being written (twin.safe_output)
                      if path.suffix in RUN_SUFFIXES and not path.name.startswith(".")) \
            if self.runs_dir.is_dir() else []

    def sources(self) -> dict[str, str]:
        """Label -> key of every source of hours: stored runs, then the built-in scenarios (build-ups aside)."""
        options = {f"{path.name} (stored run)": f"run:{path.name}" for path in self._stored() if not is_buildup(path)}
        options.update({f"{name} (scenario, {SPAN_S / 3600:g} h)": f"scenario:{name}" for name in phase_scenarios()})
        return options

    def buildup_sources(self) -> dict[str, str]:
        """Label -> key of every build-up: stored build-up runs, then the built-in build-up scenarios."""
        options = {f"{path.name} (stored build-up)": f"run:{path.name}" for path in self._stored() if is_buildup(path)}
        options.update({f"{name} (built-in build-up, {_years_label(name)})": f"buildup:{name}"
                        for name in builtin_scenarios() if name not in phase_scenarios()})
        return options

    def resolve(self, name: str) -> str:
        """The key of ``name``: a key, a built-in scenario (``phase1``) or a stored run (``demo.zarr`` or ``demo``)."""
        keys = set(self.sources().values())
        for candidate in (name, f"scenario:{name}", f"run:{name}", *(f"run:{name}{suffix}" for suffix in RUN_SUFFIXES)):
            if candidate in keys:
                return candidate
        stored = ", ".join(key.removeprefix("run:") for key in sorted(keys) if key.startswith("run:")) or "none"
        raise SourceError(f"source: {name!r} is neither a built-in scenario ({', '.join(phase_scenarios())}) "
                          f"nor a stored run under {str(self.runs_dir)!r} ({stored})")

    def label(self, key: str) -> str:
        return {value: label for label, value in {**self.sources(), **self.buildup_sources()}.items()}.get(key, key)

    def job(self, key: str) -> Job:
        """The job of source ``key``: shared if it is done or under way, started otherwise (a failed one is retried)."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.error is None:
                return job
        kind, _, name = key.partition(":")
        if kind == "scenario":
            scenario = load_scenario(name)
            representatives, network = scenario_run_options(scenario)
            request = RunRequest(scenario_tables(scenario), scenario.source, SPAN_S, STEP_S, representatives, network)
            return self.simulate(key, f"{name}, {_span_label(scenario)}", request)
        if kind == "run":
            return self._read(key, self.runs_dir / name)
        if kind == "buildup" and name in builtin_scenarios() and name not in phase_scenarios():
            return self.build_up(key, name, load_scenario(name).source, self.runs_dir / BUILT_IN_DIR / f"{name}.zarr")
        raise SourceError(f"source: {key!r} is not a source of this dashboard")

    def simulate(self, key: str, label: str, request: RunRequest) -> Job:
        """Run ``request`` in the background as job ``key`` (or share the job already under that key)."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.error is None:
                return job
            job = self._jobs[key] = Job(key, label)
            self._requests[key] = request
        self.simulator.submit(key, request, job.advance).add_done_callback(job.finish)
        return job

    def screenable(self, key: str) -> bool:
        """True if source ``key`` is a run simulated here from a scenario's design (its conjunctions can be screened)."""
        request = self._requests.get(key)
        return request is not None and request.live is None

    def screen(self, key: str, catalog: Path | None, threshold_km: float) -> ScreenJob:
        """Screen the run of source ``key`` against the catalogue file ``catalog`` (``None``: none) and itself in the
        background: shared if the same screen is done or under way, started otherwise (a failed one is retried).
        ``ValueError`` naming the source if it is not a run simulated here."""
        if not self.screenable(key):
            raise SourceError(f"source: {key!r} is not a run this dashboard simulated from a scenario; its conjunctions "
                              "are those saved beside it (twin conjunctions RUN --catalog FILE --save)")
        screen_key = f"screen:{key}:{catalog or ''}:{threshold_km:g}"
        source_label = self._jobs[key].label  # the simulated run's (a what-if's is not among the sources)
        against = f"{catalog.name} and itself" if catalog else "itself"
        with self._lock:
            job = self._jobs.get(screen_key)
            if job is not None and job.error is None:
                return job
            job = self._jobs[screen_key] = ScreenJob(screen_key, f"screening {source_label} against {against}",
                                                     source_label)
        self.simulator.start(screen_key, job.advance, screen_in_worker, self._requests[key],
                             str(catalog) if catalog else None, threshold_km).add_done_callback(job.finish)
        return job

    def build_up(self, key: str, label: str, scenario_source: str, out: Path) -> Job:
        """Run the build-up of the scenario file ``scenario_source`` into ``out`` in the background as job ``key``
        (or share the job under way); a complete run of the same scenario text at ``out`` is read instead."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.error is None:
                return job
            job = self._jobs[key] = Job(key, label)
        self.simulator.build_up(key, scenario_source, str(out), job.advance).add_done_callback(job.finish)
        return job

    def _read(self, key: str, path: Path) -> Job:
        with self._lock:
            job = self._jobs[key] = Job(key, path.name, path)
        self._readers.submit(_read_run, path).add_done_callback(job.finish)
        return job

    def shutdown(self) -> None:
        """Stop the background reader and simulator."""
        self._readers.shutdown(wait=True, cancel_futures=True)
        self.simulator.shutdown()


def is_buildup(path: Path) -> bool:
    """True if the stored run at ``path`` is a build-up run (its ``lifecycle`` attribute), read from its metadata
    alone; a store that cannot be read is left to the reader, which names what is wrong."""
    if path.suffix != ".zarr":
        return False  # build-up runs are stored as Zarr (twin.lifecycle.run)
    for name in (".zattrs", "zarr.json"):
        try:
            attrs = json.loads((path / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        return bool(attrs.get("attributes", attrs).get("lifecycle"))
    return False


def phase_scenarios() -> list[str]:
    """The built-in scenarios the dashboard runs for hours (those without a ``[lifecycle]`` build-up)."""
    return [name for name in builtin_scenarios() if _is_phase(name)]


@functools.cache
def _is_phase(name: str) -> bool:
    return load_scenario(name).lifecycle is None


def _years_label(name: str) -> str:
    scenario = load_scenario(name)
    return f"{scenario.epoch.datetime.year}-{scenario.lifecycle.end[:4]}"


def _read_run(path: Path) -> xr.Dataset:
    run = open_run(path)
    return run.load() if run.nbytes <= LOAD_BYTES_MAX else run


def request_key(request: RunRequest) -> str:
    """A key naming ``request`` by its content: the same what-if asked twice (from the same live state) is run once."""
    text = json.dumps([request.tables, request.duration_s, request.step_s, request.representatives, request.network],
                      sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode())
    if request.live is not None:
        digest.update(pickle.dumps(request.live))
    return "whatif:" + digest.hexdigest()[:16]


_catalogues: dict[Path, Catalogue] = {}
_catalogues_lock = threading.Lock()


def shared_catalogue(runs_dir: str | Path) -> Catalogue:
    """The process's one :class:`Catalogue` of ``runs_dir``: every session shares its runs."""
    path = Path(runs_dir).resolve()
    with _catalogues_lock:
        if path not in _catalogues:
            _catalogues[path] = Catalogue(path)
        return _catalogues[path]


def shutdown_catalogues() -> None:
    """Stop the background work of every shared catalogue (at server shutdown)."""
    with _catalogues_lock:
        for catalogue in _catalogues.values():
            catalogue.shutdown()
        _catalogues.clear()
