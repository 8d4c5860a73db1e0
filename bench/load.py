"""Bounded HTTP load on loopback, from a client that costs next to nothing per request."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bench.measure import percentile


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
        return percentile(self.latencies_ms, p)

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


async def open_loop(
    count: int, rate: float, start: Callable[[int], Coroutine[Any, Any, None]]
) -> float:
    """Starts ``start(i)`` at ``i / rate`` seconds whatever the answers (an open loop, as real
    senders are); returns the rate at which they were started, once all have finished."""
    tasks: list[asyncio.Task[None]] = []
    begin = time.monotonic()
    for i in range(count):
        delay = begin + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(start(i)))
    started = count / (time.monotonic() - begin) if count else 0.0
    await asyncio.gather(*tasks)
    return started


def http_request(
    method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    """One HTTP/1.1 request, serialised once so that sending it costs the client nothing."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"transfer-encoding":
            raise RuntimeError("chunked responses are not expected here")
    return status, await reader.readexactly(length)


async def closed_loop(
    port: int,
    requests: list[bytes],
    *,
    concurrency: int,
    ok_status: tuple[int, ...] = (200, 201, 202),
    on_response: Callable[[int, int, bytes], None] | None = None,
) -> LoadResult:
    """The ``requests`` by ``concurrency`` keep-alive connections, as fast as the server answers.
    Requests are serialised beforehand and responses barely parsed, so the client's own cost is
    a few microseconds per request and the figure is the server's (an HTTP client library such
    as httpx spends about a millisecond of CPU per request, as much as a lean server)."""
    counter = iter(range(len(requests)))
    latencies: list[float] = []
    ok = 0

    async def worker() -> None:
        nonlocal ok
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in counter:
                started = time.perf_counter()
                status, body = await exchange(reader, writer, requests[i])
                latencies.append((time.perf_counter() - started) * 1000)
                ok += status in ok_status
                if on_response is not None:
                    on_response(i, status, body)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return LoadResult(len(requests), ok, time.perf_counter() - started, latencies)
