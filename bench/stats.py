"""Small statistics and the machine description every result file carries."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "cpu_busy_seconds",
    "machine",
    "median",
    "memory_mb",
    "percentile",
    "revision",
    "rss_mb",
]


def median(values: Sequence[float]) -> float:
    """The median; 0.0 for no values."""
    return float(statistics.median(values)) if values else 0.0


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank on the sorted values); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100.0 * len(ordered) + 0.5)))
    return float(ordered[rank - 1])


def cpu_busy_seconds() -> float:
    """CPU seconds every process on the machine has used since boot (all cores), from
    /proc/stat: the difference over a measurement, less the benchmark's own CPU, is
    what other processes took from it."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = fh.readline().split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _status_kb(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb(pid: int, peak: bool = False) -> float | None:
    """Resident memory of a process in MB (its peak with ``peak``), from /proc."""
    kb = _status_kb(pid, "VmHWM" if peak else "VmRSS")
    return None if kb is None else round(kb / 1024, 1)


def memory_mb(pid: int) -> dict[str, float | None]:
    """RSS, peak RSS, PSS (shared pages split between the processes sharing them) and
    private memory of a process, in MB.  Pages of a file both workers map (the index)
    count fully in each one's RSS but only by half in its PSS."""
    found: dict[str, float | None] = {
        "rss_mb": rss_mb(pid),
        "peak_rss_mb": rss_mb(pid, peak=True),
        "pss_mb": None,
        "private_mb": None,
    }
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return found
    kb = {line.split(":")[0]: int(line.split()[1]) for line in lines[1:] if line.endswith("kB")}
    if "Pss" in kb:
        found["pss_mb"] = round(kb["Pss"] / 1024, 1)
    private = kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)
    found["private_mb"] = round(private / 1024, 1)
    return found


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def revision() -> str | None:
    """The commit of the working tree measured, ``+changes`` when tracked files differ."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+changes" if changes else "")


def machine() -> dict[str, Any]:
    """CPU, cores, memory, OS and Python of this machine, and the revision measured."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "revision": revision(),
    }
