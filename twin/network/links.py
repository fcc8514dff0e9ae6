"""Links of the relay and ground network: line of sight, the link set of a run, and each link's state and rate.

Line of sight. A segment between two points is blocked when it passes below the Earth's surface
plus an atmosphere margin ``h``: the ellipsoid with semi-axes ``a + h`` (equator) and ``b + h``
(pole), WGS-84. Scaling z by ``(a + h) / (b + h)`` turns that ellipsoid into a sphere of radius
``a + h``, and the segment is blocked exactly when its closest point to the centre lies strictly
inside the sphere (a segment that only touches it, grazing, is clear). The closed-form closest
point makes the test exact and vectorised.

Link set (:func:`link_set`), fixed for a run so that the dataset's ``link`` dimension is static:

* ``intra``: satellites of a sub-center closer than ``intra_range_m`` at the first step (the
  neighbours of its hexagonal formation);
* ``in_plane``: each sub-center's chief to the chief ahead of it in the same plane (a ring);
* ``cross_plane``: each chief to the nearest chief (at the first step) of the next plane;
* ``relay``: every chief to every geostationary relay;
* ``ground``: every chief to every ground station.

Chiefs are the sub-centers' gateways (an assumption: the chief carries the relay and RF terminals;
members reach it over the mesh). A satellite given as a TLE is its own chief.

>>> import numpy as np
>>> line_of_sight_clear(np.array([[7e6, 0.0, 0.0]]), np.array([[-7e6, 0.0, 0.0]]), 100e3)
array([False])
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import xarray as xr

from twin.constants import EARTH_EQUATORIAL_RADIUS_KM, EARTH_FLATTENING, GEOSTATIONARY_RADIUS_M
LINK_KINDS = ("intra", "in_plane", "cross_plane", "relay", "ground")
LINKS_PER_BLOCK = 4096  # links whose (time, 3) geometry is computed at once


def line_of_sight_clear(a_m: np.ndarray, b_m: np.ndarray, margin_m: float) -> np.ndarray:
    """Whether the segments from ``a_m`` to ``b_m`` (..., 3; Earth-fixed, m) clear the ellipsoid raised by ``margin_m``.

    Exact: True when the closest point of the segment to the Earth's centre, in coordinates that
    make the raised ellipsoid a sphere, is at or outside it.
    """
    a_axis = EARTH_EQUATORIAL_RADIUS_KM * 1e3 + margin_m
    b_axis = EARTH_EQUATORIAL_RADIUS_KM * 1e3 * (1.0 - EARTH_FLATTENING) + margin_m
    scale = np.array([1.0, 1.0, a_axis / b_axis])
    p, q = np.asarray(a_m) * scale, np.asarray(b_m) * scale
    d = q - p
    length2 = np.einsum("...k,...k->...", d, d)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(-np.einsum("...k,...k->...", p, d) / length2, 0.0, 1.0)
    t = np.where(length2 > 0, t, 0.0)
    closest = p + t[..., None] * d
    return np.einsum("...k,...k->...", closest, closest) >= a_axis * a_axis


def relay_itrs_m(longitudes_deg) -> np.ndarray:
    """Earth-fixed positions (relay, 3) of geostationary relays at ``longitudes_deg`` (on the equator, at 42,164 km)."""
    lon = np.radians(np.asarray(longitudes_deg, float)).reshape(-1)
    return GEOSTATIONARY_RADIUS_M * np.stack([np.cos(lon), np.sin(lon), np.zeros_like(lon)], axis=-1)


@dataclass
class LinkSet:
    """The links of a run: kind, the two ends (node names and node indices) of each."""

    kind: np.ndarray
    end_a: np.ndarray
    end_b: np.ndarray
    node_a: np.ndarray
    node_b: np.ndarray
    nodes: np.ndarray  # satellites, then relays, then stations
    node_kind: np.ndarray  # "sat", "relay", "station"

    def __len__(self) -> int:
        return self.kind.size


def _argument_of_latitude(position_m: np.ndarray, velocity_m_s: np.ndarray) -> np.ndarray:
    """Angle (rad) of each position along its orbit from the ascending node."""
    h = np.cross(position_m, velocity_m_s)
    node = np.cross([0.0, 0.0, 1.0], h)
    node /= np.linalg.norm(node, axis=-1, keepdims=True)
    r_hat = position_m / np.linalg.norm(position_m, axis=-1, keepdims=True)
    h_hat = h / np.linalg.norm(h, axis=-1, keepdims=True)
    return np.arctan2(np.einsum("nk,nk->n", np.cross(node, r_hat), h_hat), np.einsum("nk,nk->n", node, r_hat))


def link_set(run: xr.Dataset, relay_names, station_names, intra_range_m: float) -> LinkSet:
    """The links of ``run`` (see the module docstring), chosen from the geometry of the first step."""
    sats = run["sat"].values.astype(str)
    subcenter = run["subcenter"].values.astype(str)
    role = run["role"].values.astype(str) if "role" in run.coords else np.full(sats.size, "chief")
    plane = run["plane"].values if "plane" in run.coords else np.full(sats.size, -1)
    position0 = run["position"].values[:, 0]
    velocity0 = run["velocity"].values[:, 0].astype(float)
    relay_names, station_names = list(relay_names), list(station_names)
    nodes = np.concatenate([sats, np.asarray(relay_names, dtype=sats.dtype if relay_names else str),
                            np.asarray(station_names, dtype=sats.dtype if station_names else str)]).astype(str)
    node_kind = np.array(["sat"] * sats.size + ["relay"] * len(relay_names) + ["station"] * len(station_names))
    pairs = {kind: [] for kind in LINK_KINDS}

    # Intra: pairs of a sub-center within range at the first step (one vectorised distance matrix per sub-center).
    order = np.argsort(subcenter, kind="stable")
    boundaries = np.flatnonzero(np.r_[True, subcenter[order][1:] != subcenter[order][:-1], True])
    for first, stop in itertools.pairwise(boundaries):  # one iteration per sub-center, not per satellite
        rows = order[first:stop]
        if rows.size < 2:
            continue
        distance = np.linalg.norm(position0[rows, None] - position0[None, rows], axis=-1)
        i, j = np.nonzero(np.triu(distance <= intra_range_m, k=1))
        pairs["intra"].append(np.stack([rows[i], rows[j]], axis=-1))

    chiefs = np.flatnonzero(role == "chief")
    designed = chiefs[plane[chiefs] >= 0]
    if designed.size:
        argument = _argument_of_latitude(position0[designed], velocity0[designed])
        planes = np.unique(plane[designed])
        for index, value in enumerate(planes):  # a loop over planes (at most a few dozen)
            in_plane = designed[plane[designed] == value]
            in_plane = in_plane[np.argsort(argument[plane[designed] == value])]
            if in_plane.size >= 2:
                ahead = np.roll(in_plane, -1)
                ring = np.stack([in_plane, ahead], axis=-1)
                pairs["in_plane"].append(ring if in_plane.size > 2 else ring[:1])
            if index + 1 < planes.size:
                following = designed[plane[designed] == planes[index + 1]]
                distance = np.linalg.norm(position0[in_plane, None] - position0[None, following], axis=-1)
                pairs["cross_plane"].append(np.stack([in_plane, following[np.argmin(distance, axis=1)]], axis=-1))
    relay_nodes = sats.size + np.arange(len(relay_names))
    station_nodes = sats.size + len(relay_names) + np.arange(len(station_names))
    for kind, far in (("relay", relay_nodes), ("ground", station_nodes)):
        if far.size and chiefs.size:
            pairs[kind].append(np.stack([np.repeat(chiefs, far.size), np.tile(far, chiefs.size)], axis=-1))

    kinds, ends = [], []
    for kind in LINK_KINDS:
        if pairs[kind]:
            block = np.concatenate(pairs[kind])
            if kind in ("in_plane", "cross_plane"):  # one link per unordered pair
                block = np.unique(np.sort(block, axis=1), axis=0)
            ends.append(block)
            kinds.append(np.full(block.shape[0], kind))
    ends = np.concatenate(ends) if ends else np.empty((0, 2), int)
    kind = np.concatenate(kinds) if kinds else np.empty(0, str)
    return LinkSet(kind=kind, end_a=nodes[ends[:, 0]], end_b=nodes[ends[:, 1]], node_a=ends[:, 0], node_b=ends[:, 1],
                   nodes=nodes, node_kind=node_kind)


def _itrs_of_rows(run: xr.Dataset, rows: np.ndarray) -> np.ndarray:
    from twin.network.contacts import satellite_itrs_m

    return satellite_itrs_m(run, rows)


def link_geometry(run: xr.Dataset, links: LinkSet, relay_m: np.ndarray, station_m: np.ndarray, margin_m: float,
                  station_up: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Range (m), line of sight (bool) and elevation (deg) of every link at every step: (link, time).

    Elevation is the satellite's above a station's horizon for ground links, and the far end's
    above the satellite's horizontal for relay and inter-sub-center links (NaN for intra links).

    Satellite ends are Earth-fixed (from the run's geodetic coordinates); relays and stations are fixed there.
    Intra links (ends under a kilometre apart at the formation's altitude) are checked for range
    only: their segment sags below its ends by at most range^2 / (8 R), millimetres.
    """
    steps = run.sizes["time"]
    count = len(links)
    range_m = np.empty((count, steps), np.float64)
    clear = np.ones((count, steps), bool)
    elevation = np.full((count, steps), np.nan, np.float32)
    sats = int((links.node_kind == "sat").sum())
    relays = relay_m.shape[0]
    position = run["position"].values
    intra = np.flatnonzero(links.kind == "intra")
    for first in range(0, intra.size, LINKS_PER_BLOCK):
        chosen = intra[first:first + LINKS_PER_BLOCK]
        difference = position[links.node_a[chosen]] - position[links.node_b[chosen]]
        range_m[chosen] = np.sqrt(np.einsum("ltk,ltk->lt", difference, difference))
    other = np.flatnonzero(links.kind != "intra")
    gateways = np.unique(links.node_a[other]) if other.size else np.empty(0, int)
    gateway_m = _itrs_of_rows(run, gateways) if gateways.size else np.empty((0, steps, 3))
    slot = np.full(sats, -1)
    slot[gateways] = np.arange(gateways.size)

    def end_m(nodes: np.ndarray) -> np.ndarray:
        out = np.empty((nodes.size, steps, 3))
        is_sat = nodes < sats
        out[is_sat] = gateway_m[slot[nodes[is_sat]]]
        is_relay = (nodes >= sats) & (nodes < sats + relays)
        out[is_relay] = relay_m[nodes[is_relay] - sats][:, None]
        is_station = nodes >= sats + relays
        out[is_station] = station_m[nodes[is_station] - sats - relays][:, None]
        return out

    for first in range(0, other.size, LINKS_PER_BLOCK):
        chosen = other[first:first + LINKS_PER_BLOCK]
        a, b = end_m(links.node_a[chosen]), end_m(links.node_b[chosen])
        difference = a - b
        range_m[chosen] = np.sqrt(np.einsum("ltk,ltk->lt", difference, difference))
        ground = links.kind[chosen] == "ground"
        clear[chosen[~ground]] = line_of_sight_clear(a[~ground], b[~ground], margin_m)
        distance_m = np.maximum(range_m[chosen], 1.0)
        if ground.any():  # the satellite (end a) seen from the station (end b): along a - b
            up = station_up[links.node_b[chosen[ground]] - sats - relays][:, None]
            sine = np.einsum("ltk,ltk->lt", difference[ground], up) / distance_m[ground]
            elevation[chosen[ground]] = np.degrees(np.arcsin(np.clip(sine, -1.0, 1.0)))
        if (~ground).any():  # the far end (b) seen from the satellite (a), above its geocentric horizontal
            a_up = a[~ground] / np.linalg.norm(a[~ground], axis=-1, keepdims=True)
            sine = np.einsum("ltk,ltk->lt", -difference[~ground], a_up) / distance_m[~ground]
            elevation[chosen[~ground]] = np.degrees(np.arcsin(np.clip(sine, -1.0, 1.0)))
    return range_m, clear, elevation


def assign_antennas(available: np.ndarray, score: np.ndarray, terminal: np.ndarray, antennas: np.ndarray) -> np.ndarray:
    """Links served (link, time): at each step each terminal serves its ``antennas`` available links of highest score.

    ``terminal`` (link,) is the index of the link's far end (station or relay), ``antennas``
    (terminal,) how many links it can hold at once. Ties keep the lower link index.
    """
    served = np.zeros_like(available)
    for index, count in enumerate(antennas):  # a loop over the few stations or relays
        rows = np.flatnonzero(terminal == index)
        if rows.size == 0:
            continue
        ranked = np.where(available[rows], score[rows], -np.inf)
        order = np.argsort(-ranked, axis=0, kind="stable")[:count]
        chosen = np.zeros((rows.size, available.shape[1]), bool)
        np.put_along_axis(chosen, order, True, axis=0)
        served[rows] = chosen & available[rows]
    return served
