"""The ingest server: packet streams from ground stations over TCP into the measurement store.

Protocol (one TCP connection per ground station, any number at once):

1. The station sends one line, ``TWIN-TM/1 token=<token> station=<name>\\n``. The server answers
   ``OK\\n``, or ``DENIED <reason>\\n`` and closes: a wrong or missing token, a bad line.
2. The station sends CCSDS packets back to back, as they come.
3. After each commit the server sends ``ACK <n>\\n``: the first ``n`` octets of this connection are
   in the store (or were counted as bad input) and survive a crash of the server. A station keeps
   what is not yet acknowledged and sends it again after a reconnection; the copies that had in
   fact been stored are recognised as duplicates.
4. The station half-closes when done; the server commits, sends the last ``ACK`` and closes.

Commits run in a worker thread every ``commit_interval_s`` while the event loop keeps reading.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import signal
import threading
from contextlib import suppress
from dataclasses import dataclass

from twin.telemetry.ingest import Ingestor, StreamDecoder
from twin.telemetry.store import MeasurementStore

LOG = logging.getLogger("twin.telemetry.server")
HELLO = re.compile(rb"TWIN-TM/1 token=(?P<token>\S+) station=(?P<station>[\w.-]{1,64})\n")
MAX_HELLO_BYTES = 256
HELLO_TIMEOUT_S = 10.0
READ_BYTES = 1 << 20


@dataclass(eq=False)
class _Connection:
    station: str
    decoder: StreamDecoder
    writer: asyncio.StreamWriter
    acknowledged: int = 0


class IngestServer:
    """Serves :class:`Ingestor` over TCP; ``await serve_forever()`` or use :func:`run_server`."""

    def __init__(self, store: MeasurementStore, token: str, host: str = "127.0.0.1", port: int = 0,
                 commit_interval_s: float = 0.25, **ingest_options):
        if not token:
            raise ValueError("token: an empty token would let anyone in; give one")
        self.store = store
        self.ingestor = Ingestor(store, **ingest_options)
        self.token = token.encode()
        self.host, self.port = host, port
        self.commit_interval_s = commit_interval_s
        self.connections: set[_Connection] = set()
        self.refused = 0
        self._server: asyncio.base_events.Server | None = None
        self._commit_lock = asyncio.Lock()

    async def start(self) -> int:
        """Listen; returns the port (useful with ``port=0``)."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port, limit=READ_BYTES)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def serve_forever(self) -> None:
        committer = asyncio.create_task(self._commit_loop())
        try:
            await self._server.serve_forever()
        finally:
            committer.cancel()
            with suppress(asyncio.CancelledError):
                await committer
            await self.commit()

    async def _commit_loop(self) -> None:
        while True:
            await asyncio.sleep(self.commit_interval_s)
            await self.commit()

    async def commit(self) -> None:
        """Store what is queued, then acknowledge to every connection what that covers."""
        async with self._commit_lock:
            covered = {connection: connection.decoder.consumed for connection in self.connections}
            batches, counts = self.ingestor.take_pending()
            if any(batches.values()) or counts or any(c.acknowledged < n for c, n in covered.items()):
                await asyncio.to_thread(self.store.commit, batches, counts)
            for connection, consumed in covered.items():
                if consumed > connection.acknowledged:
                    connection.acknowledged = consumed
                    with suppress(ConnectionError):
                        connection.writer.write(b"ACK %d\n" % consumed)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            station = await self._greet(reader, writer)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError) as error:
            self.refused += 1
            LOG.warning("refused %s: %s", peer, error)
            with suppress(ConnectionError):
                writer.write(f"DENIED {error}\n".encode())
                await writer.drain()
            writer.close()
            return
        connection = _Connection(station, self.ingestor.decoder(), writer)
        self.connections.add(connection)
        LOG.info("station %s connected from %s", station, peer)
        try:
            while data := await reader.read(READ_BYTES):
                packets, bad = connection.decoder.feed(data)
                self.ingestor.accept(packets, station, bad)
            packets, bad = connection.decoder.feed(b"", final=True)
            self.ingestor.accept(packets, station, bad)
            await self.commit()
            await writer.drain()
        except ConnectionError as error:
            LOG.warning("station %s lost: %s", station, error)
        finally:
            self.connections.discard(connection)
            writer.close()

    async def _greet(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
        line = await asyncio.wait_for(reader.readuntil(b"\n"), HELLO_TIMEOUT_S)
        hello = HELLO.fullmatch(line) if len(line) <= MAX_HELLO_BYTES else None
        if hello is None:
            raise ValueError("the first line must be 'TWIN-TM/1 token=<token> station=<name>'")
        if not hmac.compare_digest(hello["token"], self.token):
            raise ValueError("wrong token")
        writer.write(b"OK\n")
        await writer.drain()
        return hello["station"].decode()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()


def run_server(store_path: str, token: str, host: str = "127.0.0.1", port: int = 0, ready=None, **options) -> None:
    """Run a server until SIGINT or SIGTERM; ``ready(port)`` is called once it listens."""
    async def main() -> None:
        server = IngestServer(MeasurementStore(store_path), token, host, port, **options)
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
