"""The Live tab: a control room over the telemetry store as it fills.

A fleet health matrix (sub-center x subsystem), the alarm list (one alarm per satellite, acknowledged and
shelved by operators), a plot of any measurement with its limits, the twin's predicted band and a now cursor,
the command panel (engineers prepare, operators send; each command followed to its verification) and a
forecast from the live state. One :class:`SharedOperations` per store and scenario serves every session: it
refreshes the operations picture (:class:`twin.operations.monitor.FleetMonitor`) at most every ``refresh_s``
seconds in a worker thread, so sessions only read its latest view. Buttons are disabled for those who may not
use them, but the refusal that counts is the server-side one (:func:`apps.auth.require`, then the operations
layer's own check).
"""

from __future__ import annotations

import asyncio
import html
import threading
import time
from pathlib import Path

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn

from twin.operations.alarms import LEVEL, READABLE, SEVERITIES
from twin.operations.forecast import forecast, live_state
from twin.operations.monitor import FleetMonitor, OperationsView
from twin.operations.roles import NotPermitted
from twin.operations.windows import CommandWindows
from twin.scenario import load_scenario
from twin.telemetry.packets import layouts_by_name
from twin.telemetry.telecommands import CommandError, load_commands

from .auth import AccessDenied, User, require
from .live_view3d import LiveScene
from .plots import LINE_OPTIONS

REFRESH_S = 5.0
SHELVE_FOR = np.timedelta64(1, "h")
LEVEL_COLOURS = ("#2e7d32", "#f0a202", "#d32f2f")  # ok, warning, critical (green, amber, red)
ALARM_COLUMNS = {"severity": "Severity", "satellite": "Satellite", "subcenter": "Sub-center", "since": "Since (UTC)",
                 "summary": "Symptoms", "acknowledged_by": "Acknowledged by", "acknowledged_at": "Acknowledged at",
                 "key": "key"}
# Measurement shown -> (state variable, thermal node, residual band of sensors.toml, XTCE packet and parameter)
MEASUREMENTS = {
    "Battery state of charge": ("battery_soc", None, "battery_soc", ("power", "battery_soc")),
    "Payload temperature (K)": ("temperature", "payload", "temperature", ("thermal", "payload_temperature_k")),
    "Bus temperature (K)": ("temperature", "bus", "temperature", ("thermal", "bus_temperature_k")),
    "Array power (W)": ("generated_power", None, "generated_power", None),
    "Power used (W)": ("used_power", None, "used_power", None),
    "Compute utilisation": ("compute_utilization", None, None, None),
}
COMMAND_COLUMNS = ["Command", "Satellite", "Function", "Arguments", "Status", "Window (UTC)", "Sent", "Accepted",
                   "Executed", "Outcome", "Prepared by", "Sent by"]
TABLE_THEME = "midnight"  # Tabulator's dark theme, as the page's
FORECAST_COLUMNS = {"satellite": "Satellite", "variable": "Measurement", "severity": "Severity",
                    "crosses_at": "Crosses at (UTC)", "in_min": "In (min)", "worst": "Worst", "limit": "Limit",
                    "units": "Units"}


