"""HTTP routes of classes, the same for every kind: parse, call one service function.

`class_routes(kind)` builds a kind's controller, so each kind's paths stand in the OpenAPI
document as its clients know them (`/api/v1/webinars/…`, `/api/v1/minigroups/…`) while the
handlers are written once. Reads and updates also answer by audience and scope.
"""

# No `from __future__ import annotations` here: Litestar reads the handlers' annotations, and
# the body shapes are the factory's arguments, which only exist while it runs.

from typing import Annotated, Any

from litestar import Controller, HttpMethod, Request, Response, get, post, put, route
from litestar.datastructures import State
from litestar.params import FromPath, HeaderParameter, PathParameter, QueryParameter

from podium.auth.models import Principal
from podium.auth.policy import within
from podium.auth.service import tenants_of
from podium.classes import activity, replicas, service
from podium.classes.models import Kind
from podium.classes.schemas import (
    ChatCreate,
    ClassCreate,
    ClassRead,
    ClassRecreate,
    ClassUpdate,
    DownloadLink,
    LiveToken,
    MinigroupCreate,
    P2PCreate,
    PositionSave,
    PresenterUpdate,
    ReplicaCreate,
    WebinarCreate,
)
from podium.conference.backends import media_of
from podium.dependencies import Caller
from podium.idempotency import Key, check_key, fingerprint
from podium.ids import parse_id
from podium.responses import EMPTY, Empty, json_value
from podium.rooms.live import hub_of
from podium.rooms.schemas import EventCreate
from podium.runtime import runtime
from podium.validation import Body, check_storable, strict

# `class_keys=a&class_keys=b` and `class_keys[]=a` are both accepted (spec 001 clients use both).
Keys = Annotated[list[str] | None, QueryParameter(required=False)]
# (The bracketed spelling is left out of the document: a generated client has one parameter a name.)
ClassKeysB = Annotated[
    list[str] | None,
    QueryParameter(name="class_keys[]", required=False, include_in_schema=False),
]
AccountKeysB = Annotated[
    list[str] | None,
    QueryParameter(name="account_keys[]", required=False, include_in_schema=False),
]
IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False)]
OptionalPath = FromPath[str | None]
PropertyId = Annotated[str, PathParameter(min_length=1, max_length=255)]

PLURAL = {
    Kind.WEBINAR: "webinars", Kind.MINIGROUP: "minigroups", Kind.P2P: "p2p", Kind.CHAT: "chats"
}  # fmt: skip
CREATE_SHAPE: dict[Kind, type[ClassCreate]] = {
    Kind.WEBINAR: WebinarCreate,
    Kind.MINIGROUP: MinigroupCreate,
    Kind.P2P: P2PCreate,
    Kind.CHAT: ChatCreate,
}
# Kinds with a whiteboard (`POST …/whiteboard`; a p2p is seeded with one unless told not to).
WHITEBOARD_KINDS = (Kind.MINIGROUP, Kind.P2P)


def seed_of(data: ClassCreate) -> list[EventCreate]:
    return activity.whiteboard_events() if isinstance(data, P2PCreate) and data.whiteboard else []


def keys(plain: list[str] | None, bracketed: list[str] | None) -> list[str]:
    return [*(plain or []), *(bracketed or [])]


async def link(state: State, principal: Principal, ref: service.ClassRef, name: str) -> str:
    p = runtime(state)
    return await activity.stream_link(p.db, p.storage, p.settings, tenants_of(state).issuing_key,
                                      principal, ref, name)  # fmt: skip


