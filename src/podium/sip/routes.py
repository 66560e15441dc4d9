"""HTTP routes of SIP dial-in: spec 003's PUT …/sip, and the SIP bridge's verify call."""

from __future__ import annotations

from typing import Any

from litestar import Request, post, put
from litestar.datastructures import State
from litestar.params import FromPath

from podium.classes.paths import body_or_none, class_answer, every_kind, kind_in
from podium.classes.schemas import ClassRead
from podium.dependencies import Caller, database, rate_limit
from podium.ids import parse_id
from podium.sip import service
from podium.sip.schemas import Verified, Verify
from podium.validation import Body, strict


@put(every_kind("sip"), tags=["sip"],
     summary="SIP dial-in: 0 off, 1 on with a PIN per attendee, 2 on without PIN")  # fmt: skip
async def set_sip(
    class_id: FromPath[str], request: Request[Any, Any, Any], principal: Caller, state: State
) -> ClassRead:
    cid = parse_id(class_id, "class_id")
    s = state.settings
    configured = bool(s.sip_dialin_number and s.sip_secret)
    actual = await service.set_sip(database(state), principal, cid, kind_in(request),
                                   await body_or_none(request),
                                   configured)  # fmt: skip
    return await class_answer(state, principal, actual, cid)


@post("/api/v1/sip/verify", status_code=200, tags=["sip"], security=[],
      summary="For a SIP bridge: who calls with this dial-in id and PIN (HMAC-signed)")  # fmt: skip
async def verify(data: Body[Verify], request: Request[Any, Any, Any], state: State) -> Verified:
    rate_limit(state, request, "sip")
    return await service.verify(
        database(state), state.settings.sip_secret, state.tenants.issuing_key,
        request.headers.get("podium-sip-random"), request.headers.get("podium-sip-checksum"),
        await request.body(), strict(data, Verify),
    )  # fmt: skip
