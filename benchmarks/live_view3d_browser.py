"""The Live tab in Chromium for a few minutes of a fleet flying at 30 x: what its 3D view costs the browser.

For each policy in turn, a virtual phase-1 fleet (its own process) flies from its epoch at ``--speed`` x real time
to a real ingest server (its own process, a new store), the dashboard is served from a thread of this process, and
an operator's page (Debian's Chromium, WebGL in software: no GPU) shows the Live tab for ``--minutes``. Measured in
the page from its 3D view's first scene on: the 3D frames it rendered (the view's clock counts them), its long tasks
(the main thread busy for more than 50 ms at a time: what keeps the rest of the page from updating), the fleet times
the status line showed (one a refresh, every 5 s, when the page keeps up), and the round trip of a trivial script
every 2 s (p95). The
reference redraws at every refresh with a new fleet time (``REDRAW_EVERY_S = 0``: the first version's rate; it also
sent a whole new scene for each orbit run after the first, which this does not), then the Live tab as it is.

    .venv/bin/python benchmarks/live_view3d_browser.py              # 5 minutes each, about 12 minutes
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dashboard import USERS, VIEWPORT, free_port

from apps.browser import launch_chromium

TOKEN = "live-view-benchmark"
SAMPLE_S = 2.0
# Before any page script: add up the main thread's long tasks.
LONG_TASKS = """
window.__longTasks = {count: 0, ms: 0};
new PerformanceObserver((list) => {
  for (const task of list.getEntries()) { window.__longTasks.count += 1; window.__longTasks.ms += task.duration; }
}).observe({type: "longtask", buffered: true});
"""


def fly(store: Path, minutes: float, speed: float) -> list[subprocess.Popen]:
    """An ingest server on a new store and phase 1 flying to it; the two processes."""
    port = free_port()
    env = {**os.environ, "TWIN_TELEMETRY_TOKEN": TOKEN}
    server = subprocess.Popen([sys.executable, "-m", "twin", "telemetry", "serve", "--store", str(store), "--port",
                               str(port), "--clock", "stream"], env=env, stdout=subprocess.PIPE, text=True,
                              stderr=subprocess.DEVNULL)
    assert server.stdout.readline().startswith("listening")
    duration_min = minutes * speed + 60  # flying still when the session ends
    fleet = subprocess.Popen([sys.executable, "-m", "twin", "telemetry", "fly", "phase1", "--to", f"127.0.0.1:{port}",
                              "--speed", f"{speed:g}", "--duration", f"{duration_min:g}min", "--station", "kashi"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return [server, fleet]


def session(browser, minutes: float, speed: float, redraw_every_s: float) -> dict:
    """One operator's Live tab over ``minutes`` of a fleet flying at ``speed``, its view redrawn at most every
    ``redraw_every_s``: what the page measured."""
    import apps.live_view3d
    from apps.auth import UserBook
    from apps.dashboard import DashboardConfig
    from apps.runs import shutdown_catalogues
    from apps.server import serve, wait_until_listening

    apps.live_view3d.REDRAW_EVERY_S = redraw_every_s  # read by each view as it is made
    folder = Path(tempfile.mkdtemp(prefix="twin-live-view-"))
    processes = fly(folder / "store.zarr", minutes, speed)
    port = free_port()
    thread = serve(DashboardConfig(folder / "runs", UserBook.from_file(USERS), telemetry=folder / "store.zarr",
                                   telemetry_scenario="phase1"), port=port, threaded=True)
    try:
        wait_until_listening(port, timeout_s=60)
        url = f"http://localhost:{port}"
        context = browser.new_context(viewport=VIEWPORT)
        assert context.request.post(f"{url}/login", max_redirects=0,
                                    form={"username": "operator", "password": "operator-demo"}).status == 302
        context.add_init_script(LONG_TASKS)
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{url}/")
        page.locator(".bk-tab", has_text="Live").click()
        page.locator(".live-fleet-view .twin-clock").wait_for()  # the 3D view's first scene
        page.evaluate("window.__longTasks = {count: 0, ms: 0}")  # from here on: the page loaded, the view made
        started, fleet_times, round_trips_ms = time.monotonic(), set(), []
        while time.monotonic() - started < minutes * 60:
            sent = time.perf_counter()
            page.evaluate("1")
            round_trips_ms.append(1e3 * (time.perf_counter() - sent))
            fleet_times.add(page.locator("#fleet-time").inner_text())
            time.sleep(SAMPLE_S)
        clock = page.locator(".live-fleet-view .twin-clock")
        tasks = page.evaluate("window.__longTasks")
        result = {"frames": int(clock.get_attribute("data-frames") or 0), "long_tasks": tasks["count"],
                  "long_ms": tasks["ms"], "fleet_times": len(fleet_times),
                  "round_trip_p95_ms": float(np.percentile(round_trips_ms, 95)),
                  "fleet": page.locator("#fleet-time").inner_text(), "view": clock.inner_text()}
        context.close()
        return result
    finally:
        thread.stop()
        shutdown_catalogues()
        for process in processes:
            process.terminate()
            process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="wall minutes of each session (default 5)")
    parser.add_argument("--speed", type=float, default=30.0, help="the fleet's speed, x real time (default 30)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from apps.live_view3d import REDRAW_EVERY_S

    print(f"phase 1 flying at {args.speed:g} x real time; the Live tab open {args.minutes:g} min in Chromium "
          f"(software WebGL), load average {os.getloadavg()[0]:.1f} at the start")
    results = {}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for label, every_s in (("every refresh (reference)", 0.0), (f"at most every {REDRAW_EVERY_S:g} s", REDRAW_EVERY_S)):
            result = results[label] = session(browser, args.minutes, args.speed, every_s)
            print(f"  redrawn {label}: {result['frames']} 3D frames rendered; {result['long_tasks']} long tasks, "
                  f"{result['long_ms'] / 1e3:.1f} s of the main thread; {result['fleet_times']} fleet times shown; "
                  f"a script's round trip {result['round_trip_p95_ms']:.0f} ms p95; at the end the fleet at "
                  f"{result['fleet']}, the view at {result['view']}")
        browser.close()
    reference, live = results.values()
    print(f"3D frames: {live['frames']} against {reference['frames']} "
          f"({reference['frames'] / max(live['frames'], 1):.1f}x fewer); main thread in long tasks: "
          f"{live['long_ms'] / 1e3:.1f} s against {reference['long_ms'] / 1e3:.1f} s; load average "
          f"{os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
