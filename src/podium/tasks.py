"""Stopping background tasks for sure.

`task.cancel()` asks once, and a task may lose the request: in Python 3.11 `asyncio.wait_for`
(used inside asyncpg's connect, among others) can swallow a cancellation that arrives as the
awaited call completes, and a loop that then goes on (a job renewing its lease, a periodic task)
never ends. Awaiting such a task after one cancel hangs a shutdown forever (seen: the test suite
stuck in an app's shutdown, a job still renewing its lease every few seconds). So: ask again
until every task has ended. And the one who waits waits to the end even when it is cancelled
itself meanwhile (a job's task cancelled while it waits for its handler's clean-up): its own
cancellation is raised after, once nothing it stops is still running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

ASK_AGAIN_SECONDS = 0.5


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel the tasks and wait until each has ended, cancelling again any that goes on."""
    pending = {t for t in tasks if not t.done()}
    for task in pending:
        task.cancel()
    interrupted = False
    while pending:
        try:
            _, pending = await asyncio.wait(pending, timeout=ASK_AGAIN_SECONDS)
        except asyncio.CancelledError:
            interrupted = True  # ours to raise once they have ended; not a reason to ask again
            continue  # (asking at once would cut a clean-up short)
        for task in pending:
            task.cancel()
    if interrupted:
        raise asyncio.CancelledError
