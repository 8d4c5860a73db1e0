"""Bounded HTTP load on loopback: a fixed number of requests, or a fixed rate for a fixed time."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class LoadResult:
    sent: int
    ok: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def summary(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "p99_ms": round(self.percentile(99), 2),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 2) if self.latencies_ms else None,
        }


async def closed_loop(
    url: str,
    make_request: Callable[[int], dict[str, Any]],
    *,
    total: int,
    concurrency: int,
    ok_status: tuple[int, ...] = (200, 201, 202),
) -> LoadResult:
    """``total`` requests by ``concurrency`` workers as fast as the server answers."""
    counter = iter(range(total))
    latencies: list[float] = []
    ok = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:

        async def worker() -> None:
            nonlocal ok
            for i in counter:
                started = time.perf_counter()
                r = await client.request(url=url, **make_request(i))
                latencies.append((time.perf_counter() - started) * 1000)
                ok += r.status_code in ok_status

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return LoadResult(total, ok, elapsed, latencies)