class SharedOperations:
    """The latest operations picture of one store, refreshed on demand by at most one thread at a time."""

    _instances: dict[tuple[str, str], SharedOperations] = {}
    _lock = threading.Lock()

    def __init__(self, store: Path, scenario_name: str, window_s: float, refresh_s: float):
        self.scenario = load_scenario(scenario_name)
        self.monitor = FleetMonitor(store, self.scenario, window_s)
        self.refresh_s = refresh_s
        self.view: OperationsView | None = None
        self.error = ""
        self._refreshed = 0.0
        self._refreshing = threading.Lock()
        self._finding_windows = threading.Lock()

    @classmethod
    def for_store(cls, store: Path, scenario_name: str, window_s: float = 3600.0,
                  refresh_s: float = REFRESH_S) -> SharedOperations:
        key = (str(Path(store).resolve()), scenario_name)
        with cls._lock:
            if key not in cls._instances:
                cls._instances[key] = cls(Path(store), scenario_name, window_s, refresh_s)
            return cls._instances[key]

    def latest(self, force: bool = False) -> OperationsView | None:
        """The newest view, refreshed first if it is older than ``refresh_s`` (blocking: call from a worker)."""
        if (force or time.monotonic() - self._refreshed >= self.refresh_s) and self._refreshing.acquire(blocking=False):
            try:
                self.view, self.error = self.monitor.refresh(), ""
                self._windows()
            except (OSError, ValueError) as error:  # no store yet, a half-written store, too little telemetry
                self.error = str(error)
            finally:
                self._refreshed = time.monotonic()
                self._refreshing.release()
        return self.view

    def live_state(self):
        """The live state of the latest view (:func:`twin.operations.forecast.live_state`): where a forecast or a
        what-if forked from live starts; ``ValueError`` while no telemetry is assessed."""
        view = self.view
        if view is None or view.live.state is None:
            raise ValueError("no telemetry assessed yet: nothing to start from")
        return live_state(view.live.state, view.live.anomalies, self.scenario, view.commands.values())

    def _windows(self) -> None:
        """Command windows ahead of the fleet's time (for staleness and sending), found in a thread of their own (a
        network run of hours ahead takes seconds) and again an hour before they end."""
        queue, now = self.monitor.queue, self.view.now if self.view else None
        if now is None or self._finding_windows.locked() or (
                queue.windows is not None and queue.windows.start <= now <= queue.windows.end - np.timedelta64(3600, "s")):
            return

        def find() -> None:
            with self._finding_windows:
                queue.windows = CommandWindows(self.scenario, now)

        threading.Thread(target=find, daemon=True, name="command-windows").start()


def matrix_html(matrix: pd.DataFrame | None) -> str:
    """The health matrix as an HTML table: a row per sub-center, a coloured cell per subsystem."""
    if matrix is None:
        return "<p>Waiting for telemetry...</p>"
    header = "".join(f"<th>{html.escape(name)}</th>" for name in matrix.columns)
    rows = []
    for subcenter, levels in matrix.iterrows():
        cells = "".join(f'<td class="health-cell" data-subcenter="{html.escape(subcenter)}" data-subsystem="{name}" '
                        f'data-level="{SEVERITIES[level]}" title="{html.escape(subcenter)} {name}: {SEVERITIES[level]}" '
                        f'style="background:{LEVEL_COLOURS[level]};min-width:64px;height:22px"></td>'
                        for name, level in levels.items())
        rows.append(f"<tr><th style='text-align:left;padding-right:8px'>{html.escape(subcenter)}</th>{cells}</tr>")
    legend = " ".join(f"<span style='color:{colour}'>&#9632;</span> {name}" for name, colour in zip(SEVERITIES, LEVEL_COLOURS))
    return (f"<table id='health-matrix' style='border-spacing:3px'><tr><th></th>{header}</tr>{''.join(rows)}</table>"
            f"<div style='font-size:12px'>{legend}</div>")


def measurement_plot(view: OperationsView, satellite: str, measurement: str, sensors: dict) -> hv.Overlay | None:
    """Measured values, the twin's prediction and band, the XTCE limits and a now cursor, for one satellite."""
    from twin.telemetry.anomalies import band

    state = view.live.state
    if state is None or satellite not in state["sat"].values:
        return None
    variable, node, band_name, limits = MEASUREMENTS[measurement]
    values, residual = state[variable].sel(sat=satellite), state.get(f"{variable}_residual")
    if node is not None:
        values = values.sel(node=node)
    times = state["time"].values
    elements = []
    if residual is not None:
        residual = residual.sel(sat=satellite)
        residual = residual.sel(node=node) if node is not None else residual
        measured = np.where(np.isfinite(residual.values), values.values, np.nan)
        predicted = np.where(np.isfinite(residual.values), values.values - residual.values, values.values)
        if band_name is not None:
            width = float(band(state.sel(sat=[satellite]), sensors["bands"][band_name])[0, 0])
            elements.append(hv.Area((times, predicted - width, predicted + width), kdims=["time"],
                                    vdims=[measurement, "upper"], label="twin's band").opts(
                color="#5a7bd8", alpha=0.25, line_alpha=0))
        elements.append(hv.Curve((times, predicted), "time", measurement, label="twin predicts").opts(
            color="#8fa8ff", line_dash="dashed"))
    else:
        measured = values.values
    elements.append(hv.Curve((times, measured), "time", measurement, label="measured").opts(color="#ffd166"))
    if limits is not None:  # the limits near the data (a bound far off would squash the plot)
        field = layouts_by_name()[limits[0]].field(limits[1])
        shown = values.values.astype(float)
        low_data, high_data = float(np.nanmin(shown)), float(np.nanmax(shown))
        pad = max(high_data - low_data, 0.1 * abs(high_data))
        for severity, low, high in field.alarm_ranges:  # (a bound at the end of the valid range is no limit)
            elements += [hv.HLine(bound).opts(color=LEVEL_COLOURS[LEVEL[severity]], line_dash="dotted", line_width=1.5)
                         for bound in (low, high) if low_data - pad <= bound <= high_data + pad
                         and bound not in (field.valid_range or ())]
    elements.append(hv.VLine(view.now).opts(color="#e8ecf4", line_width=1))
    return hv.Overlay(elements).opts(title=f"{satellite}: {measurement}, now {str(view.now)[11:19]} UTC",
                                     shared_axes=False, responsive=True, height=LINE_OPTIONS["height"], show_grid=True,
                                     legend_position="top_left", backend_opts=LINE_OPTIONS["backend_opts"],
                                     xlabel="time (UTC)", ylabel=measurement)


