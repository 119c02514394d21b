"""The requests one process is serving, kept for the time limit that only the server
can enforce, because the code that is late cannot check the clock itself: a request
that runs too long.  A thread cannot be stopped, so the gunicorn worker
(``api/worker.py``) is restarted, and every request it was serving is recorded as
failed and answered 500 ``worker_timeout`` before it goes.

The gunicorn worker's main loop calls ``oldest_started()`` about once a second; the
request middleware registers each request.

Slow heads and bodies never reach the application: the worker reads them in its loop.
A body it cut at its deadline is handed over with ``BODY_CUT`` set in the request's
WSGI environ (what had arrived is the body), which ``api/body.py`` answers 408.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

__all__ = ["BODY_CUT", "RequestsInFlight"]

#: WSGI environ key: True when the server cut the body at its deadline.
BODY_CUT = "eventsearch.body_cut"


@dataclass
class _Serving:
    started: float
    socket: socket.socket | None
    # Records the request as failed and gives the JSON body to answer it with.
    on_abort: Callable[[], bytes]


def _shut(sock: socket.socket, how: int) -> None:
    with contextlib.suppress(OSError):  # already closed by the client or the server
        sock.shutdown(how)


def _answer_500(sock: socket.socket, body: bytes) -> None:
    """Send a complete 500 response carrying ``body`` and close the connection.  Only
    for a request whose response has not begun: its middleware has not finished."""
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode("ascii")
    with contextlib.suppress(OSError):
        sock.settimeout(0.5)  # a client that reads nothing cannot hold the abort
        sock.sendall(head + body)
    _shut(sock, socket.SHUT_RDWR)


class RequestsInFlight:
    """Thread-safe table of the requests being served, keyed by request object."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._serving: dict[object, _Serving] = {}
        self._lock = threading.Lock()

    def start(self, key: object, sock: socket.socket | None, on_abort: Callable[[], bytes]) -> None:
        """A request has arrived (its headers are read); ``sock`` is its connection, if
        the server gives it (gunicorn does)."""
        with self._lock:
            self._serving[key] = _Serving(self.clock(), sock, on_abort)

    def finish(self, key: object) -> bool:
        """The request is answered.  False when ``abort()`` already answered it."""
        with self._lock:
            return self._serving.pop(key, None) is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._serving)

    def oldest_started(self) -> float | None:
        """When the longest-running request arrived (the clock's time), or None."""
        with self._lock:
            return min((s.started for s in self._serving.values()), default=None)

    def abort(self) -> int:
        """Record every request being served as failed and answer it 500: the process
        is about to end.  Returns how many there were."""
        with self._lock:
            taken = list(self._serving.values())
            self._serving.clear()
        for serving in taken:
            body = serving.on_abort()
            if serving.socket is not None:
                _answer_500(serving.socket, body)
        return len(taken)
