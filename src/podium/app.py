"""create_app(settings): routers, the error handler, and the lifespan of shared resources."""

from __future__ import annotations

import gc
import hmac
import ipaddress
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import swagger_ui
from litestar import Litestar, Request, Response, get
from litestar.datastructures import CacheControlHeader, State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router

from podium import logs, metrics, openapi, outbound
from podium.accounts.routes import AccountRoutes, BanRoutes
from podium.auth.cors import Cors, Routes
from podium.auth.service import TenantDirectory, sync_configured
from podium.broker import broker_for
from podium.classes import lifecycle
from podium.classes.routes import (
    ChatRoutes,
    MinigroupRoutes,
    P2PRoutes,
    WebinarRoutes,
    classroom_token,
    end_class,
    set_presenter,
)
from podium.clients.routes import token
from podium.conference.backends import Media, media_of
from podium.conference.routes import ClassMediaRoutes, MediaRoutes
from podium.config import Settings
from podium.db import Database, Unit
from podium.dependencies import PROVIDERS, NoToken
from podium.errors import NotFound, ServiceUnavailable, problem_response
from podium.jobs import STATS as JOB_STATS
from podium.jobs import JobRegistry, JobRunner
from podium.lobby import service as lobby
from podium.lobby.routes import LobbyQueueRoutes, set_lobby
from podium.notifications import service as notifications
from podium.notifications.routes import NotificationRoutes
from podium.observe import Observe
from podium.participants.routes import ClassParticipantRoutes, ParticipantRoutes, join
from podium.ratelimit import limiter_for
from podium.recordings import editions
from podium.recordings import service as recordings
from podium.recordings.routes import EditionRoutes, RecordingRoutes, StreamRoutes
from podium.rooms import service as rooms
from podium.rooms.live import Hub
from podium.rooms.routes import EventRoomRoutes, RoomRoutes
from podium.rooms.socket import live
from podium.runtime import Podium, runtime
from podium.sessions.routes import SessionRoutes
from podium.sip.routes import set_sip, verify
from podium.storage import storage_for
from podium.web.routes import join_link, static_files

log = logging.getLogger(__name__)


# Swagger UI's files, from the installed `swagger-ui-py` package (never a CDN: /docs works
# offline, and nothing third-party is copied into the repository).
DOCS_ASSETS = "/docs/assets"
docs_assets = create_static_files_router(
    path=DOCS_ASSETS, directories=[Path(swagger_ui.__file__).parent / "static"],
    name="docs_assets", include_in_schema=False, cache_control=CacheControlHeader(max_age=86400),
)  # fmt: skip


