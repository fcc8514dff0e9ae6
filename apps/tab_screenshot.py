"""A screenshot of the dashboard's Lifecycle tab on the build-ups of a runs directory (the docs' picture)::

    .venv/bin/python -m apps.tab_screenshot --runs RUNS --year 2031 --out docs/images/dashboard-lifecycle.png

Serves the dashboard on loopback with the demo users (``apps/users.example.toml``), signs in as ``viewer`` in Debian's
Chromium, opens the tab on the first stored build-up, moves the year slider to ``--year`` and waits for the plots.
"""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

from .auth import UserBook
from .browser import launch_chromium
from .dashboard import DashboardConfig
from .server import serve, wait_until_listening

USERS = Path(__file__).resolve().parent / "users.example.toml"
TIMEOUT_MS = 120_000
LAST_PLOT = "Capacity units in service by member (end of year)"


def lifecycle_screenshot(runs_dir: Path, year: int, out: Path) -> None:
    """The Lifecycle tab at ``year`` of the first stored build-up under ``runs_dir``, as a PNG at ``out``."""
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        port = probe.getsockname()[1]
    server = serve(DashboardConfig(runs_dir, UserBook.from_file(USERS)), port=port, threaded=True)
    wait_until_listening(port, timeout_s=60)
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            context = browser.new_context(viewport={"width": 1500, "height": 1100})
            context.request.post(f"http://localhost:{port}/login", max_redirects=0,
                                 form={"username": "viewer", "password": "viewer-demo"})
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"http://localhost:{port}/?source=phase1")
            page.locator(".bk-tab", has_text="Lifecycle").click()
            title = page.locator(".kpi-title", has_text="Fleet in")
            expect(title).to_contain_text("Fleet in", timeout=TIMEOUT_MS)
            first = int(title.inner_text().split()[2].rstrip(":"))
            for _ in range(year - first):
                page.locator(".twin-year .noUi-handle").press("ArrowRight")
            expect(title).to_contain_text(f"Fleet in {year}:", timeout=TIMEOUT_MS)
            page.wait_for_function("(text) => [...Bokeh.documents[0].all_models].some((m) => m.text === text)",
                                   arg=LAST_PLOT)
            page.wait_for_timeout(8000)  # every plot has drawn the last year's band (one update per step of the slider)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
            browser.close()
    finally:
        server.stop()
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True, help="a runs directory holding a stored build-up")
    parser.add_argument("--year", type=int, required=True, help="the year the slider is moved to")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    args = parser.parse_args()
    lifecycle_screenshot(args.runs, args.year, args.out)


if __name__ == "__main__":
    main()
