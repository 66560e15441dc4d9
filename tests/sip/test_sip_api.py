"""SIP dial-in (spec 003): the check order of PUT …/sip, attendee PINs, and the bridge's
HMAC-signed verify call."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from podium.app import create_app
from podium.config import Settings
from podium.sip.models import bridge_checksum
from tests.conftest import OTHER, TENANT, auth

SECRET = "sip-bridge-secret-0123456789"


@pytest.fixture
async def sip_client(database_url: str) -> AsyncIterator[AsyncTestClient]:
    settings = Settings(tenants=[TENANT, OTHER], _env_file=None,  # type: ignore[call-arg]
                        sip_dialin_number="+49 30 1234567", sip_secret=SECRET)  # fmt: skip
    async with AsyncTestClient(create_app(settings, database_url)) as c:
        c.headers.update(auth())
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def setup(client: AsyncTestClient, scope: str) -> tuple[str, dict[str, str]]:
    """A minigroup with an owner, a moderator, a plain participant (tokens by role) and the
    tenant end user `signed-mod` as a moderator participant."""
    m = (await client.post("/api/v1/minigroups", json={
        "scope": scope, "audience": "example.org", "host": "t"})).json()  # fmt: skip
    cid = m["class_id"]
    tokens = {}
    for role in ("owner", "moderator", "participant"):
        p = (await client.post(f"/api/v1/classes/{cid}/participants",
                               json={"display_name": role, "role": role})).json()  # fmt: skip
        entry = p["entry_url"].rsplit("/join/", 1)[1]
        tokens[role] = (await client.post("/api/v1/join", json={"entry_token": entry})).json()[
            "access_token"
        ]
    await client.post(f"/api/v1/classes/{cid}/participants",
                      json={"display_name": "Signed", "role": "moderator",
                            "account_id": "signed-mod"})  # fmt: skip
    await client.post(f"/api/v1/classes/{cid}/participants",
                      json={"display_name": "Signed owner", "role": "owner",
                            "account_id": "signed-owner"})  # fmt: skip
    return cid, tokens


async def test_check_order(sip_client: AsyncTestClient, client: AsyncTestClient) -> None:
    cid, tokens = await setup(sip_client, "s-1")
    url = f"/api/v1/minigroups/{cid}/sip"
    # 1. not a moderator: 403, whatever the body
    for headers in (bearer(tokens["participant"]), auth(sub="stranger")):
        r = await sip_client.put(url, json={"state": 9}, headers=headers)
        assert r.status_code == 403 and r.json()["type"] == "/problems/not_moderator"
    # 2. a guest moderator (came in through a link): 401
    r = await sip_client.put(url, json={"state": 9}, headers=bearer(tokens["moderator"]))
    assert r.status_code == 401 and r.json()["type"] == "/problems/guest_moderator"
    r = await sip_client.put(url, json={"state": 1}, headers=bearer(tokens["owner"]))
    assert r.status_code == 401
    # 3. a signed-in moderator who may not enable SIP: 403
    r = await sip_client.put(url, json={"state": 9}, headers=auth(sub="signed-mod"))
    assert r.status_code == 403 and r.json()["type"] == "/problems/sip_not_allowed"
    # 4. no SIP bridge configured: 412 (the same class through a server without SIP)
    cid2, _ = await setup(client, "s-2")
    r = await client.put(f"/api/v1/minigroups/{cid2}/sip", json={"state": 9})
    assert r.status_code == 412 and r.json()["type"] == "/problems/sip_not_configured"
    # 5. an invalid state: 400
    for bad in ({"state": 9}, {"state": "1"}, {}, None):
        r = await sip_client.put(url, json=bad, headers=auth(sub="signed-owner"))
        assert r.status_code == 400, bad
    r = await sip_client.put(f"/api/v1/webinars/{cid}/sip", json={"state": 1})
    assert r.status_code == 404
    r = await sip_client.put(url, json={"state": 1}, headers=auth(OTHER))
    assert r.status_code == 404
    # Allowed: the tenant's backend, or a signed-in owner.
    r = await sip_client.put(url, json={"state": 1}, headers=auth(sub="signed-owner"))
    assert r.status_code == 200, r.text
    sip = r.json()["sip"]
    assert sip["state"] == 1 and sip["dialin_number"] == "+49 30 1234567"
    assert sip["dialin_id"].isdigit() and len(sip["dialin_id"]) == 10
    again = await sip_client.put(url, json={"state": 1})  # the same state: a no-op 200
    assert again.status_code == 200 and again.json()["sip"] == sip


async def test_pins_and_the_bridge(sip_client: AsyncTestClient) -> None:
    cid, _ = await setup(sip_client, "s-3")
    r = await sip_client.put(f"/api/v1/classes/{cid}/sip", json={"state": 1})
    dialin = r.json()["sip"]["dialin_id"]
    people = (await sip_client.get(f"/api/v1/classes/{cid}/participants")).json()["participants"]
    pins = [p["attendee_pin"] for p in people]
    assert all(pin and pin.isdigit() and len(pin) >= 7 for pin in pins)
    assert len(set(pins)) == len(pins)
    late = (await sip_client.post(f"/api/v1/classes/{cid}/participants",
                                  json={"display_name": "Late"})).json()  # fmt: skip
    assert late["attendee_pin"] and late["attendee_pin"] not in pins

    async def ask(body: dict[str, Any], nonce: str | None = None, key: str = SECRET) -> Any:
        raw = json.dumps(body).encode()
        nonce = nonce or secrets.token_hex(32)
        return await sip_client.post(
            "/api/v1/sip/verify", content=raw,
            headers={"Authorization": "", "Content-Type": "application/json",
                     "Podium-Sip-Random": nonce,
                     "Podium-Sip-Checksum": bridge_checksum(key, nonce, raw)},
        )  # fmt: skip

    r = await ask({"dialin_id": dialin, "pin": late["attendee_pin"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["class"]["class_id"] == cid and body["participant"]["display_name"] == "Late"
    token = body["access_token"]  # the bridge acts as that attendee
    r = await sip_client.get(f"/api/v1/minigroups/{cid}", headers=bearer(token))
    assert r.status_code == 200
    nonce = secrets.token_hex(32)
    assert (await ask({"dialin_id": dialin, "pin": late["attendee_pin"]}, nonce)).status_code == 200
    r = await ask({"dialin_id": dialin, "pin": late["attendee_pin"]}, nonce)  # replayed
    assert r.status_code == 401 and r.json()["type"] == "/problems/replayed"
    r = await ask({"dialin_id": dialin, "pin": "00000000"})
    assert r.status_code == 404
    r = await ask({"dialin_id": dialin})
    assert r.status_code == 404  # state 1 wants a PIN
    r = await ask({"dialin_id": "1"})
    assert r.status_code == 404
    r = await ask({"dialin_id": dialin, "pin": late["attendee_pin"]}, key="wrong-secret-xxxxxxx")
    assert r.status_code == 401 and r.json()["type"] == "/problems/invalid_signature"
    r = await ask({"dialin_id": dialin}, nonce="short")
    assert r.status_code == 401
    # State 2: the dial-in id alone identifies the class.
    await sip_client.put(f"/api/v1/classes/{cid}/sip", json={"state": 2})
    r = await ask({"dialin_id": dialin})
    assert r.status_code == 200 and r.json()["participant"] is None
    # Off: nobody dials in.
    await sip_client.put(f"/api/v1/classes/{cid}/sip", json={"state": 0})
    assert (await ask({"dialin_id": dialin})).status_code == 404
    read = (await sip_client.get(f"/api/v1/minigroups/{cid}")).json()
    assert "sip" not in read