def class_routes(kind: Kind) -> type[Controller]:
    plural = PLURAL[kind]
    id_field = f"{kind.value}_id"  # the spec's name for the path parameter, used in errors
    shape = CREATE_SHAPE[kind]
    by_id = f"/{plural}/{{class_id:str}}"
    both = [by_id, f"/audiences/{{audience:str}}/{plural}/{{class_scope:str}}"]

    def ref_of(class_id: str) -> service.ClassRef:
        return service.ClassRef(kind, id=parse_id(class_id, id_field))

    def addressed(
        principal: Principal, class_id: str | None, audience: str | None, scope: str | None
    ) -> tuple[Principal, service.ClassRef]:
        """`/…/:id`, or `/audiences/:audience/…/:scope` (another audience answers 404)."""
        if class_id is not None:
            return principal, ref_of(class_id)
        return within(principal, audience or ""), service.ClassRef(kind, scope=scope)

    class Routes(Controller):
        path = "/api/v1"
        tags = [plural]

        @post(f"/{plural}", status_code=201, summary=f"Create a {kind.value} with its rooms")
        async def create(
            self,
            request: Request[Any, Any, Any],
            data: Body[shape],  # type: ignore[valid-type]
            principal: Caller,
            state: State,
            idempotency_key: IdempotencyKey = None,
        ) -> Response[ClassRead]:
            key = None
            if idempotency_key is not None:
                body = await request.body()
                key = Key(check_key(idempotency_key), fingerprint(request.url.path, body))
            p = runtime(state)
            wanted = strict(data, shape)
            async with p.db.unit() as tx:
                outcome = await service.create_class(
                    tx, media_of(state), p.settings, principal, kind, wanted, key,
                    hub=hub_of(state), seed=seed_of(wanted),
                )  # fmt: skip
            headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
            return Response(outcome.body, status_code=outcome.status, headers=headers)

        @get(both, summary=f"Read a {kind.value}, by id or by audience and scope")
        async def read(
            self,
            principal: Caller,
            state: State,
            class_id: OptionalPath = None,
            audience: OptionalPath = None,
            class_scope: OptionalPath = None,
            class_keys: Keys = None,
            class_keys_b: ClassKeysB = None,
            account_keys: Keys = None,
            account_keys_b: AccountKeysB = None,
        ) -> ClassRead:
            caller, ref = addressed(principal, class_id, audience, class_scope)
            p = runtime(state)
            return await service.read_class(
                p.db, p.settings, caller, ref,
                keys(class_keys, class_keys_b), keys(account_keys, account_keys_b),
            )  # fmt: skip

        @route(
            both,
            http_method=[HttpMethod.PUT, HttpMethod.PATCH],
            summary=f"Update a {kind.value}, by id or by audience and scope (PUT = PATCH)",
        )
        async def update(
            self,
            data: Body[ClassUpdate],
            principal: Caller,
            state: State,
            class_id: OptionalPath = None,
            audience: OptionalPath = None,
            class_scope: OptionalPath = None,
        ) -> ClassRead:
            caller, ref = addressed(principal, class_id, audience, class_scope)
            p = runtime(state)
            async with p.db.unit() as tx:
                return await service.update_class(
                    tx, media_of(state), p.settings, caller, ref, strict(data, ClassUpdate)
                )

        @post(f"{by_id}/recreate", status_code=200, summary="New rooms; the old ones close")
        async def recreate(
            self, class_id: FromPath[str], data: Body[ClassRecreate], principal: Caller,
            state: State,
        ) -> ClassRead:  # fmt: skip
            p = runtime(state)
            async with p.db.unit() as tx:
                return await service.recreate_class(
                    tx, media_of(state), p.settings, principal, ref_of(class_id),
                    strict(data, ClassRecreate),
                )  # fmt: skip

        @post(f"{by_id}/events", status_code=201, summary="Store an event in the class's room")
        async def events(
            self, class_id: FromPath[str], data: Body[EventCreate], principal: Caller,
            state: State,
        ) -> Empty:  # fmt: skip
            p = runtime(state)
            async with p.db.unit() as tx:
                await activity.post_event(tx, hub_of(state), principal, ref_of(class_id),
                                          strict(data, EventCreate))  # fmt: skip
            return EMPTY

        @post(f"{by_id}/timestamps", status_code=201, summary="Save the caller's position")
        async def timestamps(
            self, class_id: FromPath[str], data: Body[PositionSave], principal: Caller,
            state: State,
        ) -> Empty:  # fmt: skip
            position = strict(data, PositionSave).position
            await activity.save_position(runtime(state).db, principal, ref_of(class_id), position)
            return EMPTY

        @get(f"{by_id}/properties/{{property_id:str}}", summary="Read one class property")
        async def read_property(
            self, class_id: FromPath[str], property_id: PropertyId, principal: Caller,
            state: State,
        ) -> Response[bytes]:  # fmt: skip
            value = await activity.read_property(
                runtime(state).db, principal, ref_of(class_id), property_id
            )
            return json_value(value)

        @put(f"{by_id}/properties/{{property_id:str}}", summary="Set one class property (merge)")
        async def update_property(
            self, class_id: FromPath[str], property_id: PropertyId, data: Body[Any],
            principal: Caller, state: State,
        ) -> dict[str, Any]:  # fmt: skip
            check_storable([property_id, data])
            return await activity.update_property(
                runtime(state).db, principal, ref_of(class_id), property_id, data
            )

        @get(f"{by_id}/download", summary="A signed, expiring link to the recording's MP4")
        async def download(
            self, class_id: FromPath[str], principal: Caller, state: State
        ) -> DownloadLink:
            return DownloadLink(await link(state, principal, ref_of(class_id), activity.MP4))

        @get(f"{by_id}/stream", summary="A signed, expiring link to the recording's HLS playlist")
        async def stream(
            self, class_id: FromPath[str], principal: Caller, state: State
        ) -> DownloadLink:
            return DownloadLink(await link(state, principal, ref_of(class_id), activity.HLS))

        if kind in WHITEBOARD_KINDS:

            @post(f"{by_id}/whiteboard", status_code=201, summary="Create a whiteboard")
            async def whiteboard(
                self, class_id: FromPath[str], principal: Caller, state: State
            ) -> Empty:
                p = runtime(state)
                async with p.db.unit() as tx:
                    await activity.create_whiteboard(tx, hub_of(state), principal, ref_of(class_id))
                return EMPTY

        if kind is Kind.WEBINAR:

            @post(f"{by_id}/replicas", status_code=201,
                  summary="A replica: its own conference room on another Janus server")  # fmt: skip
            async def create_replica(
                self, class_id: FromPath[str], data: Body[ReplicaCreate], principal: Caller,
                state: State,
            ) -> ClassRead:  # fmt: skip
                p = runtime(state)
                async with p.db.unit() as tx:
                    return await replicas.create_replica(
                        tx, media_of(state), p.settings, principal, parse_id(class_id, id_field),
                        strict(data, ReplicaCreate),
                    )  # fmt: skip

            @get(f"{by_id}/replicas", summary="The webinar's replicas (of its current run)")
            async def list_replicas(
                self, class_id: FromPath[str], principal: Caller, state: State
            ) -> list[ClassRead]:
                p = runtime(state)
                return await replicas.list_replicas(p.db, p.settings, principal,
                                                    parse_id(class_id, id_field))  # fmt: skip

    Routes.__name__ = Routes.__qualname__ = f"{plural.title()}Routes"
    return Routes


