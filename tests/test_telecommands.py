"""Telecommands: XTCE definitions, PUS-C TC packets checked against an independent implementation and published
CRC vectors, decoded by space_packet_parser as the telemetry is, and refused on board with a reason."""

from __future__ import annotations

import binascii

import numpy as np
import pytest
import space_packet_parser

from twin.telemetry import telecommands
from twin.telemetry.packets import crc16
from twin.telemetry.telecommands import CommandError, CommandRejected, decode_command, encode_command

RNG = np.random.default_rng(22)
RELEASE = np.datetime64("2026-06-01T01:02:03.5", "ns")


def random_arguments(command) -> dict:
    values = {}
    for field in command.arguments:
        low, high = field.valid_range
        values[field.name] = float(RNG.uniform(low, high)) if field.coefficients else int(RNG.integers(low, high + 1))
    return values


def test_the_command_definitions_are_valid_xtce_1_2():
    """Against the OMG XTCE 1.2 schema space_packet_parser ships; its own check of container references knows
    only telemetry containers, so it reports each command container's base: nothing else."""
    result = space_packet_parser.validate_xtce(telecommands.COMMAND_DEFINITION_PATH, allow_schema_download=False,
                                               raise_on_error=False, print_results=False)
    assert result.errors, "expected the reference check's notes on command containers"
    assert {error.error_code for error in result.errors} == {"MISSING_CONTAINER_REFERENCE"}, str(result)
    assert all("PUSFunction" in error.message for error in result.errors)


def test_the_fleet_has_the_commands_the_operators_need():
    assert set(telecommands.load_commands()) == {"set_compute_cap", "safe_mode", "heaters", "payload_restart", "manoeuvre"}


@pytest.mark.parametrize("vector, crc", [
    (b"123456789", 0x29B1),                    # CRC-16/CCITT-FALSE check value (the CRC catalogue's 'check')
    (bytes.fromhex("0000"), 0x1D0F),           # ECSS-E-70-41A annex A verification vectors
    (bytes.fromhex("000000"), 0xCC9C),
    (bytes.fromhex("abcdef01"), 0x04A2),
    (bytes.fromhex("1456f89a0001"), 0x7FD5),
])
def test_crc_matches_published_vectors(vector, crc):
    assert int(crc16(np.frombuffer(vector, np.uint8)[None, :])[0]) == crc


def test_packets_equal_an_independent_pus_implementation():
    """spacepackets (us-irs) builds the same PUS-C TC[8,1] octet for octet: primary and secondary headers,
    the application data we give it, and its own CRC."""
    from spacepackets.ecss import PusTc

    for sequence, (name, command) in enumerate(telecommands.load_commands().items()):
        packet = encode_command(name, 4242, 100 + sequence, random_arguments(command), RELEASE, source_id=7)
        header = telecommands.HEADER_VALUES
        reference = PusTc(service=header["service_type"], message_subtype=header["message_subtype"],
                          apid=header["apid"], seq_count=100 + sequence, source_id=7,
                          ack_flags=header["acknowledgement_flags"], app_data=packet[11:-2])
        assert reference.pack() == packet, name
        assert binascii.crc_hqx(packet[:-2], 0xFFFF) == int.from_bytes(packet[-2:], "big")


def test_commands_round_trip_through_space_packet_parser():
    definition = telecommands.packet_definition()
    for name, command in telecommands.load_commands().items():
        for sequence in range(20):
            arguments = random_arguments(command)
            packet = encode_command(name, int(RNG.integers(1, 10486)), sequence, arguments, RELEASE)
            reference = definition.parse_bytes(packet)
            ours = decode_command(packet)
            assert ours.name == name and reference["function_id"] == command.function_id
            assert reference["spacecraft_id"] == ours.spacecraft_id and reference["sequence_count"] == sequence
            assert abs(ours.release_time - RELEASE) <= np.timedelta64(16, "us")
            for field in command.arguments:
                assert ours.arguments[field.name] == pytest.approx(float(reference[field.name]), abs=1e-9)
                resolution = field.coefficients[1] if field.coefficients else 1
                assert ours.arguments[field.name] == pytest.approx(arguments[field.name], abs=resolution / 2 + 1e-12)


@pytest.mark.parametrize("name, arguments, message", [
    ("reboot", {}, "command: 'reboot' is not one of"),
    ("set_compute_cap", {}, "set_compute_cap.compute_cap: missing"),
    ("set_compute_cap", {"compute_cap": 0.5, "cap": 1}, "set_compute_cap.cap: unknown argument (arguments: compute_cap)"),
    ("set_compute_cap", {"compute_cap": 1.5}, "set_compute_cap.compute_cap: 1.5 is outside its range 0 to 1"),
    ("set_compute_cap", {"compute_cap": float("nan")}, "set_compute_cap.compute_cap: nan is outside its range"),
    ("set_compute_cap", {"compute_cap": "half"}, "set_compute_cap.compute_cap: 'half' is not a number"),
    ("heaters", {"heater_mode": 1.5}, "heaters.heater_mode: 1.5 must be a whole number"),
    ("manoeuvre", {"semi_major_axis_change_m": -5000}, "manoeuvre.semi_major_axis_change_m: -5000 is outside its range -2000 to 2000 m"),
])
def test_the_ground_refuses_a_bad_command_naming_the_argument(name, arguments, message):
    with pytest.raises(CommandError) as error:
        encode_command(name, 1, 0, arguments)
    assert str(error.value).startswith(message)


def _with_crc(octets: bytearray) -> bytes:
    octets[-2:] = binascii.crc_hqx(bytes(octets[:-2]), 0xFFFF).to_bytes(2, "big")
    return bytes(octets)


def test_the_satellite_refuses_a_damaged_or_foreign_packet_with_a_code():
    packet = bytearray(encode_command("set_compute_cap", 3, 9, {"compute_cap": 0.25}))
    flipped = bytearray(packet)
    flipped[15] ^= 0x10
    cases = {
        1: [bytes(flipped), bytes(packet[:-1]), _with_crc(bytearray([packet[0] & 0xEF]) + packet[1:])],  # type 0: telemetry
        2: [_with_crc(packet[:13] + bytes([0x00, 0x63]) + packet[15:])],          # function 99
        3: [_with_crc(packet[:-4] + bytes([0xFF, 0xFF]) + packet[-2:])],          # a cap of 6.5535
    }
    for code, packets in cases.items():
        for octets in packets:
            with pytest.raises(CommandRejected) as refused:
                decode_command(octets)
            assert refused.value.code == code, str(refused.value)
    with pytest.raises(CommandRejected, match="addressed to another satellite: spacecraft 3, not 4"):
        decode_command(bytes(packet), spacecraft_id=4)
    assert decode_command(bytes(packet), spacecraft_id=3).arguments == {"compute_cap": 0.25}
