"""Session API clients (spec 004): OAuth2 client credentials and refresh tokens.

A client belongs to one tenant; its access tokens are that tenant's backend (service) tokens,
signed by Podium. Secrets and refresh tokens are random (256 bits) and only their SHA-256 is
kept, so a stolen database does not hand them out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import asyncpg

from podium.auth import tokens
from podium.clients import queries
from podium.db import Executor, Row, Unit
from podium.errors import BadRequest, NotFound, Unauthorized

ACCESS_SECONDS = 3600
REFRESH_SECONDS = 30 * 86400


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewClient:
    client_id: str
    secret: str  # shown once


async def create_client(db: Executor, audience: str, name: str | None = None) -> NewClient:
    client_id, secret = secrets.token_hex(12), secrets.token_urlsafe(32)
    try:
        await db.execute(queries.INSERT, client_id, audience, _hash(secret), name)
    except asyncpg.ForeignKeyViolationError:
        raise NotFound(f"no tenant {audience!r}", code="tenant_not_found") from None
    return NewClient(client_id, secret)


async def list_clients(db: Executor, audience: str | None = None) -> list[Row]:
    return list(await db.fetch(queries.LIST, audience))


async def remove_client(db: Executor, client_id: str) -> bool:
    return await db.fetchval(queries.DELETE, client_id) is not None


def _basic(authorization: str | None) -> tuple[str, str]:
    scheme, _, value = (authorization or "").partition(" ")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    client_id, sep, secret = decoded.partition(":")
    if scheme.lower() != "basic" or not sep or not client_id:
        raise Unauthorized("authenticate with HTTP Basic: client id and secret",
                           code="invalid_client", error="invalid_client")  # fmt: skip
    return client_id, secret


def _form(content_type: str | None, raw: bytes) -> dict[str, str]:
    """The token request's parameters: form-encoded (RFC 6749) or, leniently, JSON."""
    if content_type and "json" in content_type:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object", field="body",
                             code="invalid_request", error="invalid_request")  # fmt: skip
        return {k: str(v) for k, v in body.items() if isinstance(v, str | int)}
    parsed = parse_qs(raw.decode(errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


async def token(
    tx: Unit, issuing_key: str, authorization: str | None, content_type: str | None, raw: bytes
) -> dict[str, Any]:
    """POST /v1/auth/token: `grant_type=client_credentials` or `refresh_token` (spent, and its
    successor saved, in one unit)."""
    client_id, secret = _basic(authorization)
    row = await tx.db.fetchrow(queries.SELECT, client_id)
    if row is None or not hmac.compare_digest(row["secret_hash"], _hash(secret)):
        raise Unauthorized("unknown client or wrong secret", code="invalid_client",
                           error="invalid_client")  # fmt: skip
    form = _form(content_type, raw)
    grant = form.get("grant_type")
    if grant == "refresh_token":
        given = form.get("refresh_token") or ""
        if await tx.fetchval(queries.USE_REFRESH, _hash(given), client_id) is None:
            raise BadRequest("the refresh token is unknown, used or expired",
                             field="refresh_token", code="invalid_grant",
                             error="invalid_grant")  # fmt: skip
    elif grant != "client_credentials":
        raise BadRequest("grant_type must be client_credentials or refresh_token",
                         field="grant_type", code="unsupported_grant_type",
                         error="unsupported_grant_type")  # fmt: skip
    refresh = secrets.token_urlsafe(32)
    await tx.execute(queries.SAVE_REFRESH, _hash(refresh), client_id, REFRESH_SECONDS)
    return {
        "access_token": tokens.issue_client(issuing_key, row["audience"], client_id,
                                            ACCESS_SECONDS),
        "token_type": "Bearer",
        "expires_in": ACCESS_SECONDS,
        "refresh_token": refresh,
    }  # fmt: skip
