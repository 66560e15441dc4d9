"""Tenant notifications: signed webhooks (retried, durable across a restart) and the pull feed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from podium.app import create_app
from podium.config import Settings, TenantConfig
from tests.conftest import OTHER, TENANT, auth

SECRET = "whsec-test-0123456789"


class Receiver:
    """A tenant's webhook endpoint on loopback: records what it gets, answers as told."""

    def __init__(self, statuses: list[int] | None = None, port: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses = list(statuses or [])
        self.down = False  # while set, every delivery is answered 503
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.down:
                    status = 503
                    receiver.refused += 1
                if status == 200:
                    receiver.received.append({"headers": dict(self.headers), "body": body})
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def settings_for(url: str) -> Settings:
    tenant = TenantConfig(**{**TENANT.model_dump(), "webhook_url": url, "webhook_secret": SECRET})
    return Settings(
        tenants=[tenant, OTHER],
        jobs_poll_seconds=0.05,  # type: ignore[call-arg]
        webhook_retry_base_seconds=0.1,
        outbound_allowed_networks=["127.0.0.0/8"],  # the receivers listen on loopback
        _env_file=None,
    )


async def app_client(settings: Settings, database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(create_app(settings, database_url)) as c:
        c.headers.update(auth())
        yield c


async def wait_for(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def claim(client: AsyncTestClient, scope: str = "c1") -> dict[str, Any]:
    created = (
        await client.post(
            "/api/v1/minigroups", json={"scope": scope, "audience": "example.org", "host": "t"}
        )
    ).json()
    r = await client.post(
        f"/api/v1/minigroups/{created['class_id']}/events",
        json={"type": "hand", "data": {"up": True}, "is_claim": True},
    )
    assert r.status_code == 201
    return dict(created)


def verify(delivery: dict[str, Any]) -> dict[str, Any]:
    headers, body = delivery["headers"], delivery["body"]
    timestamp = headers["Podium-Timestamp"]
    expected = hmac.new(
        SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["Podium-Signature"] == f"v1={expected}"
    payload: dict[str, Any] = json.loads(body)
    assert headers["Podium-Event-Id"] == payload["id"]
    return payload


async def test_a_claim_is_delivered_signed_and_in_the_feed(
    database_url: str, receiver: Receiver
) -> None:
    async for client in app_client(settings_for(receiver.url), database_url):
        created = await claim(client)
        await wait_for(lambda: len(receiver.received) == 1)
        payload = verify(receiver.received[0])
        assert payload["type"] == "event.claim" and payload["audience"] == "example.org"
        assert payload["data"]["class_id"] == created["class_id"]
        assert payload["data"]["event"]["type"] == "hand"
        assert payload["data"]["event"]["data"] == {"up": True}
        feed = (await client.get("/api/v1/audiences/example.org/events")).json()
        assert [e["type"] for e in feed["events"]] == ["event.claim"]
        assert feed["events"][0]["event_id"] == payload["id"]
        later = await client.get(f"/api/v1/audiences/example.org/events?after={feed['last_id']}")
        assert later.json()["events"] == []


async def test_a_failing_receiver_gets_it_after_retries(database_url: str) -> None:
    flaky = Receiver(statuses=[500, 503])
    try:
        async for client in app_client(settings_for(flaky.url), database_url):
            await claim(client)
            await wait_for(lambda: len(flaky.received) == 1)
            verify(flaky.received[0])
    finally:
        flaky.close()


async def test_nothing_is_lost_across_a_restart(database_url: str) -> None:
    down = Receiver()
    url = down.url
    down.close()  # nothing listens there now
    async for client in app_client(settings_for(url), database_url):
        await claim(client)
        await asyncio.sleep(0.5)  # tries and fails at least once
    # A new process (the same database) delivers once the receiver is back.
    back = Receiver(port=int(url.rsplit(":", 1)[1].split("/")[0]))
    try:
        async for _client in app_client(settings_for(url), database_url):
            await wait_for(lambda: len(back.received) == 1, seconds=15)
            assert verify(back.received[0])["type"] == "event.claim"
    finally:
        back.close()


async def test_a_class_whose_end_passes_is_announced_once(
    database_url: str, receiver: Receiver
) -> None:
    async for client in app_client(settings_for(receiver.url), database_url):
        end = int(time.time()) + 1
        created = (
            await client.post(
                "/api/v1/webinars",
                json={
                    "title": "T",
                    "scope": "ends-soon",
                    "audience": "example.org",
                    "time": [end - 60, end],
                    "tags": {"k": 1},
                },
            )
        ).json()
        await wait_for(lambda: len(receiver.received) == 1, seconds=10)
        payload = verify(receiver.received[0])
        assert payload["type"] == "webinar.stop"
        assert payload["data"] == {
            "id": created["class_id"],
            "scope": "ends-soon",
            "tags": {"k": 1},
            "timed_out": False,
        }
        await asyncio.sleep(0.5)
        assert len(receiver.received) == 1  # once


async def test_the_feed_is_for_the_tenant_backend(client: AsyncTestClient) -> None:
    path = "/api/v1/audiences/example.org/events"
    assert (await client.get(path)).status_code == 200
    assert (await client.get(path, headers=auth(sub="student"))).status_code == 403
    assert (await client.get(path, headers=auth(OTHER))).status_code == 404
    assert (await client.get(path + "?after=-1")).status_code == 422


async def test_a_receiver_down_for_ten_minutes_gets_everything_in_order_per_class(
    database_url: str, receiver: Receiver
) -> None:
    """The receiver is down while retries back off through (simulated) 10 minutes: each retry is
    made due at once and its delay added to a clock. Back up, it gets every notification once,
    each class's in the order they happened."""
    import asyncpg

    settings = settings_for(receiver.url).model_copy(
        update={"webhook_retry_base_seconds": 2.0}  # the real default: minutes of backoff
    )
    receiver.down = True
    async for client in app_client(settings, database_url):
        classes = [
            (await client.post("/api/v1/webinars", json={
                "title": "T", "scope": f"order-{i}", "audience": "example.org"})).json()
            for i in range(3)
        ]  # fmt: skip
        for n in range(8):  # interleaved changes in three classes
            for c in classes:
                r = await client.put(f"/api/v1/classes/{c['class_id']}/lobby/message",
                                     json={"message": f"{c['class_id']}#{n}"})  # fmt: skip
                assert r.status_code == 200
        conn = await asyncpg.connect(database_url)
        try:
            simulated = 0.0
            while simulated < 600:  # fast-forward each retry, adding up its backoff
                await asyncio.sleep(0.05)
                waits = await conn.fetch("""
                    WITH due AS (
                        SELECT id, extract(epoch FROM run_at - now())::float8 AS wait FROM jobs
                        WHERE kind = 'webhook' AND done_at IS NULL AND run_at > now()
                        FOR UPDATE)
                    UPDATE jobs SET run_at = now() FROM due WHERE jobs.id = due.id
                    RETURNING due.wait""")
                simulated += max([0.0, *[w["wait"] for w in waits]])
            assert receiver.refused >= 5 and receiver.received == []
            receiver.down = False
            await conn.execute("UPDATE jobs SET run_at = now() WHERE kind = 'webhook' "
                               "AND done_at IS NULL")  # fmt: skip
        finally:
            await conn.close()
        await wait_for(
            lambda: (
                len(
                    [
                        r
                        for r in receiver.received
                        if json.loads(r["body"])["type"] == "lobby.message"
                    ]
                )
                >= 24
            )
        )
    messages = [json.loads(r["body"])["data"]["message"] for r in receiver.received
                if json.loads(r["body"])["type"] == "lobby.message"]  # fmt: skip
    assert len(messages) == len(set(messages)) == 24  # every one, once
    for c in classes:
        mine = [m for m in messages if m.startswith(c["class_id"])]
        assert mine == [f"{c['class_id']}#{n}" for n in range(8)]  # in order within its class
