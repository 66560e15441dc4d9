"""HTTP benchmark: Podium's webinar GET and POST beside their limits, in one run.

    ./dev bench [--seconds 10] [--connections 64] [--rounds 3]

Starts a private PostgreSQL (or uses PODIUM_BENCH_DATABASE_URL), one Podium server process and
the limit app (bench/limit_app.py: Starlette + raw asyncpg + orjson), then drives each with wrk
at 64 connections and prints requests/s, p50 and p99 latency, and the ratios to the limit.
On a machine with two or more cores the server under test is pinned to core 0 and PostgreSQL and
wrk to core 1, so "one server process on one core" holds.

Virtual machines drift (here the same limit app measured 4.1k and 8.7k req/s minutes apart), so
each round runs Podium and its limit back to back, the table shows the median over rounds, and a
ratio is the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

import asyncpg
import httpx

from bench.limit_app import insert_args
from podium.auth import tokens
from podium.auth.service import tenant_from_config
from podium.classes import queries
from podium.config import TenantConfig
from podium.db import migrate
from podium.embedded import EmbeddedPostgres, free_port

ROOT = Path(__file__).resolve().parents[1]
TENANT = TenantConfig(audience="example.org", key="bench-secret-0123456789abcdef0123456789")
SEED = 2000
SERVER_CPU, OTHER_CPU = {0}, {1}


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def pin(pid: int, cpus: set[int]) -> None:
    if (os.cpu_count() or 1) >= 2:
        with suppress(OSError):
            os.sched_setaffinity(pid, cpus)


def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def start(
    cmd: list[str], env: dict[str, str], ready: str, stack: ExitStack,
    cpu: set[int] = SERVER_CPU,
) -> None:  # fmt: skip
    """Start a server process (stopped when `stack` closes), pinned to `cpu`, and wait for it."""
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack.callback(lambda: (proc.terminate(), proc.wait(timeout=30)))
    pin(proc.pid, cpu)
    wait_ready(ready, proc)


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(name: str, url: str, script: str, seconds: int, connections: int) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", f.name, url]
    if (os.cpu_count() or 1) >= 2:
        cmd = ["taskset", "-c", ",".join(map(str, OTHER_CPU)), *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    os.unlink(f.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors:.*", out)
    errors = int(bad.group(1)) if bad else 0
    if errs:
        errors += sum(int(n) for n in re.findall(r"\d+", errs.group(0)))
    return Result(name, rps, p50, p99, errors)


def get_script(path: str, ids: list[str], token: str) -> str:
    table = ",".join(f'"{i}"' for i in ids)
    return f"""
