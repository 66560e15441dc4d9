"""HTTP routes of the media pool and of joining a class's media."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.params import FromPath, PathParameter

from podium.auth.policy import Action, authorize
from podium.conference import service
from podium.conference.backends import media_of
from podium.conference.schemas import MediaJoin
from podium.dependencies import Caller
from podium.ids import parse_id
from podium.runtime import runtime

AccountPath = Annotated[str, PathParameter(min_length=1, max_length=255)]


class MediaRoutes(Controller):
    path = "/api/v1/media"
    tags = ["media"]

    @get("/servers", summary="The Janus servers: health, load, rooms (service token)")
    async def servers(self, principal: Caller, state: State) -> list[dict[str, Any]]:
        authorize(principal, Action.UPDATE_CLASS)
        p = runtime(state)
        return await media_of(state).janus.status(p.db)


class ClassMediaRoutes(Controller):
    path = "/api/v1/classes/{class_id:str}/media"
    tags = ["media"]

    @post("", status_code=200, summary="Credentials to join the class's media on Janus")
    async def join(self, class_id: FromPath[str], principal: Caller, state: State) -> MediaJoin:
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.join_media(tx, media_of(state), p.settings, principal,
                                            parse_id(class_id, "class_id"))  # fmt: skip

    @delete("/{account_id:str}", summary="Revoke an account's media access and hang it up")
    async def revoke(
        self, class_id: FromPath[str], account_id: AccountPath, principal: Caller, state: State
    ) -> None:
        p = runtime(state)
        async with p.db.unit() as tx:
            await service.revoke_media(tx, media_of(state), principal,
                                       parse_id(class_id, "class_id"), account_id)  # fmt: skip
