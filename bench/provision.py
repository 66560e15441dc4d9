"""Provisioning benchmark: creating a class with a room on a real Janus, beside Janus's own
`create` — the limit.

    ./dev bench provision [--classes 300] [--concurrency 8]

Starts a private PostgreSQL, a private Janus (tests.janus) and one Podium process
(pinned to core 0) with that Janus as its pool, then: (1) creates rooms straight on Janus through
its admin API, (2) creates minigroups through Podium's API (placement, the Janus room, the class
and both rooms in PostgreSQL); each first one at a time (latency p50/p99), then `concurrency` at
a time (rooms/s). (3) joins a class's media (`POST /api/v1/classes/:id/media`, a new account
each time) beside the two Janus calls a join makes (`listparticipants`, `allowed add`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack

import httpx

from bench.http import OTHER_CPU, TENANT, bench_database, pin, start
from podium.auth import tokens
from podium.auth.service import tenant_from_config
from podium.conference.janus import JanusClient
from podium.embedded import free_port
from tests.janus import JanusServer


async def timed(
    make: Callable[[int], Awaitable[None]], n: int, concurrency: int
) -> dict[str, float]:
    latencies: list[float] = []
    for i in range(n):  # one at a time: latency
        t = time.perf_counter()
        await make(i)
        latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()
    counter = iter(range(n, 2 * n))

    async def worker() -> None:
        for i in counter:
            await make(i)

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t
    return {"p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "per_s": n / elapsed}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    token = tokens.mint(tenant_from_config(TENANT), "service", 3600)
    with ExitStack() as stack:
        url = bench_database(stack, "provision")
        janus = JanusServer("j1", capacity=100 * args.classes)  # never the limit here
        janus.start()
        stack.callback(janus.stop)
        assert janus.proc is not None
        pin(janus.proc.pid, OTHER_CPU)
        port = free_port()
        start([sys.executable, "-m", "podium.cli", "serve", "--port", str(port)],
              {"PODIUM_DATABASE_URL": url, "PODIUM_LOG_LEVEL": "warning",
               "PODIUM_TENANTS": json.dumps([TENANT.model_dump()]),
               "PODIUM_JANUS_URLS": json.dumps([janus.config()])},
              f"http://127.0.0.1:{port}/healthz", stack)  # fmt: skip

        async def run() -> dict[str, dict[str, float]]:
            async with httpx.AsyncClient(timeout=30) as http:
                client = JanusClient(janus.url, janus.admin_url, janus.admin_secret,
                                     janus.room_key, http)  # fmt: skip

                async def bare(i: int) -> None:
                    await client.create_room(str(uuid.uuid4()), secret="s" * 16, publishers=6,
                                             description=f"bare {i}", record=True)  # fmt: skip

                run_id = uuid.uuid4().hex[:6]

                async def podium(i: int) -> None:
                    r = await http.post(
                        f"http://127.0.0.1:{port}/api/v1/minigroups",
                        headers={"Authorization": f"Bearer {token}"},
                        json={"scope": f"p-{run_id}-{i}", "audience": TENANT.audience,
                              "host": "h", "reserve": 6})  # fmt: skip
                    assert r.status_code == 201, r.text
                    assert r.json()["backend"] == "janus"

                results = {
                    "Janus create (admin API), the limit": await timed(
                        bare, args.classes, args.concurrency),
                    "Podium: class + event room + Janus room": await timed(
                        podium, args.classes, args.concurrency),
                }  # fmt: skip

                room = str(uuid.uuid4())
                await client.create_room(room, secret="s" * 16, publishers=6,
                                         description="joins", record=True)  # fmt: skip

                async def bare_join(i: int) -> None:
                    await client.participants(room)
                    await client.allow(room, "s" * 16, "add", [f"token-{i}"])

                r = await http.post(
                    f"http://127.0.0.1:{port}/api/v1/minigroups",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"scope": f"join-{run_id}", "audience": TENANT.audience,
                          "host": "h", "reserve": 6})  # fmt: skip
                media = f"http://127.0.0.1:{port}/api/v1/classes/{r.json()['class_id']}/media"
                users = [tokens.mint(tenant_from_config(TENANT), f"u{i}", 3600)
                         for i in range(2 * args.classes)]  # fmt: skip

                async def join(i: int) -> None:
                    r = await http.post(media, headers={"Authorization": f"Bearer {users[i]}"})
                    assert r.status_code == 200, r.text

                results["Janus listparticipants + allowed add, the limit of a join"] = await timed(
                    bare_join, args.classes, args.concurrency)  # fmt: skip
                results["Podium: join media (POST /classes/:id/media)"] = await timed(
                    join, args.classes, args.concurrency)  # fmt: skip
                return results

        results = asyncio.run(run())
    print(
        f"\n{args.classes} one at a time (latency), then {args.classes} with "
        f"{args.concurrency} at once (rate); one Podium process pinned to one core:\n"
    )
    print("| what | p50 ms | p99 ms | per s |")
    print("|---|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['p50']:.2f} | {r['p99']:.2f} | {r['per_s']:,.0f} |")


if __name__ == "__main__":
    main()
