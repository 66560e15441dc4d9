"""Conference rooms: which media backend a class gets.

Without a Janus pool every class gets backend `none` (everything but media works); asking for
`janus` then is refused before anything is made. Placement on a real pool comes with the Janus
capability.
"""

from __future__ import annotations

from podium.errors import ServiceUnavailable


def choose_backend(asked: str | None, janus_configured: bool) -> str:
    if asked == "janus" and not janus_configured:
        raise ServiceUnavailable(
            "backend `janus` was asked for but this Podium has no Janus media server "
            "configured; ask for backend `none` (everything but media works)",
            field="backend",
            code="media_server_unavailable",
        )
    if asked is None:
        return "janus" if janus_configured else "none"
    return asked
