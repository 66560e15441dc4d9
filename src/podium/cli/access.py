"""Commands about who may call Podium: `token`, `tenant …` (keys, webhooks, browser origins)
and `client …` (Session API clients)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from podium.auth import tokens
from podium.auth.models import Tenant
from podium.auth.service import add_tenant, generate_key, list_tenants, remove_tenant
from podium.cli.root import database, find_tenant, main, read_settings, with_db


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
    settings = read_settings()
    with database(settings) as url:
        tenant = find_tenant(url, audience)
    signing = private_key.read_text() if private_key else None
    try:
        click.echo(tokens.mint(tenant, sub or tenant.service_account, ttl, signing))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


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
    settings = read_settings()
    private = None
    if key is None:
        key, private = generate_key(algorithm)  # type: ignore[arg-type]
    new = Tenant(audience, algorithm, key, issuer or audience, service_account)  # type: ignore[arg-type]
    with database(settings) as url:
        with_db(url, lambda db: add_tenant(db, new))
    click.echo(f"tenant {audience!r} added ({algorithm})")
    if private:
        click.echo("its private signing key (store it; Podium keeps only the public key):")
        click.echo(private)
    elif algorithm == "HS256":
        click.echo(f"its secret: {key}")


@tenant.command("list")
def tenant_list() -> None:
    """List tenants (never their keys)."""
    settings = read_settings()
    with database(settings) as url:
        for t in with_db(url, list_tenants):
            click.echo(
                f"{t.audience}\t{t.algorithm}\tissuer={t.issuer}\t"
                f"service_account={t.service_account}"
            )


@tenant.command("show")
@click.argument("audience")
def tenant_show(audience: str) -> None:
    """Show one tenant's configuration (the key only as a fingerprint)."""
    import hashlib

    settings = read_settings()
    with database(settings) as url:
        t = find_tenant(url, audience)
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
    settings = read_settings()
    with database(settings) as db_url:
        found = with_db(db_url, lambda db: set_webhook(db, audience, url, new_secret))
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

    with database(read_settings()) as url:
        with_db(url, lambda db: set_origins(db, audience, list(origins)))
    click.echo(f"browsers may call for {audience!r} from: {', '.join(origins) or 'nowhere'}")


@tenant.command("remove")
@click.argument("audience")
def tenant_remove(audience: str) -> None:
    """Remove a tenant: its tokens stop working (its classes stay in the database)."""
    settings = read_settings()
    with database(settings) as url:
        if not with_db(url, lambda db: remove_tenant(db, audience)):
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

    settings = read_settings()
    with database(settings) as url:
        try:
            made = with_db(url, lambda db: create_client(db, audience, name))
        except NotFound:
            raise click.ClickException(f"no tenant {audience!r}") from None
    click.echo(f"client_id: {made.client_id}")
    click.echo(f"client_secret (store it; shown once): {made.secret}")


@client.command("list")
@click.argument("audience", required=False)
def client_list(audience: str | None) -> None:
    """List clients (never their secrets)."""
    from podium.clients.service import list_clients

    settings = read_settings()
    with database(settings) as url:
        for row in with_db(url, lambda db: list_clients(db, audience)):
            click.echo(f"{row['client_id']}\t{row['audience']}\t{row['name'] or ''}")


@client.command("remove")
@click.argument("client_id")
def client_remove(client_id: str) -> None:
    """Remove a client: its secret and refresh tokens stop working."""
    from podium.clients.service import remove_client

    settings = read_settings()
    with database(settings) as url:
        if not with_db(url, lambda db: remove_client(db, client_id)):
            raise click.ClickException(f"no client {client_id!r}")
    click.echo(f"client {client_id!r} removed")
