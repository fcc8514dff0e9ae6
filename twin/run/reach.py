"""When the ground can reach each satellite: the network model alone over a span (no power, thermal or compute).

Commands go up only while a satellite has a path to the ground network, through a station in view,
a relay or other satellites (:func:`twin.network.flows.add_network`'s ``latency_to_ground``); the
command windows of :func:`twin.network.flows.command_windows` are its runs.
"""

from __future__ import annotations

import xarray as xr


def reach(scenario, start, duration_s: float, step_s: float, faults=()) -> xr.Dataset:
    """The orbit layer and network of ``scenario`` from ``start`` (astropy Time) for ``duration_s`` at ``step_s``:
    ``latency_to_ground`` (sat, time; s, NaN: no path) and ``command_delay`` among the rest."""
    from twin.network.flows import add_network, outages_of
    from twin.run.simulate import run_scenario

    orbits = run_scenario(scenario, start=start, duration_s=duration_s, step_s=step_s, subsystems=False)
    return add_network(orbits, scenario, outages_of(scenario, start, faults))
