"""HTTP routes of the lobby: spec 003's PUT …/lobby on every kind's path, and the waiting queue."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath

from podium.classes.paths import body_or_none, class_answer, every_kind, kind_in
from podium.classes.schemas import ClassRead, Lobby
from podium.conference.backends import media_of
from podium.dependencies import Caller
from podium.ids import parse_id
from podium.lobby import service
from podium.lobby.schemas import Admission, Admitted, Denial, LobbyMessage, Waiting
from podium.rooms.live import hub_of
from podium.runtime import runtime
from podium.validation import Body, strict


@put(every_kind("lobby"), tags=["lobby"],
     summary="Turn the lobby on (1) or off (0), with a timer that opens it")  # fmt: skip
async def set_lobby(
    class_id: FromPath[str], request: Request[Any, Any, Any], principal: Caller, state: State
) -> ClassRead:
    """Body `{state: 0|1, timer?: unix seconds|null, message?, opens_before_minutes?}`; bad
    values answer 400 as in spec 003. Answers the class."""
    cid = parse_id(class_id, "class_id")
    body = await body_or_none(request)
    p = runtime(state)
    async with p.db.unit() as tx:
        kind = await service.set_lobby(
            tx, hub_of(state), media_of(state), principal, cid, kind_in(request), body
        )
        return await class_answer(tx, p.settings, principal, kind, cid)


class LobbyQueueRoutes(Controller):
    path = "/api/v1/classes/{class_id:str}/lobby"
    tags = ["lobby"]

    @get("/queue", summary="Who waits in the lobby, longest first")
    async def queue(
        self, class_id: FromPath[str], principal: Caller, state: State
    ) -> list[Waiting]:
        return await service.queue(runtime(state).db, principal, parse_id(class_id, "class_id"))

    @post("/admit", status_code=200, summary="Let people in (named, or all who wait)")
    async def admit(
        self, class_id: FromPath[str], data: Body[Admission], principal: Caller, state: State
    ) -> Admitted:
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.admit(tx, hub_of(state), principal, parse_id(class_id, "class_id"),
                                       strict(data, Admission))  # fmt: skip

    @post("/deny", status_code=200, summary="Turn people away")
    async def deny(
        self, class_id: FromPath[str], data: Body[Denial], principal: Caller, state: State
    ) -> Admitted:
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.deny(tx, hub_of(state), principal, parse_id(class_id, "class_id"),
                                      strict(data, Denial))  # fmt: skip

    @put("/message", summary="A message shown to those waiting")
    async def message(
        self, class_id: FromPath[str], data: Body[LobbyMessage], principal: Caller, state: State
    ) -> Lobby:
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.set_message(tx, hub_of(state), principal,
                                             parse_id(class_id, "class_id"),
                                             strict(data, LobbyMessage).message)  # fmt: skip
