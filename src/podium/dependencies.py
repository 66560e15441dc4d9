"""What route handlers receive: the caller (injected); the application object comes from the
app's state (`runtime.runtime`).

The caller is the only injected dependency on purpose: with two or more, Litestar resolves them
in an anyio task group per request, which measured as a sizeable share of a simple read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import Operation

from podium import logs
from podium.auth.models import Principal
from podium.auth.service import bearer_token, tenants_of
from podium.runtime import runtime

# Annotated name for handler parameters.
Caller = NamedDependency[Principal]


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    token = bearer_token(
        request.headers.get("authorization"), request.query_params.get("access_token")
    )
    principal = await tenants_of(request.app.state).authenticate(token)
    logs.note(tenant=principal.audience)  # the request's log lines say whose it was
    return principal


PROVIDERS = {"principal": Provide(provide_principal)}


async def rate_limit(state: State, request: Request[Any, Any, Any], route: str) -> None:
    """429 when this address called `route` too often (routes callable without a token)."""
    client = request.client.host if request.client else "unknown"
    await runtime(state).limiter.take(route, client)


@dataclass
class NoToken(Operation):
    """The OpenAPI operation of a route that takes no token (`operation_class=NoToken`): it says
    `security: []`, which the framework drops when a handler is given an empty list, so the route
    would inherit the document's bearer requirement."""

    def __post_init__(self) -> None:
        self.security = []
