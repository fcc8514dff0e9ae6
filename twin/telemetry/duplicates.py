"""Every stored packet's identity, to recognise a copy however late it is resent.

A packet is the same packet when its APID, spacecraft id, sequence count and time code are the
same. The index holds one 64-bit key per stored packet, per APID, in sorted arrays, one per minute
of packet time: the spacecraft id (16 bits), the sequence count (14) and the microseconds into the
minute (26; time codes have a 15 us resolution, so distinct codes never share a microsecond).
Lookups and inserts are numpy over a batch, one step per minute the batch spans. Memory is 8
octets per stored packet; the index is rebuilt from the store's own time, spacecraft and sequence
columns when a server starts (:meth:`twin.telemetry.ingest.Ingestor`), so it needs no file of its own.
"""

from __future__ import annotations

import numpy as np

BUCKET_NS = 60_000_000_000  # a minute of packet time per sorted array
NS_PER_US = 1000
SPACECRAFT_SHIFT, SEQUENCE_SHIFT = 40, 26


def _groups(buckets: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """The buckets present, each with the indices of its packets."""
    order = np.argsort(buckets, kind="stable")
    edges = np.flatnonzero(np.diff(buckets[order])) + 1
    return [(int(buckets[group[0]]), group) for group in np.split(order, edges)] if order.size else []


def _keys(spacecraft: np.ndarray, sequence: np.ndarray, time_ns: np.ndarray, buckets: np.ndarray) -> np.ndarray:
    """One uint64 per packet, unique within its bucket and APID."""
    offset_us = (time_ns - buckets * BUCKET_NS) // NS_PER_US
    return ((np.asarray(spacecraft, np.uint64) << np.uint64(SPACECRAFT_SHIFT))
            | (np.asarray(sequence, np.uint64) << np.uint64(SEQUENCE_SHIFT)) | offset_us.astype(np.uint64))


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (numpy 2's hashing unique is several times slower on these keys)."""
    keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]]


class DuplicateIndex:
    """The keys of every packet stored (or queued to be), per APID."""

    def __init__(self, apids):
        self._sorted: dict[int, dict[int, np.ndarray]] = {apid: {} for apid in apids}  # apid -> bucket -> keys

    @property
    def packets(self) -> int:
        return sum(keys.size for buckets in self._sorted.values() for keys in buckets.values())

    @property
    def nbytes(self) -> int:
        return sum(keys.nbytes for buckets in self._sorted.values() for keys in buckets.values())

    def copies(self, apid: int, spacecraft: np.ndarray, sequence: np.ndarray, time_ns: np.ndarray,
               candidates: np.ndarray) -> np.ndarray:
        """Which ``candidates`` are copies: of a packet in the index, or of one earlier in the batch."""
        buckets = time_ns // BUCKET_NS
        keys = _keys(spacecraft, sequence, time_ns, buckets)
        copies = np.zeros(time_ns.size, bool)
        chosen = np.flatnonzero(candidates)
        for bucket, group in _groups(buckets[chosen]):
            known = self._sorted[apid].get(bucket)
            if known is not None:
                rows = chosen[group]
                position = np.minimum(np.searchsorted(known, keys[rows]), known.size - 1)
                copies[rows] = known[position] == keys[rows]
        order = chosen[np.lexsort((chosen, keys[chosen], buckets[chosen]))]  # equal packets together, in arrival order
        repeat = (keys[order][1:] == keys[order][:-1]) & (buckets[order][1:] == buckets[order][:-1])
        copies[order[1:][repeat]] = True
        return copies

    def add(self, apid: int, spacecraft: np.ndarray, sequence: np.ndarray, time_ns: np.ndarray) -> None:
        """Index packets (stored, or queued to be)."""
        buckets = time_ns // BUCKET_NS
        keys = _keys(spacecraft, sequence, time_ns, buckets)
        index = self._sorted[apid]
        for bucket, group in _groups(buckets):
            known = index.get(bucket)
            index[bucket] = _sorted_unique(keys[group] if known is None else np.concatenate([known, keys[group]]))
