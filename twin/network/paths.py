"""Paths through a run's network at one time step: shortest latency or highest capacity, between any two nodes.

Nodes are the run's satellites, relays and ground stations by name, and ``"ground"`` (the
terrestrial network: every station reaches it directly, every relay through its feeder link);
a sub-center's name stands for its chief. The graph is the one :func:`twin.network.flows.add_network`
stored: the links up at that step, each a pair of directed edges (``link_rate`` from end a to end
b, ``link_reverse_rate`` back), light time plus the hop delay on every hop.

* ``by="latency"``: Dijkstra on the directed graph;
* ``by="capacity"``: the widest path (largest bottleneck rate), found as the highest rate
  threshold at which the target is still reachable (a binary search over the distinct rates, one
  breadth-first search each), and among those paths the one with fewest hops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, dijkstra

from twin.constants import SPEED_OF_LIGHT_M_S
from twin.network.flows import FEEDER_LATENCY_S, UNLIMITED_BPS
from twin.network.routing import NO_PARENT, path_between

GROUND = "ground"


@dataclass(frozen=True)
class Path:
    """A path: its nodes from source to target, total latency (s) and narrowest rate (bit/s)."""

    nodes: list[str]
    latency_s: float
    bottleneck_bps: float


def _nodes(run: xr.Dataset) -> list[str]:
    return ([str(s) for s in run["sat"].values] + [str(r) for r in run["relay"].values]
            + [str(s) for s in run["station"].values] + [GROUND])


def _node_index(run: xr.Dataset, names: list[str], name: str, field: str) -> int:
    if name in names:
        return names.index(name)
    chiefs = (run["subcenter"].values == name) & (run["role"].values == "chief")
    if chiefs.any():
        return int(np.flatnonzero(chiefs)[0])
    raise ValueError(f"{field}: {name!r} is not a satellite, sub-center, relay, station or {GROUND!r} of this run")


def _edges(run: xr.Dataset, names: list[str], step: int):
    """Directed edges (from, to, latency s, rate bit/s) of the network at ``step``."""
    up = run["link_up"].values[:, step].astype(bool)
    index = {name: k for k, name in enumerate(names)}
    a = np.array([index[str(n)] for n in run["link_end_a"].values[up]], dtype=int)
    b = np.array([index[str(n)] for n in run["link_end_b"].values[up]], dtype=int)
    hop_s = float(run.attrs.get("network_hop_delay_s", 0.0))
    latency = run["link_range"].values[up, step] / SPEED_OF_LIGHT_M_S + hop_s
    forward, backward = run["link_rate"].values[up, step], run["link_reverse_rate"].values[up, step]
    relays, stations = run.sizes["relay"], run.sizes["station"]
    first_relay = run.sizes["sat"]
    terminals = np.arange(first_relay, first_relay + relays + stations)
    ground = np.full(terminals.size, len(names) - 1)
    terminal_latency = np.r_[np.full(relays, FEEDER_LATENCY_S), np.zeros(stations)] + hop_s
    unlimited = np.full(terminals.size, UNLIMITED_BPS)
    return (np.r_[a, b, terminals, ground], np.r_[b, a, ground, terminals],
            np.r_[latency, latency, terminal_latency, terminal_latency],
            np.r_[forward, backward, unlimited, unlimited].astype(float))


def best_path(run: xr.Dataset, source: str, target: str, time, by: str = "latency") -> Path:
    """The best path from ``source`` to ``target`` at the step nearest ``time`` (index or UTC time)."""
    if "link_up" not in run:
        raise ValueError("run: it has no network; simulate with network=True (twin simulate --network)")
    if by not in ("latency", "capacity"):
        raise ValueError(f"by: {by!r} is not 'latency' or 'capacity'")
    step = int(time) if isinstance(time, (int, np.integer)) else int(run.indexes["time"].get_indexer(
        [np.datetime64(time, "ns")], method="nearest")[0])
    names = _nodes(run)
    start, end = _node_index(run, names, source, "source"), _node_index(run, names, target, "target")
    frm, to, latency, rate = _edges(run, names, step)
    usable = rate > 0
    frm, to, latency, rate = frm[usable], to[usable], latency[usable], rate[usable]
    size = len(names)
    if by == "latency":
        graph = coo_matrix((latency, (frm, to)), shape=(size, size)).tocsr()
        _, predecessors = dijkstra(graph, directed=True, indices=start, return_predecessors=True)
        chosen = predecessors
    else:
        chosen = _widest_predecessors(frm, to, rate, size, start, end)
    nodes = path_between(np.where(chosen == NO_PARENT, -1, chosen), start, end) if start != end else [start]
    if not nodes:
        return Path([], float("inf"), 0.0)
    hops = list(zip(nodes[:-1], nodes[1:]))
    edge = {(int(f), int(t)): k for k, (f, t) in enumerate(zip(frm, to))}
    return Path([names[n] for n in nodes], float(sum(latency[edge[h]] for h in hops)),
                float(min((rate[edge[h]] for h in hops), default=np.inf)))


def _widest_predecessors(frm, to, rate, size: int, start: int, end: int) -> np.ndarray:
    """Breadth-first predecessors over the edges at least as fast as the widest path's bottleneck."""
    levels = np.unique(rate)

    def reach(threshold: float):
        keep = rate >= threshold
        graph = coo_matrix((np.ones(keep.sum()), (frm[keep], to[keep])), shape=(size, size)).tocsr()
        order, predecessors = breadth_first_order(graph, start, directed=True, return_predecessors=True)
        return end in order, predecessors

    low, high = 0, levels.size - 1  # levels[low] always reaches (if anything does)
    if levels.size == 0 or not reach(levels[0])[0]:
        return np.full(size, NO_PARENT)
    while low < high:
        middle = (low + high + 1) // 2
        if reach(levels[middle])[0]:
            low = middle
        else:
            high = middle - 1
    return reach(levels[low])[1]
