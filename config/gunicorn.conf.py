"""gunicorn settings for the event search API: ``gunicorn -c config/gunicorn.conf.py api.app:app``.

Values come from the EVENTSEARCH_* settings (see config/__init__.py); options given on
the command line, such as ``--bind``, override them.
"""

import os
import shutil
import tempfile

from config import Config

_config = Config.from_env()

bind = [_config.bind]
workers = _config.workers
# Searching is CPU-bound: plain sync workers, one request at a time each, one per core.
worker_class = "sync"
timeout = _config.timeout
# SIGTERM and SIGHUP let in-flight requests finish for this long.
graceful_timeout = _config.graceful_timeout
max_requests = _config.max_requests
max_requests_jitter = _config.max_requests_jitter
loglevel = _config.log_level
# The app writes one JSON line per request itself (api/middleware.py).
accesslog = None
errorlog = "-"
# Requests with a huge line or huge headers are refused by gunicorn before the app.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# gunicorn 27 opens a control socket under ~/.gunicorn/ by default; the service needs none.
control_socket_disable = True

# Prometheus multiprocess mode: every worker writes its metrics to files in one
# directory, which GET /metrics adds up.  It must be set before workers start.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="eventsearch-metrics-")


def on_starting(server: object) -> None:
    """Start with no metrics left from an earlier run."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def child_exit(server: object, worker: object) -> None:
    """Forget the live gauges of a worker that has gone."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