@get("/healthz", summary="The process is alive", tags=["health"], operation_class=NoToken)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/openapi.json", summary="The OpenAPI document", include_in_schema=False)
async def openapi_json(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    return Response(openapi.document(request.app.openapi_schema), media_type="application/json")


class DocsPage(SwaggerRenderPlugin):
    """Swagger UI with the document the API serves (statuses and problems completed), inline."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, openapi.document(openapi_schema))


async def _report_pool(db: Database) -> None:
    metrics.pool_state(db.pool.in_use, db.pool.waiting)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # not an address (a Unix socket, a test client)
        return False


@get("/metrics", include_in_schema=False, media_type=metrics.CONTENT_TYPE)
async def metrics_page(request: Request[Any, Any, Any], state: State) -> bytes:
    """Prometheus: with PODIUM_METRICS_TOKEN, for that bearer token only; without, for callers
    on this machine only (a scraper on another machine needs the token)."""
    p = runtime(state)
    expected = p.settings.metrics_token
    given = request.headers.get("authorization", "")
    if expected is not None:
        if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
            raise NotFound("no such page", code="not_found")
    elif not (request.client and _loopback(request.client.host)):
        raise NotFound("no such page", code="not_found")
    db = p.db
    metrics.pool_state(db.pool.in_use, db.pool.waiting)
    await state.scrape.refresh(lambda: db.fetch(JOB_STATS),
                               lambda: media_of(state).janus.status(db))  # fmt: skip
    return metrics.exposition(state.scrape)


@get("/readyz", summary="The database is reachable", tags=["health"], operation_class=NoToken)
async def readyz(state: State) -> dict[str, str]:
    if not await runtime(state).db.ping():
        raise ServiceUnavailable("the database is not reachable", code="database_unavailable")
    return {"status": "ready"}


async def _tell_rooms_closed(tx: Unit, ended: lifecycle.ClassEnded) -> None:
    await rooms.tell_closed(tx, ended.event_room_id)


def create_app(settings: Settings, database_url: str) -> Litestar:
    logs.install()  # before anything can log: no secret reaches a log line
    db = Database(database_url, size=settings.db_pool_size)
    hub = Hub(db, broker_for(settings.broker_url))
    media = Media.from_settings(settings)
    webhooks = outbound.client(settings.outbound_allowed_networks)
    # Each capability registers what it runs in the background; the runner knows none of them.
    registry = JobRegistry()
    notifications.register_jobs(registry, db, webhooks, settings.webhook_retry_base_seconds)
    lifecycle.register_jobs(registry, db, settings)
    lobby.register_jobs(registry, db, hub, settings.jobs_poll_seconds)
    media.register_jobs(registry, db, settings.janus_check_seconds, settings.forward_seconds)
    storage = storage_for(settings.storage)
    pipeline = recordings.register(registry, db, settings, storage)
    editions.register(registry, db, pipeline.preroll)
    # Each process reports its own database pool for /metrics (whichever process answers).
    registry.every("metrics.pool", 5.0, lambda: _report_pool(db))
    # Live pages learn that their class ended from the room's own frame (it now has an end).
    lifecycle.on_class_ended("rooms", _tell_rooms_closed)
    tenants = TenantDirectory(db)
    podium = Podium(
        settings=settings, db=db, storage=storage,
        limiter=limiter_for(settings.broker_url, settings.open_route_per_second,
                            settings.open_route_burst),
        jobs=JobRunner(db, registry, poll_seconds=settings.jobs_poll_seconds,
                       slots=settings.jobs_slots),
    )  # fmt: skip

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.connect()
        try:
            await sync_configured(db, settings.tenants)
            await tenants.reload()
            await hub.start()
            await podium.jobs.start()
            # Everything built at start-up (routes, schemas, the OpenAPI document) lives as long
            # as the process: keep it out of the cyclic collector's full passes, which otherwise
            # walk it all and stall every request in flight.
            gc.collect()
            gc.freeze()
            metrics.watch_gc()
            metrics.process_up.set(1)
            yield
        finally:
            await podium.jobs.stop()
            await hub.stop()
            await media.close()
            await podium.limiter.close()
            await webhooks.aclose()
            await db.close()
            metrics.process_gone(os.getpid())  # its live gauges stop counting

    docs = OpenAPIConfig(
        title="Podium",
        version="0.1.0",
        description="Webinars and online classes: see docs/api.md.",
        path="/docs",
        render_plugins=[
            DocsPage(
                path="/",
                js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' href='{DOCS_ASSETS}/favicon-32x32.png'>",
            ),
        ],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
            }
        ),
        security=[{"bearer": []}],
    )

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
        return problem_response(request, exc)

    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            openapi_json,
            metrics_page,
            WebinarRoutes,
            MinigroupRoutes,
            P2PRoutes,
            ChatRoutes,
            end_class,
            set_presenter,
            classroom_token,
            EventRoomRoutes,
            RoomRoutes,
            live,
            AccountRoutes,
            BanRoutes,
            NotificationRoutes,
            MediaRoutes,
            ClassMediaRoutes,
            ClassParticipantRoutes,
            ParticipantRoutes,
            join,
            set_lobby,
            LobbyQueueRoutes,
            set_sip,
            verify,
            token,
            SessionRoutes,
            RecordingRoutes,
            StreamRoutes,
            EditionRoutes,
            join_link,
            static_files,
            docs_assets,
        ],
        dependencies=PROVIDERS,
        exception_handlers={Exception: handle},
        lifespan=[lifespan],
        openapi_config=docs,
        request_max_body_size=settings.max_body_bytes,
        debug=False,
        logging_config=None,  # the process configures its own (logs.configure): JSON or text
    )
    # Browsers on the tenants' own origins (auth/cors.py), around everything the app answers.
    routes: list[Routes] = []

    def route_table() -> Routes:
        if not routes:
            routes.append(Routes([(r.path, set(r.methods)) for r in app.routes
                                  if isinstance(r, HTTPRoute)]))  # fmt: skip
        return routes[0]

    app.asgi_handler = Cors(app.asgi_handler, route_table, tenants.origins)  # type: ignore[assignment]
    # Outermost: the request id, the access line and the request's metrics see every answer.
    app.asgi_handler = Observe(app.asgi_handler)  # type: ignore[assignment]
    app.state.podium = podium
    # What capabilities share, each read through its own accessor (see runtime.py).
    app.state.tenants, app.state.hub, app.state.media = tenants, hub, media
    app.state.scrape = metrics.Scrape()
    return app
