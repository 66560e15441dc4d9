"""HTTP routes of classes: parse, authorise (in the service), call one service function.

Each read and update answers on two paths: by id, and by audience + scope (the same shape).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, HttpMethod, Request, Response, get, post, route
from litestar.datastructures import State
from litestar.params import FromPath, HeaderParameter, QueryParameter

from podium.auth.models import Principal
from podium.auth.policy import within
from podium.classes import service
from podium.classes.models import Kind
from podium.classes.schemas import ClassRead, ClassUpdate, WebinarCreate
from podium.dependencies import Caller, database
from podium.errors import ValidationFailed
from podium.idempotency import check_key, fingerprint
from podium.validation import Body, strict

# `class_keys=a&class_keys=b` and `class_keys[]=a` are both accepted (spec 001 clients use both).
Keys = Annotated[list[str] | None, QueryParameter(required=False)]
ClassKeysB = Annotated[list[str] | None, QueryParameter(name="class_keys[]", required=False)]
AccountKeysB = Annotated[list[str] | None, QueryParameter(name="account_keys[]", required=False)]
IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False)]
OptionalPath = FromPath[str | None]

WEBINAR_PATHS = [
    "/webinars/{webinar_id:str}",
    "/audiences/{audience:str}/webinars/{class_scope:str}",
]


def parse_id(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(f"{field} must be a UUID", field=field) from None


def keys(plain: list[str] | None, bracketed: list[str] | None) -> list[str]:
    return [*(plain or []), *(bracketed or [])]


def addressed(
    principal: Principal, class_id: str | None, audience: str | None, scope: str | None
) -> tuple[Principal, service.ClassRef]:
    """The class a path names: `/…/:id`, or `/audiences/:audience/…/:scope` (another
    audience's path answers 404 as if empty)."""
    if class_id is not None:
        return principal, service.ClassRef(id=parse_id(class_id, "webinar_id"))
    return within(principal, audience or ""), service.ClassRef(scope=scope)


class WebinarRoutes(Controller):
    path = "/api/v1"
    tags = ["webinars"]

    @post("/webinars", status_code=201, summary="Create a webinar with its rooms")
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: Body[WebinarCreate],
        principal: Caller,
        state: State,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        idem = None
        if idempotency_key is not None:
            idem = (check_key(idempotency_key), fingerprint(request.url.path, await request.body()))
        outcome = await service.create_class(
            database(state),
            principal,
            Kind.WEBINAR,
            strict(data, WebinarCreate),
            janus_configured=False,
            idempotency=idem,
        )
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
        return Response(outcome.body, status_code=outcome.status, headers=headers)

    @get(WEBINAR_PATHS, summary="Read a webinar, by id or by audience and scope")
    async def read(
        self,
        principal: Caller,
        state: State,
        webinar_id: OptionalPath = None,
        audience: OptionalPath = None,
        class_scope: OptionalPath = None,
        class_keys: Keys = None,
        class_keys_b: ClassKeysB = None,
        account_keys: Keys = None,
        account_keys_b: AccountKeysB = None,
    ) -> ClassRead:
        caller, ref = addressed(principal, webinar_id, audience, class_scope)
        return await service.read_class(
            database(state),
            caller,
            Kind.WEBINAR,
            ref,
            keys(class_keys, class_keys_b),
            keys(account_keys, account_keys_b),
        )

    @route(
        WEBINAR_PATHS,
        http_method=[HttpMethod.PUT, HttpMethod.PATCH],
        summary="Update a webinar, by id or by audience and scope (PUT and PATCH do the same)",
    )
    async def update(
        self,
        data: Body[ClassUpdate],
        principal: Caller,
        state: State,
        webinar_id: OptionalPath = None,
        audience: OptionalPath = None,
        class_scope: OptionalPath = None,
    ) -> ClassRead:
        caller, ref = addressed(principal, webinar_id, audience, class_scope)
        return await service.update_class(
            database(state), caller, Kind.WEBINAR, ref, strict(data, ClassUpdate)
        )
