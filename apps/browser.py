"""The browser the project drives: Debian's Chromium under Playwright (``playwright install`` cannot download
browsers here). One place for its path and flags, shared by the docs' screenshots, the benchmarks and the tests."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]


def launch_chromium(playwright):
    """A headless Chromium browser from a started ``sync_playwright()``."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