class LiveTab:
    """One session's Live tab; ``layout`` goes on the page."""

    def __init__(self, store: Path, scenario_name: str, user: User, refresh_s: float = REFRESH_S):
        self.user = user
        self.shared = SharedOperations.for_store(store, scenario_name, refresh_s=refresh_s)
        self.status = pn.pane.Markdown("Waiting for telemetry...", sizing_mode="stretch_width")
        self.matrix = pn.pane.HTML(matrix_html(None), width=460)
        self.table = pn.widgets.Tabulator(None, theme=TABLE_THEME, selectable=1, disabled=True, show_index=False, height=220,
                                          sizing_mode="stretch_width", hidden_columns=["key"])
        operator = user.can("acknowledge_alarm")
        self.acknowledge_button = pn.widgets.Button(label="Acknowledge selected", color="warning",
                                                    disabled=not operator, width=200)
        self.shelve_button = pn.widgets.Button(label="Shelve selected for 1 h", color="default",
                                               disabled=not operator, width=200)
        note = "" if operator else (f"Signed in as {user.name} ({user.role_text}): acknowledging an alarm needs the "
                                    "operator role.")
        self.note = pn.pane.Markdown(note)
        self.message = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.satellite = pn.widgets.Select(label="Satellite", width=180)
        self.measurement = pn.widgets.Select(label="Measurement", options=list(MEASUREMENTS), width=240)
        self.plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", height=280)
        self.commands = CommandPanel(self)
        self.forecast = ForecastPanel(self)
        self.fleet_view = LiveScene(self.shared.scenario, self.shared.monitor.sensors["reporting"]["interval_s"])
        self.layout = pn.Column(
            self.status, self.message,
            pn.Row(pn.Column("### Fleet health", self.matrix),
                   pn.Column("### Alarms", self.table, pn.Row(self.acknowledge_button, self.shelve_button, self.note),
                             sizing_mode="stretch_width"), sizing_mode="stretch_width"),
            pn.Row(pn.Column("### The fleet at the telemetry's time", self.fleet_view.layout),
                   pn.Column(pn.Row(self.satellite, self.measurement), self.plot, sizing_mode="stretch_width"),
                   sizing_mode="stretch_width"),
            "### Commands", self.commands.layout, "### Forecast from now", self.forecast.layout,
            sizing_mode="stretch_width")
        self.acknowledge_button.on_click(lambda event: self.on_alarm("acknowledge"))
        self.shelve_button.on_click(lambda event: self.on_alarm("shelve"))
        self.satellite.param.watch(lambda event: self._draw(), "value")
        self.measurement.param.watch(lambda event: self._draw(), "value")
        self.table.param.watch(lambda event: self._selected(), "selection")
        self._shown_now = None
        self._selected_key: str | None = None  # the alarm picked in the list: kept when a refresh reorders the rows
        pn.state.onload(self.refresh)
        self._poll = pn.state.add_periodic_callback(self.refresh, period=int(refresh_s * 1000))

    async def refresh(self) -> None:
        """Take the shared view (refreshed in a worker thread when due) and show it; until the first assessment is
        ready, the store's counts (read in a moment) show what has arrived."""
        if self.shared.view is None:
            from twin.telemetry.store import StoreError, read_state

            try:
                self._status(await asyncio.to_thread(read_state, self.shared.monitor.assessment.store_path),
                             "assessing...", "assessing...")
            except (OSError, StoreError) as error:
                self.status.object = f"Waiting for telemetry... {error}"
        view = await asyncio.to_thread(self.shared.latest)
        self.show(view)
        if view is not None and view.now is not None:
            await self.fleet_view.follow(view.now)  # sends the browser nothing unless the view moves

    def _status(self, status: dict, now: str, alarms: str) -> None:
        counts = status.get("counts", {})
        bad = ", ".join(f"{kind} {count:,d}" for kind, count in sorted(counts.items())
                        if kind != "stored" and count) or "none"
        stored = sum(status.get("rows", {}).values())
        self.status.object = (f"**Fleet time** <span id='fleet-time'>{now}</span> UTC &nbsp; "
                              f"**measurements stored** <span id='stored-count'>{stored:,d}</span> &nbsp; **stations** "
                              f"{', '.join(status.get('stations', [])) or 'none'} &nbsp; **bad input** {bad} "
                              f"&nbsp; **alarms** {alarms}")

    def show(self, view: OperationsView | None) -> None:
        if view is None or view.now is None:
            if self.shared.error:
                self.status.object = f"Waiting for telemetry... {self.shared.error}"
            return
        live = view.live
        alarms = view.alarms
        self._status(live.status, str(view.now)[:19], "0" if alarms is None else (
            f"{len(alarms.alarms)}" + ("" if alarms.shelved.empty else f" ({len(alarms.shelved)} shelved)")))
        if alarms is not None:
            self.matrix.object = matrix_html(alarms.matrix)
            table = alarms.alarms[list(ALARM_COLUMNS)].copy()
            table["since"] = table["since"].astype(str).str[:19]
            table = table.rename(columns=ALARM_COLUMNS)
            if self.table.value is None or not table.equals(self.table.value):  # else the page keeps its rows
                key = self._selected_key
                self.table.value = table
                self._selected_key = key
                self._reselect()
        self.commands.show(view)
        if live.state is not None and view.now != self._shown_now:
            first_time = self._shown_now is None
            self._shown_now = view.now
            satellites = [str(s) for s in live.state["sat"].values]
            self.satellite.options = satellites
            self.commands.satellite.options = satellites
            if first_time and alarms is not None and len(alarms.alarms):
                self.satellite.value = alarms.alarms.iloc[0]["satellite"]
            elif self.satellite.value not in satellites:
                self.satellite.value = satellites[0]
            self._draw()

    def _selected(self) -> None:
        """An alarm picked in the list: remember which (by its key) and plot that satellite."""
        rows, table = self.table.selection, self.table.value
        if rows and table is not None and rows[0] < len(table):
            self._selected_key = str(table.iloc[rows[0]]["key"])
            self.satellite.value = str(table.iloc[rows[0]]["Satellite"])
        else:
            self._selected_key = None

    def _reselect(self) -> None:
        """After new rows: select the row of the alarm picked before (rows move as alarms come and go), or none."""
        keys = list(self.table.value["key"]) if self.table.value is not None else []
        self.table.selection = [keys.index(self._selected_key)] if self._selected_key in keys else []

    def _draw(self) -> None:
        view = self.shared.view
        if view is None or not self.satellite.value:
            return
        self.plot.object = measurement_plot(view, self.satellite.value, self.measurement.value,
                                            self.shared.monitor.sensors)

    def acknowledge(self, key: str) -> None:
        """Acknowledge alarm ``key`` (a satellite) as the signed-in user; operators only."""
        require(self.user, "acknowledge_alarm")
        self.shared.monitor.book.acknowledge(self.user, key, self._now(), self.shared.view.alarms.symptoms)

    def shelve(self, key: str) -> None:
        """Shelve alarm ``key`` for an hour of fleet time; operators only."""
        require(self.user, "shelve_alarm")
        self.shared.monitor.book.shelve(self.user, key, self._now() + SHELVE_FOR, reason=f"shelved from the Live tab")

    def _now(self) -> np.datetime64:
        view = self.shared.view
        if view is None or view.now is None:
            raise ValueError("no telemetry yet: nothing to acknowledge")
        return view.now

    def on_alarm(self, action: str) -> None:
        self.message.visible = False
        key = self._selected_key
        if key is None:
            self.say("Select an alarm in the list first.")
            return
        try:
            (self.acknowledge if action == "acknowledge" else self.shelve)(key)
        except (AccessDenied, NotPermitted, ValueError) as error:
            self.say(str(error))
            return
        self.show(self.shared.latest(force=True))

    def say(self, text: str, kind: str = "danger") -> None:
        self.message.param.update(object=text, alert_type=kind, visible=True)

    def close(self) -> None:
        if self._poll is not None:
            self._poll.stop()
        self.fleet_view.close()


