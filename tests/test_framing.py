"""Framing: packets out of a byte stream whatever the damage, alignment settled by what follows, noise cheap."""

from collections import Counter

import numpy as np

from test_telemetry import make_packets

from twin.telemetry import packets
from twin.telemetry.ingest import StreamDecoder

LAYOUTS = packets.load_layouts()
LENGTHS = {apid: layout.length for apid, layout in LAYOUTS.items()}


def framed_packets(decoder: StreamDecoder, pieces: list[bytes]) -> tuple[list[bytes], Counter]:
    """Every packet the decoder frames from ``pieces`` (then the end of the stream), in APID order, and the bad counts."""
    found, bad = [], Counter()
    for piece, final in [*((piece, False) for piece in pieces), (b"", True)]:
        octets, counts = decoder.feed(piece, final=final)
        bad += counts
        for apid, rows in octets.items():
            found += [row.tobytes() for row in rows.reshape(-1, LENGTHS[apid])]
    return found, bad


def cut_by_one_and_completed(sample: list[bytes]) -> tuple[bytes, int]:
    """A stream where one packet lost its last octet and the next packet's first octet equals it: the
    cut packet's CRC then checks over its octets plus that one. Returns the stream and the cut packet's index."""
    cut = next(i for i in range(len(sample) - 2) if sample[i][-1] == sample[i + 1][0])
    return b"".join(sample[:cut]) + sample[cut][:-1] + b"".join(sample[cut + 1:]), cut


def test_the_batched_crc_is_binascii_crc_hqx():
    import binascii

    rows = np.random.default_rng(3).integers(0, 256, (500, 39), dtype=np.uint8)
    expected = [binascii.crc_hqx(row.tobytes(), packets.CRC_INITIAL) for row in rows]
    assert packets.crc16(rows).tolist() == expected


def test_a_packet_cut_short_by_one_octet_is_not_completed_by_the_next_packets_first_octet():
    """The next packet is kept and the cut one counted as truncated (before: the cut packet was taken with
    the next one's first octet, and the next packet lost as corrupt)."""
    sample = make_packets(4000)
    stream, cut = cut_by_one_and_completed(sample)
    found, bad = framed_packets(StreamDecoder(LAYOUTS), [stream])
    assert sorted(found) == sorted(sample[:cut] + sample[cut + 1:])
    assert bad == Counter({"truncated": 1})


def test_the_alignment_waits_for_the_octets_that_settle_it_when_the_stream_arrives_in_pieces():
    """However the stream is split around the cut, the same packets come out."""
    sample = make_packets(4000)
    stream, cut = cut_by_one_and_completed(sample)
    next_start = sum(len(p) for p in sample[:cut + 1]) - 1
    for split in range(next_start - 8, next_start + 12):
        found, bad = framed_packets(StreamDecoder(LAYOUTS), [stream[:split], stream[split:]])
        assert sorted(found) == sorted(sample[:cut] + sample[cut + 1:]), split
        assert bad == Counter({"truncated": 1}), split


def test_random_damage_split_anywhere_loses_no_valid_packet():
    """Packets with random octets, cut packets and noise between them, fed in random pieces: every intact packet out."""
    rng = np.random.default_rng(21)
    sample = make_packets(3000)
    pieces, intact = [], []
    for packet in sample:
        roll = rng.random()
        if roll < 0.1:
            pieces.append(packet[:rng.integers(1, len(packet))])
        elif roll < 0.2:
            pieces.append(rng.integers(0, 256, rng.integers(1, 80), dtype=np.uint8).tobytes())
            pieces.append(packet)
            intact.append(packet)
        else:
            pieces.append(packet)
            intact.append(packet)
    stream = b"".join(pieces)
    splits = np.sort(rng.choice(len(stream), 300, replace=False))
    found, _ = framed_packets(StreamDecoder(LAYOUTS), [stream[a:b] for a, b in zip(np.r_[0, splits], np.r_[splits, len(stream)])])
    assert sorted(found) == sorted(intact)


def test_noise_counts_octets_without_a_packet_and_a_packet_resets_the_count():
    decoder = StreamDecoder(LAYOUTS)
    noise = np.random.default_rng(4).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    decoder.feed(noise)
    assert 300_000 - max(LENGTHS.values()) <= decoder.octets_without_packet <= 300_000
    decoder.feed(b"".join(make_packets(10)))
    assert decoder.octets_without_packet == 0
