"""The Phase review tab: two scenarios or stored runs side by side as ``twin review`` compares them (power and compute,
network and health, each run's figures and warnings, what changed in the scenario key by key), with plots and 3D at
the same elapsed time; *Download this review* gives ``twin review``'s page of the two."""

from __future__ import annotations

import html
import io

import numpy as np
import panel as pn

from .kpis import figures_table
from .plots import comparison_plots, hours_since_start, plot_panes
from .progress import JobProgress
from .review_compare import changes_table, network_health_table, review_page, run_text, scenario_changes
from .review_export import Section
from .runs import Catalogue, Job
from .view3d import SceneView

VIEW_WIDTH_PX, VIEW_HEIGHT_PX = 640, 400


class ReviewTab:
    """Pick two sources, compare them; ``layout`` goes on the page."""

    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        options = catalogue.sources()
        keys = list(options.values())
        scenarios = [key for key in keys if key.startswith("scenario:")]
        self.first = pn.widgets.Select(label="Run A", options=options, value=scenarios[0], width=280)
        self.second = pn.widgets.Select(label="Run B", options=options, value=scenarios[min(1, len(scenarios) - 1)],
                                        width=280)
        self.compare = pn.widgets.Button(label="Compare", color="primary", width=120, align="end")
        self.progress = JobProgress()
        self.elapsed = pn.widgets.FloatSlider(label="Hours since start", start=0.0, end=1.0, value=0.0, step=1 / 60,
                                              width=600, visible=False)
        self.table = pn.pane.DataFrame(None, sizing_mode="stretch_width", visible=False)
        self.health = pn.pane.DataFrame(None, sizing_mode="stretch_width", visible=False)
        self.texts = pn.Row(sizing_mode="stretch_width")
        self.changes = pn.pane.HTML("", sizing_mode="stretch_width")
        self.download = pn.widgets.FileDownload(callback=self._review_page, filename="twin-review-ab.html",
                                                label="Download this review (HTML, as twin review)", width=320,
                                                visible=False, align="end")
        self._changes: list[str] = []
        self.plots = pn.GridBox(ncols=2, sizing_mode="stretch_width")
        self.views_row = pn.Row()
        self.views: list[SceneView] = []
        self._compared: dict = {}
        self._plots: list = []
        self.layout = pn.Column(pn.Row(self.first, self.second, self.compare, self.download), self.progress.layout,
                                pn.pane.Markdown("#### Power and compute"), self.table,
                                pn.pane.Markdown("#### Network and health"), self.health, self.changes, self.texts,
                                self.elapsed, self.views_row, self.plots, sizing_mode="stretch_width")
        self.compare.on_click(lambda event: self.start())
        self.elapsed.param.watch(lambda event: self._show_elapsed(event.new), "value")

    def start(self) -> None:
        """Read or simulate both sources in the background, then compare them."""
        try:
            jobs = [self.catalogue.job(key) for key in (self.first.value, self.second.value)]
        except ValueError as error:
            self.progress.error(str(error))
            return
        self.progress.watch(jobs, self._show)

    def _show(self, jobs: list[Job]) -> None:
        labels = [self.catalogue.label(key).split(" (")[0] for key in (self.first.value, self.second.value)]
        if labels[0] == labels[1]:
            labels = [f"A: {labels[0]}", f"B: {labels[1]}"]
        runs = dict(zip(labels, (job.data for job in jobs)))
        for data in runs.values():
            if not data.has_figures:
                raise ValueError(f"{data.label}: has no power, thermal or compute; only twin runs can be compared")
        self._compared = runs
        self.table.object = figures_table(runs)
        self.table.visible = True
        self.health.object = network_health_table(runs)
        self.health.visible = True
        self._changes = scenario_changes(runs)
        self.changes.object = (f"<h4>What changed in the scenario ({len(self._changes)})</h4><pre class='twin-diff'>"
                               + html.escape("\n".join(self._changes) or "no change") + "</pre>")
        self.texts.objects = [pn.Column(pn.pane.Markdown(f"#### {label}: figures and warnings"),
                                        pn.pane.HTML(f"<pre class='twin-report'>{html.escape(run_text(data))}</pre>",
                                                     sizing_mode="stretch_width", styles={"overflow-x": "auto"}),
                                        sizing_mode="stretch_width")
                              for label, data in runs.items()]
        self.download.visible = True
        self._plots = comparison_plots(runs)
        self.plots.objects = plot_panes(self._plots)
        self.close()
        self.views = [SceneView(data.run, scenario=data.scenario(), width_px=VIEW_WIDTH_PX, height_px=VIEW_HEIGHT_PX)
                      for data in runs.values()]
        self.views_row.objects = [pn.Column(pn.pane.Markdown(f"**{label}**"), view.layout)
                                  for label, view in zip(runs, self.views)]
        span_h = min(float(hours_since_start(data.run)[-1]) for data in runs.values())
        self.elapsed.param.update(end=max(span_h, 1 / 60), value=0.0, visible=True)

    def _show_elapsed(self, hours: float) -> None:
        """Both 3D views at ``hours`` after their own start (the nearest step of each)."""
        for view, data in zip(self.views, self._compared.values()):
            view.show(int(np.argmin(np.abs(hours_since_start(data.run).values - hours))))

    def review(self) -> list[Section]:
        """The comparison as sections of an exported review (none before a comparison)."""
        if not self._compared:
            return []
        return [Section("Phase review", " versus ".join(self._compared),
                        tables=[self.table.object, self.health.object, changes_table(self._changes)],
                        plots=list(self._plots), images=[view.snapshot_png() for view in self.views])]

    def _review_page(self) -> io.BytesIO:
        """``twin review``'s page of the two runs compared (what *Download this review* gives)."""
        return io.BytesIO(review_page(self._compared))

    def close(self) -> None:
        for view in self.views:
            view.close()
        self.views = []
