"""The fan-out limit: a bare broadcast loop on Podium's server stack (Litestar on uvicorn with
websockets-sansio, no compression). Sockets join `/ws`; `POST /publish` writes the body, as it
is, to every socket in turn. No auth, no database, no broker, no ordering.

Run: uvicorn bench.broadcast_app:app --ws websockets-sansio --ws-per-message-deflate false
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, WebSocket, post, websocket
from litestar.exceptions import WebSocketDisconnect

sockets: set[WebSocket[Any, Any, Any]] = set()


@websocket("/ws")
async def ws(socket: WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    sockets.add(socket)
    try:
        while True:
            await socket.receive_data(mode="text")
    except WebSocketDisconnect:
        pass
    finally:
        sockets.discard(socket)


@post("/publish", status_code=204)
async def publish(request: Request[Any, Any, Any]) -> None:
    text = (await request.body()).decode()
    for socket in list(sockets):
        try:
            await socket.send({"type": "websocket.send", "bytes": None, "text": text})
        except Exception:
            sockets.discard(socket)


app = Litestar([ws, publish])
