"""The Lifecycle tab: a build-up run (:mod:`twin.lifecycle`) year by year: a year slider, that year's key figures as
cards, the members' capacity in it, the targets' outcomes, and plots by quarter and by member with the year marked.

A stored build-up is read as soon as it is chosen; a built-in build-up (years of daily steps: minutes of the
background worker) is run only when asked (*Open*), once per server, and kept under the runs directory.
"""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn

from .buildup_figures import buildup_plots, member_table, target_lines, year_band, year_figures, years
from .kpi_cards import KeyFigureCards
from .plots import plot_panes
from .progress import JobProgress
from .review_export import Section
from .runs import Catalogue, Job, RunData

NO_BUILDUP = ("No build-up run yet: store one under the runs directory (`twin simulate lifecycle --out "
              "RUNS/life.zarr`) or choose the built-in build-up and *Open* it.")

HIDE_WARNINGS = ".kpi-warnings { display: none; }"


class LifecycleTab:
    """A build-up chosen among the catalogue's, shown by year; ``layout`` goes on the page."""

    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        self.data: RunData | None = None
        options = catalogue.buildup_sources()
        self.source = pn.widgets.Select(label="Build-up", options=options, width=340)
        self.open = pn.widgets.Button(label="Open", color="primary", width=100, align="end")
        self.progress = JobProgress()
        self.year = pn.widgets.IntSlider(label="Year", start=0, end=1, value=0, width=600, visible=False,
                                         css_classes=["twin-year"])
        self.cards = KeyFigureCards(width=520, stylesheets=[HIDE_WARNINGS])  # the targets are shown below instead
        self.targets = pn.pane.Markdown("", width=520, css_classes=["twin-targets"])
        self.members = pn.pane.DataFrame(None, width=420, visible=False)
        self.plots = pn.GridBox(ncols=2, sizing_mode="stretch_width")
        self.layout = pn.Column(pn.Row(self.source, self.open), self.progress.layout, self.year,
                                pn.Row(pn.Column(self.cards, self.targets), self.members), self.plots,
                                sizing_mode="stretch_width")
        self.open.on_click(lambda event: self.load(self.source.value))
        self.year.param.watch(lambda event: self._show_year(event.new), "value")
        stored = [key for key in options.values() if key.startswith("run:")]
        if stored:
            self.load(stored[0])
        else:
            self.progress.text.object = NO_BUILDUP

    def load(self, key: str | None) -> None:
        """Read or run build-up ``key`` in the background, then show it."""
        if key is None:
            self.progress.error(NO_BUILDUP)
            return
        self.source.value = key
        try:
            job = self.catalogue.job(key)
        except ValueError as error:
            self.progress.error(str(error))
            return
        self.progress.watch([job], self._show_run)

    def _show_run(self, jobs: list[Job]) -> None:
        data = jobs[0].data
        if not data.run.attrs.get("lifecycle"):
            raise ValueError(f"{data.label}: is not a build-up run; make one with twin simulate lifecycle --out "
                             "life.zarr")
        self.data = data
        shown = years(data)
        self.targets.object = "**Targets**\n\n" + "\n".join(f"- {line}" for line in target_lines(data))
        unchanged = self.year.value == shown[0]
        self.year.param.update(start=shown[0], end=shown[-1], value=shown[0], visible=True)
        if unchanged:  # no change of value to show it
            self._show_year(shown[0])
        self.plots.objects = plot_panes([plot * hv.DynamicMap(pn.bind(year_band, self.year))
                                         for plot in buildup_plots(data)])

    def _show_year(self, year: int) -> None:
        if self.data is None or year not in years(self.data):
            return
        self.cards.show(f"Fleet in {year}: {self.data.label}", year_figures(self.data, year))
        self.members.object = member_table(self.data, year)
        self.members.visible = True

    def review(self) -> list[Section]:
        """The year shown as a section of an exported review (none before a build-up is shown)."""
        if self.data is None:
            return []
        year = self.year.value
        figures = year_figures(self.data, year)
        table = pd.DataFrame({str(year): [kpi.at_time for kpi in figures], "last year": [kpi.whole_run for kpi in figures]},
                             index=pd.Index([kpi.label for kpi in figures], name="key figure"))
        return [Section("Build-up", f"{self.data.label} in {year}; " + "; ".join(target_lines(self.data)),
                        tables=[table, member_table(self.data, year)], plots=list(buildup_plots(self.data)))]
