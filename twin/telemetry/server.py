"""The ingest server: packet streams from ground stations over TCP into the measurement store.

Protocol (one TCP connection per ground station, any number at once; ASCII lines ending in ``\\n``):

1. The station sends one line, ``TWIN-TM/1 token=<token> station=<name>``. The server answers
   ``OK``, or ``DENIED <reason>`` and closes: a wrong or missing token, a bad line, no line within
   ``hello_timeout_s``, or a station new to a store whose station table is full (256 stations; a
   station takes its place with its first stored packet, not with its hello).
2. The station sends CCSDS packets back to back, as they come.
3. After each commit the server sends ``COUNTS stored=<n> <kind>=<n>...`` then ``ACK <n>``: the
   first ``n`` octets of this connection are in the store (or were counted as bad input) and
   survive a crash of the server; ``COUNTS`` says what became of the packets in them, since the
   connection began: stored, and refused by kind (``duplicate``, ``future``, ``corrupt``...: see
   :mod:`.ingest`). A client that knows only ``ACK`` lines skips it. A station keeps what is not
   yet acknowledged and sends it again after a reconnection; the copies that had in fact been
   stored are recognised as duplicates.
4. The station half-closes when done; the server commits, sends the last ``COUNTS`` and ``ACK``,
   and closes.
5. Uplink: the server sends ``TC <command id> <packet in hex>`` to a station when a telecommand in the
   store's outbox (:mod:`.uplink`) falls due by the server's clock (the stream's own latest time with
   ``clock="stream"``, else UTC now): to the station it names, else to the station that stored a packet
   last. Each is sent at most once, never again after a reconnection or a restart; a client that
   knows only ``ACK`` lines skips these too.
6. The server ends a connection with ``DENIED <reason>`` when it carried more than
   ``max_octets_without_packet`` octets without a valid packet (noise: sending them again would
   not help), and with ``CLOSED idle for <n> s`` when nothing arrived for ``idle_timeout_s`` (a
   station connects again when it has more to send).

Commits run in a worker thread every ``commit_interval_s`` while the event loop keeps reading;
framing and checks are numpy over each read, so no connection holds the loop for long.
Refused connections are counted by kind in the store; refused packets are logged per station.
"""

from __future__ import annotations

import asyncio
import hmac
import numpy as np
import logging
import re
import signal
import threading
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field

from twin.telemetry import uplink
from twin.telemetry.ingest import EARLIEST_NS, REFUSED, Ingestor, StationTableFull, StreamDecoder
from twin.telemetry.store import MAX_STATIONS, MeasurementStore

LOG = logging.getLogger("twin.telemetry.server")
HELLO = re.compile(rb"TWIN-TM/1 token=(?P<token>\S+) station=(?P<station>[\w.-]{1,64})\n")
MAX_HELLO_BYTES = 256
HELLO_TIMEOUT_S = 10.0
IDLE_TIMEOUT_S = 300.0
MAX_OCTETS_WITHOUT_PACKET = 1 << 20
READ_BYTES = 1 << 20
PAUSE_S = 0.1  # a station silent this long with octets pending has paused: they are framed as they stand
LINGER_S, LINGER_OCTETS = 2.0, 4 << 20  # after a refusal mid-stream, octets still arriving are read and dropped
# (this long, this many at most) before closing, so the station reads the reason instead of a reset
LOG_REFUSALS_EVERY_S = 10.0
UPLINK_EVERY_S = 0.25  # how often the outbox is looked at


