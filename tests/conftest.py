"""Shared fixtures: small runs of the built-in scenarios, reused across tests."""

import pytest

import twin


@pytest.fixture(scope="session")
def phase1():
    return twin.load_scenario("phase1")


@pytest.fixture(scope="session")
def phase1_run(phase1):
    """Phase 1 for 6 hours at 60 s (includes eclipses: June is its eclipse season)."""
    return twin.run_scenario(phase1, duration_s=6 * 3600, step_s=60)
