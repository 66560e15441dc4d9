"""HTTP routes of account properties (any token: the caller's own account)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, PathParameter

from podium.accounts import service
from podium.accounts.schemas import BanOperation, BanUpdate
from podium.conference.backends import media_of
from podium.dependencies import Caller
from podium.ids import parse_id
from podium.responses import json_value
from podium.rooms.live import hub_of
from podium.runtime import runtime
from podium.validation import Body, check_storable, strict

PropertyId = Annotated[str, PathParameter(min_length=1, max_length=255)]
AccountId = Annotated[str, PathParameter(min_length=1, max_length=255)]


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


class BanRoutes(Controller):
    """The original dispatcher's class-wide ban (`Dispatcher.banUser` in later versions of its
    web client library): read the last operation id, then ban or unban against it."""

    path = "/api/v1/account/{account_id:str}/ban"
    tags = ["bans"]

    @get("/{class_id:str}", summary="The account's last ban operation id (0: none yet)")
    async def last_operation(
        self, account_id: AccountId, class_id: FromPath[str], principal: Caller, state: State
    ) -> BanOperation:
        return await service.last_ban_operation(runtime(state).db, principal, account_id,
                                                parse_id(class_id, "class_id"))  # fmt: skip

    @post("/", status_code=200, summary="Ban or unban the account in a class (all of it)")
    async def ban(
        self, account_id: AccountId, data: Body[BanUpdate], principal: Caller, state: State
    ) -> BanOperation:
        p = runtime(state)
        async with p.db.unit() as tx:
            return await service.ban_account(tx, hub_of(state), media_of(state), principal,
                                             account_id, strict(data, BanUpdate))  # fmt: skip
