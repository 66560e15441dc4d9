"""Cross-origin calls from browsers (CORS), by tenant: each tenant names the origins of its web
apps (`cors_origins`, configured with the tenant); a browser on one of them may call Podium with a
bearer token. No cookies are ever involved, so `Access-Control-Allow-Credentials` is never sent
and an origin of `*` is safe to honour (it is answered as the caller's own origin, with
`Vary: Origin`).

- A preflight (`OPTIONS` with `Access-Control-Request-Method`) passes when any tenant allows the
  origin (the preflight carries no token): 204 with the route's methods, the headers asked for
  (of those Podium reads), and a cache time. Otherwise 204 without `Access-Control-Allow-*`: the
  browser refuses the call.
- An actual call from an origin is answered with `Access-Control-Allow-Origin` when the tenant the
  token names allows it (the token's `aud`, read without verifying: the header decides only whether
  the browser may read an answer that the server gives anyway), or any tenant for calls without
  a token (entering through a link).
- Every `OPTIONS` answers `Allow` with all the methods of its path (the framework's own answer
  listed only those of one handler).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from podium.errors import PROBLEM_JSON, NotFound
from podium.observe import ASGIApp, Message, Receive, Scope, Send

# Request headers a browser may send (what Podium reads), answered to a preflight; and the labels
# the original web client library sends with every call once an app sets them (`setLabels`), which
# Podium ignores but must let through, or the browser refuses the call.
ALLOWED_HEADERS = frozenset({
    "authorization", "content-type", "idempotency-key", "x-request-id", "accept",
    "accept-language", "if-match", "if-none-match",
    "ulms-app-audience", "ulms-app-label", "ulms-app-version", "ulms-scope",
})  # fmt: skip
EXPOSED_HEADERS = "Retry-After, Idempotent-Replayed, Location, ETag, Content-Disposition"
MAX_AGE_SECONDS = 600


def allows(origins: frozenset[str], origin: str) -> bool:
    return "*" in origins or origin.lower() in origins


def audience_of(authorization: str | None, query: str) -> str | None:
    """The `aud` a bearer token names, unverified (see the module), or None."""
    if authorization and authorization[:7].lower() == "bearer ":
        token = authorization[7:].strip()
    else:
        token = (parse_qs(query).get("access_token") or [""])[0]
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        aud = claims.get("aud")
    except (IndexError, ValueError, AttributeError):
        return None
    if isinstance(aud, list):
        aud = aud[0] if aud else None
    return aud if isinstance(aud, str) else None


class Routes:
    """The methods each path of the app answers (all its handlers together)."""

    def __init__(self, routes: list[tuple[str, set[str]]]) -> None:
        self._table = [(self._pattern(path), sorted(methods | {"OPTIONS"}))
                       for path, methods in routes]  # fmt: skip

    @staticmethod
    def _pattern(path: str) -> re.Pattern[str]:
        """`/a/{id:str}/{rest:path}` → `^/a/[^/]+/.+/?$`."""

        def segment(part: str) -> str:
            if part.startswith("{") and part.endswith("}"):
                return ".+" if part.endswith(":path}") else "[^/]+"
            return re.escape(part)

        return re.compile("^" + "/".join(segment(p) for p in path.split("/")) + "/?$")

    def methods(self, path: str) -> list[str] | None:
        found: set[str] = set()
        for pattern, methods in self._table:
            if pattern.match(path):
                found |= set(methods)
        return sorted(found) if found else None


class Cors:
    """The ASGI wrapper (see the module). `origins(audience)` answers the origins a tenant allows,
    or those of every tenant for None."""

    def __init__(
        self, app: ASGIApp, routes: Callable[[], Routes],
        origins: Callable[[str | None], Awaitable[frozenset[str]]],
    ) -> None:  # fmt: skip
        self.app = app
        self.routes = routes
        self.origins = origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["method"] == "OPTIONS":
            return await self._options(scope, send, _headers(scope))
        # Most calls come from no browser on another origin: find that out without more work.
        if not any(name == b"origin" for name, _ in scope["headers"]):
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        origin = headers["origin"]
        query = scope.get("query_string", b"").decode("latin-1")
        allowed = allows(await self.origins(audience_of(headers.get("authorization"), query)),
                         origin)  # fmt: skip

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"vary", b"Origin")]
                if allowed:
                    extra += [
                        (b"access-control-allow-origin", origin.encode("latin-1")),
                        (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
                    ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _options(self, scope: Scope, send: Send, headers: dict[str, str]) -> None:
        methods = self.routes().methods(scope["path"])
        if methods is None:
            problem = json.dumps(NotFound("no such path").problem()).encode()
            return await _answer(send, 404, [(b"content-type", PROBLEM_JSON.encode())], problem)
        origin = headers.get("origin")
        allow = ", ".join(methods).encode()
        out = [(b"allow", allow), (b"vary", b"Origin")]
        asked = headers.get("access-control-request-method")
        if origin is not None and asked is not None and allows(await self.origins(None), origin):
            asked_headers = headers.get("access-control-request-headers", "").split(",")
            wanted = [h.strip().lower() for h in asked_headers if h.strip()]
            out += [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-methods", allow),
                (b"access-control-allow-headers",
                 ", ".join(h for h in wanted if h in ALLOWED_HEADERS).encode()),
                (b"access-control-max-age", str(MAX_AGE_SECONDS).encode()),
            ]  # fmt: skip
        await _answer(send, 204, out, b"")


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
