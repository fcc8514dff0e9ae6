"""The fleet's packet definitions (one XTCE file) as numpy layouts: encode and decode whole batches.

``space_packet_parser`` reads the XTCE document (parameters, encodings, calibrators, units, the
container per APID) and is the reference decoder the tests compare against. It decodes one packet
at a time in Python, so the ingest path instead turns each container into a numpy structured
dtype and decodes a batch of same-APID packets with one ``frombuffer``; calibrators and the
ValidRange elements (which ``space_packet_parser`` does not read) come from the same document.
Only what this fleet uses is supported: byte-aligned big-endian integers, sub-byte fields packed
into whole octets (the primary header) and polynomial calibrators; anything else is refused.
"""

from __future__ import annotations

import binascii
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from twin.assets import asset_path
from twin.telemetry.timecode import cuc_to_datetime64, datetime64_to_cuc

DEFINITION_PATH = asset_path("telemetry", "fleet-tm.xml")
XTCE_NAMESPACE = "{http://www.omg.org/spec/XTCE/20180204}"
PRIMARY_HEADER_BYTES = 6
HEADER_FIELDS = ("version", "type", "secondary_header_flag", "apid", "sequence_flags", "sequence_count",
                 "packet_length", "time_coarse_s", "time_fine", "spacecraft_id")
CRC_FIELD = "crc"
CRC_INITIAL = 0xFFFF


class DefinitionError(ValueError):
    """The XTCE document uses something this decoder does not support."""


@dataclass(frozen=True)
class Field:
    """One parameter of a packet: where it sits and how raw counts become SI values."""

    name: str
    word: str                       # the dtype field holding it (itself, or a packed word)
    shift: int                      # bits to shift right within the word (packed fields)
    bits: int
    coefficients: tuple[float, ...]  # polynomial calibrator, lowest power first; () for raw integers
    units: str
    description: str
    valid_range: tuple[float, float] | None
    alarm_ranges: tuple[tuple[str, float, float], ...] = ()  # (severity, low, high): outside is an alarm

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """SI values (float64) of raw counts; raw integers stay integers if there is no calibrator."""
        if not self.coefficients:
            return raw
        return np.polynomial.polynomial.polyval(raw.astype(np.float64), self.coefficients)

    def raw(self, values: np.ndarray) -> np.ndarray:
        """Raw counts for SI ``values`` (linear calibrators only: all this fleet uses)."""
        if not self.coefficients:
            return np.asarray(values)
        if len(self.coefficients) != 2:
            raise DefinitionError(f"{self.name}: only linear calibrators can be inverted for encoding")
        offset, scale = self.coefficients
        return np.rint((np.asarray(values, np.float64) - offset) / scale)


@dataclass(frozen=True)
class PacketLayout:
    """One APID's packet: its numpy dtype, header and user fields, and total length in octets."""

    name: str
    apid: int
    description: str
    dtype: np.dtype
    fields: tuple[Field, ...]   # every parameter after the primary header, CRC last

    @property
    def length(self) -> int:
        return self.dtype.itemsize

    @property
    def measurement_fields(self) -> tuple[Field, ...]:
        """The parameters after the secondary header (the measurements), without the CRC."""
        return tuple(f for f in self.fields if f.name not in HEADER_FIELDS and f.name != CRC_FIELD)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


def _polynomial(encoding) -> tuple[float, ...]:
    calibrator = encoding.default_calibrator
    if calibrator is None:
        return ()
    if type(calibrator).__name__ != "PolynomialCalibrator" or encoding.context_calibrators:
        raise DefinitionError(f"calibrator {calibrator!r}: only a default polynomial calibrator is supported")
    degree = max(term.exponent for term in calibrator.coefficients)
    coefficients = [0.0] * (degree + 1)
    for term in calibrator.coefficients:
        coefficients[term.exponent] += term.coefficient
    return tuple(coefficients)


