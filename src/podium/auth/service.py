"""Tenants (stored in the database, cached in each process) and authentication of callers."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from litestar.datastructures import State

from podium.auth import queries, tokens
from podium.auth.models import Algorithm, Principal, Tenant
from podium.config import TenantConfig
from podium.db import Database, Executor
from podium.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from podium.outbound import check_url
from podium.validation import check_origin

# A tenant added or changed in the database reaches every running process within this time.
TENANT_CACHE_SECONDS = 5.0
# Verified tokens kept so a client's repeated calls skip signature checks (about a third of a
# simple read's CPU); each entry is still refused once its `exp` passes.
VERIFIED_TOKENS_MAX = 10_000


class TenantDirectory:
    """Tenants by audience, reloaded from the database at most every few seconds, and the
    tokens verified against them."""

    def __init__(self, db: Database, ttl: float = TENANT_CACHE_SECONDS) -> None:
        self.db = db
        self.ttl = ttl
        self._tenants: dict[str, Tenant] = {}
        self._loaded_at = float("-inf")
        self._reloading: asyncio.Task[None] | None = None
        self._verified: dict[str, Principal] = {}
        self._origins: dict[str, frozenset[str]] = {}  # browser origins, by audience
        self._all_origins: frozenset[str] = frozenset()
        self.issuing_key = ""  # Podium's own key (entry links, participants' tokens)

    async def reload(self) -> None:
        rows = await self.db.fetch(queries.SELECT_TENANTS)
        self.issuing_key = await self.db.fetchval(queries.SELECT_ISSUING_KEY) or ""
        tenants = {row["audience"]: Tenant(**dict(row)) for row in rows}
        if tenants != self._tenants:
            self._verified.clear()  # a changed or removed key must not keep its tokens alive
        self._tenants = tenants
        self._origins = {r["audience"]: frozenset(r["cors_origins"])
                         for r in await self.db.fetch(queries.SELECT_CORS)}  # fmt: skip
        self._all_origins = frozenset().union(*self._origins.values())
        self._loaded_at = time.monotonic()

    async def _fresh(self) -> None:
        """Reload when stale; concurrent callers share one reload instead of each running one."""
        if time.monotonic() - self._loaded_at <= self.ttl:
            return
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.ensure_future(self.reload())
        await asyncio.shield(self._reloading)

    async def origins(self, audience: str | None) -> frozenset[str]:
        """The browser origins a tenant allows (auth/cors.py); every tenant's for None."""
        await self._fresh()
        if audience is None:
            return self._all_origins
        return self._origins.get(audience, frozenset())

    async def get(self, audience: str) -> Tenant | None:
        await self._fresh()
        return self._tenants.get(audience)

    async def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthorized(
                "send `Authorization: Bearer <token>` (or `?access_token=`)", code="missing_token"
            )
        await self._fresh()
        known = self._verified.get(token)
        if known is not None and known.expires_at > time.time():
            return known
        tenant = self._tenants.get(tokens.unverified_audience(token))
        if tenant is None:
            raise Unauthorized("the token's audience is not a tenant here", code="unknown_audience")
        if tokens.unverified_issuer(token) == tokens.PODIUM_ISSUER and self.issuing_key:
            principal = tokens.verify_issued(token, self.issuing_key, tenant.audience)
        else:
            principal = tokens.verify(token, tenant)
        if len(self._verified) >= VERIFIED_TOKENS_MAX:
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = principal
        return principal


def bearer_token(authorization: str | None, access_token: str | None) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized(
                "the Authorization header must be `Bearer <token>`", code="invalid_token"
            )
        return value.strip()
    return access_token or None


def generate_key(algorithm: Algorithm) -> tuple[str, str | None]:
    """A new verification key and, for ES256, the private key the tenant signs with."""
    if algorithm == "HS256":
        return secrets.token_urlsafe(32), None
    private = ec.generate_private_key(ec.SECP256R1())
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return public_pem.decode(), private_pem.decode()


def tenant_from_config(cfg: TenantConfig) -> Tenant:
    return Tenant(
        audience=cfg.audience,
        algorithm=cfg.algorithm,
        key=cfg.key,
        issuer=cfg.issuer or cfg.audience,
        service_account=cfg.service_account,
    )


async def sync_configured(db: Database, configured: Iterable[TenantConfig]) -> None:
    """Tenants declared in settings are written to the database (changed ones updated)."""
    for cfg in configured:
        t = tenant_from_config(cfg)
        await db.execute(
            queries.UPSERT_TENANT, t.audience, t.algorithm, t.key, t.issuer, t.service_account
        )
        if cfg.webhook_url is not None:
            await set_webhook(db, t.audience, cfg.webhook_url, cfg.webhook_secret)
        if cfg.cors_origins is not None:
            await set_origins(db, t.audience, cfg.cors_origins)


async def set_origins(db: Database, audience: str, origins: list[str]) -> None:
    """The tenant's browser origins, replaced (each checked: `scheme://host[:port]` or `*`)."""
    try:
        checked = sorted({check_origin(o) for o in origins})
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="cors_origins") from None
    if await db.fetchval(queries.SET_CORS, audience, checked) is None:
        raise NotFound(f"no tenant {audience!r}", field="audience")


async def add_tenant(db: Database, tenant: Tenant) -> None:
    added = await db.fetchval(
        queries.INSERT_TENANT,
        tenant.audience,
        tenant.algorithm,
        tenant.key,
        tenant.issuer,
        tenant.service_account,
    )
    if added is None:
        raise Conflict(f"tenant {tenant.audience!r} already exists", field="audience")


async def list_tenants(db: Database) -> list[Tenant]:
    return [Tenant(**dict(row)) for row in await db.fetch(queries.SELECT_TENANTS)]


async def remove_tenant(db: Database, audience: str) -> bool:
    return await db.fetchval(queries.DELETE_TENANT, audience) is not None


async def set_webhook(db: Executor, audience: str, url: str | None, secret: str | None) -> bool:
    """Where the tenant's notifications are POSTed (http(s), no user info: 422 otherwise), and
    the secret that signs them."""
    if url is not None:
        try:
            check_url(url)
        except ValueError as exc:
            raise ValidationFailed(f"the webhook URL {exc}", field="webhook_url") from None
    return await db.fetchval(queries.SET_WEBHOOK, audience, url, secret) is not None


def tenants_of(state: State) -> TenantDirectory:
    """The tenant directory, kept by the app (`app.state.tenants`)."""
    found: TenantDirectory = state.tenants
    return found
