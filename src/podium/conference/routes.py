"""HTTP routes of the media pool."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.datastructures import State

from podium.auth.policy import Action, authorize
from podium.dependencies import Caller, database


class MediaRoutes(Controller):
    path = "/api/v1/media"
    tags = ["media"]

    @get("/servers", summary="The Janus servers: health, load, rooms (service token)")
    async def servers(self, principal: Caller, state: State) -> list[dict[str, Any]]:
        authorize(principal, Action.UPDATE_CLASS)
        report: list[dict[str, Any]] = await state.pool.status(database(state))
        return report
