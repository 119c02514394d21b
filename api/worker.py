"""How gunicorn runs the app: the worker class, and the directory of the workers' metrics.

**Worker.**  ``ThreadWorker`` is gunicorn's ``gthread`` worker, changed so that no
thread ever waits for a client.  Its main loop (a selector over non-blocking sockets)
accepts connections and reads every request, head and body, as its bytes arrive
(``api/framing.py``); only a whole request is handed to the bounded pool of threads
(``EVENTSEARCH_THREADS``) that run the application and write its answer.  A client
that sends nothing, or sends its request a byte at a time, costs a socket and a
buffer, not a thread, so the threads stay free for searches however many such
clients there are, up to ``worker_connections`` per worker
(``EVENTSEARCH_WORKER_CONNECTIONS``; more wait in the listen queue).  The worker
raises its open-files limit to fit them.  Searching is CPU-bound and the engine
gives each thread its own searcher (``search/reader.py``).

Time limits, enforced by the loop about twice a second:

- a request head must arrive whole within ``EVENTSEARCH_HEADER_TIMEOUT`` seconds of
  the connection opening (or of its first byte, on a kept-alive connection), else it
  is answered 408 ``header_timeout``; a connection that sends nothing is closed then
  (and a kept-alive one after ``EVENTSEARCH_KEEPALIVE``);
- a body must arrive within ``EVENTSEARCH_BODY_TIMEOUT`` of its head; a late one goes
  to the application cut (``BODY_CUT`` in its environ), which answers 408
  ``body_timeout`` and logs and counts it under its route;
- a request the HTTP layer cannot serve is answered by the loop in the one error
  shape (``api/errors.py``), logged and counted by the app (``App.refused``), and
  its connection closed: 400, 413, 414, 417, 431, 501 (``api/framing.py`` says
  which); ``100 Continue`` is sent by the loop only for a body it will accept;
- when a request has run longer than ``EVENTSEARCH_TIMEOUT``, the worker is aborted
  as gunicorn aborts a sync worker: every request it is serving is logged and counted
  as a 500 ``worker_timeout`` and answered so, then the process ends and gunicorn
  starts another.  A thread cannot be stopped alone.  The arbiter's own abort
  (``SIGABRT``, when the main loop stops) takes the same path.

A thread writes its answer with a socket time limit of ``EVENTSEARCH_TIMEOUT``
seconds, so a client that never reads cannot hold it longer.  Plain HTTP only: TLS
ends in front of the service.

**Metrics directory.**  prometheus-client's multiprocess mode keeps each worker's
values in files of one directory.  ``make_metrics_directory`` makes a private one
(0700) for this run, inside ``PROMETHEUS_MULTIPROC_DIR`` when the operator set it,
and ``remove_metrics_directory`` removes it at exit: nothing else is ever deleted.
Neither this module nor anything it imports loads prometheus-client, which decides
on its mode when first imported: gunicorn imports this module in its master process
before the directory exists.
"""

from __future__ import annotations

import contextlib
import email.utils
import errno
import os
import resource
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from pathlib import Path
from types import FrameType
from typing import Any

from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn
from gunicorn.workers.gthread import ThreadWorker as _GthreadWorker

from api.errors import error_json, status_of
from api.framing import BodyStarts, Ready, Refusal, RequestFramer
from api.inflight import BODY_CUT, RequestsInFlight
from config import Config

