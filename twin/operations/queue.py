"""The command queue: commands prepared, sent in their satellite's window, and followed to verification.

Roles (checked here, whoever calls: the dashboard's server or the command line): engineers and operators
prepare commands, operators send them, everyone sees the queue and its history. Sending a command puts it
in the store's uplink outbox (:mod:`twin.telemetry.uplink`) for the satellite's next command window
(:mod:`.windows`); a time-tagged command goes up in a window before its release time and waits on board.
Its stages then follow from what the server and the satellite report:

==========  ==========================================================================================
prepared    checked against the XTCE definitions (arguments in range), not yet sent
sending     claimed by one process, which is putting it in the outbox (a moment)
queued      waiting in the outbox for its window
sent        uplinked to a station (the server's log: when, through which station)
accepted    the satellite's acceptance report (PUS TM[1,1]) arrived
executed    its completion report (TM[1,7]) arrived
verified    the telemetry after it shows its effect (:mod:`.verification`)
failed      refused by the satellite (TM[1,2], TM[1,8]), its window closed unsent, no acceptance within
            :data:`ACCEPT_WITHIN_S` of sending, or no effect within :data:`VERIFY_WITHIN_S` of execution
==========  ==========================================================================================

Everything is an event appended to the store's shared state (:mod:`twin.operations.state`, a SQLite file: who,
when by the wall clock, when by the fleet's clock, what): the history; the queue's state is that log folded. A
refused request (a role that may not, a bad argument, no window) is logged there too, with its reason. Each
change is one transaction that folds the log and checks before it writes, so the processes of one server (and
``twin ops``) share one queue: two preparing at once get two commands; two sending the same command at once, one
claims it (``sending``, with its process id) and puts it in the outbox, the other is refused; two refreshing at
once log each step once. A claim whose process ended before it logged ``queued`` is settled by the next refresh
or send: ``queued`` if the outbox (or the server's log) has the command, else ``unclaimed`` (prepared again), so
a command is never put in the outbox twice.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from twin.operations.roles import NotPermitted, check_permission
from twin.operations.state import adopt, state_file
from twin.safe_output import process_alive, process_start
from twin.telemetry import uplink
from twin.telemetry.telecommands import (ACCEPTANCE_FAILED, ACCEPTED, EXECUTED, EXECUTION_FAILED, FAILURES,
                                         CommandError, encode_command, load_commands)

LEGACY_HISTORY = "commands.jsonl"  # where an earlier version kept the history
ACCEPT_WITHIN_S = 300.0  # assumption: a command not accepted 5 min after it went up was lost on the way
VERIFY_WITHIN_S = 900.0  # assumption: a command's effect shows within 15 min (90 reports) of its execution
MAX_SEQUENCE = 1 << 14
STAGES = ("prepared", "queued", "sent", "accepted", "executed", "verified")


class QueueError(ValueError):
    """A request the queue refuses (no such satellite or command, no window, not in a state to be sent)."""


@dataclass
class Command:
    """A command and what became of it (times are the fleet's clock, UTC)."""

    command_id: str
    satellite: str
    spacecraft_id: int
    name: str
    arguments: dict
    release_time: str | None
    sequence_count: int
    prepared_by: str
    status: str = "prepared"
    sent_by: str = ""
    reason: str = ""
    stages: dict = field(default_factory=dict)  # stage -> fleet time it was reached
    window: tuple[str, str] | None = None
    station: str = ""
    latency_s: float | None = None
    sender_pid: int = 0  # the process that claimed it, while it is sending
    sender_started: str = ""  # when that process started (its number may be taken again after it ends)
    claimed_at: str | None = None  # when, by the fleet's clock

    @property
    def done(self) -> bool:
        return self.status in ("verified", "failed")


def _wall() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _text(moment) -> str:
    return str(np.datetime64(moment, "ms"))


class CommandQueue:
    """The commands of the fleet of ``scenario`` whose telemetry and outbox are the store at ``store``."""

    def __init__(self, store: str | Path, scenario, sensors: dict | None = None, windows=None):
        from twin.orbit.constellation import design_fleet
        from twin.scenario import bus_columns
        from twin.telemetry.virtual_fleet import load_sensors

        self.store = Path(store)
        self.scenario = scenario
        self.sensors = sensors or load_sensors()
        fleet = design_fleet(scenario)
        self.names = [str(name) for name in fleet.names]
        self.heater_power_w = bus_columns(scenario.buses, np.asarray(fleet.bus))("heater_power_w")
        self.windows = windows
        self.file = state_file(store)
        adopt(self.file, self.store / LEGACY_HISTORY, "command_events", _legacy_events,
              "INSERT INTO command_events (command_id, event, record) VALUES (?, ?, ?)")

    # -- the history --------------------------------------------------------------------------------

    def _log(self, db, event: str, command_id: str, clock, **details) -> None:
        """Append an event, in the transaction ``db``."""
        record = {"event": event, "command_id": command_id, "at": _wall(),
                  "clock": None if clock is None else _text(clock), **details}
        db.execute("INSERT INTO command_events (command_id, event, record) VALUES (?, ?, ?)",
                   (command_id, event, json.dumps(record)))

    def history(self, db=None) -> list[dict]:
        """Every event, oldest first (``db``: as a transaction sees it)."""
        if db is None and not self.file.path.exists():
            return []
        rows = (db or self.file.connection()).execute("SELECT record FROM command_events ORDER BY seq")
        return [json.loads(record) for (record,) in rows]

    def commands(self, db=None) -> dict[str, Command]:
        """Every command by id, its status folded from the history."""
        commands: dict[str, Command] = {}
        for event in self.history(db):
            kind, command_id = event["event"], event["command_id"]
            if kind == "prepared":
                commands[command_id] = Command(**event["command"])
                commands[command_id].stages["prepared"] = event["clock"]
                continue
            command = commands.get(command_id)
            if command is None:
                continue
            command.status = kind if kind in STAGES or kind in ("sending", "failed") else command.status
            if kind in STAGES:
                command.stages[kind] = event["clock"]
            command.reason = event.get("reason", command.reason)
            if kind in ("sending", "queued"):
                command.sent_by, command.window = event["user"], tuple(event["window"])
                command.latency_s, command.sender_pid = event.get("latency_s"), event.get("pid", 0)
                command.sender_started = event.get("pid_started", "")
                command.claimed_at = event["clock"]
                command.reason = event.get("reason", "")  # not an earlier claim's
            if kind == "unclaimed":
                command.status, command.sent_by, command.window, command.sender_pid = "prepared", "", None, 0
                command.sender_started = ""
            if kind == "sent":
                command.station = event.get("station", "")
        return commands

    def _settle_orphans(self, db, outcomes: dict) -> None:
        """Settle the claims of processes that ended while sending (the store is on this machine's disk, so
        :func:`twin.safe_output.process_alive` tells): ``queued`` if the outbox or
        the server's log has the command, else ``unclaimed``."""
        for command in self.commands(db).values():
            if command.status != "sending" or process_alive(command.sender_pid, command.sender_started):
                continue
            if command.command_id in outcomes or uplink.posted(self.store, command.command_id):
                self._log(db, "queued", command.command_id, command.claimed_at, user=command.sent_by,
                          window=list(command.window), latency_s=command.latency_s,
                          reason=f"found in the outbox after its sender (process {command.sender_pid}) ended")
            else:
                self._log(db, "unclaimed", command.command_id, command.claimed_at,
                          reason=f"its sender (process {command.sender_pid}) ended before the outbox had it")

    # -- requests -------------------------------------------------------------------------------------

    def _refuse(self, user, what: str, error: Exception, clock) -> None:
        with self.file.transaction() as db:
            self._log(db, "refused", "", clock, user=user.name, request=what, reason=str(error))

    def prepare(self, user, satellite: str, name: str, arguments: dict, now, release_time=None) -> Command:
        """Check and record a command for ``satellite`` (engineers and operators); :class:`NotPermitted`,
        :class:`CommandError` or :class:`QueueError` (logged) if refused."""
        what = f"prepare {name} {arguments} for {satellite}"
        try:
            check_permission(user, "prepare_command")
            if satellite not in self.names:
                raise QueueError(f"satellite: {satellite!r} is not a satellite of {self.scenario.name}")
            with self.file.transaction() as db:
                commands = self.commands(db)
                sequence = (max((c.sequence_count for c in commands.values()), default=-1) + 1) % MAX_SEQUENCE
                row = self.names.index(satellite)
                try:
                    release = None if release_time in (None, "") else np.datetime64(release_time, "ns")
                except ValueError:
                    raise QueueError(f"release_time: {release_time!r} is not an ISO 8601 UTC time") from None
                if release is not None and release <= np.datetime64(now, "ns"):
                    raise QueueError(f"release_time: {release_time} is not after the fleet's time {_text(now)}")
                encode_command(name, row + 1, sequence, arguments, release)  # refused here if malformed
                checked = {f.name: float(arguments[f.name]) for f in load_commands()[name].arguments}
                command = Command(f"C{len(commands) + 1:05d}", satellite, row + 1, name, checked,
                                  None if release is None else _text(release), sequence, user.name)
                record = asdict(command)
                record.pop("stages")
                self._log(db, "prepared", command.command_id, now, user=user.name, command=record)
        except (NotPermitted, CommandError, QueueError) as error:
            self._refuse(user, what, error, now)
            raise
        return self.commands()[command.command_id]

    def send(self, user, command_id: str, now) -> Command:
        """Queue a prepared command for its satellite's next window (operators): claimed (``sending``) in one
        transaction, put in the outbox, then ``queued``; :class:`QueueError` if it is not prepared (another
        process may have claimed it)."""
        try:
            check_permission(user, "send_command")
            with self.file.transaction() as db:
                self._settle_orphans(db, uplink.outcomes(self.store))
            command = self.commands().get(command_id)
            if command is None:
                raise QueueError(f"command: no command {command_id!r}")
            _check_prepared(command)
            window = self._window(command, np.datetime64(now, "ns"))  # a network run, perhaps: not in a transaction
            release = None if command.release_time is None else np.datetime64(command.release_time, "ns")
            packet = encode_command(command.name, command.spacecraft_id, command.sequence_count, command.arguments,
                                    release)
            span = {"window": [_text(window.opens), _text(window.closes)], "latency_s": window.max_latency_s}
            with self.file.transaction() as db:
                _check_prepared(self.commands(db)[command_id])  # as it is now, for every process
                self._log(db, "sending", command_id, now, user=user.name, pid=os.getpid(),
                          pid_started=process_start(os.getpid()), **span)
        except (NotPermitted, QueueError) as error:
            self._refuse(user, f"send {command_id}", error, now)
            raise
        try:
            uplink.post(self.store, command_id, packet, command.spacecraft_id, window.opens, window.closes)
        except BaseException as error:
            with self.file.transaction() as db:
                self._log(db, "unclaimed", command_id, now, reason=f"not put in the outbox: {error}")
            raise
        with self.file.transaction() as db:
            self._log(db, "queued", command_id, now, user=user.name, **span)
        return self.commands()[command_id]

    def submit(self, user, satellite: str, name: str, arguments: dict, now, release_time=None) -> Command:
        """Prepare and send at once (operators)."""
        try:
            check_permission(user, "send_command")
        except NotPermitted as error:
            self._refuse(user, f"send {name} {arguments} to {satellite}", error, now)
            raise
        command = self.prepare(user, satellite, name, arguments, now, release_time)
        return self.send(user, command.command_id, now)

    def _window(self, command: Command, now: np.datetime64):
        """The window to send ``command`` in: the next one, and for a time-tagged command one that opens before
        its release time."""
        from twin.operations.windows import AHEAD_S, CommandWindows

        if self.windows is None or now < self.windows.start or now > self.windows.end - np.timedelta64(3600, "s"):
            self.windows = CommandWindows(self.scenario, now)
        window = self.windows.next_window(command.spacecraft_id - 1, now)
        if window is None:
            raise QueueError(f"command {command.command_id}: {command.satellite} has no command window in the next "
                             f"{AHEAD_S / 3600:g} h")
        if command.release_time is not None and window.opens >= np.datetime64(command.release_time, "ns"):
            raise QueueError(f"command {command.command_id}: the next window of {command.satellite} opens at "
                             f"{_text(window.opens)}, after its release time {command.release_time}")
        return window

    # -- following the commands -----------------------------------------------------------------------

    def refresh(self, now, groups: dict | None = None, state=None) -> dict[str, Command]:
        """Advance every open command from the server's uplink log, the satellites' reports in ``groups``
        (the store's measurements, loaded) and the verification of its effect; returns them all."""
        if groups is None:
            from twin.telemetry.store import open_measurements

            groups = {name: group.load() for name, group in open_measurements(self.store).items()}
        now = np.datetime64(now, "ns")
        commands = self.commands()
        if all(command.done for command in commands.values()):
            return commands
        outcomes = uplink.outcomes(self.store)
        with self.file.transaction() as db:  # one process at a time: each step logged once
            self._settle_orphans(db, outcomes)
            for command in self.commands(db).values():
                if not command.done and command.status != "sending":
                    self._advance(db, command, now, outcomes.get(command.command_id), groups, state)
            return self.commands(db)

    def _advance(self, db, command: Command, now, outcome: dict | None, groups: dict, state) -> None:
        interval_s = float(self.sensors["reporting"]["interval_s"])
        if command.status == "queued" and outcome is not None:
            if outcome["outcome"] == "sent":
                self._log(db, "sent", command.command_id, outcome["clock"], station=outcome["station"])
                command.status, command.stages["sent"] = "sent", outcome["clock"]
            else:
                self._log(db, "failed", command.command_id, outcome["clock"],
                          reason=f"not sent: {outcome['outcome']} ({outcome.get('reason', 'its window closed')})")
                return
        if command.status in ("sent", "accepted"):
            reports = self._reports(command, groups)
            for subtype, moment, failure in reports:
                if subtype == ACCEPTED and command.status == "sent":
                    self._log(db, "accepted", command.command_id, moment)
                    command.status, command.stages["accepted"] = "accepted", _text(moment)
                elif subtype in (ACCEPTANCE_FAILED, EXECUTION_FAILED):
                    stage = "acceptance" if subtype == ACCEPTANCE_FAILED else "execution"
                    self._log(db, "failed", command.command_id, moment,
                              reason=f"the satellite refused its {stage}: {FAILURES.get(failure, failure)}")
                    return
                elif subtype == EXECUTED:
                    self._log(db, "executed", command.command_id, moment)
                    command.status, command.stages["executed"] = "executed", _text(moment)
                    break
            if command.status == "sent" and now > np.datetime64(command.stages["sent"], "ns") + _seconds(ACCEPT_WITHIN_S):
                self._log(db, "failed", command.command_id, now,
                          reason=f"no acceptance within {ACCEPT_WITHIN_S:g} s of sending: lost on the way")
                return
        if command.status == "executed":
            from twin.operations.verification import verify

            executed = np.datetime64(command.stages["executed"], "ns")
            verdict, why = verify(command.name, command.arguments, command.spacecraft_id, executed, groups,
                                  interval_s, state, float(self.heater_power_w[command.spacecraft_id - 1]))
            if verdict is None and now > executed + _seconds(VERIFY_WITHIN_S):
                verdict, why = "failed", f"no effect in the telemetry within {VERIFY_WITHIN_S:g} s of execution"
            if verdict is not None:
                self._log(db, verdict, command.command_id, now, reason=why)

    def _reports(self, command: Command, groups: dict) -> list[tuple[int, np.datetime64, int]]:
        """The satellite's reports on ``command`` (subtype, time, failure code), in time order."""
        reports = groups.get("command_report")
        if reports is None or not reports.sizes["record"]:
            return []
        since = np.datetime64(command.stages["sent"], "ns") - np.timedelta64(60, "s")
        keep = ((reports["spacecraft_id"].values == command.spacecraft_id)
                & (reports["request_sequence_count"].values == command.sequence_count)
                & (reports["time"].values >= since))
        rows = np.flatnonzero(keep)
        order = rows[np.argsort(reports["time"].values[rows], kind="stable")]
        return [(int(reports["report_subtype"].values[i]), reports["time"].values[i],
                 int(reports["failure_code"].values[i])) for i in order]


def _check_prepared(command: Command) -> None:
    if command.status != "prepared":
        raise QueueError(f"command {command.command_id}: it is {command.status}, not prepared")


def _legacy_events(text: str) -> list[tuple[str, str, str]]:
    """The rows of an earlier version's ``commands.jsonl`` (a line cut short by a crash skipped)."""
    rows = []
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        rows.append((event["command_id"], event["event"], json.dumps(event)))
    return rows


def _seconds(value: float) -> np.timedelta64:
    return np.timedelta64(int(value * 1e9), "ns")
