"""What-if runs: a built-in scenario with a few parameters changed, run in the background and compared with it.

The changes are written into the scenario's own TOML tables, which the twin then validates as it
validates any scenario file, so a bad value is refused with the field and the value
(:class:`twin.scenario.ScenarioError`), prefixed with the name of the form field it came from.
Only an engineer may start one: :func:`submit_whatif` checks the role itself, whoever calls it.

>>> change = WhatIf("phase1", group="CC1", satellites_per_subcenter=0)
>>> what_if_request(change)
Traceback (most recent call last):
...
apps.whatif.WhatIfError: Satellites per sub-center: subcenters[1].satellites: 0 is out of range; it must be at least 1
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from twin.scenario import ScenarioError, builtin_scenarios, load_scenario, scenario_from_dict

from .auth import User, require
from .runs import SPAN_S, STEP_S, Catalogue, Job, request_key, scenario_run_options, scenario_tables
from .worker import RunRequest

if TYPE_CHECKING:
    from twin.operations.forecast import LiveState


class WhatIfError(ValueError):
    """A what-if that cannot be run: the form field, the scenario field and the value at fault."""


@dataclass(frozen=True)
class WhatIf:
    """Changes to built-in scenario ``scenario`` (``None``: unchanged).

    ``satellites_per_subcenter`` applies to every sub-center of group ``group``;
    ``solar_array_area_m2`` to bus ``bus``; ``failed_station`` (a ground station) and
    ``failed_target`` (a satellite or a whole sub-center) are lost ``fault_start`` after the run
    starts (``"90min"``, ``"2h"``, or an ISO time).
    """

    scenario: str
    group: str | None = None
    satellites_per_subcenter: int | None = None
    bus: str | None = None
    solar_array_area_m2: float | None = None
    failed_station: str | None = None
    failed_target: str | None = None
    fault_start: str = "0h"


FIELD_LABELS = {
    "scenario": "Scenario",
    "group": "Sub-center group",
    "satellites": "Satellites per sub-center",
    "bus": "Bus",
    "area": "Solar array area (m2)",
    "station": "Failed ground station",
    "target": "Failed satellite or sub-center",
    "start": "Fault start",
}


def what_if_request(change: WhatIf, live: LiveState | None = None) -> RunRequest:
    """The run of ``change``: the scenario's tables with the changes, validated by the twin; :class:`WhatIfError` if bad.

    With ``live`` (the fleet's assimilated state, :func:`twin.operations.forecast.live_state`) the run starts there
    instead of at the scenario's epoch, its faults ``fault_start`` after the live state's time; the fleet flying
    keeps its satellites (changing their number is refused).
    """
    if change.scenario not in builtin_scenarios():
        raise WhatIfError(f"{FIELD_LABELS['scenario']}: {change.scenario!r} is not a built-in scenario "
                          f"({', '.join(builtin_scenarios())})")
    scenario = load_scenario(change.scenario)
    if live is not None:
        if live.battery_soc.size != scenario.satellite_count:
            raise WhatIfError(f"{FIELD_LABELS['scenario']}: the live state is of a fleet of {live.battery_soc.size} "
                              f"satellites, not {change.scenario!r}'s {scenario.satellite_count}")
        if change.satellites_per_subcenter is not None:
            raise WhatIfError(f"{FIELD_LABELS['satellites']}: {change.satellites_per_subcenter!r}: a what-if from "
                              "the live state keeps the fleet that is flying; leave it unchanged")
        change = replace(change, fault_start=_after_live(change.fault_start, live.start))
    tables = scenario_tables(scenario)
    labels = {}  # scenario field path -> form field label, for the message
    if change.satellites_per_subcenter is not None:
        groups = [group["name"] for group in tables["subcenters"]]
        if change.group not in groups:
            raise WhatIfError(f"{FIELD_LABELS['group']}: {change.group!r} is not a sub-center group of "
                              f"{scenario.name} ({', '.join(groups)})")
        index = groups.index(change.group)
        tables["subcenters"][index]["satellites"] = change.satellites_per_subcenter
        labels[f"subcenters[{index}].satellites"] = FIELD_LABELS["satellites"]
    if change.solar_array_area_m2 is not None:
        if change.bus not in tables["buses"]:
            raise WhatIfError(f"{FIELD_LABELS['bus']}: {change.bus!r} is not a bus of {scenario.name} "
                              f"({', '.join(tables['buses'])})")
        tables["buses"][change.bus]["solar_array_area_m2"] = change.solar_array_area_m2
        labels[f"buses.{change.bus}.solar_array_area_m2"] = FIELD_LABELS["area"]
    faults = tables.setdefault("faults", [])
    for target, kind, label in ((change.failed_station, "station_lost", "station"),
                                (change.failed_target, "satellite_lost", "target")):
        if target:
            labels[f"faults[{len(faults)}].target"] = FIELD_LABELS[label]
            labels[f"faults[{len(faults)}].start"] = FIELD_LABELS["start"]
            faults.append({"target": target, "kind": kind, "start": change.fault_start})
    if not faults:
        del tables["faults"]
    try:
        changed = scenario_from_dict(tables, scenario.source)
    except ScenarioError as error:
        path = str(error).partition(":")[0]
        raise WhatIfError(f"{labels.get(path, 'Scenario')}: {error}") from None
    representatives, network = scenario_run_options(changed)
    if live is not None:
        return RunRequest(tables, scenario.source, SPAN_S, STEP_S, False, network, live)
    return RunRequest(tables, scenario.source, SPAN_S, STEP_S, representatives, network)


def _after_live(fault_start: str, start: np.datetime64) -> str:
    """A fault start typed as a duration (``"1h"``), counted from the live state's time ``start``: an ISO UTC time
    (a time typed as such, or text that is neither, is left for the scenario's validation to take or name)."""
    from twin.timegrid import parse_duration_s

    try:
        after_s = parse_duration_s(fault_start, "fault start")
    except ValueError:
        return fault_start
    return str(np.datetime64(start, "ms") + np.timedelta64(round(after_s * 1e3), "ms"))


def live_label(live: LiveState) -> str:
    """``the live state at 2026-06-01 00:27:40 UTC``: where a what-if forked from live starts."""
    return f"the live state at {str(live.start)[:19].replace('T', ' ')} UTC"


def describe(change: WhatIf, live: LiveState | None = None) -> str:
    """``phase1 with CC1 at 4 satellites per sub-center, Kashi lost at 1h``: what the what-if changes (and, forked
    from ``live``, ``..., from the live state at 2026-06-01 00:27:40 UTC``)."""
    parts = []
    if change.satellites_per_subcenter is not None:
        parts.append(f"{change.group} at {change.satellites_per_subcenter} satellites per sub-center")
    if change.solar_array_area_m2 is not None:
        parts.append(f"{change.bus} arrays of {change.solar_array_area_m2:g} m2")
    for target in (change.failed_station, change.failed_target):
        if target:
            parts.append(f"{target} lost at {change.fault_start}")
    text = f"{change.scenario} with " + ", ".join(parts) if parts else f"{change.scenario} unchanged"
    return text if live is None else f"{text}, from {live_label(live)}"


def submit_whatif(user: User | None, change: WhatIf, catalogue: Catalogue,
                  live: LiveState | None = None) -> tuple[Job, Job]:
    """Start the what-if ``change`` and its baseline (the scenario unchanged, same span): (what-if job, baseline job).

    With ``live`` both start from that live state ("fork from live"), in the background like any what-if.
    Raises :class:`apps.auth.AccessDenied` unless ``user`` is an engineer, before anything else
    happens, and :class:`WhatIfError` for a bad change.
    """
    require(user, "run_whatif")
    request = what_if_request(change, live)
    if live is None:
        baseline = catalogue.job(f"scenario:{change.scenario}")
    else:
        unchanged = what_if_request(WhatIf(change.scenario), live)
        baseline = catalogue.simulate(request_key(unchanged), describe(WhatIf(change.scenario), live), unchanged)
    job = catalogue.simulate(request_key(request), describe(change, live), request)
    return job, baseline
