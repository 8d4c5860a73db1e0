"""``pdz dev up``: the whole platform on one machine, for development and demos."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

from pdz_shared import devinfra
from pdz_shared.auth import mint_token
from pdz_shared.contracts.catalogue import TOPICS
from pdz_shared.events.kafka import KafkaConfig, ensure_topics
from pdz_shared.settings import CommonSettings

SERVICES: dict[str, int] = {
    "plans": 8001,
    "indicators": 8002,
    "casework": 8003,
    "notifications": 8004,
}
GATEWAY_PORT = 8000
SMTP_SINK_PORT = 1025
DEFAULT_BROKER_PORT = 19092


@dataclass
class Stack:
    repo: Path
    server_url: str
    bootstrap: str
    database_urls: dict[str, str]
    processes: list[tuple[str, subprocess.Popen[bytes]]]
    broker: devinfra.Broker | None
    specs: dict[str, tuple[list[str], dict[str, str], Path | None]] = field(default_factory=dict)

    def spawn(
        self, name: str, argv: list[str], env: dict[str, str], log: Path | None
    ) -> subprocess.Popen[bytes]:
        out = open(log, "ab") if log else None  # noqa: SIM115
        proc = subprocess.Popen(  # noqa: S603
            argv,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        self.specs[name] = (argv, env, log)
        self.processes = [(n, p) for n, p in self.processes if n != name] + [(name, proc)]
        return proc

    def process(self, name: str) -> subprocess.Popen[bytes]:
        return dict(self.processes)[name]

    def kill(self, name: str) -> None:
        """kill -9, as a crash would (no graceful shutdown, nothing committed after)."""
        proc = self.process(name)
        proc.kill()
        proc.wait()

    def restart(self, name: str) -> subprocess.Popen[bytes]:
        argv, env, log = self.specs[name]
        return self.spawn(name, argv, env, log)

    def env(self, service: str | None = None) -> dict[str, str]:
        env = {
            **os.environ,
            "PDZ_ENV": os.environ.get("PDZ_ENV", "dev"),
            "PDZ_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "PDZ_LOG_JSON": os.environ.get("PDZ_LOG_JSON", "false"),
            # ModI (PDND vouchers, Agid-JWT-Signature) is off in the devstack unless configured.
            "PDZ_MODI_ENABLED": os.environ.get("PDZ_MODI_ENABLED", "false"),
            "PDZ_KAFKA_FETCH_MAX_WAIT_MS": os.environ.get(
                "PDZ_KAFKA_FETCH_MAX_WAIT_MS", devinfra.TANSU_FETCH_MAX_WAIT_MS
            ),
            # All on one machine: the APIs first, the workers' backlog right after.
            "PDZ_WORKER_NICE": os.environ.get("PDZ_WORKER_NICE", "19"),
        }
        for svc, url in self.database_urls.items():
            env[f"PDZ_{svc.upper()}_DATABASE_URL"] = url
        if service:
            env[f"PDZ_{service.upper()}_PORT"] = str(SERVICES[service])
        return env

    def stop(self) -> None:
        for _, proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, proc in self.processes:
            try:
                proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.broker is not None:
            self.broker.stop()


async def recover_broker(
    broker: devinfra.Broker,
    database_urls: dict[str, str],
    since: datetime,
    log_path: Path | None = None,
) -> int:
    """A broker restart as an operator recovers from it: the broker again (empty), the topics,
    then every service's outbox re-published since ``since`` (``pdz events republish``); the
    consumers' inboxes drop what they had already handled. Returns how many events."""
    from pdz_shared.db import make_engine, make_session_factory
    from pdz_shared.events.outbox import republish_since

    await asyncio.to_thread(broker.restart, log_path)
    await ensure_topics(KafkaConfig(broker.bootstrap, "pdz-recovery"), list(TOPICS))
    total = 0
    for url in database_urls.values():
        engine = make_engine(url, pool_size=1)
        try:
            total += await republish_since(make_session_factory(engine), since)
        finally:
            await engine.dispose()
    return total


def _say(msg: str) -> None:
    print(f"[pdz dev] {msg}", flush=True)


def migrate(repo: Path, service: str, url: str) -> None:
    subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(repo / "services" / service / "alembic.ini"),
            "upgrade",
            "head",
        ],
        check=True,
        env={**os.environ, f"PDZ_{service.upper()}_DATABASE_URL": url},
    )


