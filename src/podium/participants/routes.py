"""HTTP routes of participants and of entering a class through an entry link."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from podium.auth.service import tenants_of
from podium.conference.backends import media_of
from podium.dependencies import Caller, NoToken, rate_limit
from podium.ids import parse_id
from podium.participants import service
from podium.participants.schemas import (
    JoinAnswer,
    JoinRequest,
    ParticipantCreate,
    ParticipantPage,
    ParticipantRead,
    ParticipantUpdate,
)
from podium.rooms.live import hub_of
from podium.runtime import runtime
from podium.validation import Body, strict

Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
Flag = Annotated[bool, QueryParameter()]


def links(state: State) -> service.Links:
    settings = runtime(state).settings
    return service.Links(
        key=tenants_of(state).issuing_key,
        base_url=settings.base_url,
        token_seconds=settings.participant_token_seconds,
    )


class ClassParticipantRoutes(Controller):
    path = "/api/v1/classes/{class_id:str}/participants"
    tags = ["participants"]

    @post("", summary="Add a participant (with a personal entry link)")
    async def create(
        self, class_id: FromPath[str], data: Body[ParticipantCreate], principal: Caller,
        state: State,
    ) -> ParticipantRead:  # fmt: skip
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.create_participant(
                tx, principal, parse_id(class_id, "class_id"), strict(data, ParticipantCreate),
                links(state),
            )  # fmt: skip

    @get("", summary="The class's participants, in the order they were added")
    async def list(
        self, class_id: FromPath[str], principal: Caller, state: State,
        include_canceled: Flag = False, offset: Offset = 0, limit: Limit = 100,
    ) -> ParticipantPage:  # fmt: skip
        p = runtime(state)
        return await service.list_participants(
            p.db, principal, parse_id(class_id, "class_id"), links(state),
            include_canceled=include_canceled, offset=offset, limit=limit,
        )  # fmt: skip


class ParticipantRoutes(Controller):
    path = "/api/v1/participants/{participant_id:str}"
    tags = ["participants"]

    @get("", summary="A participant")
    async def read(
        self, participant_id: FromPath[str], principal: Caller, state: State
    ) -> ParticipantRead:
        p = runtime(state)
        return await service.read_participant(
            p.db, principal, parse_id(participant_id, "participant_id"), links(state)
        )

    @put("", summary="Change a participant (`rotate_link: true` for a new entry link)")
    async def update(
        self, participant_id: FromPath[str], data: Body[ParticipantUpdate], principal: Caller,
        state: State,
    ) -> ParticipantRead:  # fmt: skip
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.update_participant(
                tx, principal, parse_id(participant_id, "participant_id"),
                strict(data, ParticipantUpdate), links(state),
            )  # fmt: skip

    @delete("", summary="Cancel a participant: link dead, out of the rooms at once")
    async def cancel(self, participant_id: FromPath[str], principal: Caller, state: State) -> None:
        p = runtime(state)
        async with p.db.unit() as tx:
            await service.cancel_participant(
                tx,
                hub_of(state),
                media_of(state),
                principal,
                parse_id(participant_id, "participant_id"),
            )


@post("/api/v1/join", status_code=200, tags=["participants"], operation_class=NoToken,
      summary="Exchange an entry link's token for the participant's access token")  # fmt: skip
async def join(
    data: Body[JoinRequest], request: Request[Any, Any, Any], state: State
) -> JoinAnswer:
    await rate_limit(state, request, "join")
    p = runtime(state)
    async with p.db.unit() as tx:
        return await service.enter(tx, hub_of(state), p.settings,
                                   strict(data, JoinRequest).entry_token, links(state))  # fmt: skip
