"""The network's state as its stages hand it on (:func:`twin.network.flows.add_network`), and the variables of
the twin dataset it becomes (:func:`store_network`, every one from the variable catalogue).

The stages: the :class:`Terminals` (stations and relays, and when each works), the passes over the
stations, the :class:`LinkState` of every link over time, each satellite's direct rates to the
ground, then the :class:`Routes` (latency to the ground and the data flows of every sub-center).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from twin.dataset.catalogue import FLOW_DIRECTIONS, FLOW_QUANTITIES
from twin.dataset.layout import as_variable
from twin.network.links import LinkSet
from twin.scenario import GroundStation, LinkSettings, Relay


@dataclass(frozen=True)
class Terminals:
    """The scenario's geostationary ``relays`` and ground ``stations``; ``working`` (terminal, time), relays first,
    False while one is lost to an outage."""

    relays: tuple[Relay, ...]
    stations: tuple[GroundStation, ...]
    working: np.ndarray

    @property
    def relay_names(self) -> list[str]:
        return [relay.name for relay in self.relays]

    @property
    def station_names(self) -> list[str]:
        return [station.name for station in self.stations]

    @property
    def working_relays(self) -> np.ndarray:
        return self.working[:len(self.relays)]

    @property
    def working_stations(self) -> np.ndarray:
        return self.working[len(self.relays):]


@dataclass(frozen=True)
class LinkGeometry:
    """Where each link's ends see each other (link, time): ``range_m``, whether the line of sight is ``clear``, and
    the ``elevation_deg`` of end b seen from end a (:func:`twin.network.links.link_geometry`)."""

    range_m: np.ndarray
    clear: np.ndarray
    elevation_deg: np.ndarray


@dataclass(frozen=True)
class LinkState:
    """The ``links`` of a run over time (link, time): ``range_m``, whether each is ``up`` (available and in use),
    and its rate from end a to end b and back (bit/s, 0 while down)."""

    links: LinkSet
    range_m: np.ndarray
    up: np.ndarray
    rate_bps: np.ndarray
    reverse_rate_bps: np.ndarray


@dataclass(frozen=True)
class Routes:
    """Per satellite and step, the shortest ``latency_s`` to the ground (inf without a path); per sub-center
    (``clusters``) and step, the data ``flows`` (bits, named ``{direction}_{quantity}`` as in the catalogue)."""

    clusters: list[str]
    latency_s: np.ndarray
    flows: dict[str, np.ndarray]


@dataclass(frozen=True)
class NetworkState:
    """Everything the network adds to a run of ``times_s`` (s after its start) under the scenario's ``settings``:
    its terminals, the ``contacts`` (one row per pass), the links, each satellite's direct ``downlink_bps``
    and ``uplink_bps`` (sat, time) and the routes."""

    settings: LinkSettings
    times_s: np.ndarray
    terminals: Terminals
    contacts: pd.DataFrame
    links: LinkState
    downlink_bps: np.ndarray
    uplink_bps: np.ndarray
    routes: Routes


def command_delay_s(latency_s: np.ndarray, times_s: np.ndarray) -> np.ndarray:
    """Seconds until a command sent at each step reaches the satellite: wait for the next step with a path, plus
    its latency."""
    reachable = np.isfinite(latency_s)
    steps = times_s.size
    index = np.where(reachable, np.arange(steps), steps)
    next_index = np.minimum.accumulate(index[:, ::-1], axis=1)[:, ::-1]
    found = next_index < steps
    safe = np.minimum(next_index, steps - 1)
    delay = times_s[safe] - times_s[None, :] + np.take_along_axis(latency_s, safe, axis=1)
    return np.where(found, delay, np.nan)


def store_network(dataset: xr.Dataset, state: NetworkState) -> None:
    """Add the network's coordinates and variables of ``state`` to ``dataset`` (in place)."""
    stations, relays, links, contacts = state.terminals.stations, state.terminals.relays, state.links, state.contacts
    coords = {
        "station": [s.name for s in stations], "station_latitude": [s.latitude_deg for s in stations],
        "station_longitude": [s.longitude_deg for s in stations], "station_altitude": [s.altitude_m for s in stations],
        "station_min_elevation": [s.min_elevation_deg for s in stations],
        "station_antennas": [s.antennas for s in stations], "station_band": [s.band or "" for s in stations],
        "relay": [r.name for r in relays], "relay_longitude": [r.longitude_deg for r in relays],
        "link": np.arange(len(links.links)), "link_kind": links.links.kind.astype(str),
        "link_end_a": links.links.end_a.astype(str), "link_end_b": links.links.end_b.astype(str),
        "contact": np.arange(len(contacts)), "contact_sat": contacts["sat"].to_numpy().astype(str),
        "contact_station": contacts["station"].to_numpy().astype(str),
    }
    for name, values in coords.items():
        dataset.coords[name] = as_variable(name, np.asarray(values))
    latency_s = state.routes.latency_s
    variables = {
        "contact_acquisition": contacts["acquisition"].to_numpy(), "contact_loss": contacts["loss"].to_numpy(),
        "contact_culmination": contacts["culmination"].to_numpy(),
        "contact_max_elevation": contacts["max_elevation_deg"].to_numpy(),
        "contact_complete": (contacts["acquisition_observed"] & contacts["loss_observed"]).to_numpy(),
        "link_up": links.up, "link_range": links.range_m, "link_rate": links.rate_bps,
        "link_reverse_rate": links.reverse_rate_bps,
        "downlink_rate": state.downlink_bps, "uplink_rate": state.uplink_bps,
        "latency_to_ground": np.where(np.isfinite(latency_s), latency_s, np.nan),
        "command_delay": command_delay_s(latency_s, state.times_s),
    }
    for name, values in variables.items():
        dataset[name] = as_variable(name, values)
    dataset.attrs["network_hop_delay_s"] = state.settings.hop_delay_s
    if "cluster" not in dataset.coords:
        dataset.coords["cluster"] = as_variable("cluster", np.array(state.routes.clusters))
    for direction in FLOW_DIRECTIONS:
        for quantity in FLOW_QUANTITIES:
            name = f"{direction}_{quantity}"
            if name in state.routes.flows:  # no EO flow without an EO inflow
                dataset[name] = as_variable(name, state.routes.flows[name])
