"""Routing and data flows on the network graph of each time step.

The graph of a step has the network's nodes (satellites, relays, stations) and one more, the
ground network (``ground``): stations reach it by terrestrial lines and relays through their feeder
link; an edge exists for each link that is up. Two questions are answered per step:

* **shortest latency**: light time plus ``hop_delay_s`` per hop, by Dijkstra
  (:func:`scipy.sparse.csgraph.dijkstra`), from a source to every node or between two nodes;
* **how much data gets through** (:func:`max_flow`): a maximum flow (Dinic's algorithm,
  :func:`scipy.sparse.csgraph.maximum_flow`) from the sub-centers, each offering the data it holds,
  to the ground (or from the ground to them), over every link within what it carries in the step.
  The flow spreads over every gateway in view (each station pass, each relay link) and over the
  inter-satellite links between them, so the network delivers as much as its cut allows
  (max-flow min-cut), shared among the sub-centers in proportion to what they hold
  (:func:`shared_max_flow`); what is not sent stays queued (up to the buffer; the rest is dropped).
  Accounting is exact by construction: ``data in = delivered + queued + dropped`` at every step.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra, maximum_flow

NO_PARENT = -9999  # scipy's marker for a node without a predecessor


def _symmetric(u: np.ndarray, v: np.ndarray, weight: np.ndarray, nodes: int):
    """A symmetric sparse matrix with ``weight`` on edges (u, v) (edges must not repeat: a sparse matrix sums them)."""
    return coo_matrix((np.r_[weight, weight], (np.r_[u, v], np.r_[v, u])), shape=(nodes, nodes)).tocsr()


def shortest_latency(u: np.ndarray, v: np.ndarray, latency_s: np.ndarray, nodes: int, source: int,
                     predecessors: bool = False):
    """Latency (s) from ``source`` to every node over edges (u, v) of ``latency_s`` (> 0); inf where unreachable."""
    graph = _symmetric(u, v, latency_s, nodes)
    return dijkstra(graph, directed=False, indices=source, return_predecessors=predecessors)


def max_flow(u: np.ndarray, v: np.ndarray, capacity: np.ndarray, nodes: int, source: int, sink: int) -> np.ndarray:
    """Flow on each directed edge ``u -> v`` of a maximum flow from ``source`` to ``sink``.

    ``capacity`` (edge,) is what each edge carries (bits in the step; >= 0, ``inf`` for no limit).
    scipy counts in int32, so capacities are counted in a unit of ``max finite capacity / 2**30``
    (at least 1) and rounded down: the flow never exceeds any capacity, and falls short of the exact
    maximum by at most one unit per edge of the minimum cut. Parallel edges share their flow in
    proportion to their capacity.
    """
    flow = np.zeros(u.size)
    finite = np.isfinite(capacity)
    if u.size == 0 or source == sink:
        return flow
    unit = max(float(capacity[finite].max(initial=0.0)) / 2**30, 1.0)
    units = np.where(finite, np.floor(np.where(finite, capacity, 0.0) / unit), 2**31 - 1).astype(np.int64)
    keep = (units > 0) & (u != v)
    if not keep.any():  # no edge carries anything this step
        return flow
    pair = u[keep].astype(np.int64) * nodes + v[keep]
    pairs, inverse = np.unique(pair, return_inverse=True)
    summed = np.minimum(np.bincount(inverse, weights=units[keep]), 2**31 - 1).astype(np.int32)
    graph = csr_matrix((summed, (pairs // nodes, pairs % nodes)), shape=(nodes, nodes))
    result = maximum_flow(graph, source, sink, method="dinic").flow.tocsr()
    pair_flow = np.maximum(np.asarray(result[pairs // nodes, pairs % nodes]).ravel(), 0) * unit  # net flow u -> v
    share = units[keep] / np.bincount(inverse, weights=units[keep])[inverse]
    flow[keep] = pair_flow[inverse] * share
    return flow


def shared_max_flow(u: np.ndarray, v: np.ndarray, capacity: np.ndarray, nodes: int, source: int, sink: int,
                    offers: slice, bottleneck: float) -> np.ndarray:
    """:func:`max_flow` shared among the offering edges ``offers`` (their capacities are the offers), in two rounds.

    A maximum flow alone may give one offer everything and another nothing. First every offer is cut
    to the same fraction of itself, ``bottleneck`` (what the cut that limits them carries, e.g. the
    gateways' capacity) over all offers, and sent; then, if less than the bottleneck got through,
    what is left of every edge takes what is left of the offers. Same total as a maximum flow where
    the bottleneck binds, and each offer served in proportion to its size.
    """
    offered = float(capacity[offers].sum())
    first = capacity.copy()
    first[offers] *= min(1.0, bottleneck / offered) if offered > 0 else 0.0
    flow = max_flow(u, v, first, nodes, source, sink)
    if flow[offers].sum() < (1.0 - 1e-6) * min(offered, bottleneck):
        flow += max_flow(u, v, np.maximum(capacity - flow, 0.0), nodes, source, sink)
    return flow


def path_between(parent_from_source: np.ndarray, source: int, target: int) -> list[int]:
    """Nodes from ``source`` (the root of ``parent_from_source``) to ``target``; empty if unreachable."""
    path = [int(target)]
    while parent_from_source[path[-1]] >= 0 and len(path) <= parent_from_source.size:
        path.append(int(parent_from_source[path[-1]]))
    return path[::-1] if path[-1] == source else []
