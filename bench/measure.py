"""Measuring helpers shared by the benchmarks: percentiles and CPU time of other processes."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def percentile(values: Iterable[float], p: float) -> float:
    """Nearest-rank percentile ``p`` (0-100); NaN when there are no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
