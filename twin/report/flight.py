"""The flight-dynamics budget of a run's scenario as a table: decay, Δv, propellant, years of propellant,
disposal and the closest member approach, per sub-center group (or sub-center) and for the fleet.

The budget (:func:`twin.flight.flight_budget`) covers the scenario's ``[flight] budget_years`` from its
epoch, every satellite of the scenario; the closest member approach is over the run's own positions.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from twin.flight import CloseApproachWarning, FlightBudget, closest_member_approach, flight_budget, spacecraft_of_buses
from twin.flight.space_weather import scenario_indices
from twin.orbit.constellation import design_fleet
from twin.scenario import Scenario, scenario_of_run

HORIZON_YEARS = 30.0  # years of propellant are counted up to this; more shows as "> 30"

# Column of FlightBudget.table: (heading, format).
COLUMNS = {
    "satellites": ("satellites", "{:,.0f}"), "altitude_km": ("altitude km", "{:.0f}"),
    "decay_km_per_year": ("decay km/yr", "{:.2f}"), "drag_delta_v_m_s_per_year": ("drag Δv m/s/yr", "{:.2f}"),
    "ltan_delta_v_m_s_per_year": ("LTAN Δv m/s/yr", "{:.2f}"),
    "formation_delta_v_m_s_per_year": ("formation Δv m/s/yr", "{:.1f}"),
    "max_delta_v_m_s_per_year": ("max Δv m/s/yr", "{:.1f}"),
    "propellant_kg_per_year": ("propellant kg/yr", "{:.2f}"),
    "years_of_propellant": ("years of propellant (min)", "{:.1f}"),
    "disposal_delta_v_5y_m_s": ("disposal Δv 5 yr m/s", "{:.1f}"),
    "disposal_delta_v_25y_m_s": ("disposal Δv 25 yr m/s", "{:.1f}"),
    "closest_member_approach_m": ("closest members m", "{:.0f}"),
}


def flight_of_run(run: xr.Dataset, scenario: Scenario | None = None) -> tuple[FlightBudget, pd.DataFrame, list[str]]:
    """The budget of the run's scenario (or ``scenario``), the closest member approach per sub-center over the run's
    positions, and the warnings of members closer than the scenario's ``member_warning_m``."""
    scenario = scenario_of_run(run.attrs, scenario)
    fleet = design_fleet(scenario)
    settings = scenario.flight
    budget = flight_budget(fleet, spacecraft_of_buses(fleet.names, fleet.bus, scenario.buses),
                           years=settings.budget_years, horizon_years=max(HORIZON_YEARS, settings.budget_years),
                           ltan_tolerance_minutes=settings.ltan_tolerance_minutes,
                           altitude_tolerance_km=settings.altitude_tolerance_km, indices_at=scenario_indices(settings))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CloseApproachWarning)
        closest = closest_member_approach(run["position"].values, run["time"].values, run["sat"].values.astype(str),
                                          run["subcenter"].values.astype(str), settings.member_warning_m)
    return budget, closest, [str(w.message) for w in caught if issubclass(w.category, CloseApproachWarning)]


def budget_table_text(budget: FlightBudget, closest: pd.DataFrame | None = None, by: str = "group") -> str:
    """The budget per ``by`` (``group`` or ``subcenter``) and fleet as a Markdown table (``-``: no such figure,
    ``> N``: beyond the N-year horizon)."""
    table = budget.table(by=by, closest=closest)

    def cell(value, fmt):
        if np.isnan(value):
            return "-"
        return fmt.format(value) if np.isfinite(value) else f"> {budget.horizon_years:g}"

    shown = [(heading, [cell(value, fmt) for value in table[name]]) for name, (heading, fmt) in COLUMNS.items()
             if name in table]
    lines = ["| " + " | ".join([by] + [heading for heading, _ in shown]) + " |", "|---" * (len(shown) + 1) + "|"]
    for row, name in enumerate(table.index):
        lines.append("| " + " | ".join([str(name)] + [cells[row] for _, cells in shown]) + " |")
    return "\n".join(lines)
