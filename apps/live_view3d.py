"""The Live tab's 3D view: the fleet where it is at the telemetry's time, moving as telemetry arrives.

The view shows an orbit run of the fleet's scenario (the twin's orbit layer, without subsystems: seconds for phase 1,
computed in a thread) from the fleet's time for :data:`AHEAD_S` at the telemetry's reporting interval. Each refresh
moves it to the newest packet's time (the fleet's time, which its clock then shows): the browser gets only what
moved (:class:`apps.view3d.SceneView`). Once the fleet's time passes the run's end, a new run starts there.
"""

from __future__ import annotations

import asyncio

import numpy as np
import panel as pn
import xarray as xr

from viz.scene import time_index

from .runs import scenario_run_options
from .view3d import VIEW_WIDTH_PX, SceneView, clock_text

AHEAD_S = 2 * 3600.0  # each orbit run covers this much of the fleet's time (more than an orbit: about 100 min)
COLOR_BY = "illumination"


class LiveScene:
    """The fleet of ``scenario`` in 3D at the fleet's time (:meth:`follow`), on a grid of ``step_s`` seconds (the
    telemetry's reporting interval); ``layout`` goes on the page."""

    def __init__(self, scenario, step_s: float):
        self.scenario, self.step_s = scenario, float(step_s)
        self.view: SceneView | None = None
        self.layout = pn.Column(pn.pane.Markdown("The 3D view waits for telemetry..."), width=VIEW_WIDTH_PX + 20,
                                css_classes=["live-fleet-view"])
        self._building = False

    @property
    def clock(self) -> str:
        """The time the view shows (``2026-06-01 00:30:00 UTC``; empty before the first telemetry)."""
        return self.view.frames.clock if self.view is not None else ""

    def covers(self, now: np.datetime64) -> bool:
        """Whether the orbit run shown holds ``now`` (within half a step)."""
        if self.view is None:
            return False
        times = self.view.scene.times
        half_step = np.timedelta64(int(self.step_s * 5e8), "ns")
        return times[0] - half_step <= np.datetime64(now, "ns") <= times[-1] + half_step

    def orbit_run(self, now: np.datetime64) -> xr.Dataset:
        """The orbit layer of the fleet from ``now`` for :data:`AHEAD_S` at ``step_s`` (seconds of CPU: call in a thread)."""
        from astropy.time import Time

        from twin.run.simulate import run_scenario

        representatives, _ = scenario_run_options(self.scenario)
        return run_scenario(self.scenario, start=Time(np.datetime64(now, "ns"), scale="utc"), duration_s=AHEAD_S,
                            step_s=self.step_s, subsystems=False, representatives=representatives)

    async def follow(self, now: np.datetime64) -> None:
        """Show the fleet at ``now`` (the fleet's time): the view moves there, on a new orbit run if ``now`` is past
        the one shown (made in a thread; a call while one is being made returns at once)."""
        if not self.covers(now):
            if self._building:
                return
            self._building = True
            try:
                run = await asyncio.to_thread(self.orbit_run, now)
            finally:
                self._building = False
            self.close()
            self.view = SceneView(run, COLOR_BY, self.scenario)
            self.layout.objects = [self.view.layout]
        self.view.show(time_index(self.view.scene.times, np.datetime64(now, "ns")))
        self.view.frames.clock = clock_text(self.view.scene)  # also for a browser that missed the frame

    def close(self) -> None:
        """Free the scene's render window."""
        if self.view is not None:
            self.view.close()
            self.view = None