def valid_ranges(path: Path) -> dict[str, tuple[float, float]]:
    """ValidRange of each parameter or argument type (by type name; an argument type's is in its ValidRangeSet),
    read from the XML itself."""
    ranges = {}
    for element in ElementTree.parse(path).getroot().iter():
        valid = element.find(f"{XTCE_NAMESPACE}ValidRange")
        if valid is None:
            valid = element.find(f"{XTCE_NAMESPACE}ValidRangeSet/{XTCE_NAMESPACE}ValidRange")
        if valid is not None and element.get("name"):
            ranges[element.get("name")] = (float(valid.get("minInclusive", "-inf")),
                                           float(valid.get("maxInclusive", "inf")))
    return ranges


def static_alarm_ranges(path: Path) -> dict[str, tuple[tuple[str, float, float], ...]]:
    """The DefaultAlarm static ranges of each parameter type (by type name): ``(severity, low, high)`` for its
    WarningRange and CriticalRange, the span within which a value raises no alarm of that severity."""
    alarms = {}
    for element in ElementTree.parse(path).getroot().iter():
        static = element.find(f"{XTCE_NAMESPACE}DefaultAlarm/{XTCE_NAMESPACE}StaticAlarmRanges")
        if static is not None and element.get("name"):
            alarms[element.get("name")] = tuple(
                (severity.lower(), float(span.get("minInclusive", "-inf")), float(span.get("maxInclusive", "inf")))
                for severity in ("Warning", "Critical") if (span := static.find(f"{XTCE_NAMESPACE}{severity}Range")) is not None)
    return alarms


def _raw_dtype(encoding, name: str) -> str:
    kind = {"unsigned": "u", "signed": "i", "twosComplement": "i"}.get(getattr(encoding, "encoding", None))
    if kind is None or type(encoding).__name__ != "IntegerDataEncoding":
        raise DefinitionError(f"{name}: only integer encodings are supported, not {encoding!r}")
    return f">{kind}{encoding.size_in_bits // 8}"


def container_layout(definition, container_name: str, ranges: dict, alarms: dict | None = None) -> PacketLayout:
    """Walk a container (base first) into a packed numpy dtype and its fields; ``apid`` is the value of its
    first restriction criterion (the APID of a telemetry packet, the function of a telecommand)."""
    container = definition.containers[container_name]
    entries = list(definition.containers[container.base_container_name].entry_list) + list(container.entry_list)
    apid = int(container.restriction_criteria[0].required_value)
    dtype_fields, fields, packed, packed_bits = [], [], [], 0
    for parameter in entries:
        ptype = parameter.parameter_type
        encoding = ptype.encoding
        bits = encoding.size_in_bits
        common = dict(coefficients=_polynomial(encoding), units=ptype.unit or "1",
                      description=parameter.short_description or parameter.name,
                      valid_range=ranges.get(ptype.name), alarm_ranges=(alarms or {}).get(ptype.name, ()))
        if bits % 8 or packed:  # part of a run of sub-byte fields: packed into one big-endian word
            packed.append((parameter.name, bits, common))
            packed_bits += bits
            if packed_bits % 8 == 0 and packed_bits in (8, 16, 32):
                word = f"_word{len(dtype_fields)}"
                dtype_fields.append((word, f">u{packed_bits // 8}"))
                shift = packed_bits
                for name, size, details in packed:
                    shift -= size
                    fields.append(Field(name, word, shift, size, **details))
                packed, packed_bits = [], 0
            elif packed_bits > 32:
                raise DefinitionError(f"{parameter.name}: bit fields must pack into 8, 16 or 32-bit words")
            continue
        dtype_fields.append((parameter.name, _raw_dtype(encoding, parameter.name)))
        fields.append(Field(parameter.name, parameter.name, 0, bits, **common))
    if packed:
        raise DefinitionError(f"{container_name}: trailing bit fields do not fill an octet")
    if fields[-1].name != CRC_FIELD:
        raise DefinitionError(f"{container_name}: the last parameter must be the {CRC_FIELD!r} field")
    return PacketLayout(container_name, apid, container.short_description or container_name,
                        np.dtype(dtype_fields), tuple(fields))


@lru_cache(maxsize=4)
def load_layouts(path: str | Path = DEFINITION_PATH) -> dict[int, PacketLayout]:
    """Every concrete container of the XTCE document at ``path``, by APID."""
    import space_packet_parser

    path = Path(path)
    definition = space_packet_parser.load_xtce(path)
    ranges, alarms = valid_ranges(path), static_alarm_ranges(path)
    layouts = [container_layout(definition, name, ranges, alarms) for name, container in definition.containers.items()
               if not container.abstract]
    return {layout.apid: layout for layout in layouts}


