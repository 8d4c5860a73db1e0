"""Measuring helpers shared by the benchmarks: percentiles and CPU time of other processes."""

from __future__ import annotations

import os
import time
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


def settle(
    pids: Iterable[int], *, idle_cpu: float = 0.25, window: float = 2.0, timeout: float = 180.0
) -> float:
    """Waits until the processes ``pids`` together use less than ``idle_cpu`` of a core over
    ``window`` seconds (the backlog a previous benchmark left is worked off), or ``timeout``;
    returns the seconds waited. Each benchmark then starts from a settled platform. (The idle
    stack uses about 0.1 of a core: its consumers poll the embedded broker every 20 ms.)"""
    pids = list(pids)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = sum(cpu_seconds(pid) for pid in pids)
        time.sleep(window)
        if sum(cpu_seconds(pid) for pid in pids) - before < idle_cpu * window:
            break
    return time.monotonic() - started
