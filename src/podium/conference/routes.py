"""HTTP routes of the media pool and of joining a class's media."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.params import FromPath, PathParameter

from podium.auth.policy import Action, authorize
from podium.conference import service
from podium.conference.schemas import MediaJoin
from podium.config import Settings
from podium.dependencies import Caller, database
from podium.ids import parse_id

AccountPath = Annotated[str, PathParameter(min_length=1, max_length=255)]


class MediaRoutes(Controller):
    path = "/api/v1/media"
    tags = ["media"]

    @get("/servers", summary="The Janus servers: health, load, rooms (service token)")
    async def servers(self, principal: Caller, state: State) -> list[dict[str, Any]]:
        authorize(principal, Action.UPDATE_CLASS)
        report: list[dict[str, Any]] = await state.pool.status(database(state))
        return report


def ice_options(settings: Settings) -> service.IceOptions:
    return service.IceOptions(
        tuple(settings.turn_hosts), settings.turn_secret, settings.turn_ttl_seconds
    )


class ClassMediaRoutes(Controller):
    path = "/api/v1/classes/{class_id:str}/media"
    tags = ["media"]

    @post("", status_code=200, summary="Credentials to join the class's media on Janus")
    async def join(self, class_id: FromPath[str], principal: Caller, state: State) -> MediaJoin:
        return await service.join_media(
            database(state), state.pool, principal, parse_id(class_id, "class_id"),
            ice_options(state.settings),
        )  # fmt: skip

    @delete("/{account_id:str}", summary="Revoke an account's media access and hang it up")
    async def revoke(
        self, class_id: FromPath[str], account_id: AccountPath, principal: Caller, state: State
    ) -> None:
        await service.revoke_media(
            database(state), state.pool, principal, parse_id(class_id, "class_id"), account_id
        )
