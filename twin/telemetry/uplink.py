"""The uplink outbox: telecommands waiting in the store directory for the ingest server to send to a station.

Whoever releases a command (the operations queue, :mod:`twin.operations.queue`) writes one JSON file
per command into ``<store>/uplink/`` (:func:`post`, written whole and renamed into place): the TC
packet, the satellite, and the span of the server's clock in which it may go (the satellite's
command window). The server (:mod:`.server`) sends each at most once: it claims a file by renaming
it to ``.sent`` before writing a single octet, so neither a reconnection nor a server restart can
send it again; one whose window closed first becomes ``.expired``, one it cannot read ``.refused``.
Every outcome is a line of ``uplink.jsonl`` beside them (command, outcome, station, clock, reason).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

OUTBOX = "uplink"
LOG = "uplink.jsonl"
COMMAND_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Uplink:
    """One command to send: its id, packet, satellite, station (None: any) and window (ns since 1970 UTC)."""

    command_id: str
    packet: bytes
    spacecraft_id: int
    not_before_ns: int
    not_after_ns: int
    station: str | None = None


class OutboxError(ValueError):
    """An outbox file the server cannot send (named, with the reason)."""


def outbox(store: str | Path) -> Path:
    return Path(store) / OUTBOX


def _ns(moment) -> int:
    return int(np.datetime64(moment, "ns").astype(np.int64))


def post(store: str | Path, command_id: str, packet: bytes, spacecraft_id: int, not_before, not_after,
         station: str | None = None) -> Path:
    """Put a command in the outbox (``not_before``/``not_after``: UTC times, numpy or ISO text)."""
    if not COMMAND_ID.fullmatch(command_id):
        raise OutboxError(f"command_id: {command_id!r} must be 1-64 letters, digits, '_' or '-'")
    folder = outbox(store)
    folder.mkdir(parents=True, exist_ok=True)
    entry = {"command_id": command_id, "packet": packet.hex(), "spacecraft_id": int(spacecraft_id),
             "not_before": str(np.datetime64(not_before, "ns")), "not_after": str(np.datetime64(not_after, "ns")),
             "station": station}
    path = folder / f"{command_id}.json"
    temporary = folder / f".{command_id}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(entry))
    os.replace(temporary, path)
    return path


def read_entry(path: Path) -> Uplink:
    """The command of an outbox file; :class:`OutboxError` saying what is wrong with it."""
    try:
        entry = json.loads(path.read_text())
        uplink = Uplink(str(entry["command_id"]), bytes.fromhex(entry["packet"]), int(entry["spacecraft_id"]),
                        _ns(entry["not_before"]), _ns(entry["not_after"]), entry.get("station"))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise OutboxError(f"{path.name}: not an uplink entry ({type(error).__name__}: {error})") from None
    if uplink.command_id != path.stem or not COMMAND_ID.fullmatch(uplink.command_id):
        raise OutboxError(f"{path.name}: command_id {uplink.command_id!r} does not name the file")
    if not uplink.packet:
        raise OutboxError(f"{path.name}: empty packet")
    return uplink


def pending(store: str | Path) -> list[Path]:
    """Outbox files not yet sent, expired or refused, oldest first."""
    folder = outbox(store)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.json"), key=lambda path: (path.stat().st_mtime_ns, path.name))


def posted(store: str | Path, command_id: str) -> bool:
    """Whether command ``command_id`` is in the outbox, waiting or settled (sent, expired or refused)."""
    folder = outbox(store)
    return any((folder / f"{command_id}.{state}").exists() for state in ("json", "sent", "expired", "refused"))


def settle(path: Path, outcome: str) -> bool:
    """Rename an outbox file to ``.<outcome>``; False if another process got there first (it is no longer there)."""
    try:
        os.rename(path, path.with_suffix(f".{outcome}"))
    except FileNotFoundError:
        return False
    return True


def log(store: str | Path, command_id: str, outcome: str, **details) -> None:
    """Append an outcome (sent, expired, refused) to the outbox's log."""
    record = {"command_id": command_id, "outcome": outcome,
              "at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), **details}
    with open(outbox(store) / LOG, "a") as handle:
        handle.write(json.dumps(record) + "\n")


def outcomes(store: str | Path) -> dict[str, dict]:
    """The latest logged outcome of each command id."""
    path = outbox(store) / LOG
    if not path.exists():
        return {}
    records = {}
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:  # a line cut short by a crash mid-write: skip it
            continue
        records[record["command_id"]] = record
    return records
