"""Processes as Linux shows them in /proc: the children of a process (gunicorn's
workers, a rebuild's writer processes) and the CPU time they used."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["child_pids", "cpu_seconds"]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat from the third on (state, ppid, ...); None when the
    process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, in increasing order."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry))
    return sorted(found)


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds ``pid`` has used so far; 0.0 when it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime
