"""HTTP routes of recordings: stored media behind signed links (with HTTP ranges), the event
dump of a file store, and restarting a production's step."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect, Stream
from msgspec import Meta, Struct

from podium import links
from podium.auth.policy import within
from podium.auth.service import tenants_of
from podium.dependencies import Caller
from podium.errors import NotFound
from podium.ids import parse_id
from podium.recordings import editions, service
from podium.recordings.editions import Change, ChangeCreate, Edition
from podium.responses import EMPTY, Empty
from podium.runtime import runtime
from podium.storage import MEDIA_TYPES, OTHER_MEDIA, Storage, check_key
from podium.validation import Body, strict

CHUNK = 256 * 1024
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
MAP_URI = re.compile(r'^#EXT-X-MAP:.*URI="([^"]+)"')


class Restart(Struct, kw_only=True):
    """Run a production again from `step` (default: where it stopped); `priority` is accepted
    for the original's clients and changes nothing (jobs run in the order they are due)."""

    step: Literal["collect", "adjust", "dump", "transcode"] | None = None
    priority: Annotated[str, Meta(max_length=100)] | None = None


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """`Range: bytes=a-b` as an inclusive (start, end) within the file; None: the whole file.
    Raises ValueError for a range that cannot be satisfied."""
    if not header:
        return None
    m = RANGE.match(header.strip())
    if m is None or (not m[1] and not m[2]):
        return None  # an unknown unit or several ranges: the whole file, as RFC 9110 allows
    if not m[1]:
        start, end = max(size - int(m[2]), 0), size - 1
    else:
        start, end = int(m[1]), min(int(m[2]) if m[2] else size - 1, size - 1)
    if start >= size or start > end:
        raise ValueError("unsatisfiable")
    return start, end


async def read_span(path: Path, start: int, end: int) -> AsyncIterator[bytes]:
    import anyio

    async with await anyio.open_file(path, "rb") as f:
        await f.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = await f.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def _not_found() -> NotFound:
    return NotFound("no such stream, or its link expired", code="stream_not_found")


class StreamRoutes(Controller):
    path = links.ROUTE
    tags = ["recordings"]

    @get("/{expires:int}/{signature:str}/{prefix:str}/{name:path}", security=[{}],
         summary="Stored media behind a signed, expiring link (HTTP ranges)")  # fmt: skip
    async def serve(
        self, expires: FromPath[int], signature: FromPath[str], prefix: FromPath[str],
        name: FromPath[Path],
        request: Request[Any, Any, Any], state: State,
    ) -> Any:  # fmt: skip
        p = runtime(state)
        folder = prefix.replace("~", "/")
        if not links.valid(tenants_of(state).issuing_key, folder, expires, signature):
            raise _not_found()
        key = f"{folder}/{str(name).lstrip('/')}"
        try:
            check_key(key)
        except ValueError:
            raise _not_found() from None
        media_type = MEDIA_TYPES.get(Path(key).suffix, OTHER_MEDIA)
        local = p.storage.local_path(key)
        if local is None:  # S3: a playlist names presigned segments, anything else redirects
            if key.endswith(".m3u8"):
                return Response(await presigned_playlist(p.storage, key, expires),
                                media_type=media_type)  # fmt: skip
            seconds = max(int(expires - time.time()), 1)
            url = await p.storage.presign(key, seconds)
            return Redirect(url or "", status_code=302)
        if not local.is_file():
            raise _not_found()
        size = local.stat().st_size
        try:
            span = byte_range(request.headers.get("range"), size)
        except ValueError:
            return Response(b"", status_code=416, headers={"Content-Range": f"bytes */{size}"})
        start, end = span or (0, size - 1)
        headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1),
                   "Cache-Control": "private, max-age=60", "Content-Type": media_type}  # fmt: skip
        if span is not None:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return Stream(read_span(local, start, end), status_code=206 if span else 200,
                      media_type=media_type, headers=headers)  # fmt: skip


async def presigned_playlist(storage: Storage, key: str, expires: int) -> bytes:
    """An S3 playlist whose references (segment lines, the init section's URI) are presigned
    URLs: a player resolves relative names against the playlist's URL, which S3 would refuse
    without a signature. Byte ranges stay as they are (a presigned GET takes a Range)."""
    folder = key.rsplit("/", 1)[0]
    seconds = max(int(expires - time.time()), 1)
    signed: dict[str, str] = {}

    async def sign(name: str) -> str:
        if name not in signed:
            signed[name] = await storage.presign(f"{folder}/{name}", seconds) or name
        return signed[name]

    lines = []
    for line in (await storage.read(key)).decode().splitlines():
        if line and not line.startswith("#"):
            line = await sign(line)
        elif (m := MAP_URI.search(line)) is not None:
            line = line[: m.start(1)] + await sign(m.group(1)) + line[m.end(1) :]
        lines.append(line)
    return ("\n".join(lines) + "\n").encode()


