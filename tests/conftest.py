"""Shared fixtures: small runs of the built-in scenarios, reused across tests, and the browser of the dashboard tests."""

import os

import pytest

import twin
from apps.browser import CHROMIUM, launch_chromium


@pytest.fixture(scope="session")
def phase1():
    return twin.load_scenario("phase1")


@pytest.fixture(scope="session")
def phase1_run(phase1):
    """Phase 1 for 6 hours at 60 s (includes eclipses: June is its eclipse season)."""
    return twin.run_scenario(phase1, duration_s=6 * 3600, step_s=60)


def _missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[apps]')"
    return None


@pytest.fixture(scope="module")
def browser():
    """Chromium under Playwright; skipped without them, unless TWIN_REQUIRE_BROWSER=1 (CI), where it fails."""
    missing = _missing_browser()
    if missing:
        if os.environ.get("TWIN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"TWIN_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()
