"""Join benchmark: N people enter one class at once, each through the four HTTP steps a browser
takes (no media): open the entry link's page, exchange the link for a token (POST /api/v1/join),
ask for the media join answer (POST …/media, which lets them into the Janus room), connect the
event room's live socket. Beside the limit: the same steps against bench/join_limit.py, in the
same run.

    ./dev bench join [--participants 500] [--concurrency 100]

Starts a private PostgreSQL and a private Janus (no media flows: the join answer is what is
timed), then Podium (one process, pinned to core 0) and the limit app (pinned the same way).
Prints p50/p99 per step and the time until the last person is in, for each; the target is
everyone in within 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx
import uvloop

from bench.http import TENANT, bench_database, start
from podium.auth import tokens
from podium.auth.service import tenant_from_config
from podium.embedded import free_port
from tests.janus import JanusServer

STEPS = ("page", "token", "media", "socket")
TARGET_SECONDS = 10.0


def service_token() -> str:
    tenant = tenant_from_config(TENANT)
    return tokens.mint(tenant, tenant.service_account, 3600)


async def prepare(base: str, n: int) -> tuple[str, str, list[str]]:
    """A webinar without a lobby and `n` participants: (class id, event room id, entry paths)."""
    async with httpx.AsyncClient(
        base_url=base, timeout=30, headers={"Authorization": f"Bearer {service_token()}"}
    ) as api:
        now = int(time.time())
        r = await api.post("/api/v1/webinars", json={
            "title": "Join bench", "scope": f"join-{uuid.uuid4().hex[:8]}",
            "audience": TENANT.audience, "host": "teacher", "time": [now - 60, now + 7200],
            "reserve": n + 10,
        })  # fmt: skip
        r.raise_for_status()
        w = r.json()
        paths = []
        for i in range(n):
            p = await api.post(
                f"/api/v1/classes/{w['class_id']}/participants",
                json={"display_name": f"Viewer {i}", "account_id": f"v{i}"},
            )
            p.raise_for_status()
            paths.append("/join/" + p.json()["entry_url"].rsplit("/join/", 1)[1])
    return w["class_id"], w["real_time"]["event_room_id"], paths


async def run(base: str, class_id: str, room: str, paths: list[str], concurrency: int
              ) -> dict[str, Any]:  # fmt: skip
    """Everyone at once (at most `concurrency` in flight); each person's four steps in order.
    The client is aiohttp on uvloop: httpx cost more CPU per request than the limit app, so
    it measured itself (both apps' last person in at ~7 s, the same 3 s p99 on a static page)."""
    took: dict[str, list[float]] = {s: [] for s in STEPS}
    failures: list[str] = []
    gate = asyncio.Semaphore(concurrency)
    sockets: list[Any] = []
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)

    # Live sockets stay open: they get their own connections, outside the requests' pool.
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as http, \
            aiohttp.ClientSession(base, connector=aiohttp.TCPConnector(limit=0),
                                  timeout=timeout) as live:  # fmt: skip

        async def step(name: str, call: Any) -> Any:
            t = time.perf_counter()
            result = await call
            took[name].append(time.perf_counter() - t)
            return result

        async def page(path: str) -> None:
            async with http.get(path) as r:
                r.raise_for_status()
                await r.read()

        async def enter(path: str) -> str:
            async with http.post("/api/v1/join", json={"entry_token": path.rsplit("/", 1)[1]}) as r:
                r.raise_for_status()
                return str((await r.json())["access_token"])

        async def media(token: str) -> None:
            async with http.post(
                f"/api/v1/classes/{class_id}/media", headers={"Authorization": f"Bearer {token}"}
            ) as r:
                r.raise_for_status()
                await r.read()

        async def one(path: str) -> None:
            async with gate:
                try:
                    await step("page", page(path))
                    token = await step("token", enter(path))
                    await step("media", media(token))
                    sockets.append(
                        await step(
                            "socket",
                            live.ws_connect(
                                f"/api/v1/event_rooms/{room}/live?access_token={token}&after=0"
                            ),
                        )
                    )
                except Exception as exc:  # counted, not hidden
                    failures.append(f"{type(exc).__name__}: {exc}"[:200])

        t0 = time.perf_counter()
        await asyncio.gather(*(one(p) for p in paths))
        last_in = time.perf_counter() - t0
        for ws in sockets:
            await ws.close()

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {
        "in": len(sockets),
        "failures": len(failures),
        "first_failures": failures[:3],
        "last_in_s": round(last_in, 2),
        **{f"{s}_p50_ms": pct(v, 0.5) for s, v in took.items() if v},
        **{f"{s}_p99_ms": pct(v, 0.99) for s, v in took.items() if v},
    }


