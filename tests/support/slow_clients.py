"""Connections that hold a server open the way slow or idle clients do, for the tests
and the benchmark of slow clients (``python -m bench slow-clients``)."""

from __future__ import annotations

import contextlib
import socket
import threading

__all__ = ["SlowClients"]


class SlowClients:
    """Connections to ``127.0.0.1:port`` that hold the server: ``idle`` send nothing,
    ``headers`` send a request line and then one header line a second, ``bodies`` send
    whole headers of a POST and then one byte of its body a second.  Stop with
    ``close()``."""

    def __init__(self, port: int, idle: int, headers: int, bodies: int) -> None:
        self.stop = threading.Event()
        self.idle: list[socket.socket] = []
        self.headers: list[socket.socket] = []
        self.bodies: list[socket.socket] = []
        try:
            self.idle = [self._connect(port) for _ in range(idle)]
            self.headers = [self._connect(port) for _ in range(headers)]
            self.bodies = [self._connect(port) for _ in range(bodies)]
            for sock in self.headers:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
            for sock in self.bodies:
                sock.sendall(
                    b"POST /api/related HTTP/1.1\r\nHost: slow\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
                )
        except BaseException:
            self._close_all()
            raise
        self.thread = threading.Thread(target=self._dribble, daemon=True)
        self.thread.start()

    @property
    def count(self) -> int:
        """How many connections are held."""
        return len(self.idle) + len(self.headers) + len(self.bodies)

    @staticmethod
    def _connect(port: int) -> socket.socket:
        return socket.create_connection(("127.0.0.1", port), timeout=5)

    def _dribble(self) -> None:
        while not self.stop.wait(1.0):
            for socks, data in ((self.headers, b"X-Slow: 1\r\n"), (self.bodies, b" ")):
                for sock in socks:
                    # A connection the server has closed (its deadline passed) stays
                    # closed: the client goes on with the others.
                    with contextlib.suppress(OSError):
                        sock.sendall(data)

    def closed_by_server(self) -> int:
        """How many of the connections the server has closed (a read sees the end or a
        reset), without waiting."""
        closed = 0
        for sock in self.idle + self.headers + self.bodies:
            sock.setblocking(False)
            try:
                while True:
                    data = sock.recv(65536)
                    if not data:
                        closed += 1
                        break
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
            finally:
                sock.settimeout(5)
        return closed

    def _close_all(self) -> None:
        for sock in self.idle + self.headers + self.bodies:
            sock.close()

    def close(self) -> None:
        """Stop sending and close every connection."""
        self.stop.set()
        self.thread.join(timeout=10)
        self._close_all()
