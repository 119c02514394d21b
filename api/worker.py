"""How gunicorn runs the app: the directory of the workers' metrics.

prometheus-client's multiprocess mode keeps each worker's values in files of one
directory.  ``make_metrics_directory`` makes a private one (0700) for this run,
inside ``PROMETHEUS_MULTIPROC_DIR`` when the operator set it, and
``remove_metrics_directories`` removes it at exit: nothing else is ever deleted.
Nothing this module imports loads prometheus-client, which decides on its mode when
first imported: gunicorn's master imports this module before the directory exists.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["make_metrics_directory", "remove_metrics_directories"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# What make_metrics_directory made in this process (gunicorn's master), to remove at
# exit.  Kept here, not in the config file, which gunicorn reads again on SIGHUP.
_made: list[Path] = []


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
