"""The limit app (DESIGN.md): a minimal Starlette app doing Podium's read and insert with raw
asyncpg and orjson, and nothing else — no auth, no validation, no error shapes.

Run: uvicorn bench.limit_app:app (DATABASE_URL in the environment).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from podium.classes import queries

pool: Any = None


class NoResetConnection(asyncpg.Connection):  # type: ignore[misc]
    """asyncpg's pool at its cheapest: no reset query on release."""

    def get_reset_query(self) -> str:
        return ""


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(data, default=str), status_code=status, media_type="application/json"
    )


async def read(request: Request) -> Response:
    row = await pool.fetchrow(
        queries.SELECT_CLASS[False],
        uuid.UUID(request.path_params["id"]),
        "example.org",
        "webinar",
        [],
        [],
        "service",
    )
    if row is None:
        return _json({"error": "not found"}, 404)
    return _json(dict(row))


def insert_args(
    scope: str, title: str, time: list[int] | None, tags_json: str | None
) -> tuple[Any, ...]:
    """The arguments of Podium's INSERT_CLASS for a webinar with defaults (shared with the seed)."""
    class_id, event_room_id, conference_room_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    start, end = time or (None, None)
    return (
        class_id, "webinar", "example.org", scope, title, start, end, tags_json, None, True,
        None, None, True, event_room_id, conference_room_id, '{"message": true}', "none",
        None, None, True,
    )  # fmt: skip


async def create(request: Request) -> Response:
    body = orjson.loads(await request.body())
    args = insert_args(
        body["scope"], body["title"], body.get("time"), orjson.dumps(body.get("tags")).decode()
    )
    if await pool.fetchval(queries.INSERT_CLASS, *args) is None:
        return _json({"error": "conflict"}, 409)
    return _json({"class_id": str(args[0]), "id": body["scope"]}, 201)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global pool
    # asyncpg's own pool, without its reset query: raw asyncpg at its best.
    pool = await asyncpg.create_pool(
        os.environ["DATABASE_URL"],
        min_size=2,
        max_size=int(os.environ.get("POOL_SIZE", "32")),
        connection_class=NoResetConnection,
    )
    yield
    await pool.close()


app = Starlette(
    routes=[Route("/webinars/{id}", read), Route("/webinars", create, methods=["POST"])],
    lifespan=lifespan,
)
