"""The Live tab's 3D view follows the telemetry's time (issue 22, item 4: Open MCT's most requested feature): its
clock is the fleet's time, the satellites are where the twin's orbits put them then, and a time past the orbit run
shown starts a new one."""

from __future__ import annotations

import asyncio

import numpy as np
from astropy.time import Time

import twin
from apps.live_view3d import AHEAD_S, LiveScene

STEP_S = 10.0  # the telemetry's reporting interval


def test_the_views_clock_follows_the_fleets_time(phase1):
    scene = LiveScene(phase1, STEP_S)
    assert scene.clock == ""
    first = np.datetime64("2026-06-01T00:30:00", "ns")
    asyncio.run(scene.follow(first))
    assert scene.clock == "2026-06-01 00:30:00 UTC"
    run = scene.view.scene.run

    later = first + np.timedelta64(25, "m") + np.timedelta64(10, "s")  # telemetry arrived: the view moves, same run
    asyncio.run(scene.follow(later))
    assert scene.clock == "2026-06-01 00:55:10 UTC"
    assert scene.view.scene.run is run
    expected = twin.run_scenario(phase1, start=Time(later, scale="utc"), duration_s=60, step_s=STEP_S,
                                 subsystems=False)["position"].values[:, 0] / 1e3
    np.testing.assert_allclose(scene.view.scene.satellite_positions_km(), expected, atol=1e-3)

    past_the_run = first + np.timedelta64(int(AHEAD_S) + 600, "s")
    asyncio.run(scene.follow(past_the_run))
    assert scene.clock == "2026-06-01 02:40:00 UTC"
    assert scene.view.scene.run is not run
    scene.close()
