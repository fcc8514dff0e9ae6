"""A ground station's side of the ingest protocol (:mod:`.server`): send, keep until acknowledged, resend.

The sender keeps every octet the server has not acknowledged. If the connection drops (the
server restarted, the network failed, the server closed it for being idle) it reconnects and
sends them again, so a server crash loses nothing a station sent; the server recognises the
copies it had already stored as duplicates. What became of the packets (stored, refused by kind)
is in :attr:`TelemetrySender.counts`. A refusal (``DENIED``) ends the sender: sending the same
octets again would be refused again. Telecommands the server uplinks (``TC`` lines) go to
``on_command(command_id, packet)``, each id once.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from contextlib import suppress

HANDSHAKE_TIMEOUT_S = 10.0


class SenderError(ConnectionError):
    """The server refused the station, or stayed unreachable past the timeout."""


class TelemetrySender:
    """Streams octets to an ingest server as station ``station``; use as a context manager."""

    def __init__(self, host: str, port: int, token: str, station: str, timeout_s: float = 30.0,
                 max_unacknowledged_bytes: int = 64 << 20, on_command=None):
        self.address = (host, port)
        self.token, self.station = token, station
        self.timeout_s = timeout_s
        self.max_unacknowledged = max_unacknowledged_bytes
        self.sent_total = 0          # octets handed to send()
        self.acknowledged_total = 0  # octets the server has committed
        self.reconnections = 0
        self._unacknowledged = bytearray()  # stream[acknowledged_total:sent_total]
        self._base = 0                      # stream offset where the current connection began
        self._lock = threading.Condition()
        self._socket: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self._dead = False  # the current connection's reader saw it end
        self._refusal = ""  # the server's reason, once it refused this station
        self._counts_before = Counter()  # what became of the packets of earlier connections
        self._counts = Counter()         # ... and of this one's, as its last COUNTS line said
        self.on_command = on_command
        self.commands_received: set[str] = set()
        self._connect()

    @property
    def counts(self) -> Counter:
        """What the server did with the packets acknowledged so far: ``stored``, and refused by kind."""
        with self._lock:
            return self._counts_before + self._counts

    def _where(self) -> str:
        return f"server {self.address[0]}:{self.address[1]}"

    def _refused(self, reason: str) -> SenderError:
        return SenderError(f"{self._where()} refused station {self.station!r}: {reason}")

    def _connect(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                sock = socket.create_connection(self.address, timeout=HANDSHAKE_TIMEOUT_S)
                sock.sendall(f"TWIN-TM/1 token={self.token} station={self.station}\n".encode())
                lines = sock.makefile("rb")
                answer = lines.readline()
                if answer != b"OK\n":
                    lines.close()
                    sock.close()
                    raise self._refused(answer.decode(errors="replace").strip().removeprefix("DENIED ") or "closed")
                break
            except SenderError:
                raise
            except OSError as error:
                if time.monotonic() > deadline:
                    raise SenderError(f"{self._where()}: {error}") from error
                time.sleep(0.2)
        sock.settimeout(None)
        with self._lock:
            self._socket, self._dead = sock, False
            self._base = self.acknowledged_total
            resend = bytes(self._unacknowledged)
        self._reader = threading.Thread(target=self._read_lines, args=(sock, lines), daemon=True)
        self._reader.start()
        if resend:
            try:
                sock.sendall(resend)
            except OSError:  # the server went away again: the next send or flush reconnects
                with self._lock:
                    if sock is self._socket:
                        self._dead = True

    def _read_lines(self, sock: socket.socket, lines) -> None:
        """The server's lines on one connection: COUNTS, ACK, a refusal, or a close."""
        try:
            with lines:
                for line in lines:
                    if line.startswith(b"ACK "):
                        self._acknowledge(sock, int(line[4:]))
                    elif line.startswith(b"COUNTS"):
                        counts = Counter({kind: int(count) for kind, _, count in
                                          (item.partition("=") for item in line.decode().split()[1:])})
                        with self._lock:
                            if sock is self._socket:
                                self._counts = counts
                    elif line.startswith(b"TC "):
                        self._command(line)
                    elif line.startswith(b"DENIED "):
                        with self._lock:
                            self._refusal = line[7:].decode(errors="replace").strip()
        except (OSError, ValueError):
            pass
        with self._lock:
            if sock is self._socket:
                self._dead = True
                self._lock.notify_all()

    def _command(self, line: bytes) -> None:
        """A ``TC <id> <hex>`` line: hand the packet to ``on_command`` unless this id came before."""
        try:
            _, command_id, text = line.decode(errors="replace").split()
            packet = bytes.fromhex(text)
        except ValueError:  # not a TC line this client understands: skipped, as unknown lines are
            return
        with self._lock:
            if command_id in self.commands_received:
                return
            self.commands_received.add(command_id)
        if self.on_command is not None:
            self.on_command(command_id, packet)

    def _acknowledge(self, sock: socket.socket, octets: int) -> None:
        with self._lock:
            if sock is not self._socket:
                return
            total = self._base + octets
            if total > self.acknowledged_total:
                del self._unacknowledged[:total - self.acknowledged_total]
                self.acknowledged_total = total
                self._lock.notify_all()

    def _reconnect(self) -> None:
        """Connect again after the connection ended, unless the server refused the station."""
        if self._reader is not None:
            self._reader.join(HANDSHAKE_TIMEOUT_S)  # its last lines (counts, a refusal) are read first
        with self._lock:
            old, self._socket = self._socket, None
            self._counts_before += self._counts
            self._counts = Counter()
            refusal = self._refusal
        if old is not None:
            old.close()
        if refusal:
            raise self._refused(refusal)
        self.reconnections += 1
        self._connect()

    def send(self, data: bytes) -> None:
        """Send ``data``, waiting first if too much is still unacknowledged."""
        with self._lock:
            if self._refusal:
                raise self._refused(self._refusal)
            if not self._lock.wait_for(lambda: len(self._unacknowledged) < self.max_unacknowledged, self.timeout_s):
                raise SenderError(f"no acknowledgement from {self._where()} for {self.timeout_s} s")
            self._unacknowledged += data
            self.sent_total += len(data)
            sock, dead = self._socket, self._dead
        try:
            if dead:
                raise ConnectionResetError("the server closed the connection")
            sock.sendall(data)
        except OSError:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_WR)  # the server reads to its end, so a refusal's reason arrives
            self._reconnect()  # resends everything unacknowledged, this data included

    def flush(self) -> int:
        """Half-close and wait until the server acknowledged everything; returns octets acknowledged."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            with suppress(OSError):
                self._socket.shutdown(socket.SHUT_WR)
            with self._lock:
                self._lock.wait_for(lambda: self.acknowledged_total >= self.sent_total or self._dead, 1.0)
                if self.acknowledged_total >= self.sent_total:
                    return self.acknowledged_total
                dead = self._dead
            if time.monotonic() > deadline:
                raise SenderError(f"{self.sent_total - self.acknowledged_total} octets never acknowledged "
                                  f"by {self.address[0]}:{self.address[1]}")
            if dead:
                self._reconnect()

    def close(self) -> None:
        """Close the connection (its acknowledgement reader stops too)."""
        with self._lock:
            sock, self._socket = self._socket, None
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def __enter__(self) -> "TelemetrySender":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
