"""What a unit of work costs a one-statement write, beside the bare statement (its limit).

    ./dev bench unit [--count 3000] [--rounds 5]

Starts a private PostgreSQL and inserts rows through Podium's `Database` (its own pool, uvloop)
three ways, interleaved, one at a time: the bare statement (`db.fetchrow`, autocommit: the
limit), a unit whose only statement goes through `tx.sole` (what a webinar create does), and a
unit that runs the same statement inside BEGIN/COMMIT (what every use case would pay without
`sole`). Prints client CPU and wall time per write, medians over rounds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvloop

from podium.db import Database
from podium.embedded import EmbeddedPostgres

INSERT = "INSERT INTO t (id, v) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id"


async def bare(db: Database) -> None:
    await db.fetchrow(INSERT, uuid.uuid4(), "x")


async def sole(db: Database) -> None:
    async with db.unit() as tx:
        await tx.sole(INSERT, uuid.uuid4(), "x")


async def in_transaction(db: Database) -> None:
    async with db.unit() as tx:
        await tx.fetchrow(INSERT, uuid.uuid4(), "x")


WAYS: dict[str, Callable[[Database], Awaitable[None]]] = {
    "bare statement (the limit)": bare,
    "unit, tx.sole": sole,
    "unit, BEGIN/statement/COMMIT": in_transaction,
}


async def measure(url: str, count: int, rounds: int) -> None:
    db = Database(url, size=2)
    await db.connect()
    await db.execute("CREATE TABLE t (id uuid PRIMARY KEY, v text)")
    cpu: dict[str, list[float]] = {name: [] for name in WAYS}
    wall: dict[str, list[float]] = {name: [] for name in WAYS}
    for way in WAYS.values():  # warm-up
        for _ in range(200):
            await way(db)
    for _ in range(rounds):
        for name, way in WAYS.items():
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(count):
                await way(db)
            cpu[name].append((time.process_time() - c0) / count * 1e6)
            wall[name].append((time.perf_counter() - w0) / count * 1e6)
    await db.close()
    limit = statistics.median(cpu["bare statement (the limit)"])
    print(f"{'way':<32} {'client CPU µs':>14} {'wall µs':>9} {'CPU / limit':>12}")
    for name in WAYS:
        c, w = statistics.median(cpu[name]), statistics.median(wall[name])
        print(f"{name:<32} {c:>14.0f} {w:>9.0f} {c / limit:>11.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="podium-bench-unit-")))
    url = server.start()
    try:
        uvloop.run(measure(url, args.count, args.rounds))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
