"""The fleet's telecommands (one XTCE file, ``assets/telemetry/fleet-tc.xml``): encode on the ground, decode on board.

Each command is a PUS-C TC[8,1] "perform a function" space packet (see the XML's header). XTCE
describes a command as a MetaCommand whose CommandContainer lays out its arguments; a command is
thus a container like a telemetry packet, selected by its ``function_id``. :func:`packet_definition`
rewrites the CommandMetaData in those terms (argument types as parameter types, arguments as
parameters, command containers as sequence containers restricted by their ``ArgumentAssignment``)
and hands it to ``space_packet_parser``, whose types, encodings and calibrators are the ones the
telemetry uses: so the numpy layouts of :mod:`.packets` encode commands, and the same library that
checks the telemetry decodes them. ValidRange (in the argument types' ValidRangeSet) bounds each
argument: :func:`encode_command` refuses a value outside it, :func:`decode_command` (the satellite)
refuses it again.
"""

from __future__ import annotations

import copy
import io
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from twin.assets import asset_path
from twin.telemetry.packets import CRC_FIELD, XTCE_NAMESPACE, Field, PacketLayout, container_layout, crc16, pack, valid_ranges
from twin.telemetry.timecode import cuc_to_datetime64, datetime64_to_cuc

COMMAND_DEFINITION_PATH = asset_path("telemetry", "fleet-tc.xml")
BASE_COMMAND = "PUSFunction"
COMMAND_APID = 0x100
HEADER_ARGUMENTS = ("version", "type", "secondary_header_flag", "apid", "sequence_flags", "sequence_count",
                    "packet_length", "pus_version", "acknowledgement_flags", "service_type", "message_subtype",
                    "source_id", "spacecraft_id", "function_id", "release_time_coarse_s", "release_time_fine")
HEADER_VALUES = {"version": 0, "type": 1, "secondary_header_flag": 1, "apid": COMMAND_APID, "sequence_flags": 3,
                 "pus_version": 2, "acknowledgement_flags": 0b1001, "service_type": 8, "message_subtype": 1}
# PUS service 1 report subtypes (ECSS-E-ST-70-41C 6.1) in the command_report telemetry packet
ACCEPTED, ACCEPTANCE_FAILED, EXECUTED, EXECUTION_FAILED = 1, 2, 7, 8
# Failure codes of a report (assumption: this fleet's own numbering)
FAILURES = {1: "malformed packet (length, header or CRC)", 2: "unknown function", 3: "argument out of range",
            4: "already received (same sequence count)", 5: "addressed to another satellite",
            6: "refused in safe mode"}


class CommandError(ValueError):
    """A command the ground cannot encode: unknown, or an argument missing, unknown, or out of its range."""


class CommandRejected(ValueError):
    """A packet the satellite refuses on receipt; ``code`` is one of :data:`FAILURES`."""

    def __init__(self, code: int, detail: str):
        super().__init__(f"{FAILURES[code]}: {detail}")
        self.code = code


@dataclass(frozen=True)
class CommandDefinition:
    """One command: its name, function id, what it does, its packet layout and its arguments (in order)."""

    name: str
    function_id: int
    description: str
    layout: PacketLayout
    arguments: tuple[Field, ...]

    def argument(self, name: str) -> Field:
        return next(field for field in self.arguments if field.name == name)


@dataclass(frozen=True)
class DecodedCommand:
    """A telecommand as the satellite reads it: SI argument values, release time (None: on receipt)."""

    name: str
    spacecraft_id: int
    sequence_count: int
    source_id: int
    release_time: np.datetime64 | None
    arguments: dict[str, float]


def _tag(name: str) -> str:
    return f"{XTCE_NAMESPACE}{name}"