class Refusal(Exception):
    """A connection refused: ``kind`` is counted in the store, ``reason`` is sent after ``DENIED``."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind, self.reason = kind, reason


@dataclass(eq=False)
class _Connection:
    station: str
    peer: object
    decoder: StreamDecoder
    writer: asyncio.StreamWriter
    acknowledged: int = 0
    counts: Counter = field(default_factory=Counter)  # what became of its packets: stored, refused by kind
    acknowledged_counts: Counter = field(default_factory=Counter)  # those counts as the last acknowledgement sent them
    logged: Counter = field(default_factory=Counter)  # the refusals already logged
    logged_at: float = float("-inf")
    stored_at: float = float("-inf")  # when a packet of this connection was last taken to be stored


class IngestServer:
    """Serves :class:`Ingestor` over TCP; ``await serve_forever()`` or use :func:`run_server`."""

    def __init__(self, store: MeasurementStore, token: str, host: str = "127.0.0.1", port: int = 0,
                 commit_interval_s: float = 0.25, hello_timeout_s: float = HELLO_TIMEOUT_S,
                 idle_timeout_s: float = IDLE_TIMEOUT_S, max_octets_without_packet: int = MAX_OCTETS_WITHOUT_PACKET,
                 **ingest_options):
        if not token:
            raise ValueError("token: an empty token would let anyone in; give one")
        self.store = store
        self.ingestor = Ingestor(store, **ingest_options)
        self.token = token.encode()
        self.host, self.port = host, port
        self.commit_interval_s = commit_interval_s
        self.hello_timeout_s = hello_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.max_octets_without_packet = max_octets_without_packet
        self.connections: set[_Connection] = set()
        self.refused = Counter()  # connections refused since the last commit, by kind
        self._server: asyncio.base_events.Server | None = None
        self._commit_lock = asyncio.Lock()
        self._not_committing = asyncio.Event()  # set while no commit is running
        self._not_committing.set()
        self._commits_begun = self._commits_done = 0
        self._commit_done = asyncio.Condition()

    async def start(self) -> int:
        """Listen; returns the port (useful with ``port=0``)."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port, limit=READ_BYTES)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def serve_forever(self) -> None:
        """Serve until :meth:`close`; a commit that fails (a full disk...) closes the server too and its
        error is raised here: stations keep what was not acknowledged, nothing acknowledged is lost."""
        committer = asyncio.create_task(self._commit_loop())
        committer.add_done_callback(lambda _: self.close())
        uplinker = asyncio.create_task(self._uplink_loop())
        try:
            await self._server.serve_forever()
        finally:
            uplinker.cancel()
            if committer.done():
                committer.result()
            while not self._not_committing.is_set():  # a commit's thread would go on beside the last commit
                await self._not_committing.wait()
            committer.cancel()
            with suppress(asyncio.CancelledError):
                await committer
            await self.commit()
            self.ingestor.checkpoint()  # a restart reads nothing from the store

    async def _commit_loop(self) -> None:
        """A commit every ``commit_interval_s`` from the start of the one before (back to back if it took longer)."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await self.commit()
            await asyncio.sleep(max(0.0, started + self.commit_interval_s - loop.time()))

    async def _uplink_loop(self) -> None:
        while True:
            self.send_due_commands()
            await asyncio.sleep(UPLINK_EVERY_S)

    def clock_ns(self) -> int:
        """The server's clock (ns since 1970 UTC): the stream's latest time, or UTC now (see ``Ingestor.clock``)."""
        return self.ingestor.stream_clock_ns if self.ingestor.clock == "stream" else time.time_ns()

    def send_due_commands(self) -> None:
        """Send the outbox's commands whose window is open to a station; settle those that cannot go."""
        now_ns = self.clock_ns()
        store = self.store.path
        for path in uplink.pending(store):
            try:
                entry = uplink.read_entry(path)
            except uplink.OutboxError as error:
                if uplink.settle(path, "refused"):
                    LOG.warning("uplink: refused %s", error)
                    uplink.log(store, path.stem, "refused", reason=str(error))
                continue
            if now_ns == EARLIEST_NS or now_ns < entry.not_before_ns:
                continue
            clock = str(np.datetime64(now_ns, "ns"))[:23]
            if now_ns > entry.not_after_ns:
                if uplink.settle(path, "expired"):
                    LOG.warning("uplink: command %s expired unsent at %s (its window closed at %s)", entry.command_id,
                                clock, str(np.datetime64(entry.not_after_ns, "ns"))[:23])
                    uplink.log(store, entry.command_id, "expired", clock=clock)
                continue
            connection = self._station_for(entry)
            if connection is None or not uplink.settle(path, "sent"):  # no station yet, or sent by another server
                continue
            with suppress(ConnectionError):
                connection.writer.write(f"TC {entry.command_id} {entry.packet.hex()}\n".encode())
            LOG.info("uplink: command %s to spacecraft %d through station %s at %s", entry.command_id,
                     entry.spacecraft_id, connection.station, clock)
            uplink.log(store, entry.command_id, "sent", station=connection.station, clock=clock)

    def _station_for(self, entry: uplink.Uplink) -> _Connection | None:
        """The connection to send ``entry`` on: its station's, else the one that stored a packet last."""
        candidates = [c for c in self.connections if entry.station in (None, c.station) and not c.writer.is_closing()]
        return max(candidates, key=lambda c: c.stored_at, default=None)

    async def _next_commit(self) -> None:
        """Wait for a commit that begins after now (the commit loop runs one every ``commit_interval_s``):
        a station that leaves shares it with the others instead of queueing a commit of its own."""
        wanted = self._commits_begun + 1
        async with self._commit_done:
            await self._commit_done.wait_for(lambda: self._commits_done >= wanted)

    async def commit(self) -> None:
        """Store what is queued, then tell every connection what that covers (counts and acknowledgement)."""
        async with self._commit_lock:
            self._commits_begun += 1
            covered = {connection: (connection.decoder.consumed, Counter(connection.counts))
                       for connection in self.connections}
            pending = self.ingestor.take_pending()
            refused, self.refused = self.refused, Counter()
            if pending.rows or pending.counts or refused or any(c.acknowledged < n for c, (n, _) in covered.items()):
                self._not_committing.clear()
                try:
                    await asyncio.to_thread(self.store.commit, pending, refused)
                finally:
                    self._not_committing.set()
            self.ingestor.after_commit()
            for connection, (consumed, counts) in covered.items():
                if consumed > connection.acknowledged:
                    connection.acknowledged, connection.acknowledged_counts = consumed, counts
                    line = " ".join(["COUNTS", *(f"{kind}={count}" for kind, count in sorted(counts.items()))])
                    with suppress(ConnectionError):
                        connection.writer.write(f"{line}\nACK {consumed}\n".encode())
                self._log_refusals(connection, counts)
            self._commits_done = self._commits_begun
        async with self._commit_done:
            self._commit_done.notify_all()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._serve_connection(reader, writer)
        except asyncio.CancelledError:  # the server stops: end quietly (Python 3.11 logs a cancelled handler as an error)
            writer.close()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            station = await self._greet(reader, writer)
        except Refusal as refusal:
            await self._refuse(reader, writer, refusal, f"{peer}")
            return
        except ConnectionError as error:
            LOG.info("connection from %s lost before its hello: %s", peer, error)
            writer.close()
            return
        connection = _Connection(station, peer, self.ingestor.decoder(), writer)
        self.connections.add(connection)
        LOG.info("station %s connected from %s", station, peer)
        try:
            while data := await self._read(reader, connection):
                self._take(connection, data)
                if connection.decoder.octets_without_packet >= READ_BYTES:
                    await self._not_committing.wait()  # noise so far: it waits while a commit runs, the others do not
            self._take(connection, b"", final=True)
            await self._next_commit()
            await writer.drain()
        except Refusal as refusal:
            await self._next_commit()  # what came before the refusal is acknowledged
            await self._refuse(reader, writer, refusal, f"station {station} from {peer}", linger=True)
        except asyncio.TimeoutError:
            LOG.info("station %s from %s idle for %g s: closed", station, peer, self.idle_timeout_s)
            with suppress(ConnectionError):
                writer.write(f"CLOSED idle for {self.idle_timeout_s:g} s\n".encode())
                await writer.drain()
        except ConnectionError as error:
            LOG.warning("station %s lost: %s", station, error)
        finally:
            self.connections.discard(connection)
            self._log_refusals(connection, connection.acknowledged_counts, closing=True)
            writer.close()

    async def _read(self, reader: asyncio.StreamReader, connection: _Connection) -> bytes:
        """The next octets (empty: the station half-closed). A pause of ``PAUSE_S`` with octets pending
        settles them (:func:`.framing.frame`); silence for ``idle_timeout_s`` raises TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.idle_timeout_s
        while True:
            wait = deadline - loop.time()
            if wait <= 0:
                raise asyncio.TimeoutError
            try:
                return await asyncio.wait_for(reader.read(READ_BYTES), min(wait, PAUSE_S) if connection.decoder.pending else wait)
            except asyncio.TimeoutError:
                if connection.decoder.pending:
                    self._take(connection, b"", paused=True)

    def _take(self, connection: _Connection, data: bytes, final: bool = False, paused: bool = False) -> None:
        """Frame ``data`` and queue its packets; a connection that only sends noise is refused."""
        packets, bad = connection.decoder.feed(data, final, paused)
        try:
            outcome = self.ingestor.accept(packets, connection.station, bad)
            connection.counts += outcome
            if outcome["stored"]:
                connection.stored_at = time.monotonic()
        except StationTableFull:
            raise Refusal("station_table_full", f"the store's station table is full ({MAX_STATIONS} stations)") from None
        if data and connection.decoder.octets_without_packet > self.max_octets_without_packet:
            raise Refusal("noise", f"no valid packet in {connection.decoder.octets_without_packet:,d} octets")

    async def _greet(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
        try:
            line = await asyncio.wait_for(reader.readuntil(b"\n"), self.hello_timeout_s)
        except asyncio.TimeoutError:
            raise Refusal("no_hello", f"no hello line within {self.hello_timeout_s:g} s") from None
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            line = b""
        hello = HELLO.fullmatch(line) if len(line) <= MAX_HELLO_BYTES else None
        if hello is None:
            raise Refusal("bad_hello", "the first line must be 'TWIN-TM/1 token=<token> station=<name>'")
        if not hmac.compare_digest(hello["token"], self.token):
            raise Refusal("wrong_token", "wrong token")
        station = hello["station"].decode()
        if not self.ingestor.has_room_for(station):
            raise Refusal("station_table_full", f"the store's station table is full ({MAX_STATIONS} stations)")
        writer.write(b"OK\n")
        await writer.drain()
        return station

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, refusal: Refusal,
                      who: str, linger: bool = False) -> None:
        """Count and log the refusal, send its reason and close; with ``linger``, first read and drop
        what the station still sends for a while, so that closing does not reset the connection
        before it has read the reason."""
        self.refused[refusal.kind] += 1
        LOG.warning("refused %s: %s", who, refusal.reason)
        with suppress(ConnectionError):
            writer.write(f"DENIED {refusal.reason}\n".encode())
            await writer.drain()
            if linger:
                writer.write_eof()
                with suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(_drop_until_closed(reader), LINGER_S)
        writer.close()

    def _log_refusals(self, connection: _Connection, counts: Counter, closing: bool = False) -> None:
        """Log the packets refused on ``connection`` not yet logged: at most every ``LOG_REFUSALS_EVERY_S``, and when it closes."""
        refused = +Counter({kind: counts[kind] - connection.logged[kind] for kind in REFUSED})
        if refused and (closing or time.monotonic() - connection.logged_at >= LOG_REFUSALS_EVERY_S):
            LOG.warning("station %s: refused %d packets (%s)", connection.station, sum(refused.values()),
                        ", ".join(f"{kind} {count}" for kind, count in sorted(refused.items())))
            connection.logged.update(refused)
            connection.logged_at = time.monotonic()
        if closing:
            LOG.info("station %s from %s disconnected: %d packets stored", connection.station, connection.peer,
                     connection.acknowledged_counts["stored"])

    def close(self) -> None:
        if self._server is not None:
            self._server.close()


async def _drop_until_closed(reader: asyncio.StreamReader, most_octets: int = LINGER_OCTETS) -> None:
    while most_octets > 0 and (data := await reader.read(READ_BYTES)):
        most_octets -= len(data)


def run_server(store_path: str, token: str, host: str = "127.0.0.1", port: int = 0, ready=None, **options) -> None:
    """Run a server until SIGINT or SIGTERM; ``ready(port)`` is called once it listens."""
    async def main() -> None:
        with MeasurementStore(store_path) as measurements:
            server = IngestServer(measurements, token, host, port, **options)
            bound = await server.start()
            if threading.current_thread() is threading.main_thread():
                loop = asyncio.get_running_loop()
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(signum, server.close)
            if ready is not None:
                ready(bound)
            with suppress(asyncio.CancelledError):
                await server.serve_forever()

    asyncio.run(main())
