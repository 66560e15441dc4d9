"""Commands that run Podium: `migrate`, `serve` (with `--demo`), `demo-class`, `worker`, and
`janus status`."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import sys
import tempfile
from typing import Any

import click
import httpx

from podium import logs, metrics
from podium.auth import tokens
from podium.auth.models import Tenant
from podium.auth.service import add_tenant, generate_key, list_tenants
from podium.cli.root import database, main, read_settings, with_db
from podium.db import Database

DEMO_AUDIENCE = "example.org"


@main.command("migrate")
def migrate_cmd() -> None:
    """Apply database migrations (also done by `serve`)."""
    settings = read_settings()
    with database(settings):
        click.echo("database is up to date")


@main.command()
@click.option("--host", default=None, help="Bind address (PODIUM_HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (PODIUM_PORT, default 8080).")
@click.option("--workers", type=int, default=1, show_default=True, help="Server processes.")
@click.option(
    "--demo", is_flag=True, help=f"Ensure a demo tenant {DEMO_AUDIENCE!r}; print a token."
)
def serve(host: str | None, port: int | None, workers: int, demo: bool) -> None:
    """Start the database if embedded, migrate, and serve the API."""
    import uvicorn

    settings = read_settings()
    host = host or settings.host
    port = port or settings.port
    logs.configure(settings.log_level, settings.log_format)
    # Several server processes: each writes its metrics to this folder, and /metrics, answered by
    # any, adds them up. (prometheus-client chooses where values live when it is imported, so
    # only processes started after this see the folder: the workers. One process serves from
    # itself and keeps its own registry: pointing it at the folder would show nothing.)
    if workers > 1:
        os.environ[metrics.MULTIPROC_ENV] = tempfile.mkdtemp(prefix="podium-metrics-")
    else:
        os.environ.pop(metrics.MULTIPROC_ENV, None)
    with database(settings) as url:
        base = f"http://{host}:{port}"
        click.echo(f"Podium on {base}  (API docs: {base}/docs, OpenAPI: {base}/openapi.json)")
        if demo:
            tenant = with_db(url, _ensure_demo_tenant)
            token = tokens.mint(tenant, tenant.service_account, 24 * 3600)
            click.echo(f"Demo tenant {tenant.audience!r}; a service token valid for 24 hours:\n")
            click.echo(f"  export TOKEN={token}\n")
            click.echo(
                f'  curl -s -X POST {base}/api/v1/webinars -H "Authorization: Bearer $TOKEN" '
                "-H 'Content-Type: application/json' \\\n"
                f'    -d \'{{"title": "Hello", "scope": "hello-1", '
                f'"audience": "{tenant.audience}"}}\'\n'
            )
            click.echo("Try the join page: a demo class, with a moderator's and others' links:")
            click.echo(f"\n  .venv/bin/podium demo-class --url {base} --token $TOKEN\n")
        # Worker processes build the app from the environment, so hand them the resolved URL,
        # and where they listen (entry links name it when PODIUM_PUBLIC_URL is not set).
        os.environ["PODIUM_DATABASE_URL"] = url
        os.environ["PODIUM_HOST"], os.environ["PODIUM_PORT"] = host, str(port)
        # uvicorn re-raises SIGTERM once it has shut down; make that a normal exit so the
        # embedded PostgreSQL is stopped by `database()` instead of left running.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        uvicorn.run(
            "podium.asgi:create",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="uvloop",
            # uvicorn's httptools and websockets-sansio protocols, with a head deadline, a body
            # read timeout and a cap per client address (podium.connections).
            http="podium.connections:GuardedHttp",
            ws="podium.connections:GuardedWebSocket",
            ws_per_message_deflate=False,  # one encoded frame serves every subscriber
            ws_ping_interval=settings.ws_ping_seconds,  # dead peers: no pong in time closes
            ws_ping_timeout=settings.ws_ping_seconds,
            timeout_graceful_shutdown=math.ceil(settings.shutdown_seconds),  # a bounded restart
            # Forwarded addresses count only from proxies the operator names (rate limits are
            # per client address; a forged header from anyone else must not reset them).
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
            log_level=settings.log_level,
            log_config=None,  # the process's own handler (logs.configure): JSON or text
            access_log=False,  # podium.access writes one line a request, with its request id
            server_header=False,
        )


@main.command("demo-class")
@click.option("--url", default="http://127.0.0.1:8080", show_default=True, help="Podium's URL.")
@click.option("--token", envvar="TOKEN", required=True, help="A service token ($TOKEN).")
@click.option("--audience", default=DEMO_AUDIENCE, show_default=True)
def demo_class(url: str, token: str, audience: str) -> None:
    """Create a class to try the join page with; print its entry links."""
    from podium.cli.demo import create_demo_class

    try:
        demo = create_demo_class(url, token, audience)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"{url}: {exc}") from None
    click.echo(f"{demo.title} ({demo.class_id}): open each link in its own browser window.\n")
    for who, link in demo.links.items():
        click.echo(f"  {who:18} {link}")


@main.command()
def worker() -> None:
    """Run Podium's jobs and periodic tasks without the API: on a Janus host, the process
    that can read its rec_dir and so collects its recordings (the API runs elsewhere)."""
    from podium.app import create_app
    from podium.runtime import runtime

    settings = read_settings()
    logs.configure(settings.log_level, settings.log_format)
    with database(settings) as url:
        app = create_app(settings, url)
        kinds = sorted(runtime(app.state).jobs.registry.kinds)
        collects = [k.split("@", 1)[1] for k in kinds if k.startswith("recording.collect@")]
        click.echo(f"Podium worker: {len(kinds)} job kinds; collects recordings of Janus "
                   f"servers: {', '.join(collects) or 'none (no readable rec_dir)'}")  # fmt: skip

        async def run() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            async with app.lifespan():
                await stop.wait()

        asyncio.run(run())
        click.echo("Podium worker stopped")


async def _ensure_demo_tenant(db: Database) -> Tenant:
    existing = {t.audience: t for t in await list_tenants(db)}
    if DEMO_AUDIENCE in existing and existing[DEMO_AUDIENCE].algorithm == "HS256":
        return existing[DEMO_AUDIENCE]
    key, _ = generate_key("HS256")
    tenant = Tenant(DEMO_AUDIENCE, "HS256", key, DEMO_AUDIENCE, "service")
    await add_tenant(db, tenant)
    return tenant


@main.group()
def janus() -> None:
    """The Janus media pool (PODIUM_JANUS_URLS)."""


@janus.command("status")
def janus_status() -> None:
    """Each Janus server's health, load and rooms."""
    from podium.conference.janus_backend import JanusBackend

    settings = read_settings()
    if not settings.janus_urls:
        raise click.ClickException("no Janus server is configured (PODIUM_JANUS_URLS)")

    async def report(db: Database) -> list[dict[str, Any]]:
        janus = JanusBackend(settings.janus_urls)
        try:
            return await janus.status(db)
        finally:
            await janus.close()

    with database(settings) as url:
        for entry in with_db(url, report):
            state = "up" if entry["healthy"] else f"DOWN ({entry.get('error', '')})"
            click.echo(
                f"{entry['id']}\t{state}\tload {entry['load']}/{entry['capacity']}\t"
                f"rooms {entry['rooms']}\t{entry['version'] or ''}\t{entry['url']}"
            )
