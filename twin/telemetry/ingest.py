"""From octets to rows of measurements: framing, decoding, checks and the count of everything refused.

One :class:`Ingestor` serves every stream (each ground-station connection, or a replayed file
has its own :class:`StreamDecoder`); it checks each packet once and keeps the rows to commit.
What happens to each kind of bad input (counted by kind, in the store's ``commit.json``):

==================  =======================================================  ===========
kind                what                                                     stored?
==================  =======================================================  ===========
corrupt             octets that were no good packet (bad CRC, damaged         no
                    header, noise); the good packets around them are kept
truncated           a packet cut short                                       no
unknown_apid        a well-formed packet of an APID not defined              no
unknown_spacecraft  spacecraft id 0, or beyond the fleet when it is known    no
duplicate           same APID, spacecraft, sequence count and time code as   no
                    a packet stored before, however long ago (see
                    :mod:`.duplicates`), or earlier in the same batch
future              time code more than ``max_future_s`` ahead of the clock  no
out_of_range        a value outside its XTCE ValidRange (counted per value)  as NaN
out_of_order        older than the latest packet of its spacecraft and APID  yes
late                more than ``late_after_s`` older than the newest packet  yes
                    taken before it
==================  =======================================================  ===========
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from twin.telemetry.duplicates import DuplicateIndex
from twin.telemetry.framing import frame, gather
from twin.telemetry.packets import PacketLayout, decode, load_layouts
from twin.telemetry.store import MAX_STATIONS, MeasurementStore, Pending, StoreError

REFUSED = ("corrupt", "truncated", "unknown_apid", "unknown_spacecraft", "duplicate", "future")  # not stored
FLAGGED = ("out_of_range", "out_of_order", "late")  # stored, and counted
NS_PER_S = 1_000_000_000
REBUILD_ROWS = 1 << 22  # rows per read when a restarted server indexes what the store holds
DUPLICATES_DIRECTORY = "duplicates"  # the duplicate index's files, in the store
DUPLICATE_INDEX_BYTES = 256_000_000  # its memory budget (32 million packets: 2 h of phase 3)
INDEX_CHECKPOINT_ROWS = 1 << 20  # rows committed between checkpoints of the index: what a restart reads at most
LOG = logging.getLogger("twin.telemetry.ingest")
EARLIEST_NS = np.iinfo(np.int64).min


class StationTableFull(StoreError):
    """A new station, and the store's station table has no place left."""


class StreamDecoder:
    """Frames one byte stream, keeping octets that may be the start of a packet still to come."""

    def __init__(self, layouts: dict[int, PacketLayout]):
        self.layouts = layouts
        self.lengths = {apid: layout.length for apid, layout in layouts.items()}
        self.pending = bytearray()
        self.consumed = 0  # octets of the stream handled so far (acknowledgements count these)
        self.octets_without_packet = 0  # consumed since the end of the last good packet

    def feed(self, data: bytes, final: bool = False, paused: bool = False) -> tuple[dict[int, np.ndarray], Counter]:
        """Packets of ``data`` (with what was pending): raw octets per APID, and bad-input counts.
        ``final``: the stream ended; ``paused``: nothing more came for a while (see :func:`.framing.frame`)."""
        self.pending += data
        framed = frame(self.pending, self.lengths, final, paused)
        packets = {apid: gather(self.pending, starts, self.lengths[apid]).copy()
                   for apid, starts in framed.starts.items()}
        del self.pending[:framed.consumed]
        self.consumed += framed.consumed
        if framed.last_packet_end is None:
            self.octets_without_packet += framed.consumed
        else:
            self.octets_without_packet = framed.consumed - framed.last_packet_end
        return packets, framed.bad


@dataclass
class _Checked:
    keep: np.ndarray
    counts: Counter


