"""Every stored packet's identity, to recognise a copy however late it is resent.

A packet is the same packet when its APID, spacecraft id, sequence count and time code are the
same. The index holds one 64-bit key per stored packet, per APID, in sorted arrays, one per minute
of packet time (a bucket): the spacecraft id (16 bits), the sequence count (14) and the
microseconds into the minute (26; time codes have a 15 us resolution, so distinct codes never
share a microsecond). Lookups and inserts are numpy over a batch, one step per bucket the batch spans.

Memory holds a working set of buckets within ``budget_bytes`` (8 octets a key); the others are on
disk in ``directory`` (the store's ``duplicates/``), one file of sorted little-endian uint64 keys
per APID and bucket (``<apid>/<bucket>.u64``, written atomically: a temporary file renamed), and a
batch touching a bucket not in memory loads it. Files hold only keys of rows the store has
committed: keys of rows queued for a commit stay in memory until :meth:`DuplicateIndex.committed`.
:meth:`DuplicateIndex.checkpoint` writes every bucket not yet on disk, then ``checkpoint.npz``
(written last, atomically) with the caller's state, which records the rows it covers: after a kill
at any instant the files on disk cover every row up to the last checkpoint and no row never
committed, and a restarted server indexes only the rows committed since
(:class:`twin.telemetry.ingest.Ingestor`). ``directory=None``: all in memory, nothing on disk.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np

from twin.telemetry.store import write_atomic

BUCKET_NS = 60_000_000_000  # a minute of packet time per sorted array
NS_PER_US = 1000
SPACECRAFT_SHIFT, SEQUENCE_SHIFT = 40, 26
KEY_DTYPE = np.dtype("<u8")
BUCKET_SUFFIX = ".u64"
CHECKPOINT_FILE = "checkpoint.npz"
EVICT_TO = 0.9  # of the budget, when it is exceeded


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


def _contained(keys: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Which ``keys`` are in the sorted array ``known``."""
    if not known.size:
        return np.zeros(keys.size, bool)
    position = np.minimum(np.searchsorted(known, keys), known.size - 1)
    return known[position] == keys