ids = {{{table}}}
n = 0
wrk.headers["Authorization"] = "Bearer {token}"
request = function()
  n = n + 1
  return wrk.format("GET", "{path}" .. ids[(n % #ids) + 1])
end
"""


def post_script(path: str, token: str) -> str:
    run = uuid.uuid4().hex[:8]
    return f"""
n = 0
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = '{{"title":"Bench","scope":"{run}-' .. n .. '","audience":"example.org",' ..
               '"time":[1900000000,1900003600],"tags":{{"bench":true}}}}'
  return wrk.format("POST", "{path}", nil, body)
end
"""


async def seed(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = [
            insert_args(f"seed-{i}", "Seeded", [1900000000, 1900003600], json.dumps({"n": i}))
            for i in range(SEED)
        ]
        await conn.executemany(queries.INSERT_CLASS, rows)
        return [str(r[0]) for r in rows]
    finally:
        await conn.close()


async def reset_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()


def bench_database(stack: ExitStack, name: str) -> str:
    """A fresh, migrated database `name` on a private PostgreSQL (stopped with `stack`, pinned
    away from the server under test) or on PODIUM_BENCH_DATABASE_URL's server."""
    admin = os.environ.get("PODIUM_BENCH_DATABASE_URL")
    if not admin:
        server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix=f"podium-{name}-")))
        admin = server.start()
        stack.callback(server.stop)
        pid = int((server.pgdata / "postmaster.pid").read_text().split()[0])
        pin(pid, OTHER_CPU)  # backends fork from the postmaster and inherit this
    asyncio.run(reset_database(admin, name))
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    migrate(url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pool-size", type=int, default=32, help="both apps' database pool")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    with ExitStack() as stack:
        url = bench_database(stack, "bench")
        ids = asyncio.run(seed(url))
        token = tokens.mint(tenant_from_config(TENANT), "service", 3600)

        podium_port, limit_port = free_port(), free_port()
        start(
            [sys.executable, "-m", "podium.cli", "serve", "--port", str(podium_port)],
            {
                "PODIUM_DATABASE_URL": url,
                "PODIUM_LOG_LEVEL": "warning",
                "PODIUM_DB_POOL_SIZE": str(args.pool_size),
                "PODIUM_TENANTS": json.dumps([TENANT.model_dump()]),
            },
            f"http://127.0.0.1:{podium_port}/healthz",
            stack,
        )
        start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.limit_app:app",
                "--port",
                str(limit_port),
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            {"DATABASE_URL": url, "POOL_SIZE": str(args.pool_size)},
            f"http://127.0.0.1:{limit_port}/webinars/x",
            stack,
        )

        podium = f"http://127.0.0.1:{podium_port}"
        limit = f"http://127.0.0.1:{limit_port}"
        s, c = args.seconds, args.connections
        empty = 'request = function() return wrk.format("GET", "/healthz") end'
        # A short warm-up so every pool is full and every statement prepared.
        wrk("warm-up", podium, get_script("/api/v1/webinars/", ids, token), 2, c)
        wrk("warm-up", limit, get_script("/webinars/", ids, token), 2, c)

        def scenarios() -> list[tuple[str, str, str, int]]:
            # Built per round: each POST script creates its own fresh scopes.
            return [
                ("bare JSON route (Litestar, same server)", podium, empty, c),
                ("GET webinar: Podium", podium, get_script("/api/v1/webinars/", ids, token), c),
                ("GET webinar: limit app", limit, get_script("/webinars/", ids, token), c),
                ("POST webinar: Podium", podium, post_script("/api/v1/webinars", token), c),
                ("POST webinar: limit app", limit, post_script("/webinars", token), c),
                (
                    "GET webinar: Podium, 8 connections",
                    podium,
                    get_script("/api/v1/webinars/", ids, token),
                    8,
                ),
            ]

        rounds: list[dict[str, Result]] = []
        for n in range(args.rounds):
            print(f"round {n + 1}/{args.rounds} ...", file=sys.stderr)
            rounds.append(
                {
                    name: wrk(name, url_, script, s, conns)
                    for name, url_, script, conns in scenarios()
                }
            )

    def median_result(name: str) -> Result:
        runs = [r[name] for r in rounds]
        return Result(
            name,
            statistics.median(r.rps for r in runs),
            statistics.median(r.p50_ms for r in runs),
            statistics.median(r.p99_ms for r in runs),
            sum(r.errors for r in runs),
        )

    results = [median_result(name) for name in rounds[0]]

    def ratio(kind: str) -> tuple[float, list[float]]:
        per_round = [
            r[f"{kind} webinar: Podium"].rps / r[f"{kind} webinar: limit app"].rps for r in rounds
        ]
        return statistics.median(per_round), per_round

    get_ratio, get_rounds = ratio("GET")
    post_ratio, post_rounds = ratio("POST")
    by = {r.name: r for r in results}
    print(
        f"\n{c} connections unless named, {s} s each, median of {args.rounds} rounds, one "
        f"server process{' pinned to one core' if (os.cpu_count() or 1) >= 2 else ''}:\n"
    )
    print("| route | req/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r.name} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} |")
    rounds_text = ", ".join(f"{x:.0%}" for x in get_rounds)
    print(
        f"\nGET  Podium / limit app: {get_ratio:.0%} (rounds: {rounds_text}; target >= 60%); "
        f"p99 {by['GET webinar: Podium'].p99_ms:.1f} ms (target <= 15 ms)"
    )
    rounds_text = ", ".join(f"{x:.0%}" for x in post_rounds)
    print(f"POST Podium / limit app: {post_ratio:.0%} (rounds: {rounds_text}; target >= 40%)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "results": [asdict(r) for r in results],
                    "get_ratio": get_ratio,
                    "post_ratio": post_ratio,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
