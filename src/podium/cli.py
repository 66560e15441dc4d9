"""`podium serve | worker | migrate | token | tenant ...`"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx

from podium import logs
from podium.auth import tokens
from podium.auth.models import Tenant
from podium.auth.service import add_tenant, generate_key, list_tenants, remove_tenant
from podium.config import Settings, SettingsError, load_settings
from podium.db import Database, migrate
from podium.embedded import EmbeddedPostgres, EmbeddedServerError
from podium.errors import PodiumError

DEMO_AUDIENCE = "example.org"
T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The database URL, up to date (every command migrates first, so none meets a database
    without its tables): the configured one, or the embedded server's (started, then
    stopped)."""
    if settings.database_url:
        migrate(settings.database_url)
        yield settings.database_url
        return
    root = settings.data_dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    server = EmbeddedPostgres(root)
    # Two podium commands starting at once must not both start a server on one data directory.
    with open(root / ".postgres.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            url = server.start()
        except EmbeddedServerError as exc:
            raise click.ClickException(f"embedded PostgreSQL: {exc}") from None
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    try:
        migrate(url)
        yield url
    finally:
        server.stop()


def _with_db(url: str, fn: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        db = Database(url, size=2)
        await db.connect()
        try:
            return await fn(db)
        finally:
            await db.close()

    try:
        return asyncio.run(run())
    except PodiumError as exc:
        raise click.ClickException(exc.detail) from None


def _tenant(url: str, audience: str) -> Tenant:
    found = {t.audience: t for t in _with_db(url, list_tenants)}
    if audience not in found:
        raise click.ClickException(f"no tenant {audience!r}; see `podium tenant list`")
    return found[audience]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Podium: webinars and online classes. Settings come from PODIUM_* variables and .env."""
    logs.install()


@main.command("migrate")
def migrate_cmd() -> None:
    """Apply database migrations (also done by `serve`)."""
    settings = _settings()
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

    settings = _settings()
    host = host or settings.host
    port = port or settings.port
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    with database(settings) as url:
        base = f"http://{host}:{port}"
        click.echo(f"Podium on {base}  (API docs: {base}/docs, OpenAPI: {base}/openapi.json)")
        if demo:
            tenant = _with_db(url, _ensure_demo_tenant)
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
            # Forwarded addresses count only from proxies the operator names (rate limits are
            # per client address; a forged header from anyone else must not reset them).
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
            log_level=settings.log_level,
            access_log=False,
            server_header=False,
        )


@main.command("demo-class")
@click.option("--url", default="http://127.0.0.1:8080", show_default=True, help="Podium's URL.")
@click.option("--token", envvar="TOKEN", required=True, help="A service token ($TOKEN).")
@click.option("--audience", default=DEMO_AUDIENCE, show_default=True)
def demo_class(url: str, token: str, audience: str) -> None:
    """Create a class to try the join page with; print its entry links."""
    from podium.demo import create_demo_class

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

    settings = _settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
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


@main.command()
@click.argument("audience")
@click.option("--sub", default=None, help="Account id; default: the tenant's service account.")
@click.option(
    "--ttl",
    type=click.IntRange(1, 31 * 24 * 3600),
    default=3600,
    show_default=True,
    help="Seconds until the token expires.",
)
@click.option(
    "--private-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="PEM private key (ES256 tenants only).",
)
def token(audience: str, sub: str | None, ttl: int, private_key: Path | None) -> None:
    """Mint a token for a tenant: its service token, or an end user's with --sub."""
    settings = _settings()
    with database(settings) as url:
        tenant = _tenant(url, audience)
    signing = private_key.read_text() if private_key else None
    try:
        click.echo(tokens.mint(tenant, sub or tenant.service_account, ttl, signing))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
def janus() -> None:
    """The Janus media pool (PODIUM_JANUS_URLS)."""


@janus.command("status")
def janus_status() -> None:
    """Each Janus server's health, load and rooms."""
    from podium.conference.janus_backend import JanusBackend

    settings = _settings()
    if not settings.janus_urls:
        raise click.ClickException("no Janus server is configured (PODIUM_JANUS_URLS)")

    async def report(db: Database) -> list[dict[str, Any]]:
        janus = JanusBackend(settings.janus_urls)
        try:
            return await janus.status(db)
        finally:
            await janus.close()

    with database(settings) as url:
        for entry in _with_db(url, report):
            state = "up" if entry["healthy"] else f"DOWN ({entry.get('error', '')})"
            click.echo(
                f"{entry['id']}\t{state}\tload {entry['load']}/{entry['capacity']}\t"
                f"rooms {entry['rooms']}\t{entry['version'] or ''}\t{entry['url']}"
            )


@main.group()
def tenant() -> None:
    """Add, list, show or remove tenants (audiences)."""


@tenant.command("add")
@click.argument("audience")
@click.option(
    "--algorithm", type=click.Choice(["HS256", "ES256"]), default="HS256", show_default=True
)
@click.option("--key", default=None, help="HS256 secret or ES256 public key PEM; default: new.")
@click.option("--issuer", default=None, help="Expected `iss`; default: the audience.")
@click.option(
    "--service-account",
    default="service",
    show_default=True,
    help="The `sub` that marks the tenant's backend.",
)
def tenant_add(
    audience: str, algorithm: str, key: str | None, issuer: str | None, service_account: str
) -> None:
    """Add a tenant; prints a generated key once (it is not shown again)."""
    settings = _settings()
    private = None
    if key is None:
        key, private = generate_key(algorithm)  # type: ignore[arg-type]
    new = Tenant(audience, algorithm, key, issuer or audience, service_account)  # type: ignore[arg-type]
    with database(settings) as url:
        _with_db(url, lambda db: add_tenant(db, new))
    click.echo(f"tenant {audience!r} added ({algorithm})")
    if private:
        click.echo("its private signing key (store it; Podium keeps only the public key):")
        click.echo(private)
    elif algorithm == "HS256":
        click.echo(f"its secret: {key}")


@tenant.command("list")
def tenant_list() -> None:
    """List tenants (never their keys)."""
    settings = _settings()
    with database(settings) as url:
        for t in _with_db(url, list_tenants):
            click.echo(
                f"{t.audience}\t{t.algorithm}\tissuer={t.issuer}\t"
                f"service_account={t.service_account}"
            )


@tenant.command("show")
@click.argument("audience")
def tenant_show(audience: str) -> None:
    """Show one tenant's configuration (the key only as a fingerprint)."""
    import hashlib

    settings = _settings()
    with database(settings) as url:
        t = _tenant(url, audience)
    info: dict[str, Any] = {
        "audience": t.audience,
        "algorithm": t.algorithm,
        "issuer": t.issuer,
        "service_account": t.service_account,
        "key_fingerprint": "sha256:" + hashlib.sha256(t.key.encode()).hexdigest()[:16],
    }
    for k, v in info.items():
        click.echo(f"{k}: {v}")


@tenant.command("webhook")
@click.argument("audience")
@click.argument("url", required=False)
@click.option("--secret", default=None, help="Signing secret; default: a new one, printed once.")
@click.option("--remove", is_flag=True, help="Stop sending webhooks to this tenant.")
def tenant_webhook(audience: str, url: str | None, secret: str | None, remove: bool) -> None:
    """Set (or --remove) the URL notifications are POSTed to, signed with HMAC-SHA256."""
    from podium.auth.service import set_webhook

    if not remove and not url:
        raise click.UsageError("give a URL, or --remove")
    if url:
        from podium.outbound import check_url

        try:
            check_url(url)
        except ValueError as exc:
            raise click.UsageError(f"the URL {exc}") from None
    new_secret = None if remove else (secret or generate_key("HS256")[0])
    settings = _settings()
    with database(settings) as db_url:
        found = _with_db(db_url, lambda db: set_webhook(db, audience, url, new_secret))
    if not found:
        raise click.ClickException(f"no tenant {audience!r}")
    if remove:
        click.echo(f"webhooks to {audience!r} stopped")
    else:
        click.echo(f"webhooks for {audience!r} go to {url}")
        click.echo(f"signing secret (store it; shown once): {new_secret}")


@tenant.command("cors")
@click.argument("audience")
@click.argument("origins", nargs=-1)
def tenant_cors(audience: str, origins: tuple[str, ...]) -> None:
    """Set the origins of the tenant's web apps (https://app.example.org, or *): browsers there
    may call Podium. No origin: none."""
    from podium.auth.service import set_origins

    with database(_settings()) as url:
        try:
            _with_db(url, lambda db: set_origins(db, audience, list(origins)))
        except PodiumError as exc:
            raise click.ClickException(exc.detail) from None
    click.echo(f"browsers may call for {audience!r} from: {', '.join(origins) or 'nowhere'}")


@tenant.command("remove")
@click.argument("audience")
def tenant_remove(audience: str) -> None:
    """Remove a tenant: its tokens stop working (its classes stay in the database)."""
    settings = _settings()
    with database(settings) as url:
        if not _with_db(url, lambda db: remove_tenant(db, audience)):
            raise click.ClickException(f"no tenant {audience!r}")
    click.echo(f"tenant {audience!r} removed")


@main.group()
def client() -> None:
    """Session API clients (spec 004: OAuth2 client credentials at /v1/auth/token)."""


@client.command("create")
@click.argument("audience")
@click.option("--name", default=None, help="A label for the client.")
def client_create(audience: str, name: str | None) -> None:
    """Make a client for a tenant; prints its id and secret (the secret only this once)."""
    from podium.clients.service import create_client
    from podium.errors import NotFound

    settings = _settings()
    with database(settings) as url:
        try:
            made = _with_db(url, lambda db: create_client(db, audience, name))
        except NotFound:
            raise click.ClickException(f"no tenant {audience!r}") from None
    click.echo(f"client_id: {made.client_id}")
    click.echo(f"client_secret (store it; shown once): {made.secret}")


@client.command("list")
@click.argument("audience", required=False)
def client_list(audience: str | None) -> None:
    """List clients (never their secrets)."""
    from podium.clients.service import list_clients

    settings = _settings()
    with database(settings) as url:
        for row in _with_db(url, lambda db: list_clients(db, audience)):
            click.echo(f"{row['client_id']}\t{row['audience']}\t{row['name'] or ''}")


@client.command("remove")
@click.argument("client_id")
def client_remove(client_id: str) -> None:
    """Remove a client: its secret and refresh tokens stop working."""
    from podium.clients.service import remove_client

    settings = _settings()
    with database(settings) as url:
        if not _with_db(url, lambda db: remove_client(db, client_id)):
            raise click.ClickException(f"no client {client_id!r}")
    click.echo(f"client {client_id!r} removed")


if __name__ == "__main__":
    sys.exit(main())
