"""HTTP routes of the Session API (spec 004), drop-in compatible at /v1. Bodies and query
parameters are declared (the OpenAPI document shows them) but taken as they come and checked by
the service, so that every bad value is the swagger's 400 naming the field."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from podium.conference.backends import media_of
from podium.dependencies import Caller
from podium.participants.routes import links
from podium.rooms.live import hub_of
from podium.runtime import runtime
from podium.sessions import service
from podium.sessions.models import parse_flag
from podium.sessions.schemas import (
    Participant,
    ParticipantCreationRequest,
    ParticipantUpdateRequest,
    Session,
    SessionCreationRequest,
    SessionPage,
    SessionParticipantPage,
    SessionUpdateRequest,
    UnitResponse,
)
from podium.validation import Body

# Spec 004's query parameters, declared for the OpenAPI document and read as the strings they are:
# the service parses them with the spec's own rules and errors.
Flag = Annotated[str | None, QueryParameter(required=False)]
Text = Annotated[str | None, QueryParameter(required=False)]


class SessionRoutes(Controller):
    path = "/v1"
    tags = ["sessions"]

    @post("/sessions", status_code=200, summary="Create a session")
    async def create(
        self, principal: Caller, state: State, data: Body[SessionCreationRequest | None] = None
    ) -> Session:  # a missing or bad body is the service's 400, as spec 004 answers it
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.create_session(tx, media_of(state), p.settings, principal, data,
                                                links(state))  # fmt: skip

    @get("/sessions", summary="A page of sessions")
    async def list(
        self, principal: Caller, state: State, page: Text = None, page_size: Text = None,
        start_time: Text = None, end_time: Text = None, include_canceled: Flag = None,
        deleted_participants: Flag = None, order: Text = None,
        participant_state: Annotated[str | None, QueryParameter(name="state", required=False)]
        = None,
    ) -> SessionPage:  # fmt: skip
        query = {"page": page, "page_size": page_size, "start_time": start_time,
                 "end_time": end_time, "include_canceled": include_canceled,
                 "deleted_participants": deleted_participants, "state": participant_state,
                 "order": order}  # fmt: skip
        p = runtime(state)
        return await service.list_sessions(p.db, principal, query, links(state))

    @get("/sessions/{session_id:str}", summary="A session")
    async def read(
        self, session_id: FromPath[str], principal: Caller, state: State,
        include_canceled: Flag = None, deleted_participants: Flag = None,
    ) -> Session:  # fmt: skip
        p = runtime(state)
        canceled = parse_flag(include_canceled, "include_canceled")
        deleted = parse_flag(deleted_participants, "deleted_participants")
        return await service.read_session(p.db, principal, session_id, links(state), deleted,
                                          canceled)  # fmt: skip

    @put("/sessions/{session_id:str}", summary="Change a session's times, name or picture")
    async def update(
        self, session_id: FromPath[str], principal: Caller, state: State,
        data: Body[SessionUpdateRequest | None] = None,
    ) -> Session:  # fmt: skip
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.update_session(tx, media_of(state), p.settings, principal,
                                                session_id, data, links(state))  # fmt: skip

    @delete("/sessions/{session_id:str}", status_code=200, summary="Cancel a session (for good)")
    async def cancel(
        self, session_id: FromPath[str], principal: Caller, state: State
    ) -> UnitResponse:
        async with runtime(state).db.unit() as tx:
            return await service.cancel_session(tx, principal, session_id)

    @post("/sessions/{session_id:str}/participants", status_code=200,
          summary="Add a participant to a session")  # fmt: skip
    async def add(
        self, session_id: FromPath[str], principal: Caller, state: State,
        data: Body[ParticipantCreationRequest | None] = None,
    ) -> Participant:  # fmt: skip
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.add_participant(tx, principal, session_id, data, links(state))

    @get("/sessions/{session_id:str}/participants", summary="A session's participants")
    async def participants(
        self, session_id: FromPath[str], principal: Caller, state: State,
        deleted_participants: Flag = None,
    ) -> SessionParticipantPage:  # fmt: skip
        p = runtime(state)
        return await service.session_participants(
            p.db, principal, session_id, links(state),
            parse_flag(deleted_participants, "deleted_participants"),
        )  # fmt: skip

    @get("/participants/{participant_id:str}", summary="A participant")
    async def participant(
        self, participant_id: FromPath[str], principal: Caller, state: State
    ) -> Participant:
        p = runtime(state)
        return await service.read_participant(p.db, principal, participant_id, links(state))

    @put("/participants/{participant_id:str}", summary="Change a participant")
    async def update_participant(
        self, participant_id: FromPath[str], principal: Caller, state: State,
        data: Body[ParticipantUpdateRequest | None] = None,
    ) -> Participant:  # fmt: skip
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.update_participant(tx, principal, participant_id, data,
                                                    links(state))  # fmt: skip

    @delete("/participants/{participant_id:str}", status_code=200,
            summary="Cancel a participant (for good)")  # fmt: skip
    async def cancel_participant(
        self, participant_id: FromPath[str], principal: Caller, state: State
    ) -> UnitResponse:
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.cancel_participant(tx, hub_of(state), media_of(state), principal,
                                                    participant_id)  # fmt: skip
