"""The relay and ground network of a run: contacts, links, routing and data flows, added to the twin dataset.

:func:`add_network` takes a run (the orbit layer at least) and its scenario and adds:

* dims ``station``, ``relay``, ``link`` (coords ``link_kind``, ``link_end_a``, ``link_end_b``) and
  ``contact`` (coords ``contact_sat``, ``contact_station``);
* ``contact_acquisition``, ``contact_loss``, ``contact_culmination``, ``contact_max_elevation``:
  every pass of every satellite over every station (:mod:`twin.network.contacts`);
* ``link_up``, ``link_range``, ``link_rate``, ``link_reverse_rate`` (link, time): the state of each
  link (:mod:`twin.network.links`) and its rate from end a to end b and back;
* ``downlink_rate``, ``uplink_rate`` (sat, time): direct rate to and from ground stations;
* ``latency_to_ground`` (sat, time): shortest latency to the ground network (telemetry latency),
  NaN without a path; ``command_delay``: how long a command sent now takes to reach the satellite,
  waiting for the next path (NaN if none comes before the end of the run);
* the compute workload's data: ``input_bits_per_flop`` up and ``output_bits_per_flop`` down for
  every FLOP a sub-center serves, besides the fixed ``uplink_demand_bps`` and ``downlink_demand_bps``;
* ``downlink_data_in``, ``downlink_data_delivered``, ``downlink_data_queued``,
  ``downlink_data_dropped`` and the same for ``uplink`` (cluster, time; bits; cumulative except
  the queue): the flows of :mod:`twin.network.routing`, with ``in = delivered + queued + dropped``;
* ``eo_data_in``, ``eo_data_delivered``, ``eo_data_queued``, ``eo_data_dropped`` (cluster, time; bits),
  only when ``eo_inflow_bps`` > 0 (absent otherwise): Earth-observation data that partner satellites
  send to each sub-center through the GEO data relays. They enter at the working relays only (not at
  ground stations, which neither feed nor forward them) and reach the chiefs over the relays' forward
  links and the satellites' links, within what the uplink leaves of those forward links (the uplink
  is served first); queued, buffered and dropped as the other flows, with the same exact accounting.

Each step, each direction's data move as a maximum flow over every link up (:func:`twin.network.routing.max_flow`):
every station pass and relay link in view carries its share.

Outages (a ground station or relay lost from a time) are given as :class:`Outage` s.
:func:`command_windows` turns the latency into a command plan; :mod:`twin.network.paths` finds the best
path between any two nodes at a step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from twin.constants import EARTH_EQUATORIAL_RADIUS_KM, GEOSTATIONARY_RADIUS_M, SPEED_OF_LIGHT_M_S
from twin.dataset.catalogue import FLOW_DIRECTIONS, FLOW_QUANTITIES
from twin.intervals import true_runs
from twin.network.contacts import contact_windows, station_itrs_m, station_up, stations_of
from twin.network.links import LinkSet, assign_antennas, link_geometry, link_set, relay_itrs_m
from twin.network.routing import shared_max_flow, shortest_latency
from twin.network.state import LinkGeometry, LinkState, NetworkState, Routes, Terminals, store_network
from twin.orbit.fleet import formation_chief
from twin.scenario import LinkSettings, Scenario, ScenarioError
from twin.subsystems.faults import NETWORK_KINDS

UNLIMITED_BPS = 1e18  # terrestrial lines and relay feeders: never the bottleneck (an assumption)
FEEDER_LATENCY_S = (GEOSTATIONARY_RADIUS_M - EARTH_EQUATORIAL_RADIUS_KM * 1e3) / SPEED_OF_LIGHT_M_S  # relay to a ground terminal below it

@dataclass(frozen=True)
class Outage:
    """A ground station or relay out of service from ``start_s`` to ``end_s`` (s after the run's start; None: to the end)."""

    target: str
    start_s: float
    end_s: float | None = None


def outages_of(scenario: Scenario, start, faults=()) -> list[Outage]:
    """The ``station_lost`` and ``relay_lost`` faults of ``scenario`` and ``faults`` as outages of a run from
    ``start`` (astropy Time): a fault's time counts from the epoch, an outage's from the run's start."""
    run_start_s = float((start - scenario.epoch).sec)
    return [Outage(fault.target, fault.start_s - run_start_s)
            for fault in tuple(scenario.faults) + tuple(faults) if fault.kind in NETWORK_KINDS]


def _check_scenario(scenario: Scenario) -> None:
    if scenario.links is None:
        raise ScenarioError("links: missing section; the network needs its rates and margins ([links])")
    for index, station in enumerate(scenario.ground_stations):
        for name in ("antennas", "downlink_rate_bps", "uplink_rate_bps"):
            if getattr(station, name) is None:
                raise ScenarioError(f"ground_stations[{index}].{name}: missing; the network needs it")


def _seconds(run: xr.Dataset) -> np.ndarray:
    times = run["time"].values
    return (times - times[0]) / np.timedelta64(1, "s")


def _terminals(scenario: Scenario, outages, times_s: np.ndarray) -> Terminals:
    """The scenario's relays and stations, each working (terminal, time) except while an outage holds."""
    names = [relay.name for relay in scenario.relays] + [station.name for station in scenario.ground_stations]
    working = np.ones((len(names), times_s.size), bool)
    for index, outage in enumerate(outages):
        if not isinstance(outage, Outage):
            raise TypeError(f"outages[{index}]: {outage!r} is not a twin.network.flows.Outage")
        if outage.target not in names:
            raise ValueError(f"outages[{index}].target: {outage.target!r} is neither a ground station nor a relay "
                             "of this scenario")
        end = np.inf if outage.end_s is None else outage.end_s
        working[names.index(outage.target)] &= ~((times_s >= outage.start_s) & (times_s < end))
    return Terminals(tuple(scenario.relays), tuple(scenario.ground_stations), working)


def add_network(run: xr.Dataset, scenario: Scenario, outages=()) -> xr.Dataset:
    """``run`` with the network variables of the module docstring added (a new dataset)."""
    _check_scenario(scenario)
    settings = scenario.links
    times_s = _seconds(run)
    terminals = _terminals(scenario, outages, times_s)
    stations = stations_of(scenario)
    contacts = contact_windows(run, stations)
    links = link_set(run, terminals.relay_names, terminals.station_names, settings.intra_range_m)
    station_m = station_itrs_m([s.latitude_deg for s in stations], [s.longitude_deg for s in stations],
                               [s.altitude_m for s in stations])
    up = station_up([s.latitude_deg for s in stations], [s.longitude_deg for s in stations])
    relay_m = relay_itrs_m([r.longitude_deg for r in terminals.relays])
    geometry = LinkGeometry(*link_geometry(run, links, relay_m, station_m, settings.atmosphere_margin_km * 1e3, up))
    link_state = _link_state(run, settings, terminals, links, geometry)
    downlink, uplink = _direct_rates(link_state, run.sizes["sat"])
    routes = _route(run, settings, terminals, link_state, times_s)
    dataset = run.copy()
    store_network(dataset, NetworkState(settings, times_s, terminals, contacts, link_state, downlink, uplink, routes))
    return dataset


def _link_state(run: xr.Dataset, settings: LinkSettings, terminals: Terminals, links: LinkSet,
                geometry: LinkGeometry) -> LinkState:
    """Whether each link is up at each step, and its rates, from its geometry, its ends' health and the antennas."""
    sats, relays = run.sizes["sat"], len(terminals.relays)
    range_m, clear, elevation = geometry.range_m, geometry.clear, geometry.elevation_deg
    alive = run["alive"].values.astype(bool) if "alive" in run else np.ones((sats, range_m.shape[1]), bool)
    up = np.ones_like(clear)
    kind = links.kind
    up[kind == "intra"] = range_m[kind == "intra"] <= settings.intra_range_m
    inter = (kind == "in_plane") | (kind == "cross_plane")
    up[inter] = (clear[inter] & (range_m[inter] <= settings.inter_max_range_km * 1e3)
                 & (np.abs(elevation[inter]) <= settings.inter_max_elevation_deg))  # the terminal's field of regard
    relay_links = np.flatnonzero(kind == "relay")
    ground_links = np.flatnonzero(kind == "ground")
    masks = np.array([s.min_elevation_deg for s in terminals.stations])
    station_of = links.node_b[ground_links] - sats - relays
    up[ground_links] = elevation[ground_links] >= masks[station_of][:, None]
    relay_of = links.node_b[relay_links] - sats
    up[relay_links] = (clear[relay_links] & (range_m[relay_links] <= settings.relay_max_range_km * 1e3)
                       & (elevation[relay_links] >= settings.relay_min_elevation_deg))  # the terminal looks up
    satellite_ends = lambda nodes: np.where((nodes < sats)[:, None], alive[np.minimum(nodes, sats - 1)], True)
    up &= satellite_ends(links.node_a) & satellite_ends(links.node_b)
    up[relay_links] &= terminals.working_relays[relay_of]
    up[ground_links] &= terminals.working_stations[station_of]
    # Antennas: each station serves its highest passes, each relay its nearest chiefs.
    antennas = np.array([s.antennas for s in terminals.stations])
    up[ground_links] = assign_antennas(up[ground_links], elevation[ground_links], station_of, antennas)
    up[relay_links] = assign_antennas(up[relay_links], -range_m[relay_links], relay_of,
                                      np.full(relays, settings.relay_antennas))
    rate, reverse = _link_rates(settings, terminals, links, range_m, up, sats)
    return LinkState(links, range_m, up, rate, reverse)


def _link_rates(settings: LinkSettings, terminals: Terminals, links: LinkSet, range_m: np.ndarray, up: np.ndarray,
                sats: int) -> tuple[np.ndarray, np.ndarray]:
    """Rate of each link from end a to end b and back (link, time; bit/s), 0 while down."""
    rate = np.zeros(up.shape, np.float32)
    kind = links.kind
    rate[kind == "intra"] = settings.intra_rate_bps
    inter = (kind == "in_plane") | (kind == "cross_plane")
    reference_m = settings.inter_reference_range_km * 1e3
    rate[inter] = settings.inter_rate_bps * np.minimum(1.0, (reference_m / np.maximum(range_m[inter], 1.0)) ** 2)
    rate[kind == "relay"] = settings.relay_rate_bps
    reverse = rate.copy()
    ground = np.flatnonzero(kind == "ground")
    station_of = links.node_b[ground] - sats - len(terminals.relays)
    rate[ground] = np.array([s.downlink_rate_bps for s in terminals.stations])[station_of][:, None]
    reverse[ground] = np.array([s.uplink_rate_bps for s in terminals.stations])[station_of][:, None]
    rate *= up
    reverse *= up
    return rate, reverse


def _direct_rates(state: LinkState, sats: int) -> tuple[np.ndarray, np.ndarray]:
    """Each satellite's direct downlink and uplink rates to the ground stations (sat, time; bit/s)."""
    downlink = np.zeros((sats, state.up.shape[1]), np.float32)
    uplink = np.zeros((sats, state.up.shape[1]), np.float32)
    ground = np.flatnonzero(state.links.kind == "ground")
    np.add.at(downlink, state.links.node_a[ground], state.rate_bps[ground])
    np.add.at(uplink, state.links.node_a[ground], state.reverse_rate_bps[ground])
    return downlink, uplink


def _gateway_of_each(clusters: list[str], subcenter: np.ndarray, chiefs: np.ndarray) -> np.ndarray:
    """Row of each cluster's gateway to the backbone: its first satellite of role chief (ValueError if none)."""
    names, first = np.unique(subcenter[chiefs], return_index=True)
    wanted = np.asarray(clusters)
    found = np.minimum(np.searchsorted(names, wanted), max(names.size - 1, 0))
    missing = wanted[names[found] != wanted] if names.size else wanted
    if missing.size:
        raise ValueError(f"subcenter {str(missing[0])!r}: has no satellite of role 'chief' to route its data through")
    return chiefs[first[found]]


def _route(run: xr.Dataset, settings: LinkSettings, terminals: Terminals, link_state: LinkState,
           times_s: np.ndarray) -> Routes:
    """Per step: latency to the ground of every node, and the downlink, uplink and EO flows of every sub-center."""
    links, range_m, state = link_state.links, link_state.range_m, link_state.up
    rate, reverse = link_state.rate_bps, link_state.reverse_rate_bps
    step_s = float(times_s[1] - times_s[0]) if times_s.size > 1 else 0.0
    sats = run.sizes["sat"]
    relays, stations = len(terminals.relays), len(terminals.stations)
    # Backbone: gateways (chiefs), relays, stations and the ground network; members hang off their chief.
    backbone_links = np.flatnonzero(links.kind != "intra")
    role = run["role"].values.astype(str) if "role" in run.coords else np.full(sats, "chief")
    chiefs = np.flatnonzero(role == "chief")
    backbone = np.r_[chiefs, sats + np.arange(relays + stations)]
    ground = backbone.size
    index_of = np.full(sats + relays + stations, -1)
    index_of[backbone] = np.arange(backbone.size)
    u, v = index_of[links.node_a[backbone_links]], index_of[links.node_b[backbone_links]]
    feeder_u = index_of[sats + np.arange(relays + stations)]
    feeder_latency = np.r_[np.full(relays, FEEDER_LATENCY_S), np.zeros(stations)] + settings.hop_delay_s
    working = terminals.working
    light_s = range_m[backbone_links] / SPEED_OF_LIGHT_M_S + settings.hop_delay_s

    subcenter = run["subcenter"].values.astype(str)
    clusters = list(run["cluster"].values.astype(str)) if "cluster" in run.coords else list(dict.fromkeys(subcenter))
    chief_of_cluster = index_of[_gateway_of_each(clusters, subcenter, chiefs)]
    alive = run["alive"].values.astype(bool) if "alive" in run else np.ones((sats, times_s.size), bool)
    chief_rows = backbone[chief_of_cluster]

    steps = times_s.size
    backbone_latency = np.full((backbone.size, steps), np.inf)
    # Earth-observation data enter at the working relays only, and reach the chiefs over the relay links
    # and the satellites' own links: ground stations neither feed nor forward them.
    directions = ("downlink", "uplink") + (("eo",) if settings.eo_inflow_bps > 0 else ())
    graph = _FlowGraph(u, v, links.kind[backbone_links], feeder_u, np.arange(relays + stations) < relays, ground,
                       chief_of_cluster)
    flows = {f"{direction}_{name}": np.zeros((len(clusters), steps))
             for direction in directions for name in FLOW_QUANTITIES}
    queue = {direction: np.zeros(len(clusters)) for direction in directions}
    totals = {f"{direction}_{name}": np.zeros(len(clusters)) for direction in directions
              for name in ("data_in", "data_delivered", "data_dropped")}
    demand = {"downlink": settings.downlink_demand_bps, "uplink": settings.uplink_demand_bps,
              "eo": settings.eo_inflow_bps}
    workload = _workload_flop(run, clusters, subcenter, times_s, step_s)
    bits_per_flop = {"downlink": settings.output_bits_per_flop, "uplink": settings.input_bits_per_flop, "eo": 0.0}
    for step in range(steps):  # one graph per step; each step is whole-array work on its edges
        on = state[backbone_links, step]
        feeding = working[:, step]
        eu, ev = np.r_[u[on], feeder_u[feeding]], np.r_[v[on], np.full(feeding.sum(), ground)]
        latency = np.r_[light_s[on, step], feeder_latency[feeding]]
        backbone_latency[:, step] = shortest_latency(eu, ev, latency, backbone.size + 1, ground)[:-1]
        if step == 0:
            for direction in directions:
                flows[f"{direction}_data_queued"][:, step] = queue[direction]
            continue
        forward_bits = rate[backbone_links, step] * step_s  # end a to end b: satellite to satellite, relay or station
        backward_bits = reverse[backbone_links, step] * step_s
        uplink_used = np.zeros(backbone_links.size)  # of each relay's forward link, by the uplink (for the EO flow)
        for direction in directions:
            arrivals = demand[direction] * step_s * alive[chief_rows, step] + bits_per_flop[direction] * workload[:, step]
            queue[direction] += arrivals
            sent, gateway_flow = graph.send(direction, on, feeding, forward_bits, backward_bits - uplink_used,
                                            queue[direction])
            if direction == "uplink":
                uplink_used = gateway_flow
            sent = np.minimum(sent, queue[direction])
            queue[direction] -= sent
            dropped = np.maximum(queue[direction] - settings.buffer_bits, 0.0)
            queue[direction] -= dropped
            totals[f"{direction}_data_in"] += arrivals
            totals[f"{direction}_data_delivered"] += sent
            totals[f"{direction}_data_dropped"] += dropped
            for name in ("data_in", "data_delivered", "data_dropped"):
                flows[f"{direction}_{name}"][:, step] = totals[f"{direction}_{name}"]
            flows[f"{direction}_data_queued"][:, step] = queue[direction]

    # Members: their chief's latency plus the shortest path over the formation's mesh (geometry of the first step).
    intra = np.flatnonzero(links.kind == "intra")
    to_chief = np.zeros(sats)
    if intra.size:
        weights = range_m[intra, 0] / SPEED_OF_LIGHT_M_S + settings.hop_delay_s
        distance = shortest_latency(links.node_a[intra], links.node_b[intra], weights, sats, chiefs)
        to_chief = distance.min(axis=0)
    # A chief is on the backbone itself; a member reaches it through its chief (none: no way to the ground).
    chief_of_sat = np.where(role == "chief", np.arange(sats), formation_chief(subcenter, role))
    latency = np.where(chief_of_sat[:, None] >= 0, backbone_latency[index_of[chief_of_sat]], np.inf) + to_chief[:, None]
    latency[~alive] = np.inf
    return Routes(clusters, latency, flows)


class _FlowGraph:
    """The directed graph of one direction's flow at a step, over the backbone (chiefs, relays, stations), the
    ground node and one more node: the sub-centers' source (downlink) or sink (uplink, EO).

    Inter-satellite links carry data both ways; a gateway link (to a relay or a station) carries the
    downlink from the satellite and the uplink and EO data to it; EO data enter at the relays only.
    """

    def __init__(self, u, v, kind, feeder, feeder_is_relay, ground: int, cluster_nodes):
        self.u, self.v = u, v
        self.inter = (kind == "in_plane") | (kind == "cross_plane")
        self.relay = kind == "relay"
        self.feeder, self.feeder_is_relay = feeder, feeder_is_relay
        self.ground, self.end = ground, ground + 1
        self.cluster_nodes = cluster_nodes

    def send(self, direction: str, on, feeding, forward_bits, backward_bits, queue_bits):
        """Bits each sub-center sends (downlink) or receives (uplink, EO) in the step, and the flow on each
        backbone link's gateway direction (0 on inter-satellite links)."""
        inter, gateway = on & self.inter, on & ~self.inter
        if direction == "eo":
            gateway, feeding = gateway & self.relay, feeding & self.feeder_is_relay
        feeders = self.feeder[feeding]
        ones = lambda count, value: np.full(count, value, dtype=int)
        unlimited = np.full(feeders.size, np.inf)
        if direction == "downlink":  # sub-centers -> gateways -> ground
            source, sink = self.end, self.ground
            gate = (self.u[gateway], self.v[gateway], forward_bits[gateway])
            feed = (feeders, ones(feeders.size, self.ground), unlimited)
            offer = (ones(self.cluster_nodes.size, self.end), self.cluster_nodes, queue_bits)
        else:  # ground -> gateways -> sub-centers
            source, sink = self.ground, self.end
            gate = (self.v[gateway], self.u[gateway], np.maximum(backward_bits[gateway], 0.0))
            feed = (ones(feeders.size, self.ground), feeders, unlimited)
            offer = (self.cluster_nodes, ones(self.cluster_nodes.size, self.end), queue_bits)
        parts = [(self.u[inter], self.v[inter], forward_bits[inter]), (self.v[inter], self.u[inter], backward_bits[inter]),
                 gate, feed, offer]
        u, v, capacity = (np.concatenate(column) for column in zip(*parts))
        offers = slice(capacity.size - self.cluster_nodes.size, None)
        flow = shared_max_flow(u, v, capacity, self.end + 1, source, sink, offers, float(gate[2].sum()))
        gateway_flow = np.zeros(on.size)
        first_gate = 2 * int(inter.sum())
        gateway_flow[gateway] = flow[first_gate:first_gate + int(gateway.sum())]
        return flow[-self.cluster_nodes.size:], gateway_flow


def _workload_flop(run, clusters: list[str], subcenter: np.ndarray, times_s: np.ndarray, step_s: float) -> np.ndarray:
    """FLOP served by each sub-center in each step (cluster, time), from the run's compute throughput (0 without it)."""
    flop = np.zeros((len(clusters), times_s.size))
    if "compute_throughput" not in run:
        return flop
    weight = run["represents"].values.astype(float) if "represents" in run.coords else np.ones(subcenter.size)
    served = np.nan_to_num(run["compute_throughput"].values.astype(float)) * weight[:, None] * step_s
    row_of = {name: row for row, name in enumerate(clusters)}
    np.add.at(flop, np.array([row_of[name] for name in subcenter]), served)
    return flop


def command_windows(run: xr.Dataset) -> pd.DataFrame:
    """The command plan: when each satellite can be reached from the ground (directly or through
    relays and other satellites), and the mean and worst latency then. One row per window."""
    if "latency_to_ground" not in run:
        raise ValueError("run: it has no network; simulate with network=True (twin simulate --network)")
    latency = run["latency_to_ground"].values
    times = run["time"].values
    step = times[1] - times[0] if times.size > 1 else np.timedelta64(0, "s")
    rows, first, last = true_runs(np.isfinite(latency))
    spans = [latency[row, start:stop + 1] for row, start, stop in zip(rows, first, last)]
    return pd.DataFrame({"sat": run["sat"].values[rows], "start": times[first], "end": times[last],
                         "duration_s": (times[last] - times[first] + step) / np.timedelta64(1, "s"),
                         "mean_latency_s": [float(span.mean()) for span in spans],
                         "max_latency_s": [float(span.max()) for span in spans]})


def network_report(run: xr.Dataset) -> dict[str, float]:
    """Fleet totals of a run with a network: data in, delivered, queued and dropped (bits) of each flow (``eo_*``
    when the run has an EO inflow), latency figures."""
    directions = [direction for direction in FLOW_DIRECTIONS if f"{direction}_data_in" in run]
    last = {name: float(run[name].isel(time=-1).sum()) for direction in directions
            for name in (f"{direction}_data_in", f"{direction}_data_delivered", f"{direction}_data_queued",
                         f"{direction}_data_dropped")}
    latency = run["latency_to_ground"].values
    return {**last, "mean_latency_s": float(np.nanmean(latency)) if np.isfinite(latency).any() else float("nan"),
            "reachable_fraction": float(np.isfinite(latency).mean())}
