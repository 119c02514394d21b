"""gunicorn settings for the event search API: ``gunicorn -c config/gunicorn.conf.py api.app:app``.

Values come from the EVENTSEARCH_* settings (see config/__init__.py); options given on
the command line, such as ``--bind``, override them.
"""

from config import Config

_config = Config.from_env()

bind = [_config.bind]
workers = _config.workers
# Searching is CPU-bound: plain sync workers, one request at a time each.
worker_class = "sync"
timeout = _config.timeout
graceful_timeout = _config.graceful_timeout
max_requests = _config.max_requests
max_requests_jitter = _config.max_requests_jitter
loglevel = _config.log_level
accesslog = None
# gunicorn 27 opens a control socket under ~/.gunicorn/ by default; the service needs none.
control_socket_disable = True
