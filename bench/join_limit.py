"""The join benchmark's limit: the four steps of entering a class done as barely as they can be
— a static page, one UPDATE that spends the link plus an HS256 token, one Janus `allowed add`,
a WebSocket accepted with one frame. No validation, no lobby, no placement, no error shapes.

Run: uvicorn bench.join_limit:app (DATABASE_URL, JANUS_ADMIN_URL, JANUS_ADMIN_SECRET, ROOM,
ROOM_SECRET in the environment).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

KEY = "limit-signing-key-0123456789abcdef"
PAGE = "<!doctype html><title>class</title><p>join</p>"
SPEND = """UPDATE participants SET link_used_at = now() WHERE id = $1
RETURNING id, class_id, account_id, role"""
state: dict[str, Any] = {}


def _json(data: Any) -> Response:
    return Response(orjson.dumps(data, default=str), media_type="application/json")


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


async def enter(request: Request) -> Response:
    body = orjson.loads(await request.body())
    participant = uuid.UUID(hex=body["entry_token"].split(".")[0])
    row = await state["pool"].fetchrow(SPEND, participant)
    claims = {"sub": row["account_id"], "pid": str(row["id"]), "exp": int(time.time()) + 3600}
    return _json({"access_token": jwt.encode(claims, KEY, algorithm="HS256"), **dict(row)})


async def media(request: Request) -> Response:
    token = uuid.uuid4().hex
    await state["janus"].post(os.environ["JANUS_ADMIN_URL"], json={
        "janus": "message_plugin", "transaction": token[:12],
        "admin_secret": os.environ["JANUS_ADMIN_SECRET"], "plugin": "janus.plugin.videoroom",
        "request": {"request": "allowed", "room": os.environ["ROOM"],
                    "secret": os.environ["ROOM_SECRET"], "action": "add", "allowed": [token]},
    })  # fmt: skip
    return _json({"room": os.environ["ROOM"], "token": token})


async def live(socket: WebSocket) -> None:
    await socket.accept()
    await socket.send_text('{"message":"hello"}')
    try:
        while True:
            await socket.receive_text()
    except WebSocketDisconnect:
        pass


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    state["pool"] = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=4, max_size=16)
    state["janus"] = httpx.AsyncClient(timeout=10)
    yield
    await state["janus"].aclose()
    await state["pool"].close()


app = Starlette(
    routes=[
        Route("/join/{token}", page),
        Route("/api/v1/join", enter, methods=["POST"]),
        Route("/api/v1/classes/{id}/media", media, methods=["POST"]),
        WebSocketRoute("/api/v1/event_rooms/{id}/live", live),
        Route("/healthz", lambda r: _json({"ok": True})),
    ],
    lifespan=lifespan,
)