def packet_definition_xml(path: str | Path = COMMAND_DEFINITION_PATH) -> bytes:
    """The CommandMetaData of ``path`` as a TelemetryMetaData document (each command a sequence container)."""
    source = ElementTree.parse(path).getroot()
    commands = source.find(_tag("CommandMetaData"))
    root = ElementTree.Element(source.tag, {"name": source.get("name")})
    telemetry = ElementTree.SubElement(root, _tag("TelemetryMetaData"))
    types = ElementTree.SubElement(telemetry, _tag("ParameterTypeSet"))
    for argument_type in commands.find(_tag("ArgumentTypeSet")):
        rewritten = copy.deepcopy(argument_type)
        rewritten.tag = argument_type.tag.replace("ArgumentType", "ParameterType")
        for ranges in rewritten.findall(_tag("ValidRangeSet")):  # a parameter type has no ValidRangeSet
            rewritten.remove(ranges)
        types.append(rewritten)
    parameters = ElementTree.SubElement(telemetry, _tag("ParameterSet"))
    containers = ElementTree.SubElement(telemetry, _tag("ContainerSet"))
    for command in commands.find(_tag("MetaCommandSet")):
        for argument in command.iter(_tag("Argument")):
            ElementTree.SubElement(parameters, _tag("Parameter"), {
                "name": argument.get("name"), "parameterTypeRef": argument.get("argumentTypeRef"),
                "shortDescription": argument.get("shortDescription", "")})
        container = command.find(_tag("CommandContainer"))
        sequence = ElementTree.SubElement(containers, _tag("SequenceContainer"), {
            "name": container.get("name"), "shortDescription": command.get("shortDescription", "")})
        if command.get("abstract") == "true":
            sequence.set("abstract", "true")
        entries = ElementTree.SubElement(sequence, _tag("EntryList"))
        for entry in container.find(_tag("EntryList")):
            ElementTree.SubElement(entries, _tag("ParameterRefEntry"), {"parameterRef": entry.get("argumentRef")})
        base = container.find(_tag("BaseContainer"))
        if base is not None:
            inherits = ElementTree.SubElement(sequence, _tag("BaseContainer"), {"containerRef": base.get("containerRef")})
            criteria = ElementTree.SubElement(inherits, _tag("RestrictionCriteria"))
            for assignment in command.iter(_tag("ArgumentAssignment")):
                ElementTree.SubElement(criteria, _tag("Comparison"), {
                    "parameterRef": assignment.get("argumentName"), "value": assignment.get("argumentValue"),
                    "useCalibratedValue": "false"})
    ElementTree.register_namespace("xtce", XTCE_NAMESPACE.strip("{}"))
    return ElementTree.tostring(root, xml_declaration=True, encoding="UTF-8")


@lru_cache(maxsize=4)
def packet_definition(path: str | Path = COMMAND_DEFINITION_PATH):
    """``space_packet_parser``'s definition of the command packets (root container ``PUSFunction``)."""
    import space_packet_parser

    definition = space_packet_parser.xtce.definitions.XtcePacketDefinition.from_xtce(
        io.BytesIO(packet_definition_xml(path)), root_container_name=BASE_COMMAND)
    return definition


@lru_cache(maxsize=4)
def load_commands(path: str | Path = COMMAND_DEFINITION_PATH) -> dict[str, CommandDefinition]:
    """Every concrete command of the XTCE document at ``path``, by name."""
    definition = packet_definition(path)
    ranges = valid_ranges(Path(path))
    commands = {}
    for name, container in definition.containers.items():
        if container.abstract:
            continue
        layout = container_layout(definition, name, ranges)
        function_id = layout.apid
        layout = PacketLayout(name, COMMAND_APID, layout.description, layout.dtype, layout.fields)
        arguments = tuple(f for f in layout.fields if f.name not in HEADER_ARGUMENTS and f.name != CRC_FIELD)
        commands[name] = CommandDefinition(name, function_id, layout.description, layout, arguments)
    return commands


def commands_by_function(path: str | Path = COMMAND_DEFINITION_PATH) -> dict[int, CommandDefinition]:
    return {command.function_id: command for command in load_commands(path).values()}


def check_arguments(command: CommandDefinition, arguments: dict) -> dict[str, float]:
    """``arguments`` as SI floats, each present, known, a number and within its ValidRange (else :class:`CommandError`)."""
    unknown = sorted(set(arguments) - {field.name for field in command.arguments})
    if unknown:
        known = ", ".join(field.name for field in command.arguments) or "none"
        raise CommandError(f"{command.name}.{unknown[0]}: unknown argument (arguments: {known})")
    checked = {}
    for field in command.arguments:
        if field.name not in arguments:
            raise CommandError(f"{command.name}.{field.name}: missing ({field.description}, {field.units})")
        value = arguments[field.name]
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise CommandError(f"{command.name}.{field.name}: {value!r} is not a number") from None
        low, high = field.valid_range or (-np.inf, np.inf)
        units = "" if field.units == "1" else f" {field.units}"
        if not (low <= number <= high):  # NaN fails too
            raise CommandError(f"{command.name}.{field.name}: {value!r} is outside its range {low:g} to {high:g}{units}")
        if not field.coefficients and number != round(number):
            raise CommandError(f"{command.name}.{field.name}: {value!r} must be a whole number{units}")
        checked[field.name] = number
    return checked


