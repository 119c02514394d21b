"""How gunicorn runs the app: the worker class, and the directory of the workers' metrics.

**Worker.**  ``ThreadWorker`` is gunicorn's ``gthread`` worker: a main loop accepts
connections and keeps idle keep-alive connections in a poller, and a bounded pool of
threads (``EVENTSEARCH_THREADS``) reads requests and answers them.  A client that
sends nothing, or sends its request slowly, holds one thread, not the whole worker
as it held a sync worker.  Searching is CPU-bound and the engine gives each thread
its own searcher (``search/reader.py``), so threads share the worker's caches but
never a searcher.

gthread's own timeout only notices a main loop that stopped, never a slow request.
The main loop calls ``notify()`` about once a second; here it also

- shuts the reading side of a connection whose body is later than
  ``EVENTSEARCH_BODY_TIMEOUT`` (the request is answered 408), and
- when a request has run longer than ``EVENTSEARCH_TIMEOUT``, aborts the worker as
  gunicorn aborts a sync worker: every request it is serving is logged and counted
  as a 500 ``worker_timeout`` and answered so, then the process ends and gunicorn
  starts another.  A thread cannot be stopped alone.

The arbiter's own abort (``SIGABRT``, when the main loop stops) takes the same path.

**Metrics directory.**  prometheus-client's multiprocess mode keeps each worker's
values in files of one directory.  ``make_metrics_directory`` makes a private one
(0700) for this run, inside ``PROMETHEUS_MULTIPROC_DIR`` when the operator set it,
and ``remove_metrics_directory`` removes it at exit: nothing else is ever deleted.
Neither this module nor anything it imports loads prometheus-client, which decides
on its mode when first imported: gunicorn imports this module in its master process
before the directory exists.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

from gunicorn.workers.gthread import ThreadWorker as _GthreadWorker

from api.inflight import RequestsInFlight

__all__ = ["ThreadWorker", "make_metrics_directory", "remove_metrics_directories"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# What make_metrics_directory made in this process (gunicorn's master), to remove at
# exit.  Kept here, not in the config file, which gunicorn reads again on SIGHUP.
_made: list[Path] = []


class ThreadWorker(_GthreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker with a time limit per request body and per request."""

    def _in_flight(self) -> RequestsInFlight | None:
        found = getattr(getattr(self, "wsgi", None), "in_flight", None)
        return found if isinstance(found, RequestsInFlight) else None

    def notify(self) -> None:
        """The heartbeat gunicorn calls from the main loop, with the time limits."""
        in_flight = self._in_flight()
        if in_flight is not None:
            in_flight.cut_slow_bodies()
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
