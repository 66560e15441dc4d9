"""HTTP routes of event rooms, in the shapes the original event service's web client used."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, patch, post
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from podium.dependencies import Caller
from podium.ids import parse_id
from podium.responses import EMPTY, Empty
from podium.rooms import service
from podium.rooms.live import hub_of
from podium.rooms.schemas import (
    Agent,
    AgentUpdate,
    Ban,
    Event,
    EventCreate,
    LockedTypesUpdate,
    Room,
    RoomEnter,
    RoomUpdate,
    WhiteboardAccessUpdate,
)
from podium.runtime import runtime
from podium.validation import BIGINT_MAX, Body, strict

Filter = Annotated[str | None, QueryParameter(required=False, max_length=255)]
Cursor = Annotated[int | None, QueryParameter(required=False, ge=0, le=BIGINT_MAX)]
Limit = Annotated[int, QueryParameter(required=False, ge=1, le=service.MAX_PAGE)]
Offset = Annotated[int, QueryParameter(required=False, ge=0, le=BIGINT_MAX)]
AgentsLimit = Annotated[int, QueryParameter(required=False, ge=1, le=service.MAX_AGENTS_PAGE)]
Sets = Annotated[list[str] | None, QueryParameter(required=False)]
# `sets[]=a` (the original client's spelling) works too; the document names `sets` only, as a
# generated client can have one parameter per name.
SetsB = Annotated[
    list[str] | None, QueryParameter(name="sets[]", required=False, include_in_schema=False)
]


class EventRoomRoutes(Controller):
    path = "/api/v1/event_rooms/{room_id:str}"
    tags = ["event rooms"]

    @get("/", summary="Read an event room")
    async def read(self, room_id: FromPath[str], principal: Caller, state: State) -> Room:
        return await service.read_room(runtime(state).db, principal, parse_id(room_id, "room_id"))

    @patch("/", summary="Close or extend the room, change its tags")
    async def update(
        self, room_id: FromPath[str], data: Body[RoomUpdate], principal: Caller, state: State
    ) -> Room:
        fields = set(data) if isinstance(data, dict) else set()
        return await service.update_room(
            runtime(state).db, principal, parse_id(room_id, "room_id"), strict(data, RoomUpdate),
            fields,
        )  # fmt: skip

    @post("/events", summary="Post an event as a participant")
    async def create_event(
        self, room_id: FromPath[str], data: Body[EventCreate], principal: Caller, state: State
    ) -> Response[Event | Empty]:  # `{}`: a non-persistent event, delivered live, not stored
        p = runtime(state)
        async with p.db.unit() as tx:
            event = await service.post_event(tx, hub_of(state), principal,
                                             parse_id(room_id, "room_id"),
                                             strict(data, EventCreate))  # fmt: skip
        return Response(event if event is not None else EMPTY, status_code=201)

    @get("/events", summary="List a room's events in order, with a cursor")
    async def events(
        self,
        room_id: FromPath[str],
        principal: Caller,
        state: State,
        type: Filter = None,
        set: Filter = None,
        label: Filter = None,
        attribute: Filter = None,
        last_seq: Cursor = None,
        last_created_at: Cursor = None,
        direction: Annotated[
            Literal["forward", "backward"], QueryParameter(required=False)
        ] = "forward",
        limit: Limit = service.MAX_PAGE,
    ) -> list[Event]:
        return await service.list_events(
            runtime(state).db,
            principal,
            parse_id(room_id, "room_id"),
            type=type,
            set=set,
            label=label,
            attribute=attribute,
            last_seq=last_seq,
            last_created_at=last_created_at,
            forward=direction == "forward",
            limit=limit,
        )

    @get("/state", summary="The latest version of each item of up to 10 sets, at a moment")
    async def read_state(
        self,
        room_id: FromPath[str],
        principal: Caller,
        state: State,
        sets: Sets = None,
        sets_b: SetsB = None,
        occurred_at: Cursor = None,
        attribute: Filter = None,
        original_occurred_at: Cursor = None,
        limit: Limit = service.MAX_PAGE,
    ) -> dict[str, Any]:
        return await service.read_state(
            runtime(state).db,
            principal,
            parse_id(room_id, "room_id"),
            [*(sets or []), *(sets_b or [])],
            occurred_at,
            attribute,
            original_occurred_at,
            limit,
        )

    @post("/locked_types", status_code=200, summary="Lock or unlock event types (merge)")
    async def locked_types(
        self,
        room_id: FromPath[str],
        data: Body[LockedTypesUpdate],
        principal: Caller,
        state: State,
    ) -> Room:
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.set_locked_types(
                tx, hub_of(state), principal, parse_id(room_id, "room_id"),
                strict(data, LockedTypesUpdate),
            )  # fmt: skip

    @post("/whiteboard_access", status_code=200, summary="Give or take whiteboard access (merge)")
    async def whiteboard_access(
        self,
        room_id: FromPath[str],
        data: Body[WhiteboardAccessUpdate],
        principal: Caller,
        state: State,
    ) -> Room:
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.set_whiteboard_access(
                tx, hub_of(state), principal, parse_id(room_id, "room_id"),
                strict(data, WhiteboardAccessUpdate),
            )  # fmt: skip

    @post("/enter", status_code=200, summary="Enter the room: be counted among its agents")
    async def enter(
        self, room_id: FromPath[str], data: Body[RoomEnter], principal: Caller, state: State
    ) -> Agent:
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.enter_room(tx, hub_of(state), principal,
                                            parse_id(room_id, "room_id"),
                                            strict(data, RoomEnter))  # fmt: skip

    @patch("/agents", summary="Ban or unban an account in the room")
    async def agents(
        self, room_id: FromPath[str], data: Body[AgentUpdate], principal: Caller, state: State
    ) -> Empty:
        p = runtime(state)
        async with p.db.unit() as tx:
            await service.set_ban(tx, hub_of(state), principal, parse_id(room_id, "room_id"),
                                  strict(data, AgentUpdate))  # fmt: skip
        return EMPTY

    @get("/agents", summary="The room's agents: who entered it or is connected to its live socket")
    async def list_agents(
        self,
        room_id: FromPath[str],
        principal: Caller,
        state: State,
        offset: Offset = 0,
        limit: AgentsLimit = service.MAX_AGENTS_PAGE,
    ) -> list[Agent]:
        return await service.list_agents(runtime(state).db, principal,
                                         parse_id(room_id, "room_id"), offset, limit)  # fmt: skip

    @get("/bans", summary="Who is banned from the room")
    async def bans(self, room_id: FromPath[str], principal: Caller, state: State) -> list[Ban]:
        return await service.list_bans(runtime(state).db, principal, parse_id(room_id, "room_id"))


class RoomRoutes(EventRoomRoutes):
    """The same routes under the event service's own prefix (`/rooms/:id/…`), which the original
    web client library's published version (@ulms/api-clients 5.24) calls; later versions call
    `/event_rooms/:id/…`. One handler each, both paths in the OpenAPI document."""

    path = "/api/v1/rooms/{room_id:str}"
