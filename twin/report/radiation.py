"""Radiation figures of a run (``twin radiation RUN``): dose per year, upsets per day, time in the SAA and the
capacity expected lost per year, for the fleet and per sub-center, and the same on circular orbits at
700, 750 and 800 km to inform the design.

Every figure is per satellite and weighted by the ``represents`` coordinate (a representatives run's
chief stands for its whole sub-center), but upsets, which are summed over a row's satellites. Over
the run's span ``T``: the dose per year is the dose accumulated in ``T`` scaled to a Julian year; upsets
per day and the SAA's share of time are means over the run's steps; the capacity lost per year is
the health model's expected loss after a year at that dose (:class:`twin.radiation.HardwareHealth`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from twin.constants import JULIAN_YEAR_S, SECONDS_PER_DAY
from twin.radiation import HardwareHealth, RadiationSettings, altitude_comparison, radiation_layer
from twin.radiation.layer import LAYER_VARIABLES, RAD_TO_GRAY
from twin.radiation.regions import SAA_PROTON_FLUX_CM2_S
from twin.scenario import ScenarioError, scenario_of_run

ALTITUDES_KM = (700.0, 750.0, 800.0)
# Columns of the fleet and sub-center table: summary column, header, unit, format (twin.report.text.format_table).
RADIATION_COLUMNS = (
    ("satellites", "sats", "", "d"),
    ("dose_krad_per_year", "dose", "krad/yr", ".3f"),
    ("upsets_per_day", "upsets", "/day", ".1f"),
    ("uncorrected_upsets_per_day", "uncorrected", "/day", ".2f"),
    ("saa_time_percent", "in SAA", "%", ".2f"),
    ("capacity_lost_percent_per_year", "capacity lost", "%/yr", ".2f"),
)
ALTITUDE_COLUMNS = (
    ("inclination_deg", "inclination", "deg", ".2f"),
    ("dose_krad_per_year", "dose", "krad/yr", ".3f"),
    ("upsets_per_day", "upsets", "/day/sat", ".3f"),
    ("uncorrected_upsets_per_day", "uncorrected", "/day/sat", ".3f"),
    ("saa_time_percent", "in SAA", "%", ".2f"),
    ("capacity_lost_percent_after_5_years", "capacity lost", "% in 5 yr", ".1f"),
)


@dataclass(frozen=True)
class RunRadiation:
    """A run with its radiation layer, the settings it was computed with, the health model, and where they came
    from (``source``: the stored layer, the scenario's ``[radiation]``, the options or the defaults)."""

    run: xr.Dataset
    settings: RadiationSettings
    health: HardwareHealth
    source: str


def run_radiation(run: xr.Dataset, solar: str | None = None, shielding_mm: float | None = None) -> RunRadiation:
    """``run`` with its radiation layer: the stored one unless ``solar`` or ``shielding_mm`` asks for another, else
    computed from its orbits with its scenario's ``[radiation]`` (or the defaults), ``solar`` and ``shielding_mm``
    replacing theirs. Raises ``ValueError`` naming a setting out of range or a run without orbits."""
    try:
        design = scenario_of_run(run.attrs).radiation
    except ScenarioError:  # a TLE run, or a scenario file no longer there: the defaults
        design = None
    settings = RadiationSettings() if design is None else RadiationSettings.of_design(design)
    health = HardwareHealth() if design is None else HardwareHealth.of_design(design)
    stored = all(name in run.data_vars for name in LAYER_VARIABLES) and "radiation_solar_activity" in run.attrs
    if stored and solar is None and shielding_mm is None:
        settings = RadiationSettings(run.attrs["radiation_solar_activity"],
                                     float(run.attrs["radiation_shielding_mm"]), settings.bits)
        return RunRadiation(run, settings, health, "the run's radiation layer")
    asked = solar is not None or shielding_mm is not None
    settings = RadiationSettings(solar or settings.solar,
                                 settings.shielding_mm if shielding_mm is None else shielding_mm, settings.bits)
    missing = [name for name in ("latitude", "longitude", "altitude") if name not in run.data_vars]
    if missing:
        raise ValueError(f"run: has no {', '.join(missing)}; the radiation layer needs the orbit layer")
    source = "the options" if asked else ("the scenario's [radiation]" if design is not None else "the defaults")
    return RunRadiation(radiation_layer(run[["latitude", "longitude", "altitude"]].load(), settings, health), settings,
                        health, f"computed with {source}")


def radiation_summary(radiation: RunRadiation) -> pd.DataFrame:
    """One row for the fleet (``fleet``) then one per sub-center: the columns of :data:`RADIATION_COLUMNS`."""
    run = radiation.run
    elapsed_s = (run["time"].values - run["time"].values[0]) / np.timedelta64(1, "s")
    if elapsed_s[-1] <= 0.0:
        raise ValueError("run: it has a single time step; the dose per year needs a span")
    dose_rad_per_year = run["total_dose"].values[:, -1] / RAD_TO_GRAY / elapsed_s[-1] * JULIAN_YEAR_S
    per_satellite = pd.DataFrame({
        "dose_krad_per_year": dose_rad_per_year / 1e3,
        "upsets_per_day": run["seu_rate"].values.mean(axis=1, dtype=float) * SECONDS_PER_DAY,
        "uncorrected_upsets_per_day": (run["seu_detected_rate"].values + run["seu_silent_rate"].values).mean(
            axis=1, dtype=float) * SECONDS_PER_DAY,
        "saa_time_percent": 100.0 * np.mean(run["proton_flux"].values >= SAA_PROTON_FLUX_CM2_S, axis=1),
        "capacity_lost_percent_per_year": 100.0 * radiation.health.capacity_lost_fraction(dose_rad_per_year,
                                                                                          JULIAN_YEAR_S),
    })
    weight = run["represents"].values.astype(float) if "represents" in run.coords else np.ones(run.sizes["sat"])
    subcenter = run["subcenter"].values.astype(str) if "subcenter" in run.coords else run["sat"].values.astype(str)
    rows = {"fleet": np.full(weight.size, True), **{name: subcenter == name for name in np.unique(subcenter)}}
    summed = ("upsets_per_day", "uncorrected_upsets_per_day")
    table = {}
    for name, member in rows.items():
        weights = weight * member
        row = {"satellites": weights.sum()}
        for column, values in per_satellite.items():
            total = float(np.sum(weights * values.to_numpy()))
            row[column] = total if column in summed else total / weights.sum()
        table[name] = row
    return pd.DataFrame.from_dict(table, orient="index")


def altitude_table(radiation: RunRadiation, altitudes_km=ALTITUDES_KM) -> pd.DataFrame:
    """The run's settings on circular dawn-dusk orbits at ``altitudes_km`` (long-run averages per satellite,
    :func:`twin.radiation.altitude_comparison`), indexed by altitude as ``700 km``."""
    table = altitude_comparison(altitudes_km, (radiation.settings.shielding_mm,), (radiation.settings.solar,),
                                radiation.settings.bits, radiation.health)
    table["saa_time_percent"] = 100.0 * table["saa_time_fraction"]
    table["capacity_lost_percent_after_5_years"] = 100.0 * table["capacity_lost_after_5_years"]
    return table.set_index(table["altitude_km"].map(lambda km: f"{km:g} km"))


def radiation_report(radiation: RunRadiation, by: str = "subcenter") -> str:
    """The text of ``twin radiation``: the run's header, the settings, the fleet (and per sub-center unless ``by``
    is ``"total"``) table and the altitude table."""
    from twin.report.text import format_table, report_header

    settings = radiation.settings
    summary = radiation_summary(radiation)
    if by == "total":
        summary = summary.iloc[:1]
    health = radiation.health
    return "\n".join([
        report_header(radiation.run),
        f"radiation: AP8/AE8 {settings.solar.upper()} behind {settings.shielding_mm:g} mm of aluminium "
        f"({radiation.source}); accelerators fail at a median {health.dose_median_krad:.1f} krad or "
        f"{health.random_failures_per_year:.3f} a year at random",
        format_table(summary, RADIATION_COLUMNS, "this run"),
        format_table(altitude_table(radiation), ALTITUDE_COLUMNS, "circular orbit"),
    ])
