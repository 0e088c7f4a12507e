"""Process memory from /proc: current and peak resident set size (Linux)."""

from __future__ import annotations

import os
from pathlib import Path


def _status_kib(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def peak_rss_mib(pid: int) -> float | None:
    """The process's peak resident set size so far (``VmHWM``), MiB."""
    kib = _status_kib(pid, "VmHWM")
    return None if kib is None else round(kib / 1024, 1)


def rss_mib(pid: int) -> float | None:
    """The process's resident set size now (``VmRSS``), MiB."""
    kib = _status_kib(pid, "VmRSS")
    return None if kib is None else round(kib / 1024, 1)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds the process has used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return round((int(fields[11]) + int(fields[12])) / ticks, 2)
    except (OSError, ValueError, IndexError):
        return None