def encode_command(name: str, spacecraft_id: int, sequence_count: int, arguments: dict,
                   release_time: np.datetime64 | None = None, source_id: int = 1) -> bytes:
    """The TC packet of command ``name`` to satellite ``spacecraft_id`` (its octets, CRC included)."""
    commands = load_commands()
    if name not in commands:
        raise CommandError(f"command: {name!r} is not one of {', '.join(sorted(commands))}")
    command = commands[name]
    values = check_arguments(command, arguments)
    coarse, fine = (np.zeros(1, np.uint32), np.zeros(1, np.uint16)) if release_time is None else \
        datetime64_to_cuc(np.array([release_time], "datetime64[ns]"))
    header = {**HEADER_VALUES, "sequence_count": int(sequence_count) % (1 << 14),
              "packet_length": command.layout.length - 7, "source_id": source_id, "spacecraft_id": spacecraft_id,
              "function_id": command.function_id, "release_time_coarse_s": coarse, "release_time_fine": fine}
    return pack(command.layout, 1, header, {key: np.array([value]) for key, value in values.items()}).tobytes()


def read_header(octets: bytes) -> dict[str, int]:
    """The raw header fields of a TC packet (checked to hold at least the base container)."""
    base = next(iter(load_commands().values())).layout
    words = base.dtype.names[:base.dtype.names.index(HEADER_ARGUMENTS[-1]) + 1]
    records = np.frombuffer(octets, np.dtype([(word, base.dtype[word]) for word in words]), count=1)
    return {name: int(_field(base, records, name)[0]) for name in HEADER_ARGUMENTS}


def _field(layout: PacketLayout, records: np.ndarray, name: str) -> np.ndarray:
    field = layout.field(name)
    word = records[field.word]
    return word if field.word == field.name else (word >> field.shift) & ((1 << field.bits) - 1)


def decode_command(octets: bytes, spacecraft_id: int | None = None) -> DecodedCommand:
    """Read a TC packet as the satellite does; :class:`CommandRejected` with a failure code if it refuses it."""
    commands = load_commands()
    base_length = min(command.layout.length for command in commands.values())
    if len(octets) < base_length:
        raise CommandRejected(1, f"{len(octets)} octets, fewer than any command's {base_length}")
    header = read_header(octets)
    wrong = [name for name, value in HEADER_VALUES.items() if name != "apid" and header[name] != value]
    if wrong or header["packet_length"] + 7 != len(octets):
        raise CommandRejected(1, f"header field {wrong[0]} is {header[wrong[0]]}" if wrong else
                              f"length field says {header['packet_length'] + 7} octets, the packet has {len(octets)}")
    data = np.frombuffer(octets, np.uint8)
    if int(crc16(data[None, :-2])[0]) != int(data[-2]) << 8 | int(data[-1]):
        raise CommandRejected(1, "CRC does not check")
    command = commands_by_function().get(header["function_id"])
    if command is None:
        raise CommandRejected(2, f"function {header['function_id']}")
    if spacecraft_id is not None and header["spacecraft_id"] != spacecraft_id:
        raise CommandRejected(5, f"spacecraft {header['spacecraft_id']}, not {spacecraft_id}")
    records = np.frombuffer(octets, command.layout.dtype)
    arguments = {field.name: float(field.calibrate(records[field.word])[0]) for field in command.arguments}
    for field in command.arguments:
        low, high = field.valid_range or (-np.inf, np.inf)
        if not low <= arguments[field.name] <= high:
            raise CommandRejected(3, f"{field.name} = {arguments[field.name]:g}")
    release = None
    if header["release_time_coarse_s"] or header["release_time_fine"]:
        release = cuc_to_datetime64(np.array([header["release_time_coarse_s"]]), np.array([header["release_time_fine"]]))[0]
    return DecodedCommand(command.name, header["spacecraft_id"], header["sequence_count"], header["source_id"], release,
                          arguments)