class RecordingRoutes(Controller):
    path = "/api/v1"
    tags = ["recordings"]

    @get(
        "/recordings/{production_id:str}/events.json",
        summary="The modified room's events as dumped (room_events_uri of a file store)",
    )
    async def events(
        self, production_id: FromPath[str], principal: Caller, state: State
    ) -> Response[bytes]:
        p = runtime(state)
        body = await service.read_dump(p.db, p.storage, principal,
                                       parse_id(production_id, "production_id"))  # fmt: skip
        return Response(body, media_type="application/json")

    @post("/transcoding/{kind:str}/{class_id:str}/restart", status_code=202,
          summary="Run a class's recording again from its failed (or a given) step")  # fmt: skip
    async def restart(
        self, kind: FromPath[str], class_id: FromPath[str], principal: Caller, state: State,
        data: Body[Any] = None,
    ) -> dict[str, Any]:  # fmt: skip
        if kind not in ("webinar", "minigroup"):
            raise NotFound(f"no transcoding for {kind!r}", code="not_found")
        body = strict(data if data is not None else {}, Restart)
        p = runtime(state)
        async with p.db.unit() as tx:
            step = await service.restart(tx, principal, kind, parse_id(class_id, "class_id"),
                                         body.step)  # fmt: skip
        return {"step": step}


class EditionRoutes(Controller):
    """Editions of a recording's events (the event service's shapes, notes/recordings.md)."""

    path = "/api/v1"
    tags = ["editions"]

    @post(
        ["/event_rooms/{room_id:str}/editions", "/rooms/{room_id:str}/editions"],
        status_code=201,
        summary="Start an edition",
    )
    async def create(self, room_id: FromPath[str], principal: Caller, state: State) -> Edition:
        return await editions.create(runtime(state).db, principal, parse_id(room_id, "room_id"))

    @get(
        ["/event_rooms/{room_id:str}/editions", "/rooms/{room_id:str}/editions"],
        summary="A room's editions",
    )
    async def editions_of(
        self, room_id: FromPath[str], principal: Caller, state: State
    ) -> list[Edition]:
        room = parse_id(room_id, "room_id")
        return await editions.list_editions(runtime(state).db, principal, room)

    @delete("/editions/{edition_id:str}", status_code=204, summary="Delete an edition")
    async def remove(self, edition_id: FromPath[str], principal: Caller, state: State) -> None:
        await editions.delete(runtime(state).db, principal, parse_id(edition_id, "edition_id"))

    @post("/editions/{edition_id:str}/changes", status_code=201, summary="Add a change")
    async def add_change(
        self, edition_id: FromPath[str], principal: Caller, state: State, data: Body[Any]
    ) -> Change:
        change = strict(data, ChangeCreate)
        edition = parse_id(edition_id, "edition_id")
        return await editions.add_change(runtime(state).db, principal, edition, change)

    @get("/editions/{edition_id:str}/changes", summary="An edition's changes")
    async def changes(
        self, edition_id: FromPath[str], principal: Caller, state: State
    ) -> list[Change]:
        edition = parse_id(edition_id, "edition_id")
        return await editions.list_changes(runtime(state).db, principal, edition)

    @delete("/changes/{change_id:str}", status_code=204, summary="Delete a change")
    async def remove_change(
        self, change_id: FromPath[str], principal: Caller, state: State
    ) -> None:
        change = parse_id(change_id, "change_id")
        await editions.delete_change(runtime(state).db, principal, change)

    @post("/editions/{edition_id:str}/commit", status_code=202, summary="Commit an edition")
    async def commit(self, edition_id: FromPath[str], principal: Caller, state: State) -> Empty:
        async with runtime(state).db.unit() as tx:
            await editions.commit(tx, principal, parse_id(edition_id, "edition_id"))
        return EMPTY

    @post("/audiences/{audience:str}/classes/{class_scope:str}/editions/{edition_id:str}",
          status_code=202, summary="Commit an edition of a class (dispatcher route)")  # fmt: skip
    async def commit_for_class(
        self, audience: FromPath[str], class_scope: FromPath[str], edition_id: FromPath[str],
        principal: Caller, state: State,
    ) -> Empty:  # fmt: skip
        within(principal, audience)
        async with runtime(state).db.unit() as tx:
            await editions.commit(tx, principal, parse_id(edition_id, "edition_id"), class_scope)
        return EMPTY