def layouts_by_name(path: str | Path = DEFINITION_PATH) -> dict[str, PacketLayout]:
    return {layout.name: layout for layout in load_layouts(path).values()}


def field_values(layout: PacketLayout, records: np.ndarray, name: str) -> np.ndarray:
    """Raw integer values of field ``name`` from structured ``records``."""
    field = layout.field(name)
    word = records[field.word]
    if field.word == field.name:
        return word
    return (word >> field.shift) & ((1 << field.bits) - 1)


# CRC-16/CCITT of each single octet from 0: the table of the byte-at-a-time algorithm (binascii computes the same)
_CRC_TABLE = np.array([binascii.crc_hqx(bytes([octet]), 0) for octet in range(256)], np.uint16)


def crc16(rows: np.ndarray) -> np.ndarray:
    """CRC-16/CCITT (0x1021, initial 0xFFFF) of each row of a (packet, octet) uint8 array, all rows at once."""
    crc = np.full(len(rows), CRC_INITIAL, np.uint16)
    for column in np.ascontiguousarray(np.asarray(rows, np.uint8).T):
        crc = (crc << 8) ^ _CRC_TABLE[(crc >> 8) ^ column]
    return crc


@dataclass
class Decoded:
    """A batch of one APID's packets: header values and calibrated measurements (SI units)."""

    layout: PacketLayout
    spacecraft_id: np.ndarray   # uint16
    sequence_count: np.ndarray  # uint16
    time: np.ndarray            # datetime64[ns] UTC
    values: dict[str, np.ndarray]


def decode(layout: PacketLayout, data: bytes | np.ndarray) -> Decoded:
    """Decode concatenated, already framed and CRC-checked packets of ``layout``'s APID."""
    records = np.frombuffer(data, layout.dtype)
    values = {field.name: field.calibrate(records[field.word]) for field in layout.measurement_fields}
    return Decoded(layout, records["spacecraft_id"].astype(np.uint16),
                   field_values(layout, records, "sequence_count").astype(np.uint16),
                   cuc_to_datetime64(records["time_coarse_s"], records["time_fine"]), values)


def encode(layout: PacketLayout, spacecraft_id: np.ndarray, sequence_count: np.ndarray, times: np.ndarray,
           values: dict[str, np.ndarray]) -> np.ndarray:
    """Packets (one row of octets each, shape (packet, length)) for SI ``values`` of every measurement field.

    Values are rounded to the raw resolution and clipped to the raw integer range, as flight
    software does; the CRC is computed last.
    """
    coarse, fine = datetime64_to_cuc(times)
    header = {"version": 0, "type": 0, "secondary_header_flag": 1, "apid": layout.apid, "sequence_flags": 3,
              "sequence_count": np.asarray(sequence_count) % (1 << 14), "packet_length": layout.length - 7,
              "time_coarse_s": coarse, "time_fine": fine, "spacecraft_id": spacecraft_id}
    return pack(layout, len(spacecraft_id), header, values)


def pack(layout: PacketLayout, count: int, header: dict, values: dict[str, np.ndarray]) -> np.ndarray:
    """``count`` packets of ``layout`` (shape (packet, length)): raw ``header`` fields as given, SI ``values``
    calibrated back to raw counts, rounded and clipped to the raw range; the CRC last."""
    records = np.zeros(count, layout.dtype)
    for field in layout.fields:
        if field.name == CRC_FIELD:
            continue
        value = header[field.name] if field.name in header else field.raw(values[field.name])
        if field.word == field.name:
            info = np.iinfo(layout.dtype[field.word])
            records[field.word] = np.clip(value, info.min, info.max)
        else:
            records[field.word] |= (np.asarray(value, np.uint64) << np.uint64(field.shift)).astype(records[field.word].dtype)
    octets = records.view(np.uint8).reshape(count, layout.length)
    octets[:, -2:] = crc16(octets[:, :-2]).astype(">u2").view(np.uint8).reshape(count, 2)
    return octets