class CommandPanel:
    """Prepare and send commands (roles checked on the server), and every command's stages."""

    def __init__(self, tab: LiveTab):
        self.tab = tab
        user = tab.user
        self.definitions = load_commands()
        self.satellite = pn.widgets.Select(label="Satellite", width=160)
        self.command = pn.widgets.Select(label="Command", options=list(self.definitions), width=180)
        self.arguments = pn.Row()
        self.release = pn.widgets.TextInput(label="Release time (UTC, optional)", placeholder="on receipt", width=220)
        self.send_button = pn.widgets.Button(label="Send", color="primary", width=110,
                                             disabled=not user.can("send_command"))
        self.prepare_button = pn.widgets.Button(label="Prepare", color="default", width=110,
                                                disabled=not user.can("prepare_command"))
        roles = ("" if user.can("send_command") else
                 f"Signed in as {user.name} ({user.role_text}): sending a command needs the operator role"
                 + ("; you may prepare one." if user.can("prepare_command") else "."))
        self.note = pn.pane.Markdown(roles)
        self.table = pn.widgets.Tabulator(None, theme=TABLE_THEME, disabled=True, show_index=False, height=200, selectable=1,
                                          sizing_mode="stretch_width")
        self.send_prepared = pn.widgets.Button(label="Send selected", color="primary", width=140,
                                               disabled=not user.can("send_command"))
        self.command.param.watch(lambda event: self._inputs(), "value")
        self.send_button.on_click(lambda event: asyncio.ensure_future(self.on_request("send")))
        self.prepare_button.on_click(lambda event: asyncio.ensure_future(self.on_request("prepare")))
        self.send_prepared.on_click(lambda event: asyncio.ensure_future(self.on_request("send_prepared")))
        self._inputs()
        self.layout = pn.Column(pn.Row(self.satellite, self.command, self.arguments, self.release),
                                pn.Row(self.send_button, self.prepare_button, self.note), self.table,
                                self.send_prepared, sizing_mode="stretch_width")

    def _inputs(self) -> None:
        """One input per argument of the chosen command, named with its meaning, range and units."""
        definition = self.definitions[self.command.value]
        inputs = []
        for field in definition.arguments:
            low, high = field.valid_range
            units = "" if field.units == "1" else f" {field.units}"
            inputs.append(pn.widgets.FloatInput(label=f"{field.description} ({low:g} to {high:g}{units})",
                                                value=float(low if low > 0 else min(high, max(low, 0.0))), width=260))
        self.arguments.objects = inputs

    def values(self) -> dict:
        return {field.name: widget.value for field, widget in zip(self.definitions[self.command.value].arguments,
                                                                  self.arguments.objects)}

    def submit(self, action: str, satellite: str = "", name: str = "", arguments: dict | None = None,
               release: str | None = None, command_id: str = ""):
        """The server-side request: the role checked here (:func:`apps.auth.require`), then by the queue."""
        view = self.tab.shared.view
        if view is None or view.now is None:
            raise ValueError("no telemetry yet: the fleet's time is unknown")
        queue = self.tab.shared.monitor.queue
        if action == "prepare":
            require(self.tab.user, "prepare_command")
            return queue.prepare(self.tab.user, satellite, name, arguments, view.now, release)
        require(self.tab.user, "send_command")
        if action == "send_prepared":
            return queue.send(self.tab.user, command_id, view.now)
        return queue.submit(self.tab.user, satellite, name, arguments, view.now, release)

    async def on_request(self, action: str) -> None:
        self.tab.message.visible = False
        command_id = ""
        if action == "send_prepared":
            if not self.table.selection:
                self.tab.say("Select a prepared command first.")
                return
            command_id = str(self.table.value.iloc[self.table.selection[0]]["Command"])
        try:
            command = await asyncio.to_thread(self.submit, action, self.satellite.value, self.command.value,
                                              self.values(), self.release.value.strip() or None, command_id)
        except (AccessDenied, NotPermitted, CommandError, ValueError) as error:
            self.tab.say(str(error))
            return
        window = f" for the window opening {command.window[0][11:19]} UTC" if command.window else ""
        self.tab.say(f"{command.command_id} {command.status}{window}.", kind="success")
        self.show(self.tab.shared.latest(force=True))

    def show(self, view: OperationsView | None) -> None:
        if view is None:
            return
        rows = [(c.command_id, c.satellite, c.name, ", ".join(f"{k}={v:g}" for k, v in c.arguments.items()), c.status,
                 f"{c.window[0][11:19]}-{c.window[1][11:19]}" if c.window else "",
                 *(str(c.stages.get(stage, ""))[11:19] for stage in ("sent", "accepted", "executed")), c.reason,
                 c.prepared_by, c.sent_by) for c in sorted(view.commands.values(), key=lambda c: c.command_id)]
        self.table.value = pd.DataFrame.from_records(rows, columns=COMMAND_COLUMNS)


