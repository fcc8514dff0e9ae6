"""A live virtual fleet: its packets streamed in (accelerated) real time, and the telecommands it receives executed
on board, so that its telemetry shows their effect.

The on-board software, for each TC packet a station hands it (:class:`~.client.TelemetrySender`'s ``on_command``):

1. receipt: the packet reaches the satellite after the network's latency if the satellite has a path to the
   ground then (``latency_to_ground`` of :func:`twin.run.reach.reach`); otherwise it is lost, unreported;
2. acceptance, PUS TM[1,1], or refusal, TM[1,2] with a failure code (:func:`.telecommands.decode_command`;
   a sequence count the satellite already received is refused as a repeat);
3. execution at its release time (on receipt if it has none): the fleet's truth is simulated again with the
   command's operating mode (:mod:`twin.subsystems.modes`) or manoeuvre (the ``manoeuvre`` kind of
   :class:`.virtual_fleet.InjectedFault`) and the packets not yet sent are those of the new truth; TM[1,7]
   reports completion, TM[1,8] a refusal (a payload command in safe mode).

Reports travel in the ``command_report`` packet, delayed by the links' mean delay (``sensors.toml``). The truth
is simulated again from the start at each execution: the engine is causal, so what was already sent does not
change; this suits fleets of tens to hundreds of satellites over hours (phase 3 would need a restart from a
checkpoint instead).
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass

import numpy as np

from twin.subsystems.modes import ModeChange
from twin.telemetry.packets import encode, layouts_by_name
from twin.telemetry.telecommands import (ACCEPTANCE_FAILED, ACCEPTED, EXECUTED, EXECUTION_FAILED, CommandRejected,
                                         DecodedCommand, decode_command, read_header)
from twin.telemetry.virtual_fleet import InjectedFault, record, simulate_truth


@dataclass(frozen=True)
class Scheduled:
    """A command accepted on board, waiting for its execution time (s after the start)."""

    command_id: str
    command: DecodedCommand
    row: int
    execute_s: float


class LiveFleet:
    """The virtual fleet of ``scenario`` from ``start`` (astropy Time) for ``duration_s``, flown live."""

    def __init__(self, scenario, start, duration_s: float, sensors: dict, faults=(), seed: int = 0):
        from twin.run.reach import reach

        self.scenario, self.start, self.duration_s, self.sensors, self.seed = scenario, start, duration_s, sensors, seed
        self.interval_s = float(sensors["reporting"]["interval_s"])
        self.faults = list(faults)
        self.changes: list[ModeChange] = []
        self.epoch_offset_s = float((start - scenario.epoch).sec)
        network = reach(scenario, start, duration_s, self.interval_s)
        self.start64 = network["time"].values[0].astype("datetime64[ns]")
        self.names = [str(name) for name in network["sat"].values]
        self.latency_s = network["latency_to_ground"].values
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.scheduled: list[Scheduled] = []
        self.received: set[tuple[int, int]] = set()  # (spacecraft, sequence count) seen on board
        self.safe = np.zeros(len(self.names), bool)
        self.reports: list[tuple[float, bytes]] = []  # (arrival s, octets) not yet sent
        self.report_count = np.zeros(len(self.names), np.int64)
        self.events: list[dict] = []  # what happened on board, in order
        self._simulate()

    def _simulate(self) -> None:
        truth = simulate_truth(self.scenario, self.start, self.duration_s, self.sensors, self.faults, modes=self.changes)
        self.recording = record(truth, self.sensors, self.faults, self.seed)

    def receive(self, command_id: str, packet: bytes) -> None:
        """A station hands the fleet a TC packet (called from the sender's reader thread)."""
        self.inbox.put((command_id, packet))

    def _event(self, kind: str, at_s: float, command_id: str, **details) -> None:
        self.events.append({"event": kind, "time": str(self.start64 + np.timedelta64(int(at_s * 1e9), "ns"))[:23],
                            "command_id": command_id, **details})

    def _report(self, row: int, at_s: float, subtype: int, sequence: int, failure: int = 0) -> None:
        moment = self.start64 + np.timedelta64(int(at_s * 1e9), "ns")
        octets = encode(layouts_by_name()["command_report"], np.array([row + 1]), self.report_count[row:row + 1],
                        np.array([moment]), {"report_subtype": np.array([subtype]),
                                             "request_sequence_count": np.array([sequence]),
                                             "failure_code": np.array([failure])})
        self.report_count[row] += 1
        self.reports.append((at_s + self.sensors["reporting"]["mean_delay_s"], octets.tobytes()))

    def _take_commands(self, now_s: float) -> None:
        """Receive what the stations handed over: lost out of reach, refused, or accepted and scheduled."""
        while True:
            try:
                command_id, packet = self.inbox.get_nowait()
            except queue.Empty:
                return
            try:
                header = read_header(packet)
            except ValueError:
                self._event("lost", now_s, command_id, reason="too short to address")
                continue
            row = header["spacecraft_id"] - 1
            step = min(int(now_s // self.interval_s), self.latency_s.shape[1] - 1)
            if not 0 <= row < len(self.names) or not np.isfinite(self.latency_s[row, step]):
                self._event("lost", now_s, command_id, reason="no satellite in reach with that id")
                continue
            received_s = now_s + float(self.latency_s[row, step])
            key = (header["spacecraft_id"], header["sequence_count"])
            try:
                if key in self.received:
                    raise CommandRejected(4, f"sequence count {header['sequence_count']}")
                command = decode_command(packet, spacecraft_id=row + 1)
            except CommandRejected as refused:
                self._report(row, received_s, ACCEPTANCE_FAILED, header["sequence_count"], refused.code)
                self._event("refused", received_s, command_id, satellite=self.names[row], reason=str(refused))
                continue
            self.received.add(key)
            self._report(row, received_s, ACCEPTED, command.sequence_count)
            release_s = received_s if command.release_time is None else \
                float((command.release_time - self.start64) / np.timedelta64(1, "s"))
            self.scheduled.append(Scheduled(command_id, command, row, max(received_s, release_s)))
            self._event("accepted", received_s, command_id, satellite=self.names[row], command=command.name)

    def _execute_due(self, now_s: float) -> None:
        """Execute the commands whose time has come; simulate the truth again if one changed anything."""
        due = sorted((s for s in self.scheduled if s.execute_s <= now_s), key=lambda s: s.execute_s)
        if not due:
            return
        self.scheduled = [s for s in self.scheduled if s.execute_s > now_s]
        for item in due:
            failure = self._apply(item)
            self._report(item.row, item.execute_s, EXECUTION_FAILED if failure else EXECUTED,
                         item.command.sequence_count, failure)
            self._event("execution failed" if failure else "executed", item.execute_s, item.command_id,
                        satellite=self.names[item.row], command=item.command.name)
        self._simulate()

    def _apply(self, item: Scheduled) -> int:
        """The command's effect from its execution time; a failure code if the satellite refuses it (else 0)."""
        name, arguments, row = item.command.name, item.command.arguments, item.row
        start_s = self.epoch_offset_s + item.execute_s
        if name in ("set_compute_cap", "payload_restart") and self.safe[row]:
            return 6
        if name == "set_compute_cap":
            self.changes.append(ModeChange(row, start_s, compute_cap=arguments["compute_cap"]))
        elif name == "safe_mode":
            self.safe[row] = bool(arguments["enter"])
            self.changes.append(ModeChange(row, start_s, payload_on=not self.safe[row]))
        elif name == "heaters":
            self.changes.append(ModeChange(row, start_s, heater_mode=int(arguments["heater_mode"])))
        elif name == "payload_restart":
            self.changes.append(ModeChange(row, start_s, payload_on=False, until_s=start_s + arguments["off_s"]))
        elif name == "manoeuvre":
            self.faults.append(InjectedFault("manoeuvre", self.names[row], item.execute_s,
                                             arguments["semi_major_axis_change_m"]))
        return 0

    def fly(self, sender, speed: float, tick_s: float = 0.25, stop=None) -> int:
        """Stream the fleet through ``sender`` at ``speed`` (fleet seconds per second), executing what it is sent,
        until the span is over (or ``stop()`` is true); returns the octets acknowledged."""
        if speed <= 0:
            raise ValueError(f"speed: {speed!r} must be above 0 for a live fleet")
        began = time.monotonic()
        cursor = 0
        while not (stop and stop()):
            now_s = min((time.monotonic() - began) * speed, self.duration_s + self.sensors["reporting"]["max_delay_s"])
            self._take_commands(now_s)
            self._execute_due(now_s)
            recording = self.recording
            last = int(np.searchsorted(recording.arrival_s, now_s, side="right"))
            chunks = []
            if last > cursor:
                first = int(recording.packet_ends[cursor - 1]) if cursor else 0
                chunks.append(recording.stream[first:int(recording.packet_ends[last - 1])])
                cursor = last
            due = [octets for arrival, octets in self.reports if arrival <= now_s]
            self.reports = [(arrival, octets) for arrival, octets in self.reports if arrival > now_s]
            if chunks or due:
                sender.send(b"".join(chunks + due))
            if cursor >= recording.arrival_s.size and not self.reports and not self.scheduled \
                    and now_s >= self.duration_s:
                break
            time.sleep(tick_s)
        return sender.flush()
