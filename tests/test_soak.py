"""Soak: a minute of mixed traffic (80 % reads, 15 % event posts, 5 % creates) at 70 % of the rate
this machine sustains, measured first in the same run, against one real server process: not
one error, and the process's memory and file descriptors back where they were after."""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from podium.embedded import free_port
from tests.conftest import start_server, stop_server, token_for

SOAK_SECONDS = 60.0
SHARE = 0.7
MAX_CONNECTIONS = 64


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _fds(pid: int, db_port: int) -> tuple[int, int]:
    """(open descriptors other than database connections, database connections). The pool
    opens connections as load needs them and keeps them: they are counted apart."""
    remote: dict[str, int] = {}  # socket inode -> remote port
    for table in ("tcp", "tcp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            remote[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
    other = database = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        inode = target[len("socket:[") : -1] if target.startswith("socket:[") else None
        if inode is not None and remote.get(inode) == db_port:
            database += 1
        else:
            other += 1
    return other, database


class Mix:
    def __init__(self, http: httpx.AsyncClient, classes: list[str], room: str) -> None:
        self.http = http
        self.classes = classes
        self.room = room
        self.rng = random.Random(7)
        self.errors: list[str] = []
        self.done = 0

    async def one(self) -> None:
        pick = self.rng.random()
        try:
            if pick < 0.80:
                r = await self.http.get(f"/api/v1/webinars/{self.rng.choice(self.classes)}")
            elif pick < 0.95:
                r = await self.http.post(f"/api/v1/event_rooms/{self.room}/events",
                                         json={"type": "hand", "data": {"up": True}})  # fmt: skip
            else:
                r = await self.http.post("/api/v1/webinars", json={
                    "title": "soak", "scope": f"soak-{time.monotonic_ns()}",
                    "audience": "example.org"})  # fmt: skip
            if r.status_code >= 300:
                self.errors.append(f"{r.status_code} {r.text[:100]}")
        except httpx.HTTPError as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
        self.done += 1


async def _closed_loop(mix: Mix, seconds: float, workers: int = 16) -> float:
    """What the server sustains with `workers` requests always in flight: requests/s."""
    stop = time.monotonic() + seconds
    start_count = mix.done

    async def worker() -> None:
        while time.monotonic() < stop:
            await mix.one()

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return (mix.done - start_count) / (time.monotonic() - t0)


async def _paced(mix: Mix, rate: float, seconds: float, workers: int = 32) -> int:
    """Requests paced at `rate` per second whatever the answers do: tickets are issued on the
    clock and `workers` connections take them. Answers the longest backlog seen."""
    tickets: asyncio.Queue[None] = asyncio.Queue()
    t0 = time.monotonic()
    issued = 0
    backlog = 0

    async def worker() -> None:
        while True:
            await tickets.get()
            await mix.one()
            tickets.task_done()

    crew = [asyncio.create_task(worker()) for _ in range(workers)]
    while (elapsed := time.monotonic() - t0) < seconds:
        for _ in range(int(elapsed * rate) - issued):
            tickets.put_nowait(None)
            issued += 1
        backlog = max(backlog, tickets.qsize())
        await asyncio.sleep(0.01)
    await tickets.join()
    for task in crew:
        task.cancel()
    await asyncio.gather(*crew, return_exceptions=True)
    return backlog


async def test_a_minute_of_mixed_traffic(database_url: str) -> None:
    port = free_port()
    # A pool small enough that warm-up fills it: its connections are part of the baseline.
    proc = start_server(database_url, port, {"PODIUM_DB_POOL_SIZE": "8"})
    try:
        headers = {"Authorization": f"Bearer {token_for(ttl=3600)}"}
        # The client lets idle connections go before the server does (uvicorn: 5 s, the same
        # as httpx's default): with equal timeouts a request sent on a connection the server
        # is closing that instant fails with ReadError (once in ~19,000 here, after a stall).
        limits = httpx.Limits(max_connections=MAX_CONNECTIONS, keepalive_expiry=2.0)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers,
                                     limits=limits, timeout=10) as http:  # fmt: skip
            classes = [
                (await http.post("/api/v1/webinars", json={
                    "title": "T", "scope": f"soak-seed-{i}", "audience": "example.org"})).json()
                for i in range(20)
            ]  # fmt: skip
            mix = Mix(http, [c["class_id"] for c in classes],
                      classes[0]["real_time"]["event_room_id"])  # fmt: skip
            await _closed_loop(mix, 3.0, workers=32)  # warm-up, as many in flight as later
            sustained = await _closed_loop(mix, 5.0)
            assert not mix.errors, mix.errors[:5]
        await asyncio.sleep(1.0)
        db_port = urlsplit(database_url).port or 5432
        rss, (fds, conns) = _rss_mb(proc.pid), _fds(proc.pid, db_port)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers,
                                     limits=limits, timeout=10) as http:  # fmt: skip
            mix.http = http
            before = mix.done
            backlog = await _paced(mix, SHARE * sustained, SOAK_SECONDS)
            sent = mix.done - before
        await asyncio.sleep(3.0)  # idle again: keep-alive connections closed
        rss_after, (fds_after, conns_after) = _rss_mb(proc.pid), _fds(proc.pid, db_port)
        print(
            f"\nsoak: sustained {sustained:.0f} req/s; {SHARE:.0%} of it for {SOAK_SECONDS:.0f}"
            f" s: {sent} requests, {len(mix.errors)} errors; RSS {rss:.0f} → "
            f"{rss_after:.0f} MB; descriptors {fds} → {fds_after}, database connections "
            f"{conns} → {conns_after}; longest backlog {backlog}"
        )
        assert not mix.errors, mix.errors[:5]
        assert sent >= 0.9 * SHARE * sustained * SOAK_SECONDS  # the load really ran
        assert fds_after <= fds + 1  # no client connection or file left open
        assert conns_after <= 8  # the pool, no more
        assert rss_after <= rss + 40  # memory settles: no growth with the traffic
    finally:
        stop_server(proc)
