"""Packets out of a byte stream: frame by the primary header, check the CRC, resynchronise after damage.

A packet is accepted where its primary header is a telemetry header with a secondary header
(version 0, type 0, flag 1), its length field matches its APID's definition and its CRC checks.
Anywhere else the framer moves on one octet at a time until those hold again, so damage costs
the damaged packet and never the good packets after it. What it skips is classified:

* ``truncated``: a packet whose header was good but which the next good packet cut short;
* ``corrupt``: octets that were no good packet (a bad CRC, a damaged header, noise);
* ``unknown_apid``: a well-formed packet (its CRC checks) of an APID not defined.
"""

from __future__ import annotations

import binascii
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from twin.telemetry.packets import CRC_INITIAL, PRIMARY_HEADER_BYTES

MIN_PACKET_BYTES = PRIMARY_HEADER_BYTES + 3  # header, at least one data octet, the CRC


@dataclass
class Framed:
    """Where the good packets of a buffer start, by APID, and what was skipped."""

    starts: dict[int, list[int]] = field(default_factory=dict)
    consumed: int = 0                        # octets of the buffer fully handled
    bad: Counter = field(default_factory=Counter)

    @property
    def packets(self) -> int:
        return sum(len(s) for s in self.starts.values())


def _header(buffer, position: int) -> tuple[bool, int, int]:
    """The primary header at ``position``: is it telemetry with a secondary header (version 0, type 0,
    flag 1), its APID, and the packet's total length in octets that its length field declares."""
    first = buffer[position]
    apid = ((first & 0x07) << 8) | buffer[position + 1]
    return first >> 3 == 0b00001, apid, ((buffer[position + 4] << 8) | buffer[position + 5]) + PRIMARY_HEADER_BYTES + 1


def _packet_at(buffer, position: int, end: int, lengths: dict[int, int]) -> tuple[str, int]:
    """What starts at ``position``: ('good', apid), ('unknown', length), ('short', 0) or ('bad', 0)."""
    if end - position < PRIMARY_HEADER_BYTES:
        return "short", 0
    telemetry, apid, length = _header(buffer, position)
    if not telemetry:
        return "bad", 0
    expected = lengths.get(apid)
    if expected is not None and length != expected:
        return "bad", 0
    if length < MIN_PACKET_BYTES:
        return "bad", 0
    if end - position < length:
        return "short", 0
    crc_end = position + length - 2
    if binascii.crc_hqx(buffer[position:crc_end], CRC_INITIAL) != (buffer[crc_end] << 8 | buffer[crc_end + 1]):
        return "bad", 0
    return ("good", apid) if expected is not None else ("unknown", length)


def frame(buffer: bytes | bytearray | memoryview, lengths: dict[int, int], final: bool = False) -> Framed:
    """Find the packets in ``buffer``; ``lengths`` gives the octets of each known APID's packet.

    Octets at the end that may still be the beginning of a packet are left unconsumed unless
    ``final`` (the stream has ended), when they count as truncated.
    """
    view = memoryview(buffer)
    end = len(view)
    framed = Framed()
    position, skipped_from, longest = 0, None, max(lengths.values())
    while position < end:
        kind, value = _packet_at(view, position, end, lengths)
        if kind == "short" and not final and end - position < longest:
            break  # wait for more octets
        if kind in ("good", "unknown"):
            if skipped_from is not None:
                framed.bad[_skip_kind(view, skipped_from, position, lengths)] += 1
                skipped_from = None
            if kind == "good":
                framed.starts.setdefault(value, []).append(position)
                position += lengths[value]
            else:
                framed.bad["unknown_apid"] += 1
                position += value
            continue
        if skipped_from is None:
            skipped_from = position
        position += 1
    if skipped_from is not None:
        if final or position - skipped_from >= longest:
            framed.bad[_skip_kind(view, skipped_from, position, lengths)] += 1
        else:
            position = skipped_from  # may be the start of a packet still arriving
    framed.consumed = position
    return framed


def _skip_kind(view, start: int, stop: int, lengths: dict[int, int]) -> str:
    """A skipped span is a truncated packet if it began with a good header for a longer packet."""
    if stop - start < PRIMARY_HEADER_BYTES:
        return "corrupt" if stop - start else "truncated"
    telemetry, apid, declared = _header(view, start)
    if telemetry and lengths.get(apid) == declared and stop - start < declared:
        return "truncated"
    return "corrupt"


def gather(buffer: bytes | bytearray | memoryview, starts: list[int], length: int) -> np.ndarray:
    """The octets of packets at ``starts`` (all ``length`` long), concatenated, as one uint8 array."""
    octets = np.frombuffer(buffer, np.uint8)
    index = np.asarray(starts, np.int64)
    if index.size and index[-1] - index[0] == length * (index.size - 1):
        return octets[index[0]:index[-1] + length]  # one contiguous run: no copy
    return octets[(index[:, None] + np.arange(length)).ravel()]
