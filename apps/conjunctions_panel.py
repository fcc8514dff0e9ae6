"""The run's conjunctions under the Constellation tab's 3D view, as a sortable table, closest first: the screen saved
beside a stored run (``twin conjunctions RUN --catalog FILE --save``, :mod:`twin.safety.saved`), or, for a run the
dashboard simulated, one screened on request against the server's catalogue (``twin serve --catalog FILE``) and the
fleet itself (:mod:`apps.run_screening`). Choosing a row looks at its satellite at its time of closest approach, and
for a screen made here draws the other object there (:class:`viz.encounter.Encounter`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import panel as pn

from viz.encounter import WINDOW_S, Encounter

from .progress import JobProgress
from .run_screening import ScreenedRun
from .runs import RunData

TABLE_THEME = "midnight"  # Tabulator's dark theme, as the Live tab's
# saved column -> the table's header (with its unit)
HEADERS = {"tca": "TCA (UTC)", "primary": "Satellite", "secondary": "Object", "miss_distance_km": "Miss km",
           "radial_km": "Radial km", "in_track_km": "In-track km", "cross_track_km": "Cross-track km",
           "relative_speed_km_s": "Relative speed km/s", "collision_probability": "Pc",
           "short_encounter": "2-D Pc valid", "collision_probability_method": "Pc method"}
NOT_SAVED = ("No conjunction screen is saved with this run: `twin conjunctions RUN --catalog FILE --save` keeps "
             "one beside a stored run.")
NO_CATALOGUE = ("No catalogue of element sets is configured (`twin serve --catalog FILE`): the run is screened "
                "against itself only.")
DEFAULT_THRESHOLD_KM = 5.0  # as twin conjunctions


def conjunction_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The saved conjunctions as the table shows them: closest first, readable headers, TCA to the second,
    distances to the metre, "no (slow encounter)" where the 2-D Pc's short-encounter assumption does not hold, and the
    method of the Pc (a Monte Carlo one with its 95 % interval)."""
    rows = table.sort_values("miss_distance_km", kind="stable")[list(HEADERS)].copy()
    rows["tca"] = pd.to_datetime(rows["tca"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    for column in ("miss_distance_km", "radial_km", "in_track_km", "cross_track_km", "relative_speed_km_s"):
        rows[column] = rows[column].round(3)
    rows["short_encounter"] = np.where(rows["short_encounter"], "yes", "no (slow encounter)")
    rows["collision_probability_method"] = [_method(row) for row in table.loc[rows.index].itertuples()]
    return rows.rename(columns=HEADERS).reset_index(drop=True)


def _method(row) -> str:
    """The Pc's method as the table says it: 2-D, Monte Carlo with its samples and 95 % interval, or none."""
    if row.collision_probability_method == "FOSTER-1992":
        return "2-D (Foster)"
    if row.monte_carlo_samples:
        return (f"Monte Carlo, {row.monte_carlo_samples:,} samples, 95 % {row.collision_probability_low:.1e}"
                f"-{row.collision_probability_high:.1e}")
    return "none (slow encounter)"


def summary_text(rows: pd.DataFrame, summary: dict[str, str]) -> str:
    """One line saying what was screened, from the saved screen's summary."""
    hours = float(summary.get("duration_s", "nan")) / 3600.0
    return (f"{len(rows):,} conjunctions closer than {summary.get('threshold_km', '?')} km, screened from "
            f"{summary.get('start', '?')} for {hours:g} h against {summary.get('catalog_entries', '?')} catalogue "
            "entries and the fleet itself; choose a row to look at its satellite at the time of closest approach.")


def screening_offer(catalog: Path | None) -> str:
    """The line beside the Screen button: what the run is screened against."""
    return (f"Screens the run against the catalogue `{catalog.name}` and the fleet itself." if catalog is not None
            else NO_CATALOGUE)


def placed_text(screened: ScreenedRun, epoch_before: str) -> str:
    """Why the run shown is not the scenario's: it was placed at the catalogue's epoch (empty if it was not)."""
    if screened.placed_epoch is None:
        return ""
    return (f"The run's epoch ({epoch_before}) is far from the catalogue's, whose element sets hold for days: the "
            f"scenario was run again from the catalogue's epoch, {screened.placed_epoch}, and is shown. ")


class ConjunctionsPanel:
    """The conjunctions of the run shown; ``on_choose(satellite, tca)`` is called with the row chosen.

    With ``on_screen``, a run the dashboard simulated can be screened: the button calls ``on_screen(threshold_km)``,
    which starts the job and follows it with :attr:`progress`; :meth:`show_screening` lists the result. For a row of
    such a screen, ``on_encounter(encounter)`` is called with the conjunction to draw (``None``: none, or the row
    unselected).
    """

    def __init__(self, on_choose: Callable[[str, np.datetime64], None],
                 on_screen: Callable[[float], None] | None = None,
                 on_encounter: Callable[[Encounter | None], None] | None = None, catalog: Path | None = None):
        self.on_choose, self.on_screen, self.on_encounter = on_choose, on_screen, on_encounter
        self.note = pn.pane.Markdown(NOT_SAVED, sizing_mode="stretch_width", css_classes=["twin-conjunctions-note"])
        self.threshold = pn.widgets.FloatInput(label="Threshold km", value=DEFAULT_THRESHOLD_KM, start=0.001, step=1.0,
                                               width=120)
        self.screen_button = pn.widgets.Button(label="Screen conjunctions", color="primary", width=200,
                                               align="end", css_classes=["twin-screen"])
        self.offer = pn.pane.Markdown(screening_offer(catalog), css_classes=["twin-screen-offer"], align="end",
                                      sizing_mode="stretch_width")
        self.screening_row = pn.Row(self.threshold, self.screen_button, self.offer, visible=False,
                                    sizing_mode="stretch_width")
        self.progress = JobProgress()
        self.table = pn.widgets.Tabulator(None, theme=TABLE_THEME, selectable=1, disabled=True, show_index=False,
                                          height=260, sizing_mode="stretch_width", visible=False,
                                          css_classes=["twin-conjunctions"])
        self.drawn = pn.pane.Markdown("", css_classes=["twin-encounter"], sizing_mode="stretch_width")
        self.layout = pn.Column(pn.pane.Markdown("### Conjunctions"), self.note, self.screening_row,
                                self.progress.layout, self.table, self.drawn, sizing_mode="stretch_width")
        self._screening = None  # the screen made here that the table lists, and its rows' order in it
        self._order = np.array([], int)
        self.table.param.watch(lambda event: self._chosen(), "selection")
        self.screen_button.on_click(lambda event: self._screen())

    def _screen(self) -> None:
        if self.on_screen is not None and self.threshold.value:
            self.on_screen(float(self.threshold.value))

    def show(self, data: RunData, screenable: bool = False) -> None:
        """List the conjunctions saved with ``data``'s run, or say why there are none; ``screenable``: offer to
        screen it here."""
        self._screening = None
        self.drawn.object = ""
        self.screening_row.visible = screenable and self.on_screen is not None
        try:
            saved = data.conjunctions()
        except (OSError, ValueError) as error:
            saved, self.note.object = None, f"The saved conjunction screen cannot be read: {error}"
        else:
            self.note.object = NOT_SAVED
        if saved is None:
            if self.screening_row.visible:
                self.note.object = "No conjunction screen of this run yet."
            self.table.param.update(value=None, visible=False)
            return
        rows = conjunction_rows(saved[0])
        self.note.object = summary_text(rows, saved[1])
        self.table.param.update(value=rows, selection=[], visible=True)

    def show_screening(self, screened: ScreenedRun, placed_note: str = "") -> None:
        """List the conjunctions of a screen made here; ``placed_note`` (:func:`placed_text`) goes before its summary."""
        table = screened.screening.conjunctions
        rows = conjunction_rows(table)
        self._screening, self._order = screened.screening, np.argsort(table["miss_distance_km"].to_numpy(), kind="stable")
        self.drawn.object = ""
        self.note.object = placed_note + summary_text(rows, {key: str(value) for key, value in
                                                            screened.screening.summary.items()})
        self.table.param.update(value=rows, selection=[], visible=bool(len(rows)))

    def _chosen(self) -> None:
        encounter = None
        if self.table.selection and self.table.value is not None and len(self.table.value):
            chosen = self.table.selection[0]
            row = self.table.value.iloc[chosen]
            if self._screening is not None:
                encounter = self.encounter(int(self._order[chosen]))
            self.on_choose(str(row[HEADERS["primary"]]), np.datetime64(row[HEADERS["tca"]]))
        self.drawn.object = "" if encounter is None else \
            f"Drawn in 3D (red): {encounter.text()}; its track {WINDOW_S / 60:g} min either side of TCA."
        if self.on_encounter is not None:
            self.on_encounter(encounter)

    def encounter(self, index: int) -> Encounter:
        """Conjunction ``index`` of the screen made here, to draw."""
        row = self._screening.conjunctions.iloc[index]
        return Encounter(str(row["primary"]), str(row["secondary"]), np.datetime64(row["tca"], "ns"),
                         self._screening.states[index], float(row["miss_distance_km"]))
