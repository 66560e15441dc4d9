"""Who is calling: tenants and principals (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

Algorithm = Literal["HS256", "ES256"]


@dataclass(frozen=True, slots=True)
class Tenant:
    audience: str
    algorithm: Algorithm
    key: str  # HS256 secret or ES256 public key (PEM); never logged or returned
    issuer: str
    service_account: str


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the tenant's backend (service) or one of its end users. An end
    user who came in through a participant's entry link also carries that participant."""

    audience: str
    account_id: str
    is_service: bool
    expires_at: float = float("inf")  # the token's `exp`
    participant_id: UUID | None = None
    class_id: UUID | None = None  # the class the participant belongs to
    role: str | None = None  # the participant's role when the token was issued
    # The classes the token acts in (a participant's: its own; a tenant's end-user token with a
    # `classes` claim: those); None: every class of the audience.
    classes: frozenset[UUID] | None = None