WebinarRoutes = class_routes(Kind.WEBINAR)
MinigroupRoutes = class_routes(Kind.MINIGROUP)
P2PRoutes = class_routes(Kind.P2P)
ChatRoutes = class_routes(Kind.CHAT)


@post("/api/v1/classes/{class_id:str}/end", status_code=200, tags=["classes"],
      summary="End the class for everyone now (any kind; owners and moderators too)")  # fmt: skip
async def end_class(class_id: FromPath[str], principal: Caller, state: State) -> ClassRead:
    p = runtime(state)
    async with p.db.unit() as tx:
        return await service.end_class(tx, p.settings, principal, parse_id(class_id, "class_id"))


@post("/api/v1/classes/{class_id:str}/presenter", status_code=204, tags=["classes"],
      summary="Hand the stage to an account (the class host; owners, moderators too)")  # fmt: skip
async def set_presenter(
    class_id: FromPath[str], data: Body[PresenterUpdate], principal: Caller, state: State
) -> None:
    p = runtime(state)
    async with p.db.unit() as tx:
        await activity.set_presenter(tx, hub_of(state), principal, parse_id(class_id, "class_id"),
                                     strict(data, PresenterUpdate).account_id)  # fmt: skip


@post("/api/v1/classrooms/{class_id:str}/tokens", status_code=200, tags=["classes"],
      summary="A short-lived token for this class only, and where to go live with it")  # fmt: skip
async def classroom_token(class_id: FromPath[str], principal: Caller, state: State) -> LiveToken:
    p = runtime(state)
    return await activity.live_token(p.db, p.settings, tenants_of(state).issuing_key, principal,
                                     parse_id(class_id, "class_id"))  # fmt: skip
