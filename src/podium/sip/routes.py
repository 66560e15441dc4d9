"""HTTP routes of SIP dial-in: spec 003's PUT …/sip, and the SIP bridge's verify call."""

from __future__ import annotations

from typing import Any

from litestar import Request, post, put
from litestar.datastructures import State
from litestar.params import FromPath

from podium.auth.service import tenants_of
from podium.classes.paths import body_or_none, class_answer, every_kind, kind_in
from podium.classes.schemas import ClassRead
from podium.dependencies import Caller, NoToken, rate_limit
from podium.ids import parse_id
from podium.runtime import runtime
from podium.sip import service
from podium.sip.schemas import Verified, Verify
from podium.validation import Body, strict


@put(every_kind("sip"), tags=["sip"],
     summary="SIP dial-in: 0 off, 1 on with a PIN per attendee, 2 on without PIN")  # fmt: skip
async def set_sip(
    class_id: FromPath[str], request: Request[Any, Any, Any], principal: Caller, state: State
) -> ClassRead:
    cid = parse_id(class_id, "class_id")
    p = runtime(state)
    configured = bool(p.settings.sip_dialin_number and p.settings.sip_secret)
    body = await body_or_none(request)
    async with p.db.unit() as tx:
        kind = await service.set_sip(tx, principal, cid, kind_in(request), body, configured)
        return await class_answer(tx, p.settings, principal, kind, cid)


@post("/api/v1/sip/verify", status_code=200, tags=["sip"], operation_class=NoToken,
      summary="For a SIP bridge: who calls with this dial-in id and PIN (HMAC-signed)")  # fmt: skip
async def verify(data: Body[Verify], request: Request[Any, Any, Any], state: State) -> Verified:
    await rate_limit(state, request, "sip")
    p = runtime(state)
    return await service.verify(
        p.db, p.settings.sip_secret, tenants_of(state).issuing_key,
        request.headers.get("podium-sip-random"), request.headers.get("podium-sip-checksum"),
        await request.body(), strict(data, Verify),
    )  # fmt: skip
