"""HTTP routes of event rooms."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from podium.dependencies import Caller, database
from podium.ids import parse_id
from podium.rooms import service
from podium.rooms.schemas import Event

Filter = Annotated[str | None, QueryParameter(required=False, max_length=255)]


class EventRoomRoutes(Controller):
    path = "/api/v1/event_rooms"
    tags = ["event rooms"]

    @get("/{room_id:str}/events", summary="List a room's events in order, with a cursor")
    async def events(
        self,
        room_id: FromPath[str],
        principal: Caller,
        state: State,
        type: Filter = None,
        set: Filter = None,
        label: Filter = None,
        attribute: Filter = None,
        last_seq: Annotated[int | None, QueryParameter(required=False, ge=0)] = None,
        last_created_at: Annotated[int | None, QueryParameter(required=False, ge=0)] = None,
        direction: Annotated[
            Literal["forward", "backward"], QueryParameter(required=False)
        ] = "forward",
        limit: Annotated[int, QueryParameter(required=False, ge=1, le=service.MAX_PAGE)] = 100,
    ) -> list[Event]:
        return await service.list_events(
            database(state),
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
