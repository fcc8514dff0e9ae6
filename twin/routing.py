"""Routing and data flows on the network graph of each time step.

The graph of a step has the network's nodes (satellites, relays, stations) and one more, the
ground network (``ground``): stations reach it by terrestrial lines and relays through their feeder
link; an edge exists for each link that is up. Two questions are answered per step:

* **shortest latency**: light time plus ``hop_delay_s`` per hop, by Dijkstra
  (:func:`scipy.sparse.csgraph.dijkstra`), from a source to every node or between two nodes;
* **highest capacity** (widest path): the path whose narrowest link is widest. The widest path
  between any two nodes runs along a maximum spanning tree (Hu 1961), so one spanning tree per
  step answers it for every pair; the bottleneck to the root is propagated by pointer jumping
  (:func:`path_minimum`), vectorised over nodes.

Flows (:func:`flow_step`): every sub-center offers the data it holds; each flow follows its
widest-capacity path to the ground; where the flows through a tree edge exceed what the edge
carries in the step, every flow through it is scaled down by the same factor, and a flow gets the
smallest factor on its path. So no link carries more than its capacity, and what is not sent stays
queued (up to the buffer; the rest is dropped). Accounting is exact by construction:
``data in = delivered + queued + dropped`` at every step.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, dijkstra, minimum_spanning_tree

NO_PARENT = -9999  # scipy's marker for a node without a predecessor


def _symmetric(u: np.ndarray, v: np.ndarray, weight: np.ndarray, nodes: int):
    """A symmetric sparse matrix with ``weight`` on edges (u, v) (edges must not repeat: a sparse matrix sums them)."""
    return coo_matrix((np.r_[weight, weight], (np.r_[u, v], np.r_[v, u])), shape=(nodes, nodes)).tocsr()


def shortest_latency(u: np.ndarray, v: np.ndarray, latency_s: np.ndarray, nodes: int, source: int,
                     predecessors: bool = False):
    """Latency (s) from ``source`` to every node over edges (u, v) of ``latency_s`` (> 0); inf where unreachable."""
    graph = _symmetric(u, v, latency_s, nodes)
    return dijkstra(graph, directed=False, indices=source, return_predecessors=predecessors)


def widest_tree(u: np.ndarray, v: np.ndarray, capacity: np.ndarray, nodes: int, root: int):
    """Maximum spanning tree of edges (u, v) by ``capacity`` (> 0 and finite), hung from ``root``.

    Returns ``parent`` (node,; -1 at the root and at unreachable nodes) and ``up_capacity`` (node,):
    the capacity of the edge to the parent (inf at the root, 0 where unreachable).
    """
    parent = np.full(nodes, -1)
    up_capacity = np.zeros(nodes)
    up_capacity[root] = np.inf
    if u.size == 0:
        return parent, up_capacity
    # The minimum spanning tree of 1/capacity is a maximum spanning tree of capacity; of parallel
    # edges only the widest is kept (a sparse matrix would sum them).
    keys = np.minimum(u, v) * nodes + np.maximum(u, v)
    order = np.argsort(-capacity, kind="stable")
    _, first = np.unique(keys[order], return_index=True)
    best = order[first]
    inverse = _symmetric(u[best], v[best], 1.0 / capacity[best], nodes)
    tree = minimum_spanning_tree(inverse)
    _, predecessors = breadth_first_order(tree, root, directed=False, return_predecessors=True)
    reached = predecessors != NO_PARENT
    parent[reached] = predecessors[reached]
    lookup = dict(zip(keys[best].tolist(), capacity[best].tolist()))
    children = np.flatnonzero(reached)
    pair = np.minimum(children, parent[children]) * nodes + np.maximum(children, parent[children])
    up_capacity[children] = [lookup[key] for key in pair.tolist()]
    return parent, up_capacity


def path_minimum(parent: np.ndarray, value: np.ndarray) -> np.ndarray:
    """For each node, the minimum of ``value`` over the nodes on its path to the root (itself included).

    Pointer jumping: log2(depth) vectorised rounds. Nodes without a parent keep their own value.
    """
    result = value.astype(float).copy()
    jump = parent.copy()
    while True:
        active = jump >= 0
        if not active.any():
            return result
        result[active] = np.minimum(result[active], result[jump[active]])
        jump[active] = jump[jump[active]]


def depth(parent: np.ndarray) -> np.ndarray:
    """Number of edges from each node to its root (pointer jumping)."""
    result = np.where(parent >= 0, 1, 0)
    jump = parent.copy()
    while True:
        active = jump >= 0
        if not active.any():
            return result
        result[active] += result[jump[active]]  # the root's own distance is 0
        jump[active] = jump[jump[active]]


def subtree_sum(parent: np.ndarray, value: np.ndarray) -> np.ndarray:
    """For each node, the sum of ``value`` over its subtree (itself and its descendants), level by level."""
    total = value.astype(float).copy()
    levels = depth(parent)
    for level in range(int(levels.max(initial=0)), 0, -1):  # one vectorised pass per tree level
        at = np.flatnonzero((levels == level) & (parent >= 0))
        np.add.at(total, parent[at], total[at])
    return total


def flow_step(parent: np.ndarray, up_capacity_bits: np.ndarray, offered_bits: np.ndarray, root: int) -> np.ndarray:
    """Bits each node sends to the root in one step along the tree, within every edge's capacity (bits in the step).

    Nodes not connected to the root send nothing.
    """
    load = subtree_sum(parent, offered_bits)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(load > up_capacity_bits, up_capacity_bits / load, 1.0)
    factor[root] = 1.0
    connected = (parent >= 0) | (np.arange(parent.size) == root)
    factor = np.where(connected, factor, 0.0)
    # Every edge above a node must be on the path to the root, so unreachable ancestors give 0.
    fraction = path_minimum(parent, factor)
    reaches = path_minimum(parent, np.where(connected, 1.0, 0.0)) > 0
    return np.where(reaches, offered_bits * fraction, 0.0)


def path_between(parent_from_source: np.ndarray, source: int, target: int) -> list[int]:
    """Nodes from ``source`` (the root of ``parent_from_source``) to ``target``; empty if unreachable."""
    path = [int(target)]
    while parent_from_source[path[-1]] >= 0 and len(path) <= parent_from_source.size:
        path.append(int(parent_from_source[path[-1]]))
    return path[::-1] if path[-1] == source else []
