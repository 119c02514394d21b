"""gunicorn settings for the event search API:
``gunicorn -c config/gunicorn.conf.py 'api.app:create_app()'``.

Values come from the EVENTSEARCH_* settings (see config/__init__.py); options given on
the command line, such as ``--bind``, override them.
"""

from config import Config

_config = Config.from_env()

bind = [_config.bind]
if _config.metrics_port is not None:  # /metrics on its own listener only
    bind.append(_config.metrics_bind)
workers = _config.workers
# The worker's event loop reads every request, head and body, and hands only whole
# requests to its threads, so slow or idle clients hold no thread (api/worker.py, with
# the time limits per head, body and request).
worker_class = "api.worker.ThreadWorker"
threads = _config.threads
worker_connections = _config.worker_connections
keepalive = _config.keepalive
timeout = _config.timeout
# SIGTERM and SIGHUP let in-flight requests finish for this long.
graceful_timeout = _config.graceful_timeout
max_requests = _config.max_requests
max_requests_jitter = _config.max_requests_jitter
loglevel = _config.log_level
# The app writes one JSON line per request itself (api/middleware.py).
accesslog = None
errorlog = "-"
# Requests with a huge line or huge headers are refused (414, 431) before the app.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# gunicorn 27 opens a control socket under ~/.gunicorn/ by default; the service needs none.
control_socket_disable = True


def on_starting(server: object) -> None:
    """Give this run's workers a private, empty metrics directory (prometheus-client's
    multiprocess mode), inside PROMETHEUS_MULTIPROC_DIR if the operator set one."""
    from api.worker import make_metrics_directory

    make_metrics_directory()


def on_exit(server: object) -> None:
    """Remove the metrics directory this run made, and nothing else."""
    from api.worker import remove_metrics_directories

    remove_metrics_directories()


def post_worker_init(worker: object) -> None:
    """Open and warm the index in each worker before it serves, and start the worker's
    refresher thread (search/live.py): no request pays for opening a commit.  The
    service's worker (api/worker.py) keeps the app as ``application``; gunicorn's own
    workers as ``wsgi``."""
    app = getattr(worker, "application", None) or worker.wsgi  # type: ignore[attr-defined]
    app.start()


def child_exit(server: object, worker: object) -> None:
    """Forget the live gauges of a worker that has gone."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
