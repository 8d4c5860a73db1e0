"""``make bench``: the platform's speed and memory, each figure next to a baseline measured in
the same run on the same machine. Prints a table and writes bench/results/<timestamp>.json.

Never a timed unit test: these machines are noisy, so figures are ratios and distributions.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from bench.measure import settle
from pdz_shared import devinfra, devstack

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


@dataclass
class Figure:
    benchmark: str
    metric: str
    value: float
    unit: str
    baseline: float | None
    goal: str
    met: bool | None  # None: a figure shown for understanding, with no goal of its own
    detail: dict[str, Any]

    @property
    def ratio(self) -> float | None:
        return round(self.value / self.baseline, 3) if self.baseline else None


@dataclass
class Context:
    stack: devstack.Stack
    server_url: str
    quick: bool


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_uvicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    devinfra.wait_port("127.0.0.1", port)
    return proc


async def memory(ctx: Context) -> list[Figure]:
    """Idle RSS of every service process vs an idle bare FastAPI app (goal < 150 MB)."""
    port = devinfra.free_port()
    hello = start_uvicorn("bench.baseline_app:hello", port, {})
    try:
        await asyncio.sleep(3 if ctx.quick else 10)
        baseline = rss_mb(hello.pid)
        figures = []
        for name, proc in ctx.stack.processes:
            value = rss_mb(proc.pid)
            figures.append(
                Figure(
                    "idle memory",
                    f"{name} RSS",
                    round(value, 1),
                    "MB",
                    round(baseline, 1),
                    "< 150 MB",
                    value < 150,
                    {},
                )
            )
        return figures
    finally:
        hello.terminate()
        hello.wait()


async def intake(ctx: Context) -> list[Figure]:
    """The casework endpoint against the bare one: first with the platform processing what it
    accepts on the same cores (the goal's figure), then with the workers stopped, as the
    baseline runs (the endpoint's own capacity)."""
    from bench.scenarios import intake_rate

    workers = [p.pid for n, p in ctx.stack.processes if n.endswith(("-worker", "-relay", "-tasks"))]
    r = await intake_rate(
        ctx.server_url,
        ctx.quick,
        ctx.stack.process("casework-api").pid,
        workers,
        [p.pid for _, p in ctx.stack.processes],
    )
    base = r["baseline"]["per_second"]
    alone = r["casework_workers_stopped"]

    def met(value: float) -> bool:
        return value >= 0.5 * base and value >= 1000

    value = r["casework"]["per_second"]
    return [
        Figure(
            "discharge intake",
            "accepted/s, platform processing",
            value,
            "1/s",
            base,
            ">= 0.5x and >= 1000/s",
            met(value),
            r,
        ),
        Figure(
            "discharge intake",
            "accepted/s, workers stopped",
            alone["per_second"],
            "1/s",
            base,
            ">= 0.5x and >= 1000/s",
            met(alone["per_second"]),
            {},
        ),
        Figure(
            "discharge intake",
            "API process CPU per request",
            r["api_cpu_ms_per_request"]["casework"],
            "ms",
            r["api_cpu_ms_per_request"]["baseline"],
            "-",
            None,
            {"workers_stopped": alone["api_cpu_ms_per_request"]},
        ),
    ]


async def latency(ctx: Context) -> list[Figure]:
    from bench.scenarios import end_to_end_latency

    r = await end_to_end_latency(ctx.quick, {n: p.pid for n, p in ctx.stack.processes})
    lost = r["accepted"] - r["notified"]
    return [
        Figure(
            "end-to-end latency",
            f"p{p} discharge->inbox",
            r[f"p{p}_ms"],
            "ms",
            None,
            "p99 < 1000 ms" if p == 99 else "-",
            r["p99_ms"] < 1000 and not lost,
            r,
        )
        for p in (50, 95, 99)
    ]


async def email(ctx: Context) -> list[Figure]:
    from bench.scenarios import email_throughput

    watched = ("notifications-worker", "notifications-tasks", "smtp-sink")
    pids = {name: proc.pid for name, proc in ctx.stack.processes if name in watched}
    r = await email_throughput(ctx.stack.repo / ".build" / "bench-logs", ctx.quick, pids)
    p = r["platform"]
    return [
        Figure(
            "notifications",
            "e-mails per second into SMTP sink",
            p["per_second"],
            "1/s",
            r["baseline_per_second"],
            ">= 500/s",
            p["per_second"] >= 500,
            r,
        ),
        Figure(
            "notifications",
            "duplicate e-mails",
            p["duplicates"],
            "mails",
            None,
            "0",
            p["duplicates"] == 0 and p["received"] == p["expected"],
            r,
        ),
    ]


async def indicators(ctx: Context) -> list[Figure]:
    """Full recompute of the Sebino plan over generated facts, and the cost per case event;
    on a scratch database of the bench's server, in this process (not the stack's)."""
    from bench.indicators import figures, run

    facts, events = (100_000, 500) if ctx.quick else (1_000_000, 2_000)
    r = await run(ctx.server_url, facts, events, rounds=1 if ctx.quick else 3, keep=False)
    figs: list[Figure] = figures(r)
    return figs


BENCHMARKS: dict[str, Callable[[Context], Coroutine[Any, Any, list[Figure]]]] = {
    "intake": intake,
    "latency": latency,
    "email": email,
    "indicators": indicators,
    "memory": memory,
}


def print_table(figures: list[Figure]) -> None:
    print(
        f"\n{'benchmark':<22}{'metric':<34}{'value':>12} {'unit':<6}{'baseline':>10}"
        f"{'ratio':>8}  {'goal':<18}met"
    )
    for f in figures:
        base = "" if f.baseline is None else f"{f.baseline:g}"
        ratio = "" if f.ratio is None else f"{f.ratio:g}"
        print(
            f"{f.benchmark:<22}{f.metric:<34}{f.value:>12g} {f.unit:<6}{base:>10}{ratio:>8}  "
            f"{f.goal:<18}{'-' if f.met is None else 'yes' if f.met else 'NO'}"
        )


def write_results(figures: list[Figure]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(
        json.dumps(
            {
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "figures": [{**asdict(f), "ratio": f.ratio} for f in figures],
            },
            indent=2,
            default=str,
        )
    )
    return out


def main(
    only: list[str] | None = typer.Option(None, help="Run only these benchmarks"),
    quick: bool = typer.Option(False, help="Smaller loads (a smoke run)"),
) -> None:
    os.environ.setdefault("PDZ_ENV", "dev")
    os.environ.setdefault("PDZ_LOG_LEVEL", "WARNING")
    # Capacity, not policy: one benchmark client sends far more than a real one would.
    os.environ.setdefault("PDZ_RATE_LIMIT_PER_MINUTE", "1000000")
    selected = only or list(BENCHMARKS)
    server = devinfra.postgres_server_url(
        os.environ.get("DATABASE_URL"), REPO / ".devstack" / "bench-pg"
    )
    broker = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if bootstrap is None:
        broker = devinfra.start_tansu()
        bootstrap = broker.bootstrap
    os.environ["PDZ_KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    from pdz_shared.settings import common_settings

    common_settings.cache_clear()
    prefix = f"pdz_bench{int(time.time())}_"
    stack = devstack.start(
        REPO,
        database_url=server,
        bootstrap=bootstrap,
        db_prefix=prefix,
        log_dir=REPO / ".build" / "bench-logs",
    )
    figures: list[Figure] = []
    try:
        ctx = Context(stack, server, quick)
        for i, name in enumerate(selected):
            if i:  # the previous benchmark's backlog (e-mails, SLA notices...) worked off first
                waited = settle(p.pid for _, p in stack.processes)
                print(f"[bench] platform settled after {waited:.0f} s", flush=True)
            print(f"[bench] {name}…", flush=True)
            figures += asyncio.run(BENCHMARKS[name](ctx))
    finally:
        stack.stop()
        if broker is not None:
            broker.stop()
        for svc in devstack.SERVICES:
            asyncio.run(devinfra.drop_database(server, f"{prefix}{svc}"))
    print_table(figures)
    out = write_results(figures)
    print(f"\nresults: {out.relative_to(REPO)}")


if __name__ == "__main__":
    typer.run(main)
