"""The pull feed of tenant notifications, for tenants that cannot receive webhooks."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from podium.dependencies import Caller
from podium.notifications import service
from podium.runtime import runtime
from podium.validation import BIGINT_MAX


class NotificationRoutes(Controller):
    path = "/api/v1/audiences/{audience:str}/events"
    tags = ["notifications"]

    @get("/", summary="The audience's notifications after a given id (service token)")
    async def feed(
        self,
        audience: FromPath[str],
        principal: Caller,
        state: State,
        after: Annotated[int, QueryParameter(required=False, ge=0, le=BIGINT_MAX)] = 0,
        limit: Annotated[int, QueryParameter(required=False, ge=1, le=service.MAX_FEED_PAGE)] = 100,
    ) -> dict[str, Any]:
        return await service.feed(runtime(state).db, principal, audience, after, limit)
