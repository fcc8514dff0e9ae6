"""The Live tab: the telemetry store followed as it fills, the fleet measured against the twin, anomalies to acknowledge.

One :class:`SharedLive` per store and scenario serves every session: it re-assesses the last hour
(:class:`twin.telemetry.live.LiveAssessment`) at most every ``refresh_s`` seconds, in a worker
thread, so sessions only read its latest view. The Acknowledge button is disabled for those who
may not acknowledge, but the refusal that counts is :meth:`LiveTab.acknowledge`'s own role check.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import holoviews as hv
import hvplot.xarray  # noqa: F401  (registers .hvplot on xarray objects)
import panel as pn

from twin.scenario import load_scenario
from twin.telemetry.anomalies import band, monitored_residuals
from twin.telemetry.live import LiveAssessment, LiveView

from .auth import AccessDenied, User, require
from .plots import LINE_OPTIONS

REFRESH_S = 5.0
TABLE_COLUMNS = ["satellite", "variable", "start", "end", "size", "units", "band", "acknowledged_by", "key"]


class SharedLive:
    """The latest assessment of one store, refreshed on demand by at most one thread at a time."""

    _instances: dict[tuple[str, str], SharedLive] = {}
    _lock = threading.Lock()

    def __init__(self, store: Path, scenario_name: str, window_s: float, refresh_s: float):
        self.assessment = LiveAssessment(store, load_scenario(scenario_name), window_s)
        self.refresh_s = refresh_s
        self.view: LiveView | None = None
        self.error = ""
        self._refreshed = 0.0
        self._refreshing = threading.Lock()

    @classmethod
    def for_store(cls, store: Path, scenario_name: str, window_s: float = 3600.0,
                  refresh_s: float = REFRESH_S) -> SharedLive:
        key = (str(Path(store).resolve()), scenario_name)
        with cls._lock:
            if key not in cls._instances:
                cls._instances[key] = cls(Path(store), scenario_name, window_s, refresh_s)
            return cls._instances[key]

    def latest(self, force: bool = False) -> LiveView | None:
        """The newest view, re-assessed first if it is older than ``refresh_s`` (blocking: call from a worker)."""
        if (force or time.monotonic() - self._refreshed >= self.refresh_s) and self._refreshing.acquire(blocking=False):
            try:
                self.view, self.error = self.assessment.refresh(), ""
            except (OSError, ValueError) as error:  # no store yet, a half-written store, too little telemetry
                self.error = str(error)
            finally:
                self._refreshed = time.monotonic()
                self._refreshing.release()
        return self.view


class LiveTab:
    """One session's Live tab; ``layout`` goes on the page."""

    def __init__(self, store: Path, scenario_name: str, user: User, refresh_s: float = REFRESH_S):
        self.user = user
        self.shared = SharedLive.for_store(store, scenario_name, refresh_s=refresh_s)
        self.status = pn.pane.Markdown("Waiting for telemetry...", sizing_mode="stretch_width")
        self.table = pn.widgets.Tabulator(None, selectable=1, disabled=True, show_index=False, height=260,
                                          sizing_mode="stretch_width", name="anomalies")
        allowed = user.can("acknowledge_alarm")
        self.acknowledge_button = pn.widgets.Button(label="Acknowledge selected", button_type="warning",
                                                    disabled=not allowed, width=220)
        note = "" if allowed else (f"Signed in as {user.name} ({user.role_text}): acknowledging an alarm needs the "
                                   "operator role.")
        self.note = pn.pane.Markdown(note)
        self.message = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.satellite = pn.widgets.Select(name="Satellite", width=200)
        self.variable = pn.widgets.Select(name="Residual", width=200)  # the monitored residuals, once a state exists
        self.plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", height=260)
        self.layout = pn.Column(self.status, self.message, "### Anomalies", self.table,
                                pn.Row(self.acknowledge_button, self.note),
                                pn.Row(self.satellite, self.variable), self.plot, sizing_mode="stretch_width")
        self.acknowledge_button.on_click(lambda event: self.acknowledge_selected())
        self.satellite.param.watch(lambda event: self._draw(), "value")
        self.table.param.watch(lambda event: self._selected(), "selection")
        self.variable.param.watch(lambda event: self._draw(), "value")
        self._shown_newest = None
        pn.state.onload(self.refresh)
        self._poll = pn.state.add_periodic_callback(self.refresh, period=int(refresh_s * 1000))

    async def refresh(self) -> None:
        """Take the shared view (re-assessed in a worker thread when due) and show it."""
        view = await asyncio.to_thread(self.shared.latest)
        self.show(view)

    def show(self, view: LiveView | None) -> None:
        if view is None:
            self.status.object = f"Waiting for telemetry... {self.shared.error}"
            return
        counts = view.status.get("counts", {})
        bad = ", ".join(f"{kind} {count:,d}" for kind, count in sorted(counts.items())
                        if kind != "stored" and count) or "none"
        stored = sum(view.status.get("rows", {}).values())
        self.status.object = (f"**Newest packet** {str(view.newest)[:19]} UTC &nbsp; **measurements stored** "
                              f"<span id='stored-count'>{stored:,d}</span> &nbsp; **stations** "
                              f"{', '.join(view.status.get('stations', [])) or 'none'} &nbsp; **bad input** {bad} "
                              f"&nbsp; **anomalies** {len(view.anomalies)} (last {self.shared.assessment.window_s / 3600:g} h)")
        table = view.anomalies[TABLE_COLUMNS].copy() if len(view.anomalies) else view.anomalies.reindex(columns=TABLE_COLUMNS)
        for column in ("start", "end"):
            table[column] = table[column].astype(str).str[:19]
        self.table.value = table
        if view.state is not None and view.newest != self._shown_newest:
            first_time = self._shown_newest is None
            self._shown_newest = view.newest
            satellites = [str(s) for s in view.state["sat"].values]
            self.satellite.options = satellites
            if not self.variable.options:
                self.variable.param.update(options=list(monitored_residuals(view.state)), value="generated_power")
            plottable = table[table["variable"].isin(self.variable.options)]
            if first_time and len(plottable):  # start on the first anomaly that has a residual to plot
                self._focus(plottable.iloc[0]["satellite"], plottable.iloc[0]["variable"])
            elif self.satellite.value not in satellites:
                self.satellite.value = satellites[0]
            self._draw()

    def _focus(self, satellite: str, variable: str) -> None:
        with pn.io.hold():
            self.satellite.value = satellite
            if variable in self.variable.options:
                self.variable.value = variable

    def _selected(self) -> None:
        """A row picked in the table: plot that satellite's residual."""
        if self.table.selection and self.table.value is not None and len(self.table.value):
            row = self.table.value.iloc[self.table.selection[0]]
            self._focus(str(row["satellite"]), str(row["variable"]))

    def _draw(self) -> None:
        view = self.shared.view
        if view is None or view.state is None or not self.satellite.value or not self.variable.value:
            return
        band_name, residual = monitored_residuals(view.state)[self.variable.value]
        residual = residual.sel(sat=self.satellite.value).reset_coords(drop=True)
        units = residual.attrs.get("units", "")
        curve = residual.rename("measured - predicted").hvplot.line(
            x="time", ylabel=units, label="measured - predicted", **LINE_OPTIONS)
        settings = self.shared.assessment.sensors["bands"][band_name]
        limit = float(band(view.state.sel(sat=[self.satellite.value]), settings)[0, 0])  # the band find_anomalies uses
        lines = [hv.HLine(value).opts(color="#d9534f", line_dash="dashed") for value in (limit, -limit)]
        self.plot.object = hv.Overlay([curve, *lines]).opts(title=f"{self.satellite.value}: {self.variable.value}",
                                                             shared_axes=False)  # its own hour, not another tab's run

    def acknowledge(self, key: str) -> None:
        """Acknowledge the anomalies ``key`` (satellite|variable) as the signed-in user; operators only."""
        require(self.user, "acknowledge_alarm")
        self.shared.assessment.acknowledge(key, self.user.name)

    def acknowledge_selected(self) -> None:
        self.message.visible = False
        rows = self.table.selection
        if not rows:
            self.message.object = "Select an anomaly in the table first."
            self.message.visible = True
            return
        key = str(self.table.value.iloc[rows[0]]["key"])
        try:
            self.acknowledge(key)
        except (AccessDenied, ValueError) as error:
            self.message.object = str(error)
            self.message.visible = True
            return
        self.show(self.shared.latest(force=True))

    def close(self) -> None:
        if self._poll is not None:
            self._poll.stop()


NO_TELEMETRY = ("### Live telemetry\n\nNo telemetry store configured: start the dashboard with "
                "`twin serve --telemetry STORE --telemetry-scenario SCENARIO`, STORE being an ingest server's "
                "(`twin telemetry serve --store STORE`).")
