"""The What-if tab: change a few parameters of a built-in scenario, run it in the background, compare with the baseline.

The form passes what was typed on as it is: numbers that do not parse reach the twin's scenario
validation as text, which names the field and the value. The Run button is disabled for those
who may not run, but the refusal that counts is :func:`apps.whatif.submit_whatif`'s own.
"""

from __future__ import annotations

import asyncio
import html

import panel as pn

from twin.scenario import load_scenario

from .auth import AccessDenied, User, require
from .kpis import figures_table
from .plots import comparison_plots, plot_panes
from .progress import JobProgress
from .review_export import Section
from .runs import Catalogue, Job, phase_scenarios
from .whatif import FIELD_LABELS, WhatIf, WhatIfError, describe, submit_whatif

NO_STATION = "none"
FROM_EPOCH, FROM_LIVE = "the scenario's epoch", "the live state (telemetry)"


def _typed(text: str, kind: type):
    """``None`` for an empty field, ``kind(text)`` if it parses, else the text itself (validation names it)."""
    text = text.strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        return text


class WhatIfTab:
    """The what-if form, its progress and its comparison with the baseline; ``layout`` goes on the page."""

    def __init__(self, catalogue: Catalogue, user: User, live=None):
        """``live``: the :class:`apps.live_tab.SharedOperations` of the telemetry store the dashboard follows, if any
        (a what-if may then start from its live state)."""
        self.catalogue, self.user, self.live = catalogue, user, live
        self.origin = pn.widgets.Select(label="Start from", options=[FROM_EPOCH, FROM_LIVE], value=FROM_EPOCH,
                                        width=260, visible=live is not None)
        self.scenario = pn.widgets.Select(label=FIELD_LABELS["scenario"], options=phase_scenarios(), width=260)
        self.group = pn.widgets.Select(label=FIELD_LABELS["group"], width=260)
        self.satellites = pn.widgets.TextInput(label=FIELD_LABELS["satellites"], placeholder="unchanged", width=260)
        self.bus = pn.widgets.Select(label=FIELD_LABELS["bus"], width=260)
        self.area = pn.widgets.TextInput(label=FIELD_LABELS["area"], placeholder="unchanged", width=260)
        self.station = pn.widgets.Select(label=FIELD_LABELS["station"], width=260)
        self.target = pn.widgets.TextInput(label=FIELD_LABELS["target"], placeholder="e.g. CC1-002-03 or CC1-002",
                                           width=260)
        self.start = pn.widgets.TextInput(label=FIELD_LABELS["start"] + " (after the run starts)", value="1h", width=260)
        allowed = user.can("run_whatif")
        self.run = pn.widgets.Button(label="Run what-if", color="primary", disabled=not allowed, width=260)
        note = "" if allowed else (f"Signed in as {user.name} ({user.role_text}): you can look at results, but "
                                   "starting a what-if run needs the engineer role.")
        self.note = pn.pane.Markdown(note, width=260)
        self.message = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.progress = JobProgress()
        self.heading = pn.pane.Markdown("")
        self.table = pn.pane.DataFrame(None, sizing_mode="stretch_width", visible=False)
        self.plots = pn.GridBox(ncols=2, sizing_mode="stretch_width")
        self._compared: dict = {}
        self._plots: list = []
        form = pn.Column(self.origin, self.scenario, self.group, self.satellites, self.bus, self.area, self.station, self.target,
                         self.start, self.run, self.note, width=280)
        self.layout = pn.Row(form, pn.Column(self.message, self.progress.layout, self.heading, self.table, self.plots,
                                             sizing_mode="stretch_width"), sizing_mode="stretch_width")
        self.scenario.param.watch(lambda event: self._scenario_changed(), "value")
        self.origin.param.watch(lambda event: self._origin_changed(), "value")
        self.run.on_click(lambda event: asyncio.ensure_future(self.submit()))
        self._scenario_changed()

    def _scenario_changed(self) -> None:
        scenario = load_scenario(self.scenario.value)
        groups = [group.name for group in scenario.subcenters]
        self.group.param.update(options=groups, value=groups[-1])
        self.bus.param.update(options=list(scenario.buses), value=list(scenario.buses)[-1])
        self.station.param.update(options=[NO_STATION] + [station.name for station in scenario.ground_stations],
                                  value=NO_STATION)

    def _origin_changed(self) -> None:
        """From live: the scenario is the one the fleet flies, and its satellites stay as they are."""
        from_live = self.origin.value == FROM_LIVE
        if from_live:
            self.scenario.value = self.live.scenario.name
            self.satellites.value = ""
        self.scenario.disabled = self.satellites.disabled = from_live

    def change(self) -> WhatIf:
        """The what-if the form describes."""
        return WhatIf(self.scenario.value, group=self.group.value,
                      satellites_per_subcenter=_typed(self.satellites.value, int), bus=self.bus.value,
                      solar_array_area_m2=_typed(self.area.value, float),
                      failed_station=None if self.station.value == NO_STATION else self.station.value,
                      failed_target=self.target.value.strip() or None, fault_start=self.start.value.strip())

    async def submit(self) -> None:
        """Start the what-if and its baseline for the signed-in user (refused unless they are an engineer), from the
        scenario's epoch or from the live state (the telemetry assessed again first if it is due, in a thread)."""
        self.message.visible = False
        change = self.change()
        try:
            live = None
            if self.origin.value == FROM_LIVE:
                require(self.user, "run_whatif")  # before the telemetry is assessed for them
                await asyncio.to_thread(self.live.latest)
                live = self.live.live_state()
            job, baseline = submit_whatif(self.user, change, self.catalogue, live)
        except (AccessDenied, WhatIfError, ValueError) as error:
            self.message.object = html.escape(str(error))  # it quotes what was typed: shown as text
            self.message.visible = True
            return
        self.heading.object = f"### {html.escape(describe(change, live))}"
        self.progress.watch([job, baseline], self._show)

    def _show(self, jobs: list[Job]) -> None:
        job, baseline = jobs
        self._compared = {"baseline": baseline.data, "what-if": job.data}
        self.table.object = figures_table(self._compared)
        self.table.visible = True
        self._plots = comparison_plots(self._compared)
        self.plots.objects = plot_panes(self._plots)

    def review(self) -> list[Section]:
        """The latest what-if as a section of an exported review (none before one has run)."""
        if not self._compared:
            return []
        return [Section("What-if", html.unescape(self.heading.object.removeprefix("### ")), tables=[self.table.object],
                        plots=list(self._plots))]
