"""JWT: verify a caller's bearer token against its tenant, and mint tokens for development.

The algorithm is pinned per tenant (never taken from the token header), `exp`, `aud`, `iss` and
`sub` are required, and `alg: none` can never verify.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from podium.auth.models import Principal, Tenant
from podium.errors import Unauthorized

LEEWAY_SECONDS = 30


def unverified_audience(token: str) -> str:
    """The `aud` claim, read only to find which tenant's key must verify the token."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthorized(
            "the bearer token is not a well-formed JWT", code="invalid_token"
        ) from None
    aud = claims.get("aud")
    if not isinstance(aud, str) or not aud:
        raise Unauthorized("the token has no `aud` claim naming an audience", code="invalid_token")
    return aud


def verify(token: str, tenant: Tenant) -> Principal:
    try:
        claims = jwt.decode(
            token,
            tenant.key,
            algorithms=[tenant.algorithm],
            audience=tenant.audience,
            issuer=tenant.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "aud", "iss", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired", code="token_expired") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"the token is not valid: {exc}", code="invalid_token") from None
    sub = claims["sub"]
    if not isinstance(sub, str) or not sub:
        raise Unauthorized("the token's `sub` must be an account id", code="invalid_token")
    is_service = sub == tenant.service_account
    return Principal(
        audience=tenant.audience,
        account_id=sub,
        is_service=is_service,
        expires_at=float(claims["exp"]) + LEEWAY_SECONDS,
        classes=None if is_service else classes_claim(claims.get("classes")),
    )


MAX_SCOPED_CLASSES = 1000


def classes_claim(value: Any) -> frozenset[uuid.UUID] | None:
    """An end-user token's optional `classes` claim: the class ids it may act in."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_SCOPED_CLASSES:
        raise Unauthorized(f"`classes` must be a list of at most {MAX_SCOPED_CLASSES} class ids",
                           code="invalid_token")  # fmt: skip
    try:
        return frozenset(uuid.UUID(str(item)) for item in value)
    except ValueError:
        raise Unauthorized("`classes` must hold class ids (uuids)", code="invalid_token") from None


def mint(
    tenant: Tenant, sub: str, ttl_seconds: int, signing_key: str | None = None,
    classes: list[str] | None = None,
) -> str:  # fmt: skip
    """A token for `sub` in the tenant's audience (scoped to `classes` when given). ES256 needs
    the tenant's private key."""
    if tenant.algorithm == "ES256" and not signing_key:
        raise ValueError("an ES256 tenant's tokens are signed with its private key; pass it")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": tenant.issuer,
        "aud": tenant.audience,
        "sub": sub,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if classes is not None:
        claims["classes"] = classes
    return jwt.encode(claims, signing_key or tenant.key, algorithm=tenant.algorithm)


# Tokens Podium issues itself (for participants who came in through an entry link) name this
# issuer and are signed with Podium's own key; a tenant's key never signs them.
PODIUM_ISSUER = "podium"


def unverified_issuer(token: str) -> str | None:
    try:
        iss = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return iss if isinstance(iss, str) else None


def issue(key: str, audience: str, participant: dict[str, Any], ttl_seconds: int) -> str:
    """An end-user token for a participant (HS256 under Podium's key)."""
    now = int(time.time())
    claims = {
        "iss": PODIUM_ISSUER, "aud": audience, "sub": participant["account_id"], "iat": now,
        "exp": now + ttl_seconds, "pid": str(participant["id"]),
        "cid": str(participant["class_id"]), "role": participant["role"],
    }  # fmt: skip
    return jwt.encode(claims, key, algorithm="HS256")


def issue_class(key: str, audience: str, account_id: str, class_id: str, ttl_seconds: int) -> str:
    """An end-user token that acts in one class only (`POST /api/v1/classrooms/:id/tokens`)."""
    now = int(time.time())
    claims = {"iss": PODIUM_ISSUER, "aud": audience, "sub": account_id, "iat": now,
              "exp": now + ttl_seconds, "cid": class_id}  # fmt: skip
    return jwt.encode(claims, key, algorithm="HS256")


def issue_client(key: str, audience: str, client_id: str, ttl_seconds: int) -> str:
    """A Session API client's access token: the tenant's backend, through that client."""
    now = int(time.time())
    claims = {"iss": PODIUM_ISSUER, "aud": audience, "sub": f"client:{client_id}", "iat": now,
              "exp": now + ttl_seconds, "svc": True}  # fmt: skip
    return jwt.encode(claims, key, algorithm="HS256")


def verify_issued(token: str, key: str, audience: str) -> Principal:
    try:
        claims = jwt.decode(
            token, key, algorithms=["HS256"], audience=audience, issuer=PODIUM_ISSUER,
            leeway=LEEWAY_SECONDS, options={"require": ["exp", "aud", "iss", "sub"]},
        )  # fmt: skip
        if claims.get("svc") is True:
            return Principal(audience=audience, account_id=str(claims["sub"]), is_service=True,
                             expires_at=float(claims["exp"]) + LEEWAY_SECONDS)  # fmt: skip
        class_id = uuid.UUID(claims["cid"])
        if "pid" not in claims:  # an end user's token for one class (issue_class)
            return Principal(audience=audience, account_id=str(claims["sub"]), is_service=False,
                             expires_at=float(claims["exp"]) + LEEWAY_SECONDS,
                             classes=frozenset({class_id}))  # fmt: skip
        participant_id = uuid.UUID(claims["pid"])
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired", code="token_expired") from None
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise Unauthorized(f"the token is not valid: {exc}", code="invalid_token") from None
    return Principal(
        audience=audience, account_id=str(claims["sub"]), is_service=False,
        expires_at=float(claims["exp"]) + LEEWAY_SECONDS, participant_id=participant_id,
        class_id=class_id, role=str(claims.get("role") or "guest"),
        classes=frozenset({class_id}),  # a participant acts in its own class only
    )  # fmt: skip