__all__ = [
    "ThreadWorker",
    "make_metrics_directory",
    "raise_open_files_limit",
    "remove_metrics_directories",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# What make_metrics_directory made in this process (gunicorn's master), to remove at
# exit.  Kept here, not in the config file, which gunicorn reads again on SIGHUP.
_made: list[Path] = []

_RECV_BYTES = 65536
_SWEEP = 0.5  # seconds between two checks of the reading connections' deadlines
_LINGER = 2.0  # seconds a connection is read and discarded after its last answer
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# File descriptors a worker needs besides its connections: listeners, index files,
# the metrics files, pipes.
_SPARE_FILES = 256


def raise_open_files_limit(needed: int) -> int:
    """Raise this process's soft limit of open files (RLIMIT_NOFILE) to ``needed``, as
    far as its hard limit allows; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return soft


def _response(status: int, body: bytes, request_id: str) -> bytes:
    """A whole HTTP/1.1 answer carrying a JSON ``body``, closing the connection."""
    phrase = HTTPStatus(status).phrase
    head = (
        f"HTTP/1.1 {status} {phrase}\r\n"
        f"Date: {email.utils.formatdate(usegmt=True)}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-ID: {request_id}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def _send(sock: socket.socket, data: bytes) -> bool:
    """Send ``data`` without waiting; whether all of it went (a short answer always
    fits in a connection's empty send buffer)."""
    try:
        return sock.send(data) == len(data)
    except OSError:
        return False


@dataclass
class _Reading:
    """A connection whose next request the loop is reading."""

    conn: Any  # gunicorn's TConn
    framer: RequestFramer
    deadline: float = 0.0
    kept_alive: bool = False  # waiting for the next request after an answer
    lingering: bool = False  # answered and closing: what arrives is discarded


class ThreadWorker(_GthreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker that reads requests in its event loop and hands only
    whole requests to its threads, with time limits per head, body and request."""

    def init_process(self) -> None:
        settings = Config.from_env()
        if self.cfg.is_ssl:
            raise RuntimeError("api.worker.ThreadWorker serves plain HTTP: end TLS in front")
        self.header_timeout = settings.header_timeout
        self.body_timeout = settings.body_timeout
        self.max_body_bytes = settings.max_body_bytes
        self.reading: dict[int, _Reading] = {}  # by file descriptor
        self.next_sweep = 0.0
        self.local = threading.local()
        raise_open_files_limit(self.cfg.worker_connections + _SPARE_FILES)
        super().init_process()

    def load_wsgi(self) -> None:
        """Load the application, and pass it what the loop knows of each request."""
        super().load_wsgi()
        self.application: Any = self.wsgi  # type: ignore[has-type]
        self.wsgi = self._call_application

    def _call_application(self, environ: dict[str, Any], start_response: Any) -> Any:
        if getattr(self.local, "late", False):
            environ[BODY_CUT] = True
        return self.application(environ, start_response)

    def _in_flight(self) -> RequestsInFlight | None:
        found = getattr(getattr(self, "application", None), "in_flight", None)
        return found if isinstance(found, RequestsInFlight) else None

    # -- the event loop: connections being read ------------------------------------

    def accept(self, listener: socket.socket) -> None:
        """Accept a connection and wait, in the loop, for its first request."""
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client, address, listener.getsockname())  # non-blocking
        reading = _Reading(conn, RequestFramer(self.cfg, address, self.max_body_bytes))
        self._read_next(reading, time.monotonic() + self.header_timeout)

    def _read_next(self, reading: _Reading, deadline: float) -> None:
        """Read the connection's next request in the loop, by ``deadline``."""
        reading.deadline = deadline
        fd = reading.conn.sock.fileno()
        self.reading[fd] = reading
        if reading.framer.buf:  # pipelined: already here, in part or whole
            self._advance(reading)
            if self.reading.get(fd) is not reading:
                return
        self.poller.register(
            reading.conn.sock, selectors.EVENT_READ, partial(self._readable, reading)
        )

    def _readable(self, reading: _Reading, sock: socket.socket) -> None:
        try:
            data = sock.recv(_RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if reading.lingering:
            if not data:
                self._drop(reading)
            return
        if not data:  # the client has gone
            self._drop(reading)
            return
        if reading.framer.idle and reading.kept_alive:
            # A kept-alive connection's next request has begun: its head has its time.
            reading.kept_alive = False
            reading.deadline = time.monotonic() + self.header_timeout
        reading.framer.feed(data)
        self._advance(reading)

    def _advance(self, reading: _Reading) -> None:
        """Act on what the bytes so far make of the request."""
        while True:
            try:
                outcome = reading.framer.step()
            except Refusal as refusal:
                self._refuse(reading, refusal)
                return
            except Exception:  # one request must not end the loop that reads them all
                self.log.exception("failed to read a request from %s", reading.conn.client)
                message = "the server failed to read the request; the error was logged"
                self._refuse(reading, Refusal("internal_error", message))
                return
            if outcome is None:
                return
            if isinstance(outcome, BodyStarts):
                reading.deadline = time.monotonic() + self.body_timeout
                if outcome.expects_continue and not _send(reading.conn.sock, _CONTINUE):
                    self._drop(reading)
                    return
                continue
            self._dispatch(reading, outcome)
            return

    def _dispatch(self, reading: _Reading, ready: Ready) -> None:
        """Hand a whole request to a thread."""
        self._unwatch(reading)
        reading.conn.ready = ready
        reading.conn.reading = reading
        self.enqueue_req(reading.conn)

    def _refuse(self, reading: _Reading, refusal: Refusal) -> None:
        """Answer a request that will not be served, then close its connection."""
        status = status_of(refusal.code)
        method, path = reading.framer.method_and_path
        record = getattr(self.application, "refused", None)
        request_id = record(status, refusal.code, method, path) if record else uuid.uuid4().hex
        body = error_json(refusal.code, refusal.message)
        _send(reading.conn.sock, _response(status, body, request_id))
        self._linger(reading)

    def _linger(self, reading: _Reading) -> None:
        """Close after an answer: stop writing, and read what the client still sends
        (a close with unread bytes would reset the connection and could destroy the
        answer) until it closes or ``_LINGER`` seconds have passed."""
        with contextlib.suppress(OSError):
            reading.conn.sock.shutdown(socket.SHUT_WR)
        reading.lingering = True
        reading.deadline = time.monotonic() + _LINGER

    def _unwatch(self, reading: _Reading) -> None:
        self.reading.pop(reading.conn.sock.fileno(), None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(reading.conn.sock)

    def _drop(self, reading: _Reading) -> None:
        self._unwatch(reading)
        self.nr_conns -= 1
        reading.conn.close()

    def murder_pending(self) -> None:
        """Enforce the deadlines of the connections being read, about twice a second:
        a head later than ``EVENTSEARCH_HEADER_TIMEOUT`` is answered 408
        ``header_timeout``, a body later than ``EVENTSEARCH_BODY_TIMEOUT`` goes to the
        application as cut (408 ``body_timeout``), and a connection that sent nothing
        (new, or kept alive past ``keepalive``) is closed."""
        super().murder_pending()
        now = time.monotonic()
        if now < self.next_sweep:
            return
        self.next_sweep = now + _SWEEP
        if not self.alive:
            # Stopping: what has not begun a request gets a short grace only.
            for reading in self.reading.values():
                if reading.framer.idle and not reading.lingering:
                    reading.deadline = min(reading.deadline, now + STOP_KEEPALIVE_LINGER)
        for reading in [r for r in self.reading.values() if r.deadline <= now]:
            if reading.lingering or reading.framer.idle:
                self._drop(reading)
            elif reading.framer.in_body:
                cut = reading.framer.cut()
                assert cut is not None
                self._dispatch(reading, cut)
            else:
                self._refuse(
                    reading,
                    Refusal(
                        "header_timeout",
                        f"the request head did not arrive within {self.header_timeout:g} s",
                    ),
                )

    # -- the threads: whole requests -----------------------------------------------

    def handle(self, conn: TConn) -> bool:
        """Serve the whole request the loop read (in a thread); whether the connection
        stays open for another."""
        ready: Ready = conn.ready
        conn.ready = None
        self.local.late = ready.late
        try:
            conn.sock.setblocking(True)
            # A client that does not read its answer holds the thread this long at most.
            conn.sock.settimeout(self.cfg.timeout)
            return bool(self.handle_request(ready.request, conn))
        except StopIteration:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, None):
                self.log.exception("Socket error processing request.")
            return False
        except Exception as exc:  # noqa: BLE001 - the server answers whatever failed
            self.handle_error(ready.request, conn.sock, conn.client, exc)
            return False
        finally:
            self.local.late = False

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        """Answer a failure outside the application in the one error shape."""
        self.log.exception("Error handling request %s", getattr(req, "uri", ""))
        message = "the server failed to answer; the error was logged"
        with contextlib.suppress(OSError):
            client.sendall(_response(500, error_json("internal_error", message), uuid.uuid4().hex))

    def finish_request(self, conn: TConn, fs: Any) -> None:
        """Back in the loop once a thread has answered: read the connection's next
        request, or close it."""
        reading: _Reading = conn.reading
        keep = bool(fs.result()) if not fs.cancelled() else False  # handle() never raises
        if conn.sock.fileno() < 0:  # the thread closed it (an answer cut short)
            self.nr_conns -= 1
            return
        try:
            conn.sock.setblocking(False)
            if keep:
                reading.kept_alive = True
                idle = self.cfg.keepalive if self.alive else STOP_KEEPALIVE_LINGER
                self._read_next(reading, time.monotonic() + idle)
            else:
                self.reading[conn.sock.fileno()] = reading
                self.poller.register(
                    conn.sock, selectors.EVENT_READ, partial(self._readable, reading)
                )
                self._linger(reading)
        except OSError:  # the connection failed meanwhile
            self._drop(reading)

    # -- the heartbeat: time limits of requests --------------------------------------

    def notify(self) -> None:
        """The heartbeat gunicorn calls from the main loop, with the time limit."""
        in_flight = self._in_flight()
        if in_flight is not None:
            oldest = in_flight.oldest_started()
            if oldest is not None and in_flight.clock() - oldest > self.cfg.timeout:
                self.log.critical(
                    "WORKER TIMEOUT (pid:%s): a request ran over %s s", self.pid, self.cfg.timeout
                )
                self.handle_abort(signal.SIGABRT, None)
        super().notify()

    def handle_abort(self, sig: int, frame: FrameType | None) -> None:
        """Answer and record every request in flight, run the ``worker_abort`` hook, and
        end the process at once: waiting for the late thread could take for ever."""
        self.alive = False
        in_flight = self._in_flight()
        answered = in_flight.abort() if in_flight is not None else 0
        self.log.critical(
            "worker %s restarted: %d requests in flight answered 500 worker_timeout",
            self.pid,
            answered,
        )
        self.cfg.worker_abort(self)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


def make_metrics_directory(environ: Any = os.environ) -> Path:
    """A new private directory for this run's metrics files, which ``environ``'s
    ``PROMETHEUS_MULTIPROC_DIR`` then names (set it before any worker starts)."""
    parent = environ.get(MULTIPROC_ENV) or None
    if parent is not None and not os.path.isdir(parent):
        raise SystemExit(f"{MULTIPROC_ENV}={parent!r} is not a directory")
    path = Path(tempfile.mkdtemp(prefix="eventsearch-metrics-", dir=parent))  # mode 0700
    environ[MULTIPROC_ENV] = str(path)
    _made.append(path)
    return path


def remove_metrics_directories() -> None:
    """Remove the directories ``make_metrics_directory`` made in this process."""
    while _made:
        shutil.rmtree(_made.pop(), ignore_errors=True)
