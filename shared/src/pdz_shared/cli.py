"""``pdz``: the operators' command line."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from pdz_shared.settings import common_settings

app = typer.Typer(help="Piano di Zona platform: operators' tools", no_args_is_help=True)
dev = typer.Typer(help="The local development stack", no_args_is_help=True)
events = typer.Typer(help="Events: dead letters and re-publication", no_args_is_help=True)
docs = typer.Typer(help="API documents (OpenAPI, AsyncAPI)", no_args_is_help=True)
app.add_typer(dev, name="dev")
app.add_typer(events, name="events")
app.add_typer(docs, name="docs")

SERVICES = ("plans", "indicators", "casework", "notifications")


def repo_root() -> Path:
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "services").is_dir() and (candidate / "shared").is_dir():
            return candidate
    raise typer.BadParameter("run pdz from inside the repository")


@dev.command("up")
def dev_up() -> None:
    """Start PostgreSQL, the broker and the four services, load the demo data; Ctrl-C stops."""
    import os

    from pdz_shared import devstack

    os.environ.setdefault("PDZ_ENV", "dev")
    common_settings.cache_clear()
    devstack.up(repo_root(), common_settings())


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="Subject")] = "dev-user",
    role: Annotated[list[str] | None, typer.Option(help="Role (repeatable)")] = None,
    ambito: Annotated[list[str] | None, typer.Option(help="Ambito code (repeatable)")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds")] = 3600,
) -> None:
    """Mint a dev JWT (only when PDZ_ENV is dev or test)."""
    from pdz_shared.auth import Role, mint_token

    roles = role or ["udp_admin"]
    unknown = [r for r in roles if r not in {x.value for x in Role}]
    if unknown:
        raise typer.BadParameter(f"unknown roles: {', '.join(unknown)}")
    try:
        typer.echo(
            mint_token(
                common_settings(), sub=sub, roles=roles, ambiti=ambito or [], ttl_seconds=ttl
            )
        )
    except RuntimeError as exc:
        typer.echo(f"error: {exc} (set PDZ_ENV=dev)", err=True)
        raise typer.Exit(2) from exc


@events.command("replay")
def events_replay(
    from_dlq: Annotated[str, typer.Option("--from-dlq", help="Dead-letter topic (<topic>.dlq)")],
) -> None:
    """Re-publish every dead letter of a DLQ topic to its original topic."""
    from pdz_shared.events.inbox import replay_dlq
    from pdz_shared.events.kafka import KafkaConfig

    kafka = KafkaConfig.from_settings(common_settings(), "cli")
    try:
        count = asyncio.run(replay_dlq(kafka, from_dlq))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"replayed {count} messages from {from_dlq}")


@events.command("republish")
def events_republish(
    service: Annotated[str, typer.Option(help="Service whose outbox to re-publish")],
    since_hours: Annotated[float, typer.Option(help="Re-publish events of the last N hours")],
) -> None:
    """After a broker loss: publish again what the outbox published recently."""
    from pdz_shared.db import make_engine, make_session_factory
    from pdz_shared.events.outbox import republish_since

    if service not in SERVICES:
        raise typer.BadParameter(f"service must be one of {', '.join(SERVICES)}")
    settings = importlib.import_module(f"pdz_{service}.settings").settings()

    async def run() -> int:
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            since = datetime.now(UTC) - timedelta(hours=since_hours)
            return await republish_since(make_session_factory(engine), since)
        finally:
            await engine.dispose()

    typer.echo(f"{asyncio.run(run())} events queued again for publication")


@docs.command("openapi")
def docs_openapi(
    service: Annotated[str, typer.Argument(help="Service name")],
    out: Annotated[Path | None, typer.Option(help="Output file (default: stdout)")] = None,
) -> None:
    """Write a service's OpenAPI document."""
    if service not in SERVICES:
        raise typer.BadParameter(f"service must be one of {', '.join(SERVICES)}")
    application = importlib.import_module(f"pdz_{service}.main").app
    text = json.dumps(application.openapi(), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")


@docs.command("gateway")
def docs_gateway(
    src: Annotated[Path, typer.Option(help="Folder with <svc>.json documents")] = Path(
        "docs/openapi"
    ),
    out: Annotated[Path, typer.Option(help="Output file")] = Path("docs/openapi/gateway.json"),
) -> None:
    """Merge the four services' OpenAPI documents into the gateway's one."""
    from pdz_shared.openapi import merge_openapi

    merged = merge_openapi(
        {s: json.loads((src / f"{s}.json").read_text(encoding="utf-8")) for s in SERVICES}
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@docs.command("diff")
def docs_diff(
    base: Annotated[Path, typer.Option(help="Folder of the committed documents")] = Path(
        "docs/openapi"
    ),
    head: Annotated[
        Path, typer.Option(help="Folder of the documents generated from the code")
    ] = Path(".build/openapi"),
) -> None:
    """Compare committed OpenAPI documents with the code's; list breaking changes; fail on any
    difference (run `make docs` to accept non-breaking ones)."""
    from pdz_shared.openapi_diff import diff

    differs = breaking = 0
    for new_file in sorted(head.glob("*.json")):
        old_file = base / new_file.name
        new_text = new_file.read_text(encoding="utf-8")
        if old_file.exists() and old_file.read_text(encoding="utf-8") == new_text:
            continue
        differs += 1
        old = json.loads(old_file.read_text(encoding="utf-8")) if old_file.exists() else {}
        changes = diff(old, json.loads(new_text))
        typer.echo(f"{old_file} differs from the code:")
        for change in changes:
            typer.echo(f"  {change}")
        breaking += sum(c.breaking for c in changes)
    if differs:
        typer.echo(
            f"{differs} document(s) out of date, {breaking} breaking change(s): "
            "run `make docs`"
            + (
                "; breaking changes need a new API version and a Deprecation/Sunset period"
                if breaking
                else ""
            ),
            err=True,
        )
        raise typer.Exit(1)
    typer.echo("OpenAPI documents are up to date")


@docs.command("asyncapi")
def docs_asyncapi(
    out: Annotated[Path, typer.Option(help="Output file")] = Path("docs/asyncapi.yaml"),
    check: Annotated[bool, typer.Option(help="Fail if the file is not up to date")] = False,
) -> None:
    """Write (or check) the AsyncAPI 3.0 document of every topic and event."""
    from pdz_shared.contracts.asyncapi import render

    text = render()
    if check:
        if not out.exists() or out.read_text(encoding="utf-8") != text:
            typer.echo(f"{out} is out of date: run `make docs`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out} is up to date")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
