"""Running a command without root's power to ignore file permissions.

The tests run as root on the development machine and in CI, and root reads and
writes files whatever their mode.  ``run_unprivileged`` runs a command with the
capabilities that grant this (``CAP_DAC_OVERRIDE``, ``CAP_DAC_READ_SEARCH``)
dropped from its bounding set, so that in the command (still uid 0, which owns the
test's files) ``chmod 000`` and a directory without write permission mean what
they mean for any user.  Run as another user already, nothing needs dropping.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.corpus import ROOT

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


def _drop_file_capabilities() -> None:
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def run_unprivileged(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m ARGS...`` (from the repository's root) as a process that file
    permissions apply to."""
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        preexec_fn=_drop_file_capabilities,  # the test process forks no threads meanwhile
    )


def indexer_unprivileged(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The ``indexer`` command, run by a process that file permissions apply to."""
    return run_unprivileged("-c", "from indexer.cli import main; main()", *args, env=env)


def permissions_apply(folder: Path) -> bool:
    """Whether a process of ``run_unprivileged`` is refused a file of mode 000."""
    probe = folder / ".permission-probe"
    probe.write_text("x")
    probe.chmod(0)
    try:
        result = run_unprivileged("-c", f"open({str(probe)!r}).read()")
        return result.returncode != 0 and "PermissionError" in result.stderr
    finally:
        probe.unlink()


@contextlib.contextmanager
def repository_reachable_by_others() -> Iterator[None]:
    """While inside, the repository's folder and those above it can be passed through
    by other users, so that a process that becomes ``nobody`` can run the project's
    code (a clone in ``mktemp -d`` is 0700).  Each mode changed is put back."""
    changed = []
    for folder in [ROOT, *ROOT.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
            changed.append((folder, stat.S_IMODE(mode)))
    try:
        yield
    finally:
        for folder, mode in changed:
            folder.chmod(mode)
