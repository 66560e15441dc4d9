"""The recording pipeline: when a class that records ends, its run gets a production, and four
durable jobs carry it through, each in its own unit once its outside work is done:

1. `recording.collect@<server>` — the Janus dumps of the run's room, from that server's rec_dir
   (only a process that can read it registers the kind, so `podium worker` on the Janus host
   takes these): one original stream per publisher (pauses left out), its `started_at` and
   `segments` → status `finished`;
2. `recording.adjust` — the event room re-timed to the recording (models.adjust): the original
   and modified rooms, `modified_segments` → `adjusted`;
3. `recording.dump` — the modified room's events as JSON in storage, read back and checked
   before `room_events_uri` is published;
4. `recording.transcode` — the stream cut to `modified_segments` (a minigroup: everyone
   composed on one timeline) as MP4 + HLS → `transcoded`, `<kind>.ready`.

A step's failure is kept on the production (`error`; `failed_at` once it is given up: a media
tool's refusal at once, anything else after MAX_ATTEMPTS) and shown in the class read; a
restart runs it again. A job about a production that moved on or was deleted (a recreate)
changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podium.auth.models import Principal
from podium.auth.policy import Action, authorize, sees
from podium.classes import lifecycle
from podium.classes.lifecycle import Cause, ClassEnded
from podium.config import JanusServerConfig, Settings
from podium.db import Database, Row, Unit
from podium.errors import Conflict, NotFound
from podium.jobs import Job, JobKind, JobRegistry, enqueue
from podium.notifications.service import notify
from podium.recordings import models, queries
from podium.recordings.composition import Layered, compose
from podium.recordings.cutting import cut
from podium.recordings.events import copy_events, dumped, event_of
from podium.recordings.layout import events_uri, original_key, prefix, stream_uri
from podium.recordings.media import MediaError, Tools, dumps_of, pieces_in
from podium.storage import Storage, StorageError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# A dump is written once Janus has closed it: collecting waits this long after the end.
COLLECT_DELAY_SECONDS = 3.0
# Failures that running again cannot mend: the step fails at once.
PERMANENT = (MediaError, models.BadSegments, models.BadCuts, ValueError)


class StepFailed(Exception):
    """A step that cannot go on (the message is shown to the tenant)."""


def collect_kind(server: str) -> str:
    return f"recording.collect@{server}"


def step_kind(step: str, server: str | None) -> str:
    return collect_kind(server or "") if step == "collect" else f"recording.{step}"


async def enqueue_step(tx: Unit, step: str, production: uuid.UUID, server: str | None) -> None:
    await enqueue(tx, step_kind(step, server), {"production": str(production)},
                  key=str(production))  # fmt: skip


def readable(server: JanusServerConfig) -> bool:
    return bool(server.rec_dir) and os.access(server.rec_dir or "", os.R_OK | os.X_OK)


@dataclass
class Pipeline:
    db: Database
    settings: Settings
    storage: Storage
    tools: Tools

    # --- the lifecycle hook -------------------------------------------------------------

    async def class_ended(self, tx: Unit, ended: ClassEnded) -> None:
        """A run ended: a production for it (when the class records and its media was on
        Janus), or, for a recreate, the class's productions soft-deleted."""
        if ended.cause is Cause.RECREATED:
            await tx.fetch(queries.DELETE_PRODUCTIONS, ended.class_id)
            return
        if ended.cause is Cause.CANCELED:
            return
        run = await tx.fetchrow(queries.SELECT_RUN, ended.class_id, ended.conference_room_id)
        if run is None or not run["record"] or run["backend"] != "janus":
            return
        production = uuid.uuid4()
        made = await tx.fetchval(queries.START_PRODUCTION, production, ended.class_id,
                                 ended.event_room_id, ended.conference_room_id,
                                 run["janus_server"])  # fmt: skip
        if made is not None:
            await enqueue(tx, collect_kind(run["janus_server"] or ""),
                          {"production": str(production)}, key=str(production),
                          run_at=_now() + COLLECT_DELAY_SECONDS)  # fmt: skip

    # --- running a step -----------------------------------------------------------------

    async def run(self, job: Job, step: str, work: Callable[[Row, Path], Awaitable[None]]) -> None:
        production = uuid.UUID(job.payload["production"])
        row = await self.db.fetchrow(queries.SELECT_PRODUCTION, production)
        if row is None or row["deleted_at"] is not None or row["step"] != step:
            return  # an old run, or a step already done: nothing to do
        work_dir = self.settings.work_dir / str(production) / step
        shutil.rmtree(work_dir, ignore_errors=True)
        work_dir.mkdir(parents=True)
        log.info("recording %s of class %s: %s", production, row["class_id"], step)
        try:
            await work(row, work_dir)
        except Exception as exc:
            final = isinstance(exc, (*PERMANENT, StepFailed)) or job.attempts >= MAX_ATTEMPTS
            reason = str(exc) if isinstance(exc, StepFailed) else f"{type(exc).__name__}: {exc}"
            await self.db.execute(queries.FAIL, production, reason[:1000], final, step)
            if final:
                log.warning("recording %s: %s failed: %s", production, step, reason)
                return
            raise
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
        log.info("recording %s: %s done", production, step)

    async def advance(self, tx: Unit, row: Row, done: str, next_step: str) -> None:
        if await tx.fetchval(queries.ADVANCE, row["id"], done, next_step) is not None:
            await enqueue_step(tx, next_step, row["id"], row["janus_server"])

    # --- 1. collect ---------------------------------------------------------------------

    async def collect(self, row: Row, work: Path) -> None:
        server = next((s for s in self.settings.janus_urls if s.id == row["janus_server"]), None)
        if server is None or not server.rec_dir:
            raise StepFailed(f"Janus server {row['janus_server']!r} has no rec_dir configured")
        rec_dir = Path(server.rec_dir)
        room = str(row["conference_room_id"])
        dumps = await settled(dumps_of(rec_dir, room))
        headers = {p: await self.tools.header(p) for p in dumps}
        pieces = pieces_in(rec_dir, room, headers)
        feeds = sorted({p.feed for p in pieces})
        accounts = {r["feed"]: r["account_id"] for r in await self.db.fetch(
            queries.SELECT_FEED_ACCOUNTS, row["conference_room_id"], feeds)}  # fmt: skip
        made: list[tuple[str, int, list[models.Span], int]] = []
        for feed in feeds:
            mine = [p for p in pieces if p.feed == feed]
            encoded = [await self.tools.encode_piece(p, work) for p in mine]
            spans = [(p.started_at, length) for p, (_, length) in zip(mine, encoded, strict=True)]
            segments = models.segments_of(spans)
            duration = models.total(segments)
            account = accounts.get(feed, feed)
            original = work / f"{feed}.mp4"
            await self.tools.join([path for path, _ in encoded], original, duration)
            await self.storage.put_file(original_key(row, account), original)
            made.append((account, mine[0].started_at, segments, duration))
        async with self.db.unit() as tx:
            for account, started_at, segments, duration in made:
                await tx.fetchval(queries.UPSERT_RECORDING, uuid.uuid4(), row["id"], account,
                                  started_at, segments, duration)  # fmt: skip
            # No media at all: the run has no recording (the class reads `closed`).
            await self.advance(tx, row, "collect", "adjust" if made else "done")
        log.info("recording %s: %d publisher(s), %d dump(s)", row["id"], len(made), len(dumps))

    # --- 2. adjust ----------------------------------------------------------------------

    async def adjust(self, row: Row, work: Path) -> None:
        recordings = await self.db.fetch(queries.SELECT_RECORDINGS, row["id"])
        events = [event_of(e) for e in await self.db.fetch(queries.SELECT_ROOM_EVENTS,
                                                           row["event_room_id"])]  # fmt: skip
        main = leading(row, recordings, events)
        segments = [tuple(s) for s in main["segments"]]
        preroll = self.preroll(row["audience"])
        room_ms = row["room_closed_ms"] - row["room_opened_ms"]
        result = models.adjust(
            events, room_ms * models.NS_PER_MS, main["started_at"] - row["room_opened_ms"],
            segments, preroll_ms=preroll,
        )  # fmt: skip
        original, modified = uuid.uuid4(), uuid.uuid4()
        opened = main["started_at"]
        async with self.db.unit() as tx:
            if await tx.fetchval(queries.MARK_ADJUSTED, row["event_room_id"]) is None:
                raise StepFailed("this event room was adjusted already (adjust is one-shot)")
            closes = opened + result.duration_ms
            await tx.execute(queries.MAKE_ROOM, original, row["event_room_id"], opened, closes,
                             True)  # fmt: skip
            await tx.execute(queries.MAKE_ROOM, modified, original, opened, closes, False)
            await copy_events(tx, original, result.original)
            await copy_events(tx, modified, result.modified)
            if row["kind"] == "minigroup":
                await tx.execute(queries.SET_CUT_ORIGINAL, main["id"],
                                 [list(s) for s in result.cut_original_segments])  # fmt: skip
            segs = [list(s) for s in result.modified_segments]
            if await tx.fetchval(queries.ADJUSTED, row["id"], original, modified, segs):
                await enqueue_step(tx, "dump", row["id"], row["janus_server"])

    def preroll(self, audience: str) -> int:
        tenant = next((t for t in self.settings.tenants if t.audience == audience), None)
        if tenant is not None and tenant.preroll_ms is not None:
            return tenant.preroll_ms
        return self.settings.preroll_ms

    # --- 3. dump ------------------------------------------------------------------------

    async def dump(self, row: Row, work: Path) -> None:
        room = row["modified_room_id"]
        events = await self.db.fetch(queries.SELECT_ROOM_EVENTS, room)
        body = json.dumps({"room": str(room), "events": [dumped(e) for e in events]},
                          separators=(",", ":")).encode()  # fmt: skip
        key = f"{prefix(row)}/events.json"
        stored = await self.storage.put_bytes(key, body)
        if stored.sha256 != hashlib.sha256(body).hexdigest():
            raise StorageError(f"{key}: the stored dump does not match")
        uri = events_uri(self.settings, self.storage, row, key)
        async with self.db.unit() as tx:
            if await tx.fetchval(queries.DUMPED, row["id"], uri):
                await enqueue_step(tx, "transcode", row["id"], row["janus_server"])

    # --- 4. transcode -------------------------------------------------------------------

    async def transcode(self, row: Row, work: Path) -> None:
        recordings = await self.db.fetch(queries.SELECT_RECORDINGS, row["id"])
        keep = [tuple(s) for s in row["modified_segments"]]
        stream = uuid.uuid4()
        out = work / "out"
        if row["kind"] == "minigroup":
            source = await self.composed(row, recordings, work)
            keep = [(0, sum(b - a for a, b in keep))]
        else:
            main = leading(row, recordings, [])
            source = await self.fetch(original_key(row, main["account_id"]), work / "original.mp4")
        await cut(self.tools, source, keep, work, out)
        duration = await self.tools.duration_ms(out / "stream.mp4")
        base = f"{prefix(row)}/{stream}"
        # The playlist last: it names the stream by byte ranges.
        for name in ("stream.mp4", "index.m3u8"):
            await self.storage.put_file(f"{base}/{name}", out / name)
        async with self.db.unit() as tx:
            if await tx.fetchval(queries.TRANSCODED, row["id"], stream, duration, base) is None:
                return
            payload: dict[str, Any] = {
                "id": str(row["class_id"]), "scope": row["scope"], "tags": row["tags"],
                "status": "success", "stream_duration": round(duration / 1000),
            }  # fmt: skip
            if row["kind"] == "webinar":
                payload |= {
                    "stream_id": str(stream), "event_room_id": str(row["modified_room_id"]),
                    "stream_uri": stream_uri(self.settings, self.storage, row, base),
                }  # fmt: skip
            await notify(tx, row["audience"], f"{row['kind']}.ready", payload, row["class_id"])

    async def composed(self, row: Row, recordings: list[Row], work: Path) -> Path:
        """A minigroup's video: everyone on the common timeline, the host's cuts (its
        `cut_original_segments`, set by adjust) applied to all (models.place)."""
        host = next((r for r in recordings if r["cut_original_segments"] is not None), None)
        if host is None:
            raise StepFailed("the host has no recording")
        tracks = models.place([dict(r) for r in recordings], host["account_id"])
        lead = next(t for t in tracks if t.account_id == host["account_id"])
        keep = [(a + lead.offset_ms, b + lead.offset_ms) for a, b in lead.modified_segments]
        # Pins and mutes, from the modified room (its times are the output's, plus the preroll).
        preroll = self.preroll(row["audience"])
        room = await self.db.fetch(queries.SELECT_ROOM_EVENTS, row["modified_room_id"])
        pins = [(e["occurred_at"] // models.NS_PER_MS - preroll, named_account(e["data"]))
                for e in room if e["type"] == "pin"]  # fmt: skip
        length = models.total(keep)
        layered = []
        for n, t in enumerate(tracks):
            silent, dark = models.mute_spans(mutes_of(room, t.account_id, preroll), length)
            layered.append(Layered(
                await self.fetch(original_key(row, t.account_id), work / f"{n}.mp4"),
                t.offset_ms, [tuple(s) for s in t.segments],  # type: ignore[misc]
                models.pin_spans(pins, t.account_id, length),
                models.on_timeline(silent, keep), models.on_timeline(dark, keep),
            ))  # fmt: skip
        out = work / "composed.mp4"
        await compose(self.tools, layered, keep, out)
        return out

    async def fetch(self, key: str, path: Path) -> Path:
        local = self.storage.local_path(key)
        if local is not None:
            return local
        await self.storage.download(key, path)
        return path


def _now() -> float:
    return time.time()


async def settled(dumps: list[Path], quiet: float = 2.0, patience: float = 120.0) -> list[Path]:
    """The dumps once Janus has stopped writing them (none changed for `quiet` seconds: a
    publisher may still be sending until the room is destroyed), waiting `patience` at most."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        newest = max((p.stat().st_mtime for p in dumps if p.exists()), default=0.0)
        if time.time() - newest >= quiet:
            break
        await asyncio.sleep(0.5)
    return dumps


def mutes_of(
    room: list[Row], account: str, preroll: int
) -> list[tuple[int, bool | None, bool | None]]:
    """A publisher's mute history from `mute` events `{account_id, audio?, video?}` (what a
    moderator's client posts when it mutes someone), as (output ms, audio, video)."""
    found = []
    for e in room:
        data = e["data"] if isinstance(e["data"], dict) else {}
        if e["type"] == "mute" and named_account(data) == account:
            audio, video = data.get("audio"), data.get("video")
            found.append((e["occurred_at"] // models.NS_PER_MS - preroll,
                          audio if isinstance(audio, bool) else None,
                          video if isinstance(video, bool) else None))  # fmt: skip
    return found


def named_account(data: Any) -> str | None:
    """The account an event names (whom a `pin` pins, who a `host` event makes host)."""
    if not isinstance(data, dict):
        return None
    found = data.get("account_id") or data.get("agent_id") or data.get("id")
    return str(found) if found else None


def host_of(events: list[models.Event]) -> str | None:
    """A minigroup's host: the account of the room's earliest `host` event."""
    for e in sorted(events, key=lambda e: (e.occurred_at, e.order)):
        if e.type == "host":
            return named_account(e.data) or e.created_by
    return None


def leading(row: Row, recordings: list[Row], events: list[models.Event]) -> Row:
    """The recording the events follow: a webinar's presenter (the class's host, else the
    longest); a minigroup's host (the earliest `host` event, else the class's host)."""
    if not recordings:
        raise StepFailed("the run has no recording")
    host = (host_of(events) if row["kind"] == "minigroup" else None) or row["host"]
    for r in recordings:
        if r["account_id"] == host:
            return r
    if row["kind"] == "minigroup" and host_of(events) is not None:
        raise StepFailed(f"the host {host!r} has no recording")
    return max(recordings, key=lambda r: (r["duration_ms"], -r["started_at"]))


async def read_dump(
    db: Database, storage: Storage, principal: Principal, production: uuid.UUID
) -> bytes:
    """A production's event dump, to whoever may read its class (a file store's URI)."""
    row = await db.fetchrow(queries.SELECT_DUMP, production)
    if row is None or row["audience"] != principal.audience or not sees(principal, row["class_id"]):
        raise NotFound("no such recording", code="recording_not_found")
    authorize(principal, Action.READ_CLASS, class_id=row["class_id"])
    try:
        return await storage.read(f"{prefix(row)}/events.json")
    except StorageError:
        raise NotFound("the recording's events are not dumped yet",
                       code="recording_not_found") from None  # fmt: skip


async def restart(
    tx: Unit, principal: Principal, kind: str, class_id: uuid.UUID, step: str | None
) -> str:
    """Run the class's latest production again from `step` (default: the one it stopped at);
    answers the step it runs. A step after adjust needs the run adjusted."""
    if not sees(principal, class_id):
        raise NotFound(f"no {kind} {class_id} in this audience", code=f"{kind}_not_found")
    authorize(principal, Action.UPDATE_CLASS, class_id=class_id)
    row = await tx.fetchrow(queries.RESTART, class_id, step, principal.audience, kind)
    if row is None:
        raise NotFound(f"the {kind} has no recording to restart", code="recording_not_found")
    if row["step"] in ("collect", "adjust") and row["adjusted"]:
        raise Conflict("the recording is adjusted (adjust is one-shot per room): change its "
                       "events with an edition", code="already_adjusted", field="step")  # fmt: skip
    if row["step"] in ("dump", "transcode") and not row["adjusted"]:
        raise Conflict("the recording is not adjusted yet", code="not_adjusted", field="step")
    if row["step"] == "done":
        raise Conflict("the recording has nothing left to run", code="recording_done")
    await enqueue_step(tx, row["step"], row["id"], row["janus_server"])
    return str(row["step"])


def register(registry: JobRegistry, db: Database, settings: Settings, storage: Storage) -> Pipeline:
    """Subscribe to "class ended" and register the steps this process can run."""
    tools = Tools(settings.media_concurrency, settings.work_dir / ".slots")
    pipeline = Pipeline(db, settings, storage, tools)
    lifecycle.on_class_ended("recordings", pipeline.class_ended)
    kinds: dict[str, tuple[str, Callable[[Row, Path], Awaitable[None]]]] = {
        step_kind(step, None): (step, work)
        for step, work in (("adjust", pipeline.adjust), ("dump", pipeline.dump),
                           ("transcode", pipeline.transcode))
    }  # fmt: skip
    # Collecting needs the server's rec_dir: only a process that can read it takes those jobs.
    kinds |= {collect_kind(s.id): ("collect", pipeline.collect)
              for s in settings.janus_urls if readable(s)}  # fmt: skip

    def handler(step: str, work: Callable[[Row, Path], Awaitable[None]]) -> Any:
        return lambda job: pipeline.run(job, step, work)

    for name, (step, work) in kinds.items():
        registry.kind(JobKind(name, handler(step, work), lease_seconds=settings.media_lease_seconds,
                              max_attempts=MAX_ATTEMPTS + 1))  # fmt: skip
    return pipeline
