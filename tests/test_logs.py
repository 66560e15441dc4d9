"""No secret reaches a log line: the redaction rules, and a real server's log."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from podium import logs
from tests.conftest import SERVER_LOGS, served, token_for

SECRET = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-~",
                 min_size=12, max_size=200)  # fmt: skip


@given(SECRET, st.sampled_from(logs.SECRET_PARAMS))
def test_secret_query_parameters_are_redacted(secret: str, name: str) -> None:
    line = f'127.0.0.1:5 - "WebSocket /api/v1/x/live?after=3&{name}={secret}&y=1" [accepted]'
    assume(secret not in line.replace(secret, "[redacted]"))  # e.g. a secret "access_token"
    out = logs.redact(line)
    assert secret not in out and f"{name}=[redacted]&y=1" in out and "after=3" in out


B64URL = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
                 min_size=12, max_size=100)  # fmt: skip


@given(SECRET, B64URL)
def test_bearer_credentials_entry_links_and_jwts_are_redacted(secret: str, sig: str) -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0." + sig
    assert sig not in logs.redact(f"token was {jwt} here")
    assume(all(secret not in words for words in ("Authorization: Bearer", "GET /join/ 200",
                                                  '{"refresh_token": ""}')))  # fmt: skip
    for line in (f"Authorization: Bearer {secret}", f"GET /join/{secret} 200",
                 f'{{"refresh_token": "{secret}"}}'):  # fmt: skip
        assert secret not in logs.redact(line), line


def test_ordinary_text_stays() -> None:
    line = "class 1b6f ended (time_passed); room /api/v1/event_rooms/abc/events?limit=5"
    assert logs.redact(line) == line


def test_records_of_every_logger_redact_themselves(caplog: pytest.LogCaptureFixture) -> None:
    logs.install()
    with caplog.at_level(logging.INFO):
        logging.getLogger("uvicorn.error").info(
            '"WebSocket %s" [accepted]', "/l?access_token=abc.def.ghi"
        )
    assert "abc.def.ghi" not in caplog.text and "access_token=[redacted]" in caplog.text


async def test_a_real_servers_log_carries_no_token(database_url: str) -> None:
    service = token_for(ttl=86_400)
    async with served(database_url, {"PODIUM_LOG_LEVEL": "info"}, service) as server:
        http = server.http
        made = (
            await http.post(
                "/api/v1/minigroups",
                json={
                    "scope": f"log-{uuid.uuid4().hex[:6]}",
                    "audience": "example.org",
                    "host": "h",
                },
            )
        ).json()
        person = (
            await http.post(
                f"/api/v1/classes/{made['class_id']}/participants", json={"display_name": "P"}
            )
        ).json()
        entry = person["entry_url"].rsplit("/", 1)[1]
        joined = (await http.post("/api/v1/join", json={"entry_token": entry})).json()
        room = made["real_time"]["event_room_id"]
        for token in (service, joined["access_token"]):
            async with connect(f"{server.ws}/api/v1/event_rooms/{room}/live?access_token={token}"):
                await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)
    text = SERVER_LOGS[server.proc.pid].read_text()
    assert "WebSocket /api/v1/event_rooms/" in text  # the handshakes were logged...
    for secret in (service, joined["access_token"], entry):
        assert secret not in text  # ...without their tokens
    assert "access_token=[redacted]" in text
