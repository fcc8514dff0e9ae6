"""Packets out of a byte stream: frame by the primary header, check the CRC, resynchronise after damage.

A packet is accepted where its primary header is a telemetry header with a secondary header
(version 0, type 0, flag 1), its length field matches its APID's definition and its CRC checks.
The whole buffer is searched at once with numpy: every offset whose six octets make such a header
is a candidate, and only candidates have their CRC computed (in batches, per APID). Noise thus
costs about what valid data does, and damage costs the damaged packet and never the good packets
after it.

Candidates that overlap (a packet cut short whose missing octets the next packet's first octets
happen to "complete" with a matching CRC, or a header-like pattern inside a packet) are settled
by taking the most packets, and among equal choices those followed by another packet (the octets
after them frame too), then the earliest. A packet inside which a packet may yet begin (its octets
not all arrived) waits for the next octets before it is accepted, or for a pause of the sender:
then only a header already whole holds it back (a sender pauses between packets, hardly ever
within the first five octets of one). What is skipped is classified:

* ``truncated``: a packet whose header was good but which the next good packet cut short;
* ``corrupt``: octets that were no good packet (a bad CRC, a damaged header, noise);
* ``unknown_apid``: a well-formed packet (its CRC checks) of an APID not defined, up to
  ``MAX_FOREIGN_PACKET_BYTES`` long (a longer one counts as corrupt: checking every header-like
  offset of noise against lengths up to 65,542 octets would cost a CRC of that length each).
"""

from __future__ import annotations

import binascii
import bisect
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from twin.telemetry.packets import CRC_INITIAL, PRIMARY_HEADER_BYTES, crc16

MIN_PACKET_BYTES = PRIMARY_HEADER_BYTES + 3  # header, at least one data octet, the CRC
MAX_FOREIGN_PACKET_BYTES = 1024
HEADER_MASK, HEADER_BITS = 0xF8, 0x08  # first octet: version 0, type 0 (telemetry), secondary header flag 1
APIDS = 1 << 11


@dataclass
class Framed:
    """Where the good packets of a buffer start, by APID, and what was skipped."""

    starts: dict[int, np.ndarray] = field(default_factory=dict)
    consumed: int = 0                        # octets of the buffer fully handled
    bad: Counter = field(default_factory=Counter)
    last_packet_end: int | None = None       # where the last good packet ends (None: there was none)

    @property
    def packets(self) -> int:
        return sum(len(s) for s in self.starts.values())


def frame(buffer: bytes | bytearray | memoryview, lengths: dict[int, int], final: bool = False,
          paused: bool = False) -> Framed:
    """Find the packets in ``buffer``; ``lengths`` gives the octets of each known APID's packet.

    Octets at the end that may still be the beginning of a packet are left unconsumed unless
    ``final`` (the stream has ended), when they count as truncated. ``paused``: the sender has sent
    nothing more for a while; the last five octets no longer hold back the packet they end.
    """
    octets = np.frombuffer(buffer, np.uint8)
    end = octets.size
    longest = max(lengths.values())
    length_of = np.zeros(APIDS, np.int64)
    length_of[list(lengths)] = list(lengths.values())

    heads = np.flatnonzero((octets[:max(end - PRIMARY_HEADER_BYTES + 1, 0)] & HEADER_MASK) == HEADER_BITS)
    _, apid, declared = _read_headers(octets, heads)
    known = (length_of[apid] == declared) & (length_of[apid] > 0)
    complete = known & (heads + declared <= end)
    good = np.flatnonzero(complete)[_crc_checks(octets, heads[complete], declared[complete])]
    limit = end
    if not final:  # where a packet may still begin, once its octets arrive, nothing before can be settled
        limit = min([end, *heads[known & ~complete][:1].tolist(), *([] if paused else _header_prefixes(octets, lengths))])
        while (straddling := (heads[good] < limit) & (heads[good] + declared[good] > limit)).any():
            limit = int(heads[good][straddling].min())  # a packet across the limit waits, with what it overlaps
        good = good[heads[good] + declared[good] <= limit]
    good = good[_settle_overlaps(heads[good], heads[good] + declared[good], limit)]
    starts, ends = heads[good], heads[good] + declared[good]

    framed = Framed()
    last_end = int(ends[-1]) if ends.size else 0
    framed.consumed = limit if final or limit - last_end >= longest else last_end
    framed.last_packet_end = last_end if ends.size else None
    for value in np.unique(apid[good]):
        framed.starts[int(value)] = starts[apid[good] == value]
    foreign = (length_of[apid] == 0) & (declared >= MIN_PACKET_BYTES) & (declared <= MAX_FOREIGN_PACKET_BYTES)
    framed.bad = _skipped(octets, starts, ends, framed.consumed, heads[foreign], declared[foreign], length_of)
    return framed