class Ingestor:
    """Checks decoded packets against what was already taken and queues the good rows for a commit.

    ``clock``: ``"wall"`` (live: the future is beyond the computer's UTC clock) or ``"stream"``
    (recorded or simulated streams: beyond the latest time accepted before the packet; a new
    stream starts from the median of its first batch, which a few bad stamps cannot move).
    ``duplicate_index_bytes``: the memory the duplicate index may hold; its other buckets are in the
    store's ``duplicates/`` (None: all in memory and nothing on disk, the whole store read at every
    start). ``index_checkpoint_rows``: rows committed between two checkpoints of the index, the most a
    restart reads from the store (:attr:`rows_rebuilt`: the rows it read).
    """

    def __init__(self, store: MeasurementStore, clock: str = "wall", max_future_s: float = 300.0,
                 late_after_s: float = 3600.0, spacecraft_count: int | None = None,
                 duplicate_index_bytes: int | None = DUPLICATE_INDEX_BYTES,
                 index_checkpoint_rows: int = INDEX_CHECKPOINT_ROWS):
        if clock not in ("wall", "stream"):
            raise ValueError(f"clock: {clock!r} is not 'wall' or 'stream'")
        self.store = store
        self.layouts = load_layouts()
        self.clock = clock
        self.max_future_ns = int(max_future_s * NS_PER_S)
        self.late_after_ns = int(late_after_s * NS_PER_S)
        self.spacecraft_count = spacecraft_count
        self.stream_clock_ns = EARLIEST_NS
        self.pending: dict[str, list[dict[str, np.ndarray]]] = {name: [] for name in store.layouts}
        self.pending_counts: Counter = Counter()
        self.stations: list[str] = list(store.stations)  # the store's, and those of rows queued since
        self.duplicates = DuplicateIndex(self.layouts, None if duplicate_index_bytes is None else
                                         store.path / DUPLICATES_DIRECTORY, duplicate_index_bytes, store.fsync)
        self.index_checkpoint_rows = index_checkpoint_rows
        self._latest_ns: dict[int, np.ndarray] = {apid: np.full(1 << 16, EARLIEST_NS)
                                                  for apid in self.layouts}
        self._newest_ns = EARLIEST_NS
        self.rows_rebuilt = self._remember_stored()
        self._checkpointed_rows = sum(self.store.rows.values()) - self.rows_rebuilt

    def decoder(self) -> StreamDecoder:
        return StreamDecoder(self.layouts)

    def _remember_stored(self) -> int:
        """After a restart: every stored packet's identity and the latest times. The duplicate index's
        last checkpoint covers the rows up to it; the rows committed since are read from the store's
        time, spacecraft and sequence columns (a block at a time). Returns the rows read."""
        covered = self._load_checkpoint()
        read = 0
        for apid, layout in self.layouts.items():
            rows = self.store.rows[layout.name]
            for start in range(covered.get(layout.name, 0), rows, REBUILD_ROWS):
                block = self.store.read_rows(layout.name, start, min(start + REBUILD_ROWS, rows),
                                             ("time", "spacecraft_id", "sequence_count"))
                self._remember(apid, block["spacecraft_id"].astype(np.int64), block["sequence_count"],
                               block["time"].astype(np.int64), committed=True)
                self._newest_ns = max(self._newest_ns, int(block["time"].max()))
                read += block["time"].size
        if self.clock == "stream":
            self.stream_clock_ns = self._newest_ns
        LOG.info("duplicate index: %d stored packets covered by its checkpoint, %d read from the store",
                 sum(covered.values()), read)
        return read

    def _load_checkpoint(self) -> dict[str, int]:
        """Rows per group the duplicate index's files cover, with the latest times as they stood then;
        an index that does not belong to this store (more rows than it holds, or last rows not its own) is discarded."""
        state = self.duplicates.state
        if not state:
            return {}
        covered = dict(zip(state["groups"].tolist(), state["rows"].tolist()))
        if any(rows > self.store.rows.get(name, 0) for name, rows in covered.items()) or \
                state["apids"].tolist() != list(self.layouts) or "last_rows" not in state or \
                not np.array_equal(state["last_rows"], self._last_rows(covered)):
            LOG.warning("duplicate index: %s covers rows %s, the store holds %s, or its last rows are not the store's: "
                        "rebuilt from the store", self.duplicates.directory, covered, self.store.rows)
            self.duplicates.discard()
            return {}
        for apid, latest_ns in zip(self.layouts, state["latest_ns"]):
            self._latest_ns[apid] = latest_ns.copy()
        self._newest_ns = int(state["newest_ns"])
        return covered

    def _remember(self, apid: int, spacecraft: np.ndarray, sequence: np.ndarray, time_ns: np.ndarray,
                  committed: bool = False) -> None:
        np.maximum.at(self._latest_ns[apid], spacecraft, time_ns)
        self.duplicates.add(apid, spacecraft, sequence, time_ns, committed)

    def has_room_for(self, station: str) -> bool:
        """Whether ``station`` is in the station table or may still take a place in it."""
        return station in self.stations or len(self.stations) < MAX_STATIONS

    def accept(self, packets: dict[int, np.ndarray], station: str, bad: Counter | None = None) -> Counter:
        """Check and queue ``packets`` (raw octets per APID) from ``station``, with the framing's ``bad``
        counts; returns what became of them: ``stored`` and each kind of bad input (see the table above).

        A station takes its place in the station table with its first stored packet; packets from a
        station with no place left raise :class:`StationTableFull` and are not taken."""
        if packets and not self.has_room_for(station):
            raise StationTableFull(f"station: {station!r} would be station {MAX_STATIONS + 1} of this store "
                                   f"(its table holds {MAX_STATIONS})")
        received_ns = time.time_ns()
        outcome = Counter(bad or {})
        for apid, octets in packets.items():
            layout = self.layouts[apid]
            decoded = decode(layout, octets)
            time_ns = decoded.time.astype(np.int64)
            spacecraft = decoded.spacecraft_id.astype(np.int64)
            checked = self._check(apid, spacecraft, decoded.sequence_count, time_ns)
            outcome.update(checked.counts)
            keep = checked.keep
            if not keep.any():
                continue
            if station not in self.stations:
                self.stations.append(station)
            columns = {"time": time_ns[keep], "received_time": np.full(keep.sum(), received_ns, np.int64),
                       "spacecraft_id": decoded.spacecraft_id[keep], "sequence_count": decoded.sequence_count[keep],
                       "station": np.full(keep.sum(), self.stations.index(station), np.uint8)}
            for field in layout.measurement_fields:
                values = np.asarray(decoded.values[field.name], np.float64)[keep]
                if field.valid_range:
                    outside = ~((values >= field.valid_range[0]) & (values <= field.valid_range[1]))
                    if outside.any():
                        outcome["out_of_range"] += int(outside.sum())
                        values = np.where(outside, np.nan, values)
                columns[field.name] = values
            self.pending[layout.name].append(columns)
            self._remember(apid, spacecraft[keep], decoded.sequence_count[keep], time_ns[keep])
            outcome["stored"] += int(keep.sum())
        self.pending_counts.update(outcome)
        return +outcome

    def _check(self, apid: int, spacecraft: np.ndarray, sequence: np.ndarray, time_ns: np.ndarray) -> _Checked:
        counts = Counter()
        keep = np.ones(time_ns.size, bool)

        unknown = (spacecraft == 0) | ((spacecraft > self.spacecraft_count) if self.spacecraft_count else False)
        counts["unknown_spacecraft"] += int(unknown.sum())
        keep &= ~unknown

        future = self._future(time_ns, keep)
        counts["future"] += int(future.sum())
        keep &= ~future

        duplicate = self.duplicates.copies(apid, spacecraft, sequence, time_ns, keep)
        counts["duplicate"] += int(duplicate.sum())
        keep &= ~duplicate

        taken = np.flatnonzero(keep)
        behind = (time_ns[taken] < self._latest_ns[apid][spacecraft[taken]]) | _older_than_earlier(
            spacecraft[taken], time_ns[taken])
        counts["out_of_order"] += int(behind.sum())
        if taken.size:  # late: more than late_after_s behind the newest time taken before it
            newest_before = np.maximum(self._newest_ns, np.r_[EARLIEST_NS, np.maximum.accumulate(time_ns[taken])[:-1]])
            known = newest_before > EARLIEST_NS + self.late_after_ns
            counts["late"] += int((time_ns[taken][known] < newest_before[known] - self.late_after_ns).sum())
            self._newest_ns = max(self._newest_ns, int(time_ns[taken].max()))
        return _Checked(keep, counts)

    def _future(self, time_ns: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Packets stamped more than ``max_future_s`` ahead of the clock (wall, or the stream's own)."""
        if self.clock == "wall":
            return candidates & (time_ns > time.time_ns() + self.max_future_ns)
        if not candidates.any():
            return np.zeros(time_ns.size, bool)
        clock_ns = self.stream_clock_ns
        if clock_ns == EARLIEST_NS:  # a new stream: its median, which a few bad stamps cannot move
            clock_ns = int(np.median(time_ns[candidates]))
        future = np.zeros(time_ns.size, bool)
        for _ in range(4):  # the stream's clock: the latest time accepted before each packet
            accepted = np.where(candidates & ~future, time_ns, EARLIEST_NS)
            before = np.maximum(clock_ns, np.r_[EARLIEST_NS, np.maximum.accumulate(accepted)[:-1]])
            updated = candidates & (time_ns > before + self.max_future_ns)
            if np.array_equal(updated, future):
                break
            future = updated
        self.stream_clock_ns = max(clock_ns, int(time_ns[candidates & ~future].max(initial=clock_ns)))
        return future

    def take_pending(self) -> Pending:
        """The queued rows and counts, handed over for a commit (the queue starts empty again); call
        :meth:`after_commit` once the store has committed them."""
        pending = Pending(self.pending, self.pending_counts, list(self.stations))
        self.pending = {name: [] for name in self.store.layouts}
        self.pending_counts = Counter()
        self.duplicates.seal()
        return pending

    def after_commit(self) -> None:
        """The rows last taken are committed: their keys may go to the index's files, and the index
        checkpoints every ``index_checkpoint_rows`` rows (a restart reads only the rows since)."""
        self.duplicates.committed()
        if sum(self.store.rows.values()) - self._checkpointed_rows >= self.index_checkpoint_rows:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Write the duplicate index's buckets not yet on disk and the rows they cover (the store's committed
        rows; rows queued since are left out), with the latest times."""
        self.duplicates.checkpoint({"groups": np.array(list(self.store.rows)), "rows": np.array(list(self.store.rows.values())),
                                    "apids": np.array(list(self.layouts)), "newest_ns": np.int64(self._newest_ns),
                                    "latest_ns": np.stack(list(self._latest_ns.values())),
                                    "last_rows": self._last_rows(self.store.rows)})
        self._checkpointed_rows = sum(self.store.rows.values())

    def _last_rows(self, rows: dict[str, int]) -> np.ndarray:
        """Time (ns), spacecraft id and sequence count of the last of ``rows`` rows of each group (-1: none):
        what tells a store's own index from one of another store, or of this store before it was restored."""
        last = np.full((len(rows), 3), -1, np.int64)
        for place, (name, count) in enumerate(rows.items()):
            if count:
                row = self.store.read_rows(name, count - 1, count, ("time", "spacecraft_id", "sequence_count"))
                last[place] = [row["time"].astype(np.int64)[0], row["spacecraft_id"][0], row["sequence_count"][0]]
        return last

    def commit(self) -> int:
        """Commit what is queued to the store now (replay and tests; the server commits in a thread)."""
        added = self.store.commit(self.take_pending())
        self.after_commit()
        return added


def _older_than_earlier(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each element, whether an earlier element of the same group has a larger value."""
    if values.size < 2:
        return np.zeros(values.size, bool)
    _, rank = np.unique(values, return_inverse=True)
    order = np.lexsort((np.arange(values.size), group))          # by group, then arrival
    segment = np.cumsum(np.r_[True, group[order][1:] != group[order][:-1]])
    lifted = segment * values.size + rank[order]                  # later groups above earlier ones
    before = np.empty_like(lifted)
    before[0] = -1
    before[1:] = np.maximum.accumulate(lifted)[:-1]
    older = np.zeros(values.size, bool)
    older[order] = lifted < before                                # a larger value came earlier in the group
    return older


def ingest_stream(ingestor: Ingestor, data: bytes, station: str, chunk_bytes: int = 1 << 20,
                  commit_every_bytes: int = 16 << 20) -> int:
    """Feed a recorded stream through the same path as the server, committing as it goes; returns rows stored."""
    decoder = ingestor.decoder()
    stored, since_commit = 0, 0
    for first in range(0, len(data), chunk_bytes):
        packets, bad = decoder.feed(data[first:first + chunk_bytes])
        ingestor.accept(packets, station, bad)
        since_commit += chunk_bytes
        if since_commit >= commit_every_bytes:
            stored += ingestor.commit()
            since_commit = 0
    packets, bad = decoder.feed(b"", final=True)
    ingestor.accept(packets, station, bad)
    stored += ingestor.commit()
    ingestor.checkpoint()
    return stored
