"""Benchmark the web dashboard in Chromium: time to the first 3D frame and seconds per time step, alone and with 5 sessions.

Serves the dashboard from a process of its own, as ``twin serve`` does (demo users, sign-in; the
run is made or read before the pages open), opens it in Debian's Chromium through Playwright and
measures in the browser: the first 3D frame is the first WebGL draw after the page starts loading
(``performance.now()``, from navigation start), drawn (a one-pixel read waits for the GPU's work);
a time step is the time from pressing the player's "next" button until the clock shows the new
time, vtk.js has rendered that step, the drawing is done and the browser has painted. A first
visit is timed once; then returning visitors (each browser has its own profile and has opened the
page twice before, as Chromium keeps scripts from a first visit and their compiled code from a
second): one session, then ``--sessions`` sessions loading and stepping at once, each in a browser
of its own. Targets: first frame < 5 s, step < 300 ms, and each no more than 2x slower with 5 sessions.

    .venv/bin/python benchmarks/dashboard.py                        # phase 3, 144 chiefs for 10,485 satellites
    .venv/bin/python benchmarks/dashboard.py --runs out --source phase3-2h.zarr   # a stored full run
    .venv/bin/python benchmarks/dashboard.py --screenshot docs/images/dashboard.png

It also prints the CPU each kind of process spends (server, and Chromium's renderer, GPU and browser
processes) per page and per step. Here the browsers draw WebGL in software (no GPU), on the same
cores as the server: five sessions cannot step faster than their CPU per step times five over the
cores, and the script prints that bound beside the ratio it measures.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import queue
import socket
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from apps.browser import CHROMIUM, CHROMIUM_ARGS

USERS = Path(__file__).resolve().parent.parent / "apps" / "users.example.toml"
VIEWPORT = {"width": 1500, "height": 1000}
FIRST_FRAME_TARGET_S, STEP_TARGET_S, CONCURRENCY_TARGET = 5.0, 0.300, 2.0
TIMEOUT_MS = 120_000
TAB_SETTLE_S = 3.0  # a new tab's window takes about a second of CPU to open
PLOTS_SHOWN = 4  # the Constellation tab's time-series plots of the fleet

# Before any page script: keep the WebGL context of the first draw and, once that first frame is drawn
# (a one-pixel read waits for the GPU, here software), its time; find elements inside shadow roots.
INSTRUMENT = """
window.__firstFrame = null;
window.__finish = () => window.__gl.readPixels(0, 0, 1, 1, window.__gl.RGBA, window.__gl.UNSIGNED_BYTE, new Uint8Array(4));
for (const proto of [WebGLRenderingContext.prototype, WebGL2RenderingContext.prototype]) {
  for (const name of ["drawArrays", "drawElements"]) {
    const draw = proto[name];
    proto[name] = function (...args) {
      if (!window.__gl) {
        window.__gl = this;
        setTimeout(() => { window.__finish(); window.__firstFrame = performance.now(); }, 0);
      }
      return draw.apply(this, args);
    };
  }
}
window.__deep = (selector, root = document) => {
  const hit = root.querySelector(selector);
  if (hit) return hit;
  for (const element of root.querySelectorAll("*")) {
    const inner = element.shadowRoot && window.__deep(selector, element.shadowRoot);
    if (inner) return inner;
  }
  return null;
};
window.__count = (selector, root = document) => {
  let count = root.querySelectorAll(selector).length;
  for (const element of root.querySelectorAll("*")) {
    if (element.shadowRoot) count += window.__count(selector, element.shadowRoot);
  }
  return count;
};
// The time the page first holds its PLOTS_SHOWN time-series plots (they follow the 3D view), checked every 50 ms.
window.__plotsShown = null;
const plotsWatch = setInterval(() => {
  if (window.__count(".bk-Figure") >= PLOTS_SHOWN) {
    window.__plotsShown = performance.now();
    clearInterval(plotsWatch);
  }
}, 50);
"""
# Press "next" n times, one after the other; each time until the new step is rendered and painted (ms each).
STEPS = """
async (count) => {
  const clock = window.__deep(".twin-clock"), next = window.__deep("button.next");
  const painted = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const took = [];
  for (let i = 0; i < count; i++) {
    const before = clock.textContent;
    const started = performance.now();
    const rendered = new Promise((resolve) => {
      const watch = new MutationObserver(() => {
        if (clock.textContent !== before && clock.dataset.rendered === clock.textContent) {
          watch.disconnect();
          resolve();
        }
      });
      watch.observe(clock, {attributes: true, childList: true, characterData: true, subtree: true});
    });
    next.click();
    await rendered;
    window.__finish();
    await painted();
    took.push(performance.now() - started);
  }
  window.__steps = took;
  return took;
}
"""


class CpuMeter:
    """CPU seconds spent by the server's processes and by each kind of Chromium process (browser, renderer,
    GPU, utility) between two readings: where a step's or a page's time goes on this machine. The rest
    (this script, Playwright's driver) is "other"."""

    def __init__(self, server_pid: int):
        self._me = psutil.Process()
        self._server_pid = server_pid
        self._last = self._read()

    @staticmethod
    def _kind(process) -> str:
        try:
            command = process.cmdline()
        except psutil.Error:  # gone, or not ours to read
            return "other"
        if not command or "chrom" not in command[0]:
            return "other"
        kinds = [arg.split("=", 1)[1] for arg in command if arg.startswith("--type=")]
        return {"gpu-process": "gpu"}.get(kinds[0], kinds[0]) if kinds else "browser"

    def _read(self) -> dict[int, tuple[str, float]]:
        readings = {}
        for process in [self._me] + self._me.children(recursive=True):
            try:
                times = process.cpu_times()
                serving = process.pid == self._server_pid or any(
                    parent.pid == self._server_pid for parent in process.parents())
            except psutil.Error:  # ended meanwhile
                continue
            kind = "server" if serving else self._kind(process)
            readings[process.pid] = (kind, times.user + times.system)
        return readings

    def take(self) -> dict[str, float]:
        """CPU seconds per process kind since the last reading (processes that ended meanwhile are not counted)."""
        now = self._read()
        spent: dict[str, float] = {}
        for pid, (kind, seconds) in now.items():
            spent[kind] = spent.get(kind, 0.0) + seconds - self._last.get(pid, (kind, 0.0))[1]
        self._last = now
        return spent


def cpu_text(spent: dict[str, float], per: int = 1, unit_s: float = 1.0, unit: str = "s") -> str:
    """``server 8.5 ms, renderer 22.5 ms, ...``: CPU per process kind, divided by ``per``, in ``unit``."""
    order = ["server", "renderer", "gpu", "browser", "utility", "other"]
    parts = [f"{kind} {spent[kind] / per / unit_s:.{3 if unit == 's' else 1}f} {unit}"
             for kind in sorted(spent, key=lambda kind: order.index(kind) if kind in order else 9) if spent[kind] > 0]
    return ", ".join(parts)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def blank_tabs(contexts) -> list:
    """A blank tab in each browser context, settled: a user's browser is open before the address is typed,
    and here each tab is a new Chromium window whose own user interface costs about a second of CPU."""
    pages = [context.new_page() for context in contexts]
    time.sleep(TAB_SETTLE_S)
    for page in pages:
        page.set_default_timeout(TIMEOUT_MS)
    return pages


def navigate(pages, url: str) -> list:
    """Each page starts to load ``url`` (each its own session), all at once."""
    for page in pages:
        page.goto(url, wait_until="commit")
    return pages


def open_pages(contexts, url: str) -> list:
    """A page of ``url`` in each browser context, all starting to load at once, from settled blank tabs."""
    return navigate(blank_tabs(contexts), url)


def first_frames_s(pages) -> list[float]:
    """Seconds from each page's navigation start to its first 3D frame (drawn: the first WebGL draws done)."""
    for page in pages:
        page.wait_for_function("window.__firstFrame !== null && window.__deep('.twin-clock') !== null")
    return [page.evaluate("window.__firstFrame") / 1e3 for page in pages]


def plots_shown_s(pages) -> list[float]:
    """Seconds from each page's navigation start until its time-series plots are on the page (checked every 50 ms)."""
    for page in pages:
        page.wait_for_function("window.__plotsShown !== null")
    return [page.evaluate("window.__plotsShown") / 1e3 for page in pages]


def first_bytes_s(pages) -> list[float]:
    """Seconds from each page's navigation start to the first byte of its response: the server building the
    session's page (and any queue for it)."""
    return [page.evaluate("performance.getEntriesByType('navigation')[0].responseStart") / 1e3 for page in pages]


def steps_s(pages, count: int) -> list[float]:
    """Seconds per time step on every page, all stepping at once (``count`` steps each)."""
    for page in pages:
        page.evaluate(f"() => {{ window.__steps = null; ({STEPS})({count}); }}")
    for page in pages:
        page.wait_for_function("window.__steps !== null", polling=100)
    return [seconds / 1e3 for page in pages for seconds in page.evaluate("window.__steps")]


def screenshot(context, url: str, path: Path, steps: int) -> None:
    """The dashboard ``steps`` steps into the run, as a PNG at ``path``."""
    page = open_pages([context], url)[0]
    first_frames_s([page])
    plots_shown_s([page])
    page.evaluate(f"({STEPS})({steps})")
    page.wait_for_timeout(1000)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    print(f"wrote {path}")


def serve_prepared(runs_dir: Path, port: int, source: str, ready, num_procs: int = 1, warm: bool = False) -> None:
    """The dashboard server's process: make or read ``source`` first, say what it is on ``ready``, then serve from
    ``num_procs`` processes (forked from this one: each inherits the run). With ``warm``, one page of it is made
    before, so that what every page shares (the run's series, its plots' HoloViews objects) is made once for all the
    processes rather than by each one's first page."""
    from apps.auth import UserBook
    from apps.dashboard import DashboardConfig
    from apps.runs import shared_catalogue
    from apps.server import serve

    catalogue = shared_catalogue(runs_dir)
    started = time.perf_counter()
    try:
        job = catalogue.job(catalogue.resolve(source))
    except ValueError as error:
        ready.put(str(error))
        return
    job.done.wait()
    if job.error:
        ready.put(str(job.error))
        return
    run = job.data.run
    satellites = int(run["represents"].sum())
    kind = (f"representatives: {run.sizes['sat']} chiefs stand for {satellites:,} satellites"
            if int(run.attrs.get("representatives", 0)) else f"full run: {run.sizes['sat']:,} satellites drawn")
    if warm:
        from bokeh.document import Document

        from apps.constellation_tab import ConstellationTab

        page = ConstellationTab(catalogue, source)
        page.layout.get_root(Document())
        page.close()
    logging.getLogger("bokeh.server.views.ws").setLevel(logging.ERROR)  # not the closing of pages between visits
    ready.put(f"run: {job.label} ({kind}), {run.sizes['time']} steps; read or simulated in "
              f"{time.perf_counter() - started:.1f} s before the pages open")
    maker = os.getpid()
    serve(DashboardConfig(runs_dir, UserBook.from_file(USERS)), port=port, num_procs=num_procs)
    if os.getpid() != maker:  # a forked server process, ended with its parent: the worker process is the parent's
        os._exit(0)


def start_server(runs_dir: Path, source: str, num_procs: int = 1, warm: bool = False):
    """The server's process (and the ``num_procs`` it forks), serving ``source`` at a free port once it is ready:
    (process, port, what it serves); ``warm``: see :func:`serve_prepared`."""
    spawn = multiprocessing.get_context("spawn")
    ready, port = spawn.Queue(), free_port()
    server = spawn.Process(target=serve_prepared,  # it has a worker of its own
                           args=(runs_dir, port, source, ready, num_procs, warm))
    server.start()
    said = None
    while said is None and server.is_alive():
        try:
            said = ready.get(timeout=1.0)
        except queue.Empty:
            pass
    if said is None:
        raise SystemExit(f"the dashboard server ended (exit code {server.exitcode}) before serving {source}")
    if not said.startswith("run: "):
        server.terminate()
        raise SystemExit(said)
    from apps.server import wait_until_listening

    try:
        wait_until_listening(port)
    except TimeoutError as error:
        server.terminate()
        raise SystemExit(f"the dashboard server: {error}") from None
    return server, port, said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="phase3", help="scenario or stored run shown (default phase3)")
    parser.add_argument("--runs", help="directory of stored runs (default: none, a temporary directory)")
    parser.add_argument("--steps", type=int, default=20, help="time steps measured per session (default 20)")
    parser.add_argument("--sessions", type=int, default=5, help="concurrent sessions (default 5)")
    parser.add_argument("--screenshot", type=Path, metavar="PNG", help="only write a screenshot of the dashboard")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    runs_dir = Path(args.runs or tempfile.mkdtemp(prefix="twin-bench-"))
    profiles = tempfile.TemporaryDirectory(prefix="twin-bench-profiles-")
    server, port, serving = start_server(runs_dir, args.source)
    url = f"http://localhost:{port}/?source={args.source}"
    try:
        with sync_playwright() as playwright:
            def signed_in_browser():
                """A browser with a profile of its own, as a user's (a private window would keep no compiled scripts)."""
                context = playwright.chromium.launch_persistent_context(
                    tempfile.mkdtemp(dir=profiles.name), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                    viewport=VIEWPORT)
                context.add_init_script(INSTRUMENT.replace("PLOTS_SHOWN", str(PLOTS_SHOWN)))
                context.request.post(f"http://localhost:{port}/login", max_redirects=0,
                                     form={"username": "viewer", "password": "viewer-demo"})
                return context

            def visit(contexts) -> None:
                """Each browser opens the page, waits for its plots and closes it."""
                for page in open_pages(contexts, url):
                    plots_shown_s([page])
                    page.close()

            context = signed_in_browser()
            if args.screenshot:
                screenshot(context, url, args.screenshot, args.steps)
                return
            print(serving)
            cold = open_pages([context], url)  # a first visit: the page's scripts are not cached yet
            first_cold = first_frames_s(cold)[0]
            plots_shown_s(cold)
            cold[0].close()
            # Measured from here on: returning visitors. Chromium keeps the scripts from a first visit and
            # their compiled code from a second, so each browser has visited twice before.
            visit([context])

            cpu = CpuMeter(server.pid)
            alone = blank_tabs([context])
            cpu.take()  # from the address typed on
            navigate(alone, url)
            first_alone = first_frames_s(alone)
            plots_alone = plots_shown_s(alone)
            time.sleep(1.0)
            cpu_page = cpu.take()
            built_alone = first_bytes_s(alone)
            cpu.take()
            steps_alone = steps_s(alone, args.steps)
            cpu_steps_alone = cpu.take()
            alone[0].close()
            # Each of the other sessions in a browser of its own, as users have, returning too.
            contexts = [context] + [signed_in_browser() for _ in range(args.sessions - 1)]
            visit(contexts[1:])
            visit(contexts[1:])
            together = open_pages(contexts, url)
            first_together = first_frames_s(together)
            plots_together = plots_shown_s(together)
            built_together = first_bytes_s(together)
            cpu.take()
            steps_together = steps_s(together, args.steps)
            cpu_steps_together = cpu.take()
    finally:
        server.terminate()
        server.join()
        profiles.cleanup()

    def line(label: str, seconds: list[float], target: float, unit_s: float = 1.0, unit: str = "s") -> str:
        values = np.array(seconds) / unit_s
        return (f"{label}: {values.mean():.3f} {unit} mean, {np.percentile(values, 95):.3f} {unit} p95 over "
                f"{len(values)}; {values.mean() / (target / unit_s):.2f} of the target (< {target / unit_s:g} {unit})")

    sessions, cores = args.sessions, os.cpu_count()
    print(f"Chromium {CHROMIUM} (software WebGL), {VIEWPORT['width']}x{VIEWPORT['height']}, "
          f"{args.steps} steps per session, {cores} cores")
    print(f"first 3D frame, first visit (scripts not cached yet): {first_cold:.3f} s; returning visitors below")
    print(line("first 3D frame, 1 session", first_alone, FIRST_FRAME_TARGET_S))
    print(line("time step, 1 session", steps_alone, STEP_TARGET_S, 1e-3, "ms"))
    print(line(f"first 3D frame, {sessions} sessions at once", first_together, FIRST_FRAME_TARGET_S))
    print(line(f"time step, {sessions} sessions at once", steps_together, STEP_TARGET_S, 1e-3, "ms"))
    for label, alone_s, together_s in (("first frame", first_alone, first_together),
                                       ("time step", steps_alone, steps_together)):
        ratio = np.mean(together_s) / np.mean(alone_s)
        print(f"{sessions} sessions / 1 session, {label}: {ratio:.2f}x (target <= {CONCURRENCY_TARGET:g}x)")
    print(f"time-series plots on the page (after the 3D view): {np.mean(plots_alone):.3f} s alone, "
          f"{np.mean(plots_together):.3f} s mean with {sessions} sessions")
    print(f"server's share of a first frame (page built, first byte): {np.mean(built_alone):.3f} s alone, "
          f"{np.mean(built_together):.3f} s mean with {sessions} sessions")
    print(f"CPU of one session's page, to its plots and a second after: {cpu_text(cpu_page)}; "
          f"{sum(cpu_page.values()):.3f} s in all")
    print(f"CPU of a time step, 1 session: {cpu_text(cpu_steps_alone, args.steps, 1e-3, 'ms')}; "
          f"{1e3 * sum(cpu_steps_alone.values()) / args.steps:.1f} ms in all")
    step_cpu_s = sum(cpu_steps_together.values()) / args.steps / sessions
    print(f"CPU of a time step, {sessions} sessions (per session): "
          f"{cpu_text(cpu_steps_together, args.steps * sessions, 1e-3, 'ms')}; {1e3 * step_cpu_s:.1f} ms in all")
    # Stepping back to back, the sessions finish no more steps per second than the cores have CPU for.
    bound = sessions * step_cpu_s / cores / np.mean(steps_alone)
    print(f"{sessions} sessions' CPU per step on {cores} cores bounds their step from below at {bound:.2f}x "
          f"one session's (every process of every session, server and browsers, on this machine)")


if __name__ == "__main__":
    main()