def start(
    repo: Path,
    *,
    services: tuple[str, ...] = tuple(SERVICES),
    database_url: str | None = None,
    bootstrap: str | None = None,
    log_dir: Path | None = None,
    db_prefix: str = "pdz_",
    durable: bool = True,
    show_mail: bool = False,
    split_workers: bool = False,
) -> Stack:
    """The platform as processes. ``split_workers`` runs each worker as two processes, the
    outbox relay (``<svc>-relay``) and the tasks (``<svc>-tasks``), so that a fault test can
    kill one without the other; otherwise one ``<svc>-worker`` runs both."""
    data = repo / ".devstack"
    data.mkdir(exist_ok=True)
    log_dir = log_dir or data / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)

    if database_url:
        server_url = devinfra.postgres_server_url(database_url, data / "pg")
        _say("PostgreSQL: DATABASE_URL")
    else:
        _say("PostgreSQL: embedded (pgserver), data in .devstack/pg")
        server_url = devinfra.embedded_postgres_url(data / "pg")

    broker = None
    if bootstrap is None:
        port = (
            DEFAULT_BROKER_PORT
            if not devinfra.port_open("127.0.0.1", DEFAULT_BROKER_PORT)
            else devinfra.free_port()
        )
        broker = devinfra.start_tansu(port, log_dir / "tansu.log")
        bootstrap = broker.bootstrap
        _say(f"Kafka: embedded tansu broker on {bootstrap} (memory only)")
    else:
        _say(f"Kafka: {bootstrap}")

    urls = {}
    for svc in services:
        urls[svc] = asyncio.run(
            devinfra.create_database(server_url, f"{db_prefix}{svc}", durable=durable)
        )
        migrate(repo, svc, urls[svc])
    _say("databases created and migrated: " + ", ".join(f"{db_prefix}{s}" for s in services))
    asyncio.run(ensure_topics(KafkaConfig(bootstrap, "pdz-devstack"), list(TOPICS)))
    _say(f"topics ready: {len(TOPICS)} (+ dead-letter topics)")

    stack = Stack(repo, server_url, bootstrap, urls, [], broker)
    try:
        if "notifications" in services:
            # A local SMTP sink: the notifications service's default SMTP settings point at it.
            stack.spawn(
                "smtp-sink",
                [
                    sys.executable,
                    "-m",
                    "pdz_notifications.smtp_sink",
                    "--port",
                    str(SMTP_SINK_PORT),
                ],
                {**stack.env(), "PYTHONUNBUFFERED": "1"},
                None if show_mail else log_dir / "smtp-sink.log",
            )
            devinfra.wait_port("127.0.0.1", SMTP_SINK_PORT)
        for svc in services:
            stack.spawn(
                f"{svc}-api",
                uvicorn(f"pdz_{svc}.main:app", SERVICES[svc]),
                stack.env(svc),
                log_dir / f"{svc}.log",
            )
            roles = (
                [("relay", "relay"), ("tasks", "tasks")] if split_workers else [("worker", "all")]
            )
            for name, role in roles:
                stack.spawn(
                    f"{svc}-{name}",
                    [sys.executable, "-m", f"pdz_{svc}.worker", "--role", role],
                    stack.env(svc),
                    log_dir / f"{svc}.log",
                )
        upstreams = {svc: f"http://127.0.0.1:{SERVICES[svc]}" for svc in services}
        stack.spawn(
            "gateway",
            uvicorn("pdz_shared.gateway:app", GATEWAY_PORT),
            {**stack.env(), "PDZ_GATEWAY_UPSTREAMS": json.dumps(upstreams)},
            log_dir / "gateway.log",
        )
        wait_ready(stack)
    except BaseException:
        stack.stop()
        raise
    return stack


def uvicorn(app: str, port: int) -> list[str]:
    return [
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
        "--http",
        "pdz_shared.serving:HttpProtocol",
    ]


def wait_ready(stack: Stack, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    pending = {svc for svc in stack.database_urls} | {"gateway"}
    while pending:
        for name, proc in stack.processes:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see .devstack/logs")
        for svc in sorted(pending):
            try:
                port = GATEWAY_PORT if svc == "gateway" else SERVICES[svc]
                r = httpx.get(f"http://127.0.0.1:{port}/status", timeout=1.0)
                if r.status_code == 200:
                    pending.discard(svc)
            except httpx.HTTPError:
                pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout}s: {', '.join(sorted(pending))}")
        time.sleep(0.2)


def load_demo(stack: Stack, common: CommonSettings) -> None:
    """Demo data through the services' own APIs (never behind their back)."""
    from pdz_shared.demo import load

    token = mint_token(common, sub="devstack", roles=["platform_admin"])
    load(
        {
            svc: f"http://127.0.0.1:{port}"
            for svc, port in SERVICES.items()
            if svc in stack.database_urls
        },
        token,
        cases=int(os.environ.get("PDZ_DEMO_CASES", "300")),
    )


def up(repo: Path, common: CommonSettings) -> None:
    stack = start(
        repo,
        database_url=os.environ.get("DATABASE_URL"),
        bootstrap=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
        show_mail=True,
    )
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        load_demo(stack, common)
        token = mint_token(
            common,
            sub="dev-user",
            ttl_seconds=12 * 3600,
            roles=["platform_admin", "udp_admin", "pua_operator", "social_worker", "uvm_member"],
            ambiti=["AMBITO-05-SEBINO"],
        )
        print("\nPiano di Zona platform is running:")
        print(
            f"  gateway        http://127.0.0.1:{GATEWAY_PORT}/docs  (all APIs: /plans/v1/..., "
            "/casework/v1/...)"
        )
        for svc, port in SERVICES.items():
            print(f"  {svc:<14} http://127.0.0.1:{port}/docs")
        print(f"  broker         {stack.bootstrap}")
        print(f"  SMTP sink      127.0.0.1:{SMTP_SINK_PORT} (received mail is printed here)")
        print(f"  logs           {repo / '.devstack' / 'logs'}")
        print(
            f"\nDev token (12 h, Ambito 5 Sebino):\n  export TOKEN={token}\n"
            '  curl -H "Authorization: Bearer $TOKEN" '
            "http://127.0.0.1:8001/v1/territories\n\nCtrl-C stops everything.",
            flush=True,
        )
        while not stopping:
            for name, proc in stack.processes:
                if proc.poll() is not None:
                    _say(f"{name} exited ({proc.returncode}); see .devstack/logs")
                    stopping = True
            time.sleep(0.5)
    finally:
        _say("stopping…")
        stack.stop()
        _say("stopped; data kept in .devstack/")