class ForecastPanel:
    """The twin run forward from the live state, in the background, and what crosses a limit."""

    def __init__(self, tab: LiveTab):
        self.tab = tab
        self.orbits = pn.widgets.FloatInput(label="Orbits ahead", value=2.0, start=0.1, end=16.0, step=0.5, width=120)
        self.button = pn.widgets.Button(label="Forecast from now", color="primary", width=180)
        self.status = pn.pane.Markdown("")
        self.table = pn.widgets.Tabulator(None, theme=TABLE_THEME, disabled=True, show_index=False, height=200,
                                          sizing_mode="stretch_width", css_classes=["forecast-table"])
        self.button.on_click(lambda event: asyncio.ensure_future(self.run()))
        self.layout = pn.Column(pn.Row(self.orbits, self.button, self.status), self.table, sizing_mode="stretch_width")

    def compute(self, orbits: float):
        return forecast(self.tab.shared.scenario, self.tab.shared.live_state(), orbits)

    async def run(self) -> None:
        self.button.disabled = True
        self.status.object = "Running the twin from the live state..."
        try:
            result = await asyncio.to_thread(self.compute, float(self.orbits.value))
        except ValueError as error:
            self.status.object = f"**Cannot forecast:** {error}"
            return
        finally:
            self.button.disabled = False
        crossings = result.crossings
        health = ", ".join(f"{f.target} {f.kind.replace('_', ' ')} {f.severity:.0%}" for f in result.state.faults)
        self.status.object = (f"From {str(result.state.start)[:19]} UTC, {self.orbits.value:g} orbits: "
                              f"<span id='forecast-count'>{len(crossings)}</span> limit crossings; health from the "
                              f"telemetry: {health or 'as designed'}")
        table = crossings.assign(variable=crossings["variable"].map(lambda v: READABLE.get(v, v)),
                                 crosses_at=crossings["crosses_at"].astype(str).str[:19],
                                 in_min=(crossings["in_s"] / 60).round(0)) if len(crossings) else \
            pd.DataFrame(columns=list(FORECAST_COLUMNS))
        self.table.value = table[list(FORECAST_COLUMNS)].rename(columns=FORECAST_COLUMNS)


NO_TELEMETRY = ("### Live telemetry\n\nNo telemetry store configured: start the dashboard with "
                "`twin serve --telemetry STORE --telemetry-scenario SCENARIO`, STORE being an ingest server's "
                "(`twin telemetry serve --store STORE`).")
