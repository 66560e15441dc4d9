"""HTTP routes of the web client: an entry link's page and the client's static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import CacheControlHeader, State
from litestar.params import FromPath
from litestar.static_files import create_static_files_router

from podium.auth.service import tenants_of
from podium.dependencies import rate_limit
from podium.participants.service import look
from podium.runtime import runtime
from podium.web.pages import join_page, page_headers

STATIC = Path(__file__).parent / "static"


@get("/join/{entry_token:str}", include_in_schema=False)
async def join_link(
    entry_token: FromPath[str], request: Request[Any, Any, Any], state: State
) -> Response[str]:
    """Opening the link spends nothing: entering is the page's Join button (POST /api/v1/join)."""
    await rate_limit(state, request, "join")
    p = runtime(state)
    page = join_page(await look(p.db, tenants_of(state).issuing_key, entry_token))
    headers = page_headers(tuple(s.url for s in p.settings.janus_urls))
    return Response(page.html, status_code=page.status, media_type="text/html; charset=utf-8",
                    headers=headers)  # fmt: skip


static_files = create_static_files_router(
    path="/static", directories=[STATIC], name="static", include_in_schema=False,
    cache_control=CacheControlHeader(max_age=300),
)  # fmt: skip