def _read_headers(octets: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The primary headers at ``offsets``: is each telemetry with a secondary header (version 0, type 0,
    flag 1), its APID, and the packet's total length in octets that its length field declares."""
    first = octets[offsets].astype(np.int64)
    apid = (first & 0x07) << 8 | octets[offsets + 1]
    declared = (octets[offsets + 4].astype(np.int64) << 8 | octets[offsets + 5]) + PRIMARY_HEADER_BYTES + 1
    return (first & HEADER_MASK) == HEADER_BITS, apid, declared


def _header_prefixes(octets: np.ndarray, lengths: dict[int, int]) -> list[int]:
    """Offsets in the last five octets where a known APID's header may begin (its octets so far agree)."""
    found = []
    for offset in range(max(octets.size - PRIMARY_HEADER_BYTES + 1, 0), octets.size):
        prefix = octets[offset:].tobytes()
        for apid, length in lengths.items():
            header = bytes([HEADER_BITS | apid >> 8, apid & 0xFF])
            declared = (length - PRIMARY_HEADER_BYTES - 1).to_bytes(2, "big")
            if prefix[:2] == header[:len(prefix)] and prefix[4:] == declared[:max(len(prefix) - 4, 0)]:
                found.append(offset)
                break
    return found


def _crc_checks(octets: np.ndarray, starts: np.ndarray, packet_lengths: np.ndarray) -> np.ndarray:
    """Whether the CRC of each packet at ``starts`` checks (computed in one batch per length)."""
    good = np.zeros(starts.size, bool)
    for length in np.unique(packet_lengths).tolist():
        chosen = np.flatnonzero(packet_lengths == length)
        rows = np.lib.stride_tricks.sliding_window_view(octets, length)[starts[chosen]]
        good[chosen] = crc16(rows[:, :-2]) == (rows[:, -2].astype(np.uint16) << 8 | rows[:, -1])
    return good


def _settle_overlaps(starts: np.ndarray, ends: np.ndarray, limit: int) -> np.ndarray:
    """Which of the good packets (sorted by start) to take: all of them where none overlaps another;
    within a run of overlapping ones, the most packets, then the most followed by a packet (or by
    ``limit``, where framing stops), then the earliest."""
    taken = np.ones(starts.size, bool)
    if starts.size < 2:
        return taken
    run_starts = np.flatnonzero(np.r_[True, starts[1:] >= np.maximum.accumulate(ends)[:-1]])
    run_sizes = np.diff(np.r_[run_starts, starts.size])
    for first, size in zip(run_starts[run_sizes > 1].tolist(), run_sizes[run_sizes > 1].tolist()):
        members = slice(first, first + size)
        next_start = starts[np.minimum(np.searchsorted(starts, ends[members]), starts.size - 1)]
        followed = (next_start == ends[members]) | (ends[members] == limit)
        taken[members] = _best_choice(starts[members], ends[members], followed)
    return taken


def _best_choice(starts: np.ndarray, ends: np.ndarray, followed: np.ndarray) -> np.ndarray:
    """Weighted interval scheduling over overlapping packets (sorted by start): the most packets, then
    the most followed by a packet, then the earliest (O(n log n), however long the run)."""
    count = starts.size
    by_end = sorted(range(count), key=lambda i: (ends[i], i))
    sorted_ends = [ends[i] for i in by_end]
    best = [(0, 0, count)]  # best[k]: (packets, followed ones, first chosen) from the first k packets by end
    step = [None]           # step[k]: (the packet taken, the k it extends), or None: best[k] is best[k - 1]
    for k, index in enumerate(by_end):
        extends = bisect.bisect_right(sorted_ends, starts[index], 0, k)
        packets, anchored, first = best[extends]
        with_it = (packets + 1, anchored + int(followed[index]), min(first, index))
        without = best[k]
        if with_it[:2] > without[:2] or (with_it[:2] == without[:2] and with_it[2] < without[2]):
            best.append(with_it)
            step.append((index, extends))
        else:
            best.append(without)
            step.append(None)
    taken = np.zeros(count, bool)
    k = count
    while k:
        if step[k] is None:
            k -= 1
        else:
            index, k = step[k]
            taken[index] = True
    return taken


def _skipped(octets, taken_starts, taken_ends, consumed: int, foreign_starts, foreign_lengths, length_of) -> Counter:
    """Bad-input counts for the consumed octets outside the taken packets: well-formed packets of unknown
    APIDs found there, and each remaining span as truncated (a good header for a longer packet) or corrupt."""
    gap_starts = np.r_[0, taken_ends]
    gap_ends = np.r_[taken_starts, consumed]
    open_gap = gap_ends > gap_starts
    gap_starts, gap_ends = gap_starts[open_gap], gap_ends[open_gap]
    bad = Counter()
    if not gap_starts.size:
        return bad
    gap = np.searchsorted(gap_starts, foreign_starts, side="right") - 1
    inside = (gap >= 0) & (foreign_starts + foreign_lengths <= gap_ends[np.maximum(gap, 0)])
    foreign = []
    for start, length in zip(foreign_starts[inside].tolist(), foreign_lengths[inside].tolist()):
        if foreign and start < foreign[-1][1]:
            continue  # inside the foreign packet just found
        crc_end = start + length - 2
        if binascii.crc_hqx(octets[start:crc_end].tobytes(), CRC_INITIAL) == (int(octets[crc_end]) << 8 | int(octets[crc_end + 1])):
            foreign.append((start, start + length))
    bad["unknown_apid"] += len(foreign)
    if foreign:
        found = np.array(foreign, np.int64)
        span_starts = np.sort(np.r_[gap_starts, found[:, 1]])
        span_ends = np.sort(np.r_[gap_ends, found[:, 0]])
        keep = span_ends > span_starts
        gap_starts, gap_ends = span_starts[keep], span_ends[keep]
    truncated = _cut_short(octets, gap_starts, gap_ends, length_of)
    bad["truncated"] += int(truncated.sum())
    bad["corrupt"] += int((~truncated).sum())
    return +bad


def _cut_short(octets, span_starts: np.ndarray, span_ends: np.ndarray, length_of: np.ndarray) -> np.ndarray:
    """Whether each skipped span begins with a good header of a known APID declaring more octets than the span holds."""
    truncated = np.zeros(span_starts.size, bool)
    whole = np.flatnonzero(span_ends - span_starts >= PRIMARY_HEADER_BYTES)
    telemetry, apid, declared = _read_headers(octets, span_starts[whole])
    truncated[whole] = telemetry & (length_of[apid] == declared) & (span_ends[whole] - span_starts[whole] < declared)
    return truncated


def gather(buffer: bytes | bytearray | memoryview, starts: np.ndarray, length: int) -> np.ndarray:
    """The octets of packets at ``starts`` (all ``length`` long), concatenated, as one uint8 array."""
    octets = np.frombuffer(buffer, np.uint8)
    index = np.asarray(starts, np.int64)
    if index.size and index[-1] - index[0] == length * (index.size - 1):
        return octets[index[0]:index[-1] + length]  # one contiguous run: no copy
    return octets[(index[:, None] + np.arange(length)).ravel()]
