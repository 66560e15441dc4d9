"""HTTP routes of the Session API (spec 004), drop-in compatible at /v1. Bodies and query
parameters are read by hand so that every bad value is the swagger's 400 naming the field."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath

from podium.conference.backends import media_of
from podium.dependencies import Caller
from podium.errors import BadRequest
from podium.participants.routes import links
from podium.rooms.live import hub_of
from podium.runtime import runtime
from podium.sessions import service
from podium.sessions.models import parse_flag
from podium.sessions.schemas import (
    Participant,
    ParticipantPage,
    Session,
    SessionPage,
    UnitResponse,
)

Req = Request[Any, Any, Any]


async def _json(request: Req) -> Any:
    try:
        return await request.json()
    except Exception:
        raise BadRequest("the body must be JSON", field="body", code="invalid_body") from None


def _deleted(request: Req) -> bool:
    return parse_flag(request.query_params.get("deleted_participants"), "deleted_participants")


class SessionRoutes(Controller):
    path = "/v1"
    tags = ["sessions"]

    @post("/sessions", status_code=200, summary="Create a session")
    async def create(self, request: Req, principal: Caller, state: State) -> Session:
        p, body = runtime(state), await _json(request)
        async with p.db.unit() as tx:
            return await service.create_session(tx, media_of(state), p.settings, principal, body,
                                                links(state))  # fmt: skip

    @get("/sessions", summary="A page of sessions")
    async def list(self, request: Req, principal: Caller, state: State) -> SessionPage:
        query = {k: request.query_params.get(k) for k in (
            "page", "page_size", "start_time", "end_time", "include_canceled",
            "deleted_participants", "state", "order")}  # fmt: skip
        p = runtime(state)
        return await service.list_sessions(p.db, principal, query, links(state))

    @get("/sessions/{session_id:str}", summary="A session")
    async def read(
        self, session_id: FromPath[str], request: Req, principal: Caller, state: State
    ) -> Session:
        p = runtime(state)
        canceled = parse_flag(request.query_params.get("include_canceled"), "include_canceled")
        return await service.read_session(p.db, principal, session_id, links(state),
                                          _deleted(request), canceled)  # fmt: skip

    @put("/sessions/{session_id:str}", summary="Change a session's times, name or picture")
    async def update(
        self, session_id: FromPath[str], request: Req, principal: Caller, state: State
    ) -> Session:
        p, body = runtime(state), await _json(request)
        async with p.db.unit() as tx:
            return await service.update_session(tx, media_of(state), p.settings, principal,
                                                session_id, body, links(state))  # fmt: skip

    @delete("/sessions/{session_id:str}", status_code=200, summary="Cancel a session (for good)")
    async def cancel(
        self, session_id: FromPath[str], principal: Caller, state: State
    ) -> UnitResponse:
        async with runtime(state).db.unit() as tx:
            return await service.cancel_session(tx, principal, session_id)

    @post("/sessions/{session_id:str}/participants", status_code=200,
          summary="Add a participant to a session")  # fmt: skip
    async def add(
        self, session_id: FromPath[str], request: Req, principal: Caller, state: State
    ) -> Participant:
        p, body = runtime(state), await _json(request)
        async with p.db.unit() as tx:
            return await service.add_participant(tx, principal, session_id, body, links(state))

    @get("/sessions/{session_id:str}/participants", summary="A session's participants")
    async def participants(
        self, session_id: FromPath[str], request: Req, principal: Caller, state: State
    ) -> ParticipantPage:
        p = runtime(state)
        return await service.session_participants(p.db, principal, session_id, links(state),
                                                  _deleted(request))  # fmt: skip

    @get("/participants/{participant_id:str}", summary="A participant")
    async def participant(
        self, participant_id: FromPath[str], principal: Caller, state: State
    ) -> Participant:
        p = runtime(state)
        return await service.read_participant(p.db, principal, participant_id, links(state))

    @put("/participants/{participant_id:str}", summary="Change a participant")
    async def update_participant(
        self, participant_id: FromPath[str], request: Req, principal: Caller, state: State
    ) -> Participant:
        p, body = runtime(state), await _json(request)
        async with p.db.unit() as tx:
            return await service.update_participant(tx, principal, participant_id, body,
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
