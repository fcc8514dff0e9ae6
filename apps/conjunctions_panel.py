"""The run's conjunctions under the Constellation tab's 3D view: the screen saved beside a stored run
(``twin conjunctions RUN --catalog FILE --save``, :mod:`twin.safety.saved`) as a sortable table, closest first;
choosing a row looks at its satellite at its time of closest approach."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import panel as pn

from .runs import RunData

TABLE_THEME = "midnight"  # Tabulator's dark theme, as the Live tab's
# saved column -> the table's header (with its unit)
HEADERS = {"tca": "TCA (UTC)", "primary": "Satellite", "secondary": "Object", "miss_distance_km": "Miss km",
           "radial_km": "Radial km", "in_track_km": "In-track km", "cross_track_km": "Cross-track km",
           "relative_speed_km_s": "Relative speed km/s", "collision_probability": "Pc",
           "short_encounter": "2-D Pc valid", "collision_probability_method": "Pc method"}
NOT_SAVED = ("No conjunction screen is saved with this run: `twin conjunctions RUN --catalog FILE --save` keeps "
             "one beside a stored run.")


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


class ConjunctionsPanel:
    """The conjunctions of the run shown; ``on_choose(satellite, tca)`` is called with the row chosen."""

    def __init__(self, on_choose: Callable[[str, np.datetime64], None]):
        self.on_choose = on_choose
        self.note = pn.pane.Markdown(NOT_SAVED, sizing_mode="stretch_width")
        self.table = pn.widgets.Tabulator(None, theme=TABLE_THEME, selectable=1, disabled=True, show_index=False,
                                          height=260, sizing_mode="stretch_width", visible=False,
                                          css_classes=["twin-conjunctions"])
        self.layout = pn.Column(pn.pane.Markdown("### Conjunctions"), self.note, self.table, sizing_mode="stretch_width")
        self.table.param.watch(lambda event: self._chosen(), "selection")

    def show(self, data: RunData) -> None:
        """List the conjunctions saved with ``data``'s run, or say why there are none."""
        try:
            saved = data.conjunctions()
        except (OSError, ValueError) as error:
            saved, self.note.object = None, f"The saved conjunction screen cannot be read: {error}"
        else:
            self.note.object = NOT_SAVED
        if saved is None:
            self.table.param.update(value=None, visible=False)
            return
        rows = conjunction_rows(saved[0])
        self.note.object = summary_text(rows, saved[1])
        self.table.param.update(value=rows, selection=[], visible=True)

    def _chosen(self) -> None:
        if self.table.selection and self.table.value is not None and len(self.table.value):
            row = self.table.value.iloc[self.table.selection[0]]
            self.on_choose(str(row[HEADERS["primary"]]), np.datetime64(row[HEADERS["tca"]]))
