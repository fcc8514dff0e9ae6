"""The Live tab's 3D view: the fleet where it is at the telemetry's time, redrawn only when that time has moved.

The view shows an orbit run of the fleet's scenario (the twin's orbit layer, without subsystems: seconds for phase 1,
computed in a thread) from the fleet's time for :data:`AHEAD_S` at the telemetry's reporting interval. A refresh
with a new fleet time moves it there, at most once every :data:`REDRAW_EVERY_S` of wall time, and sends the browser
only what moved (:class:`apps.view3d.SceneView`'s frame). A refresh that brings no new fleet time sends nothing.
Once the fleet's time passes the run's end, the next run replaces it in the same scene
(:meth:`viz.scene.ConstellationScene.follow_run`): the browser's scene is sent once per session, never again.

Every redraw is work for the browser's WebGL, which has no GPU here (Chromium draws it in software on the server's
two cores): redrawn at every 5 s refresh, the view kept the renderer so busy that the rest of the page stopped
updating. An operator may also pause following (*Follow telemetry*) to look at one moment.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import panel as pn
import xarray as xr

from viz.scene import time_index

from .runs import scenario_run_options
from .view3d import VIEW_WIDTH_PX, SceneView, clock_text, utc_text

AHEAD_S = 2 * 3600.0  # each orbit run covers this much of the fleet's time (more than an orbit: about 100 min)
REDRAW_EVERY_S = 30.0  # wall seconds: the view moves at most this often (at 30 x real time, 15 min of the fleet's)
COLOR_BY = "illumination"


class LiveScene:
    """The fleet of ``scenario`` in 3D at the fleet's time (:meth:`follow`), on a grid of ``step_s`` seconds (the
    telemetry's reporting interval), redrawn at most every ``redraw_every_s`` seconds of ``wall_clock`` (default
    :data:`REDRAW_EVERY_S`, read when the view is made); ``layout`` goes on the page. ``frames_sent`` and
    ``scenes_sent`` count what went to the browser (each a redraw there)."""

    def __init__(self, scenario, step_s: float, redraw_every_s: float | None = None, wall_clock=time.monotonic):
        self.scenario, self.step_s = scenario, float(step_s)
        self.redraw_every_s = float(REDRAW_EVERY_S if redraw_every_s is None else redraw_every_s)
        self.wall_clock = wall_clock
        self.view: SceneView | None = None
        self.frames_sent = self.scenes_sent = 0
        self.following = pn.widgets.Checkbox(label="Follow telemetry", value=True, width=160)
        self.caption = pn.pane.HTML(self._caption_html(), sizing_mode="stretch_width")
        self.slot = pn.Column(pn.pane.Markdown("The 3D view waits for telemetry..."))
        self.layout = pn.Column(pn.Row(self.following, self.caption), self.slot, width=VIEW_WIDTH_PX + 20,
                                css_classes=["live-fleet-view"])
        self.following.param.watch(lambda event: self._toggled(), "value")
        self._latest: np.datetime64 | None = None  # the newest fleet time told
        self._redrawn_at = -np.inf  # wall clock of the last redraw
        self._building = False
        self._closed = False

    @property
    def clock(self) -> str:
        """The fleet time the view shows (``2026-06-01 00:30:00 UTC``; empty before the first telemetry)."""
        return self.view.frames.clock if self.view is not None else ""

    @property
    def shown(self) -> np.datetime64 | None:
        """The fleet time the view shows (None before the first telemetry)."""
        return self.view.scene.time if self.view is not None else None

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
        """The fleet's time is ``now`` (a refresh's): show it if following, if it is not the time shown and if the
        last redraw is :attr:`redraw_every_s` old; otherwise send nothing."""
        now = np.datetime64(now, "ns")
        self._latest = now
        if (not self.following.value or self._building or now == self.shown
                or self.wall_clock() - self._redrawn_at < self.redraw_every_s):
            self._update_caption()
            return
        self._building = True
        try:
            run = None if self.covers(now) else await asyncio.to_thread(self.orbit_run, now)
            if self._closed:  # the session ended while the run was made
                return
            if self.view is None:
                self._first_scene(run)
            else:
                if run is not None:
                    self.view.scene.follow_run(run)
                self.view.show(time_index(self.view.scene.times, now))
                self.frames_sent += 1
            self.view.frames.clock = clock_text(self.view.scene)  # also for a browser that missed the frame
            self._redrawn_at = self.wall_clock()
        finally:
            self._building = False
        self._update_caption()

    def _first_scene(self, run: xr.Dataset) -> None:
        """The session's scene: sent to the browser whole, once."""
        self.view = SceneView(run, COLOR_BY, self.scenario)
        self.slot.objects = [self.view.layout]
        self.scenes_sent += 1

    def _toggled(self) -> None:
        """Following again: the next refresh redraws at once (it moves the view to the newest fleet time)."""
        if self.following.value:
            self._redrawn_at = -np.inf
        self._update_caption()

    def _caption_html(self) -> str:
        shown = "none yet" if self.shown is None else utc_text(self.shown)
        if not self.following.value:
            latest = "" if self._latest is None else f"; the telemetry is at {utc_text(self._latest)}"
            how = f"paused{latest}"
        else:
            how = f"following the telemetry, redrawn when it moves, at most every {self.redraw_every_s:g} s"
        return (f"<span class='live-view-caption'>Fleet time shown: <span id='live-view-time'>{shown}</span> "
                f"({how})</span>")

    def _update_caption(self) -> None:
        text = self._caption_html()
        if self.caption.object != text:
            self.caption.object = text

    def close(self) -> None:
        """Free the scene's render window; a run being made for it is dropped."""
        self._closed = True
        if self.view is not None:
            self.view.close()
            self.view = None
