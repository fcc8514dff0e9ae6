"""The Constellation tab: one run in 3D with a time player, colour-by, drill-down, key figures, the run's
conjunctions (saved with a stored run, or screened here for a simulated one, the other object drawn in 3D) and time
series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import panel as pn

from viz.colors import ColorError, colorable
from viz.encounter import Encounter

from .conjunctions_panel import ConjunctionsPanel, placed_text
from .kpi_cards import KeyFigureCards, warning_text
from .kpis import Kpi, key_figures, run_warnings, satellite_figures
from .plots import group_plots, plot_panes, satellite_plots
from .progress import JobProgress
from .review_export import Section
from .runs import Catalogue, Job, RunData, ScreenJob, SourceError
from .view3d import SceneView, clock_text

PLAYER_INTERVAL_MS = 300  # one step every 0.3 s when playing
KPI_MIN_WIDTH_PX = 320  # two columns of cards
DEFAULT_COLOR_BY = "illumination"
# "Look at" choice -> (twin.report.figures grouping, coordinate listing the names); a satellite's plots and cards are
# its own, its warnings its sub-center's
LEVELS = {"Fleet": ("total", None), "Sub-center": ("subcenter", "subcenter"), "Member": ("owner", "owner"),
          "Satellite": ("subcenter", "sat")}


class ConstellationTab:
    """A run chosen among the catalogue's sources, shown in 3D over time with its figures; ``layout`` goes on the page.
    ``catalog``: the element sets a simulated run is screened against (``None``: against itself only)."""

    def __init__(self, catalogue: Catalogue, source: str | None = None, catalog: Path | None = None):
        self.catalogue = catalogue
        self.catalog = catalog
        self.data: RunData | None = None
        self.view: SceneView | None = None
        self._plots: list = []  # the HoloViews objects shown, for the export
        self._plots_shown: list | None = None  # the list of them that self.plots holds
        self._quiet = False  # True while widgets are set together: their watchers wait for the last
        options = catalogue.sources()
        self.source = pn.widgets.Select(label="Run", options=options, width=280)
        self.progress = JobProgress()
        self.player = pn.widgets.Player(label="Time step", start=0, end=1, value=0, interval=PLAYER_INTERVAL_MS,
                                        loop_policy="once", show_loop_controls=False, width=280)
        self.color_by = pn.widgets.Select(label="Colour by", options=[DEFAULT_COLOR_BY], width=280)
        self.level = pn.widgets.Select(label="Look at", options=list(LEVELS), value="Fleet", width=280)
        self.target = pn.widgets.Select(label="Which", options=[], width=280, visible=False)
        self.kpis = KeyFigureCards(min_width=KPI_MIN_WIDTH_PX, sizing_mode="stretch_width",
                                   styles={"flex": f"1 1 {KPI_MIN_WIDTH_PX}px"})
        self.plots = pn.GridBox(ncols=2, sizing_mode="stretch_width")
        self.conjunctions = ConjunctionsPanel(self._look_at_conjunction, self._screen, self._draw_encounter, catalog)
        self.view_slot = pn.Column(width=780)
        controls = pn.Column(self.source, self.color_by, self.level, self.target, self.player, width=300)
        # The cards take the width beside the view, or go under it when less than their minimum is left
        top = pn.FlexBox(controls, self.view_slot, self.kpis, flex_wrap="wrap", align_items="flex-start",
                         sizing_mode="stretch_width")
        self.layout = pn.Column(self.progress.layout, top, self.conjunctions.layout, self.plots, sizing_mode="stretch_width")
        self.player.param.watch(lambda event: self._show_time(event.new), "value")
        self.color_by.param.watch(lambda event: self._recolor(event.new), "value")
        self.level.param.watch(lambda event: self._level_changed(), "value")
        self.target.param.watch(lambda event: self._quiet or self._drill_down(), "value")
        self.source.param.watch(lambda event: self.load(event.new), "value")
        initial = next(iter(options.values()))
        if source:
            try:
                initial = catalogue.resolve(source)
            except SourceError as error:
                self.progress.error(str(error))
                return
        if initial == self.source.value:
            self.load(initial)
        else:
            self.source.value = initial  # loads it

    def load(self, key: str) -> None:
        """Read or simulate source ``key`` in the background, then show it."""
        try:
            job = self.catalogue.job(key)
        except ValueError as error:  # SourceError, or a scenario that no longer loads
            self.progress.error(str(error))
            return
        self.progress.watch([job], self._show_run)

    def _show_run(self, jobs: list[Job]) -> None:
        self._show_data(jobs[0].data)

    def _show_data(self, data: RunData) -> None:
        if not data.has_figures:
            raise ValueError(f"{data.label}: has no power, thermal or compute (an orbit-only or TLE run); "
                             "the dashboard needs a twin run")
        self.close()
        self.data = data
        self.view = SceneView(data.run, DEFAULT_COLOR_BY, data.scenario())
        self.view.on_satellite = self._look_at_satellite
        self.view_slot.objects = [self.view.layout]
        self._quiet = True
        try:
            self.player.param.update(end=data.run.sizes["time"] - 1, value=0)
            self.color_by.param.update(options=colorable(data.run), value=DEFAULT_COLOR_BY)
            self.level.value = "Fleet"
            self._set_targets()
        finally:
            self._quiet = False
        self.conjunctions.show(data, self.catalogue.screenable(self.source.value))
        self._drill_down()

    def _screen(self, threshold_km: float) -> None:
        """Screen the simulated run chosen against the catalogue and itself, in the background (once, however often
        asked); the result is listed when done."""
        try:
            job = self.catalogue.screen(self.source.value, self.catalog, threshold_km)
        except ValueError as error:
            self.conjunctions.progress.error(str(error))
            return
        self.conjunctions.progress.watch([job], self._screened)

    def _screened(self, jobs: list[ScreenJob]) -> None:
        job, simulated = jobs[0], self.catalogue.job(self.source.value).data  # the run as simulated (done: shared)
        epoch_before = str(simulated.run["time"].values[0])[:19] + "Z" if simulated is not None else "?"
        if job.data is not None and job.data is not self.data:  # placed at the catalogue's epoch: show that run
            self._show_data(job.data)
        self.conjunctions.show_screening(job.screened, placed_text(job.screened, epoch_before))

    def _draw_encounter(self, encounter: Encounter | None) -> None:
        """A conjunction screened here chosen: draw its other object in 3D (``None``: remove the one drawn)."""
        if self.view is not None:
            self.view.show_encounter(encounter)

    @property
    def grouping(self) -> tuple[str, str]:
        """(twin.report.figures grouping, row) of the key figures: the fleet, a sub-center (also a satellite's) or a member."""
        by, coordinate = LEVELS[self.level.value]
        if coordinate is None or self.target.value is None:
            return "total", "total"
        if coordinate == "sat":
            return by, str(self.data.run["subcenter"].sel(sat=self.target.value).values)
        return by, self.target.value

    def _set_targets(self) -> None:
        """The names to choose from at the level chosen (sub-centers, members, satellites; none for the fleet)."""
        coordinate = LEVELS[self.level.value][1]
        names = self.data.names(coordinate) if coordinate else []
        self.target.param.update(options=names, value=names[0] if names else None, visible=bool(names))

    def _level_changed(self) -> None:
        if self.data is None or self._quiet:
            return
        self._quiet = True
        try:
            self._set_targets()
        finally:
            self._quiet = False
        self._drill_down()

    def _look_at_satellite(self, name: str) -> None:
        """A satellite clicked in the 3D view: drill down to it."""
        self._quiet = True
        try:
            self.level.value = "Satellite"
            self._set_targets()
            self.target.value = name
        finally:
            self._quiet = False
        self._drill_down()

    def _look_at_conjunction(self, satellite: str, tca: np.datetime64) -> None:
        """A conjunction chosen in the table: the step nearest its time of closest approach, drilled down to its
        satellite (a run's satellite; the catalogue's other object is not in the run)."""
        if self.data is None or satellite not in self.data.names("sat"):
            return
        times = self.data.run["time"].values
        self.player.value = int(np.argmin(np.abs(times - tca.astype(times.dtype))))
        self._look_at_satellite(satellite)

    def _drill_down(self) -> None:
        """Figures, plots and camera for the fleet, sub-center, member or satellite chosen."""
        if self.data is None:
            return
        by, name = self.grouping
        if self.satellite is not None:
            self._plots = satellite_plots(self.data, self.satellite)
        else:
            self._plots = group_plots(self.data, by, name)
        pn.state.onload(self._show_plots)  # a new page shows its 3D view first, then the plots; later, at once
        self.view.focus(name if by == "subcenter" else None)
        self._update_kpis()

    def _show_plots(self) -> None:
        if self._plots_shown is not self._plots:  # not yet shown by an earlier call
            self.plots.objects = plot_panes(self._plots)
            self._plots_shown = self._plots

    def _show_time(self, index: int) -> None:
        if self.view is not None and not self._quiet:
            self.view.show(index)
            self._update_kpis()

    def _recolor(self, color_by: str) -> None:
        if self.view is None or self._quiet or color_by == self.view.scene.coloring.name:
            return
        try:
            self.view.recolor(color_by)
        except ColorError as error:
            self.progress.error(str(error))

    @property
    def satellite(self) -> str | None:
        """The satellite looked at, if one is."""
        return self.target.value if LEVELS[self.level.value][1] == "sat" and self.target.value else None

    def _figures(self) -> tuple[str, list[Kpi]]:
        """What the key figures are of (``Fleet``, a sub-center, a member, ``Satellite X of Y``), and them."""
        by, name = self.grouping
        index = self.view.index
        if self.satellite is not None:
            return f"Satellite {self.satellite} of {name}", satellite_figures(self.data, index, self.satellite)
        return "Fleet" if by == "total" else name, key_figures(self.data, index, by, name)

    def _update_kpis(self) -> None:
        by, name = self.grouping
        what, figures = self._figures()
        time = str(self.view.scene.time)[:16].replace("T", " ")
        self.kpis.show(f"{what} at {time} UTC", figures, run_warnings(self.data, by, name))

    def review(self) -> list[Section]:
        """This tab as sections of an exported review: figures, the 3D view as seen, the plots shown."""
        if self.data is None:
            return []
        import pandas as pd

        by, name = self.grouping
        what, figures = self._figures()
        table = pd.DataFrame({"at the time shown": [kpi.at_time for kpi in figures],
                              "whole run": [kpi.whole_run for kpi in figures]},
                             index=pd.Index([kpi.label for kpi in figures], name="key figure"))
        shown = f"{self.data.label}; {'the fleet' if by == 'total' else what} at {clock_text(self.view.scene)}"
        shown += "; " + "; ".join(warning_text(run_warnings(self.data, by, name)))
        return [Section("Key figures", shown, tables=[table]),
                Section("3D view", f"coloured by {self.view.scene.coloring.title}", images=[self.view.snapshot_png()]),
                Section("Time series", plots=list(self._plots))]

    def close(self) -> None:
        if self.view is not None:
            self.view.close()
            self.view = None
