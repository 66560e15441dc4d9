"""HTTP route of Session API clients: the OAuth2 token endpoint (spec 004)."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.datastructures import State

from podium.auth.service import tenants_of
from podium.clients import service
from podium.dependencies import NoToken, rate_limit
from podium.runtime import runtime


@post(
    "/v1/auth/token",
    status_code=200,
    tags=["sessions"],
    operation_class=NoToken,
    summary="OAuth2 token: HTTP Basic client id/secret; client_credentials or refresh_token",
)
async def token(request: Request[Any, Any, Any], state: State) -> dict[str, Any]:
    await rate_limit(state, request, "token")
    p, body = runtime(state), await request.body()
    async with p.db.unit() as tx:
        return await service.token(
            tx, tenants_of(state).issuing_key, request.headers.get("authorization"),
            request.headers.get("content-type"), body,
        )  # fmt: skip
