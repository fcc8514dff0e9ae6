"""A ground station's side of the ingest protocol (:mod:`.server`): send, keep until acknowledged, resend.

The sender keeps every octet the server has not acknowledged. If the connection drops (the
server restarted, the network failed) it reconnects and sends them again, so a server crash loses
nothing a station sent; the server recognises the copies it had already stored as duplicates.
"""

from __future__ import annotations

import socket
import threading
import time

HANDSHAKE_TIMEOUT_S = 10.0


class SenderError(ConnectionError):
    """The server refused the station, or stayed unreachable past the timeout."""


class TelemetrySender:
    """Streams octets to an ingest server as station ``station``; use as a context manager."""

    def __init__(self, host: str, port: int, token: str, station: str, timeout_s: float = 30.0,
                 max_unacknowledged_bytes: int = 64 << 20):
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
        self._dead = False  # the current connection's reader saw it end
        self._connect()

    def _connect(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                sock = socket.create_connection(self.address, timeout=HANDSHAKE_TIMEOUT_S)
                sock.sendall(f"TWIN-TM/1 token={self.token} station={self.station}\n".encode())
                answer = sock.makefile("rb").readline()
                if answer != b"OK\n":
                    sock.close()
                    raise SenderError(f"server {self.address[0]}:{self.address[1]} refused station "
                                      f"{self.station!r}: {answer.decode(errors='replace').strip() or 'closed'}")
                break
            except SenderError:
                raise
            except OSError as error:
                if time.monotonic() > deadline:
                    raise SenderError(f"server {self.address[0]}:{self.address[1]}: {error}") from error
                time.sleep(0.2)
        sock.settimeout(None)
        with self._lock:
            self._socket, self._dead = sock, False
            self._base = self.acknowledged_total
            resend = bytes(self._unacknowledged)
        threading.Thread(target=self._read_acknowledgements, args=(sock,), daemon=True).start()
        if resend:
            try:
                sock.sendall(resend)
            except OSError:  # the server went away again: the next send or flush reconnects
                with self._lock:
                    if sock is self._socket:
                        self._dead = True

    def _read_acknowledgements(self, sock: socket.socket) -> None:
        try:
            with sock.makefile("rb") as lines:
                for line in lines:
                    if line.startswith(b"ACK "):
                        self._acknowledge(sock, int(line[4:]))
        except (OSError, ValueError):
            pass
        with self._lock:
            if sock is self._socket:
                self._dead = True
                self._lock.notify_all()

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
        self.reconnections += 1
        with self._lock:
            old, self._socket = self._socket, None
        if old is not None:
            old.close()
        self._connect()

    def send(self, data: bytes) -> None:
        """Send ``data``, waiting first if too much is still unacknowledged."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._unacknowledged) < self.max_unacknowledged, self.timeout_s):
                raise SenderError(f"no acknowledgement from {self.address} for {self.timeout_s} s")
            self._unacknowledged += data
            self.sent_total += len(data)
            sock, dead = self._socket, self._dead
        try:
            if dead:
                raise ConnectionResetError("the server closed the connection")
            sock.sendall(data)
        except OSError:
            self._reconnect()  # resends everything unacknowledged, this data included

    def flush(self) -> int:
        """Half-close and wait until the server acknowledged everything; returns octets acknowledged."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                self._socket.shutdown(socket.SHUT_WR)
            except OSError:
                pass
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
        with self._lock:
            sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()

    def __enter__(self) -> "TelemetrySender":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