class DuplicateIndex:
    """The keys of every packet stored (or queued to be), per APID; see the module's text."""

    def __init__(self, apids, directory: str | Path | None = None, budget_bytes: int | None = None,
                 fsync: bool = False):
        if budget_bytes is not None and not budget_bytes > 0:
            raise ValueError(f"budget_bytes: {budget_bytes!r} must be a positive number of octets")
        self.directory = None if directory is None else Path(directory)
        self.budget_bytes = budget_bytes if self.directory is not None else None
        self.fsync = fsync
        self._reset(apids)

    def _reset(self, apids) -> None:
        self._sorted: dict[int, dict[int, np.ndarray]] = {apid: {} for apid in apids}  # apid -> bucket -> keys
        self._used: dict[tuple[int, int], int] = {}  # (apid, bucket) in memory -> when last used (a counter)
        self._clock = 0
        self._queued: dict[tuple[int, int], list[tuple[int, np.ndarray]]] = {}  # keys not committed, by generation
        self._generation = 0  # of the keys queued now; sealed ones are being committed
        self._dirty: set[tuple[int, int]] = set()  # buckets holding committed keys not yet on disk
        self._on_disk: set[tuple[int, int]] = set()
        self._nbytes = 0
        self.peak_nbytes = 0  # the most held between calls
        self.loads = 0  # buckets read back from disk
        self.state: dict[str, np.ndarray] = {}  # what the last checkpoint recorded (empty: none)
        if self.directory is not None:
            self._open()

    def _open(self) -> None:
        """The buckets on disk and the last checkpoint; temporary files of a killed writer removed."""
        for apid in self._sorted:
            folder = self.directory / str(apid)
            folder.mkdir(parents=True, exist_ok=True)
            for entry in os.scandir(folder):
                if entry.name.endswith(BUCKET_SUFFIX):
                    self._on_disk.add((apid, int(entry.name[:-len(BUCKET_SUFFIX)])))
                elif entry.name.endswith(".tmp"):
                    os.unlink(entry.path)
        for leftover in self.directory.glob(f".{CHECKPOINT_FILE}.*.tmp"):
            leftover.unlink()
        checkpoint = self.directory / CHECKPOINT_FILE
        if checkpoint.exists():
            with np.load(checkpoint, allow_pickle=False) as saved:
                self.state = {name: saved[name] for name in saved.files}

    def discard(self) -> None:
        """Forget everything, on disk too (an index that does not belong to its store)."""
        if self.directory is not None:
            shutil.rmtree(self.directory)
        self._reset(list(self._sorted))

    @property
    def nbytes(self) -> int:
        """Octets of keys held in memory."""
        return self._nbytes

    def copies(self, apid: int, spacecraft: np.ndarray, sequence: np.ndarray, time_ns: np.ndarray,
               candidates: np.ndarray) -> np.ndarray:
        """Which ``candidates`` are copies: of a packet in the index, or of one earlier in the batch."""
        buckets = time_ns // BUCKET_NS
        keys = _keys(spacecraft, sequence, time_ns, buckets)
        copies = np.zeros(time_ns.size, bool)
        chosen = np.flatnonzero(candidates)
        for bucket, group in _groups(buckets[chosen]):
            known = self._bucket(apid, bucket)
            if known is not None:
                rows = chosen[group]
                copies[rows] = _contained(keys[rows], known)
        order = chosen[np.lexsort((chosen, keys[chosen], buckets[chosen]))]  # equal packets together, in arrival order
        repeat = (keys[order][1:] == keys[order][:-1]) & (buckets[order][1:] == buckets[order][:-1])
        copies[order[1:][repeat]] = True
        self._evict()
        return copies

    def add(self, apid: int, spacecraft: np.ndarray, sequence: np.ndarray, time_ns: np.ndarray,
            committed: bool = False) -> None:
        """Index packets queued to be stored (kept in memory until :meth:`committed`), or, with
        ``committed``, packets the store already holds."""
        buckets = time_ns // BUCKET_NS
        keys = _keys(spacecraft, sequence, time_ns, buckets)
        for bucket, group in _groups(buckets):
            known = self._bucket(apid, bucket)
            new = _sorted_unique(keys[group])
            self._hold(apid, bucket, new if known is None else _sorted_unique(np.concatenate([known, new])))
            if committed:
                self._dirty.add((apid, bucket))
            else:
                self._queued.setdefault((apid, bucket), []).append((self._generation, new))
        self._evict()

    def seal(self) -> None:
        """The keys queued so far go to the commit being made; those queued from now on to the next."""
        self._generation += 1

    def committed(self) -> None:
        """The commit of the keys sealed before the last :meth:`seal` is done: they may go to disk."""
        for place in list(self._queued):
            waiting = [(generation, keys) for generation, keys in self._queued[place] if generation >= self._generation]
            if len(waiting) < len(self._queued[place]):
                self._dirty.add(place)
            if waiting:
                self._queued[place] = waiting
            else:
                del self._queued[place]
        self._evict()

    def checkpoint(self, state: dict[str, np.ndarray]) -> None:
        """Write every bucket holding committed keys not yet on disk (those only), then ``state``,
        which says what the files now cover (the rows committed, in the caller's terms)."""
        if self.directory is None:
            return
        for apid, bucket in sorted(self._dirty):
            self._write(apid, bucket)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **state)
        write_atomic(self.directory / CHECKPOINT_FILE, buffer.getvalue(), self.fsync)
        self.state = dict(state)

    def _bucket(self, apid: int, bucket: int) -> np.ndarray | None:
        """A bucket's keys (loaded from disk if it is there and not in memory), None if it has none."""
        place = (apid, bucket)
        keys = self._sorted[apid].get(bucket)
        if keys is None and place in self._on_disk:
            keys = np.fromfile(self._path(apid, bucket), KEY_DTYPE)
            self.loads += 1
            self._hold(apid, bucket, keys)
        if keys is not None:
            self._clock += 1
            self._used[place] = self._clock
        return keys

    def _hold(self, apid: int, bucket: int, keys: np.ndarray) -> None:
        known = self._sorted[apid].get(bucket)
        self._nbytes += keys.nbytes - (0 if known is None else known.nbytes)
        self._sorted[apid][bucket] = keys
        self._clock += 1
        self._used[(apid, bucket)] = self._clock

    def _path(self, apid: int, bucket: int) -> Path:
        return self.directory / str(apid) / f"{bucket}{BUCKET_SUFFIX}"

    def _write(self, apid: int, bucket: int) -> None:
        """A bucket's committed keys to its file (the keys queued for a commit left out)."""
        keys = self._sorted[apid][bucket]
        queued = self._queued.get((apid, bucket))
        if queued:
            keys = keys[~_contained(keys, _sorted_unique(np.concatenate([k for _, k in queued])))]
        write_atomic(self._path(apid, bucket), keys.astype(KEY_DTYPE, copy=False).tobytes(), self.fsync)
        self._on_disk.add((apid, bucket))
        self._dirty.discard((apid, bucket))

    def _evict(self) -> None:
        """Over the budget: write the least recently used buckets (those with no key queued) and drop them,
        down to ``EVICT_TO`` of the budget (so that the buckets are sorted by use only now and then)."""
        if self.budget_bytes is not None and self._nbytes > self.budget_bytes:
            evictable = sorted((used, place) for place, used in self._used.items() if place not in self._queued)
            for _, (apid, bucket) in evictable:
                if self._nbytes <= EVICT_TO * self.budget_bytes:
                    break
                if (apid, bucket) in self._dirty:
                    self._write(apid, bucket)
                self._nbytes -= self._sorted[apid].pop(bucket).nbytes
                del self._used[(apid, bucket)]
        self.peak_nbytes = max(self.peak_nbytes, self._nbytes)
