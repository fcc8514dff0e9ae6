"""Conjunction screens of the runs the dashboard simulates (a scenario, a what-if), made in its background worker.

The run's fleet is designed again from the request that made it (:class:`apps.worker.RunRequest`) and screened by
:func:`twin.safety.screen` over the run's span against the catalogue the server was given (``twin serve --catalog
FILE``; without one, against itself only) and against itself. Element sets hold for days about their epoch: where the
run's epoch is more than :data:`PLACE_AFTER_DAYS` from the catalogue's, the scenario is placed at the catalogue's epoch
(:func:`twin.safety.place_scenario`, as ``twin simulate --start`` places the run ``twin conjunctions`` screens) and run
there as well, for the dashboard to show the run the conjunctions belong to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import xarray as xr
from astropy import units as u

from twin.safety import Screening

from .worker import RunRequest, report_progress

PLACE_AFTER_DAYS = 14.0  # twin.safety.screen's max_epoch_age_days: older element sets are set aside as stale


@dataclass
class ScreenedRun:
    """A screen of a run (``screening``), and the run its rows belong to when the scenario was placed at the
    catalogue's epoch (``placed_run``; ``None``: the run screened is the one asked for)."""

    screening: Screening
    placed_run: xr.Dataset | None = None

    @property
    def placed_epoch(self) -> str | None:
        """The epoch the scenario was placed at (ISO 8601 UTC), if it was."""
        return None if self.placed_run is None else self.screening.summary["start"]


def screen_in_worker(key: str, request: RunRequest, catalog_path: str | None, threshold_km: float) -> ScreenedRun:
    """:func:`screen_request` as job ``key`` of the background worker (:meth:`apps.worker.Simulator.start`)."""
    return screen_request(request, catalog_path, threshold_km, lambda done, total: report_progress(key, done, total))


def screen_request(request: RunRequest, catalog_path: str | None, threshold_km: float,
                   report: Callable[[float, float], None]) -> ScreenedRun:
    """Screen the fleet of ``request``'s run over its span (``report(done, total)`` as it goes). ``ValueError`` for a
    what-if started from the live state (its fleet is the telemetry's, not a design) or a catalogue that cannot be
    read (naming the file)."""
    from twin.orbit.constellation import design_fleet
    from twin.run.simulate import run_scenario
    from twin.safety import place_scenario, read_catalog, screen
    from twin.scenario import scenario_from_dict

    if request.live is not None:
        raise ValueError("a what-if started from the live state is not screened here: its fleet flies the telemetry's "
                         "orbits, not its scenario's design")
    scenario = scenario_from_dict(request.tables, request.source)
    try:
        catalog = read_catalog(catalog_path) if catalog_path else None
    except (OSError, ValueError) as error:
        raise ValueError(f"catalogue {str(Path(catalog_path))!r}: {error}") from None
    report(1, 3)
    placed_run = None
    if catalog is not None and abs((scenario.epoch - catalog.epoch).to_value(u.day)) > PLACE_AFTER_DAYS:
        scenario = place_scenario(scenario, catalog.epoch)
        placed_run = run_scenario(scenario, None, request.duration_s, request.step_s,
                                  lambda progress: report(1 + progress.done / max(progress.total, 1), 3),
                                  representatives=request.representatives, network=request.network)
    report(2, 3)
    fleet = design_fleet(scenario)
    fleet = fleet.chiefs_only() if request.representatives else fleet
    screening = screen(fleet, catalog, start=scenario.epoch, duration_s=request.duration_s, threshold_km=threshold_km,
                       step_s=request.step_s, scenario=scenario)
    return ScreenedRun(screening, placed_run)

