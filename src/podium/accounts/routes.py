"""HTTP routes of account properties (any token: the caller's own account)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, put
from litestar.datastructures import State
from litestar.params import PathParameter

from podium.accounts import service
from podium.dependencies import Caller
from podium.responses import json_value
from podium.runtime import runtime
from podium.validation import Body, check_storable

PropertyId = Annotated[str, PathParameter(min_length=1, max_length=255)]


class AccountRoutes(Controller):
    path = "/api/v1/account/properties"
    tags = ["account properties"]

    @get("/{property_id:str}", summary="Read one of the caller's account properties")
    async def read(
        self, property_id: PropertyId, principal: Caller, state: State
    ) -> Response[bytes]:
        return json_value(await service.read_property(runtime(state).db, principal, property_id))

    @put("/{property_id:str}", summary="Set one of the caller's account properties (merge)")
    async def update(
        self, property_id: PropertyId, data: Body[Any], principal: Caller, state: State
    ) -> dict[str, Any]:
        check_storable([property_id, data])
        return await service.update_property(runtime(state).db, principal, property_id, data)
