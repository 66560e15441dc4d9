"""Stopping background tasks for sure.

`task.cancel()` asks once, and a task may lose the request: in Python 3.11 `asyncio.wait_for`
(used inside asyncpg's connect, among others) can swallow a cancellation that arrives as the
awaited call completes, and a loop that then goes on (a job renewing its lease, a periodic task)
never ends. Awaiting such a task after one cancel hangs a shutdown forever (seen: the test suite
stuck in an app's shutdown, a job still renewing its lease every few seconds). So: ask again
until every task has ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

ASK_AGAIN_SECONDS = 0.5


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel the tasks and wait until each has ended, cancelling again any that goes on."""
    pending = {t for t in tasks if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=ASK_AGAIN_SECONDS)
