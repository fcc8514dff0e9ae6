"""How often the Live tab's 3D view makes the browser redraw during a live session, against redrawing at every refresh.

A session of ``--minutes`` of wall time watches a fleet flying at ``--speed`` x real time: the Live tab refreshes
every 5 s (:data:`apps.live_tab.REFRESH_S`) and tells its view (:class:`apps.live_view3d.LiveScene`) the fleet's
time, the newest packet's (on the telemetry's 10 s grid). The wall clock is simulated (a refresh is a call, not a
wait), so the counts are exact and the run takes seconds. Each policy is counted in the same process: the reference
redraws at every refresh that brings a new fleet time (``redraw_every_s=0``, what the first version did, which kept a
software-WebGL browser busy; it also sent a whole new scene for each orbit run after the first), the Live tab's redraws at most every :data:`apps.live_view3d.REDRAW_EVERY_S`. Printed:
frames sent to the browser (each one vtk.js render), whole scenes sent, orbit runs made, the octets of the frames
and the server's CPU in the view.

    .venv/bin/python benchmarks/live_view3d.py                      # 5 minutes of phase 1 at 30 x
    .venv/bin/python benchmarks/live_view3d.py --speed 1 --minutes 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import numpy as np

from apps.live_tab import REFRESH_S
from apps.live_view3d import REDRAW_EVERY_S, LiveScene
from twin.scenario import load_scenario

STEP_S = 10.0  # the telemetry's reporting interval (assets/telemetry sensors.toml)


class SimulatedWall:
    """A wall clock moved by the session (seconds)."""

    def __init__(self):
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def session(scenario, minutes: float, speed: float, redraw_every_s: float) -> dict:
    """Counts of what one session's view sends the browser over ``minutes`` of a fleet flying at ``speed``."""
    wall = SimulatedWall()
    scene = LiveScene(scenario, STEP_S, redraw_every_s=redraw_every_s, wall_clock=wall)
    counts = {"runs": 0, "octets": 0}
    orbit_run = scene.orbit_run

    def counted_run(now):
        counts["runs"] += 1
        return orbit_run(now)

    scene.orbit_run = counted_run
    start = np.datetime64(scenario.epoch.utc.isot, "ns")
    cpu = time.process_time()
    for refresh in range(int(minutes * 60 / REFRESH_S) + 1):
        wall.now_s = refresh * REFRESH_S
        fleet_s = np.floor(wall.now_s * speed / STEP_S) * STEP_S
        asyncio.run(scene.follow(start + np.timedelta64(int(fleet_s), "s")))
        if refresh == 0:  # the first scene is made: count the frames from here on
            send = scene.view.frames._send_msg
            scene.view.frames._send_msg = lambda message: (counts.__setitem__(
                "octets", counts["octets"] + len(json.dumps(message))), send(message))
    counts.update(cpu_s=time.process_time() - cpu, frames=scene.frames_sent, scenes=scene.scenes_sent,
                  shown=scene.clock)
    scene.close()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="phase1")
    parser.add_argument("--minutes", type=float, default=5.0, help="wall minutes of the session (default 5)")
    parser.add_argument("--speed", type=float, default=30.0, help="the fleet's speed, x real time (default 30)")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    print(f"{args.scenario} flying at {args.speed:g} x real time, a session of {args.minutes:g} min, a refresh every "
          f"{REFRESH_S:g} s ({args.minutes * args.speed:g} min of the fleet's time)")
    # the process's first orbit run (imports, caches), untimed: each session then pays the same
    LiveScene(scenario, STEP_S).orbit_run(np.datetime64(scenario.epoch.utc.isot, "ns"))
    results = {}
    for label, every_s in (("every refresh (reference)", 0.0), (f"at most every {REDRAW_EVERY_S:g} s", REDRAW_EVERY_S)):
        result = results[label] = session(scenario, args.minutes, args.speed, every_s)
        print(f"  redrawn {label}: {result['frames']} frames to the browser ({result['octets'] / 1e3:.0f} kB), "
              f"{result['scenes']} whole scene, {result['runs']} orbit runs, server CPU {result['cpu_s']:.1f} s; "
              f"the view at {result['shown']}")
    reference, live = results.values()
    print(f"browser redraws: {live['frames']} against {reference['frames']} "
          f"({reference['frames'] / max(live['frames'], 1):.1f}x fewer)")


if __name__ == "__main__":
    main()
