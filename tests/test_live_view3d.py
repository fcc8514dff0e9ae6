"""The Live tab's 3D view follows the telemetry's time (issue 22, item 4: Open MCT's most requested feature): its
clock is the fleet's time and the satellites are where the twin's orbits put them then; it redraws only when that
time has moved, at most every ``redraw_every_s`` of wall time, and sends the browser only what moved (a refresh
with no new fleet time sends nothing; a time past the orbit run shown moves the same scene onto the next run); an
operator may pause following."""

from __future__ import annotations

import asyncio

import numpy as np
from astropy.time import Time

import twin
from apps.live_view3d import AHEAD_S, LiveScene

STEP_S = 10.0  # the telemetry's reporting interval
FIRST = np.datetime64("2026-06-01T00:30:00", "ns")


class WallClock:
    """A wall clock the test moves by hand (seconds)."""

    def __init__(self):
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


def sent_to_browser(scene: LiveScene) -> list:
    """Record what the view sends the browser from now on: frames, clock changes, whole-scene syncs."""
    sent = []
    view = scene.view
    send = view.frames._send_msg
    view.frames._send_msg = lambda message: (sent.append(("frame", message.get("clock"))), send(message))
    view.frames.param.watch(lambda event: sent.append(("clock", event.new)), "clock")
    synchronize = view.pane.synchronize
    view.pane.synchronize = lambda: (sent.append(("scene", None)), synchronize())
    return sent


def test_the_views_clock_follows_the_fleets_time_in_one_scene(phase1):
    wall = WallClock()
    scene = LiveScene(phase1, STEP_S, redraw_every_s=30.0, wall_clock=wall)
    assert scene.clock == ""
    asyncio.run(scene.follow(FIRST))
    assert scene.clock == "2026-06-01 00:30:00 UTC"
    view, built = scene.view, scene.view.scene
    sent = sent_to_browser(scene)

    later = FIRST + np.timedelta64(25, "m") + np.timedelta64(10, "s")  # telemetry arrived: the view moves, same run
    wall.now_s += 30.0
    asyncio.run(scene.follow(later))
    assert scene.clock == "2026-06-01 00:55:10 UTC"
    assert sent == [("frame", "2026-06-01 00:55:10 UTC"), ("clock", "2026-06-01 00:55:10 UTC")]
    expected = twin.run_scenario(phase1, start=Time(later, scale="utc"), duration_s=60, step_s=STEP_S,
                                 subsystems=False)["position"].values[:, 0] / 1e3
    np.testing.assert_allclose(scene.view.scene.satellite_positions_km(), expected, atol=1e-3)

    past_the_run = FIRST + np.timedelta64(int(AHEAD_S) + 600, "s")  # a new orbit run, shown by the same scene
    wall.now_s += 30.0
    asyncio.run(scene.follow(past_the_run))
    assert scene.clock == "2026-06-01 02:40:00 UTC"
    assert scene.view is view and scene.view.scene is built
    assert scene.view.scene.times[0] == past_the_run
    expected = twin.run_scenario(phase1, start=Time(past_the_run, scale="utc"), duration_s=60, step_s=STEP_S,
                                 subsystems=False)["position"].values[:, 0] / 1e3
    np.testing.assert_allclose(scene.view.scene.satellite_positions_km(), expected, atol=1e-3)
    assert [kind for kind, _ in sent] == ["frame", "clock"] * 2  # no scene sent again, only what moved
    assert (scene.scenes_sent, scene.frames_sent) == (1, 2)
    scene.close()


def test_a_refresh_without_a_new_fleet_time_sends_nothing_to_the_view(phase1):
    wall = WallClock()
    scene = LiveScene(phase1, STEP_S, redraw_every_s=30.0, wall_clock=wall)
    asyncio.run(scene.follow(FIRST))
    sent = sent_to_browser(scene)
    for _ in range(3):  # refreshes 5 s apart, the fleet's time unchanged (no new packet)
        wall.now_s += 5.0
        asyncio.run(scene.follow(FIRST))
    wall.now_s += 60.0
    asyncio.run(scene.follow(FIRST))
    assert sent == []

    moved = FIRST + np.timedelta64(150, "s")  # 30 x real time: 150 s of the fleet's time per 5 s refresh
    for refresh in range(1, 13):
        wall.now_s += 5.0
        asyncio.run(scene.follow(moved + np.timedelta64(150 * refresh, "s")))
    # one minute of refreshes, each with a new fleet time: redrawn twice (every 30 s), not 12 times
    assert [kind for kind, _ in sent] == ["frame", "clock"] * 2
    assert scene.clock == "2026-06-01 00:50:00 UTC"  # the refresh at 35 s (the 7th)
    scene.close()


def test_an_operator_pauses_following_and_resumes(phase1):
    wall = WallClock()
    scene = LiveScene(phase1, STEP_S, redraw_every_s=30.0, wall_clock=wall)
    asyncio.run(scene.follow(FIRST))
    assert "following the telemetry" in scene.caption.object
    sent = sent_to_browser(scene)
    scene.following.value = False
    later = FIRST + np.timedelta64(600, "s")
    wall.now_s += 120.0
    asyncio.run(scene.follow(later))
    assert sent == []
    assert scene.clock == "2026-06-01 00:30:00 UTC"
    assert ("Fleet time shown: <span id='live-view-time'>2026-06-01 00:30:00 UTC</span> (paused; the telemetry is "
            "at 2026-06-01 00:40:00 UTC)") in scene.caption.object

    scene.following.value = True  # the next refresh moves the view to the newest time at once
    wall.now_s += 1.0
    asyncio.run(scene.follow(later))
    assert sent == [("frame", "2026-06-01 00:40:00 UTC"), ("clock", "2026-06-01 00:40:00 UTC")]
    assert "<span id='live-view-time'>2026-06-01 00:40:00 UTC</span> (following the telemetry" in scene.caption.object
    scene.close()


def test_a_run_made_for_a_view_closed_meanwhile_is_dropped(phase1):
    """The session ends (the tab closes its view) while the view's orbit run is made in a thread: no scene is made."""
    scene = LiveScene(phase1, STEP_S, redraw_every_s=30.0, wall_clock=WallClock())
    orbit_run = scene.orbit_run

    def closed_meanwhile(now):
        scene.close()
        return orbit_run(now)

    scene.orbit_run = closed_meanwhile
    asyncio.run(scene.follow(FIRST))
    assert scene.view is None and scene.scenes_sent == 0