async def room_secret(url: str, room: str) -> tuple[str, str]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT r.id::text AS room, r.janus_secret FROM conference_rooms r"
            " JOIN classes c ON c.conference_room_id = r.id WHERE c.id = $1::uuid",
            room,
        )
        return row["room"], row["janus_secret"]
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args()
    with ExitStack() as stack:
        url = bench_database(stack, "podium_bench_join")
        janus = JanusServer("bench", capacity=args.participants * 2)
        janus.start()
        stack.callback(janus.stop)
        port, limit_port = free_port(), free_port()
        env = {
            "PODIUM_DATABASE_URL": url, "PODIUM_LOG_LEVEL": "warning",
            "PODIUM_TENANTS": json.dumps([TENANT.model_dump()]),
            "PODIUM_JANUS_URLS": json.dumps([janus.config()]),
            # One client address opens every link here: lift the per-address limits.
            "PODIUM_OPEN_ROUTE_PER_SECOND": "100000", "PODIUM_OPEN_ROUTE_BURST": "1000000",
        }  # fmt: skip
        start([sys.executable, "-m", "podium.cli", "serve", "--port", str(port)], env,
              f"http://127.0.0.1:{port}/readyz", stack)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        class_id, room, paths = asyncio.run(prepare(base, args.participants))
        podium = uvloop.run(run(base, class_id, room, paths, args.concurrency))
        janus_room, secret = asyncio.run(room_secret(url, class_id))
        start([sys.executable, "-m", "uvicorn", "bench.join_limit:app", "--port",
               str(limit_port), "--log-level", "warning", "--loop", "uvloop",
               "--http", "httptools"],
              {"DATABASE_URL": url, "JANUS_ADMIN_URL": janus.admin_url,
               "JANUS_ADMIN_SECRET": janus.admin_secret, "ROOM": janus_room,
               "ROOM_SECRET": secret}, f"http://127.0.0.1:{limit_port}/healthz", stack)  # fmt: skip
        limit = uvloop.run(run(f"http://127.0.0.1:{limit_port}", class_id, room, paths,
                                args.concurrency))  # fmt: skip
    print(f"join: {args.participants} people into one class, {args.concurrency} at a time "
          f"(target: everyone in within {TARGET_SECONDS:.0f} s)")  # fmt: skip
    print(f"{'':8}{'in':>6}{'fail':>6}{'last in s':>11}" + "".join(
        f"{s + ' p50/p99 ms':>22}" for s in STEPS))  # fmt: skip
    for name, r in (("podium", podium), ("limit", limit)):
        print(
            f"{name:8}{r['in']:>6}{r['failures']:>6}{r['last_in_s']:>11}"
            + "".join(
                f"{str(r.get(f'{s}_p50_ms')) + ' / ' + str(r.get(f'{s}_p99_ms')):>22}"
                for s in STEPS
            )
        )
    ratio = round(podium["last_in_s"] / limit["last_in_s"], 2) if limit["last_in_s"] else None
    met = podium["last_in_s"] <= TARGET_SECONDS and not podium["failures"]
    verdict = "within" if met else "OVER"
    print(f"last in: podium {podium['last_in_s']} s ({verdict} the {TARGET_SECONDS:.0f} s target),"
          f" {ratio}x the limit's {limit['last_in_s']} s")  # fmt: skip
    if podium["first_failures"]:
        print("podium failures:", podium["first_failures"])
    if args.json:
        args.json.write_text(json.dumps({"podium": podium, "limit": limit, "ratio": ratio}))


if __name__ == "__main__":
    main()
