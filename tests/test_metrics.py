"""What an operator sees: Prometheus `/metrics` (its series, exact counts of a known sequence of
requests, summed over two server processes, protected), and log lines that carry the request id
from `X-Request-Id` (or a made one, sent back), the tenant, the route and the status, as JSON."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from litestar.testing import AsyncTestClient

from podium.app import create_app
from podium.config import Settings
from podium.embedded import free_port
from tests.conftest import SERVER_LOGS, TENANT, auth, start_server, stop_server, token_for

METRICS_TOKEN = "metrics-token-0123456789"
SERIES = (  # as their `# TYPE` lines name them
    "podium_http_requests", "podium_http_request_duration_seconds", "podium_live_sockets",
    "podium_live_rooms", "podium_fanout_lag_seconds", "podium_slow_consumers_closed",
    "podium_jobs_finished", "podium_jobs_queued", "podium_jobs_oldest_seconds",
    "podium_jobs_failed", "podium_db_pool_connections_in_use", "podium_db_pool_waiting",
    "podium_janus_up", "podium_janus_load", "podium_janus_capacity", "podium_janus_forwards",
    "podium_gc_pause_seconds",
)  # fmt: skip


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    total = 0.0
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if not m or m[1] != name:
            continue
        got = ",".join(sorted(p for p in (m[2] or "").split(",") if not p.startswith("pid=")))
        if got == want:
            total += float(m[3])
    return total


async def test_a_known_sequence_is_counted_exactly(database_url: str) -> None:
    settings = Settings(_env_file=None, tenants=[TENANT], metrics_token=METRICS_TOKEN)  # type: ignore[call-arg]
    async with AsyncTestClient(create_app(settings, database_url)) as client:
        scrape = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        assert (await client.get("/metrics")).status_code == 404  # no token, not loopback
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})
                ).status_code == 404  # fmt: skip
        before = (await client.get("/metrics", headers=scrape)).text
        for _ in range(3):
            assert (await client.get("/healthz")).status_code == 200
        made = await client.post("/api/v1/webinars", headers=auth(), json={
            "title": "M", "scope": "metrics-1", "audience": "example.org"})  # fmt: skip
        assert made.status_code == 201
        real = made.json()["class_id"]
        other = real[:-1] + ("1" if real.endswith("0") else "0")  # (one id in 16 ends in 0)
        for _ in range(2):
            missing = await client.get(f"/api/v1/webinars/{other}", headers=auth())
            assert missing.status_code == 404
        assert (await client.get("/nowhere/at/all")).status_code == 404
        after = await client.get("/metrics", headers=scrape)
        assert after.headers["content-type"].startswith("text/plain")
        text = after.text
    for name in SERIES:
        assert re.search(rf"^# TYPE {name}(_total)? ", text, re.M), name

    def delta(name: str, **labels: str) -> float:
        return sample(text, name, **labels) - sample(before, name, **labels)

    assert delta("podium_http_requests_total", method="GET", route="/healthz", status="200") == 3
    assert delta("podium_http_requests_total", method="POST", route="/api/v1/webinars",
                 status="201") == 1  # fmt: skip
    assert delta("podium_http_requests_total", method="GET",
                 route="/api/v1/webinars/{class_id}", status="404") == 2  # fmt: skip
    # A path that matched no route counts once, under one name: random paths add no series.
    assert delta("podium_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert delta("podium_http_request_duration_seconds_count", method="GET",
                 route="/healthz") == 3  # fmt: skip


@pytest.fixture
def two_processes(database_url: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    proc = start_server(database_url, port, {
        "PODIUM_METRICS_TOKEN": METRICS_TOKEN, "PODIUM_LOG_FORMAT": "json",
        "PODIUM_LOG_LEVEL": "info"}, args=("--workers", "2"))  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        stop_server(proc)


def test_two_processes_add_up_and_lines_carry_the_request_id(
    two_processes: tuple[str, int],
) -> None:
    base, pid = two_processes
    scrape = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    # New connections each time, so both processes answer some.
    for _ in range(40):
        assert httpx.get(f"{base}/healthz").status_code == 200
    text = httpx.get(f"{base}/metrics", headers=scrape).text
    # Each process writes its own counts; the page adds them up.
    assert len(re.findall(r'^podium_process_up\{pid="\d+"\} 1\.0$', text, re.M)) == 2, text
    assert sample(text, "podium_http_requests_total", method="GET", route="/healthz",
                  status="200") == 40  # fmt: skip
    # Every process times its garbage collector's pauses (young collections happen all the time).
    assert sample(text, "podium_gc_pause_seconds_count", generation="0") > 0, text

    # The request id: taken from the header when sane, made otherwise; sent back either way.
    r = httpx.post(
        f"{base}/api/v1/webinars",
        headers={**auth(), "X-Request-Id": "trace-42"},
        json={"title": "R", "scope": "rid-1", "audience": "example.org"},
    )
    assert r.status_code == 201 and r.headers["x-request-id"] == "trace-42"
    made = httpx.get(f"{base}/healthz", headers={"X-Request-Id": "bad id; drop table"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    token = token_for(sub="student-1")
    httpx.get(
        f"{base}/api/v1/webinars/{r.json()['class_id']}",
        headers={"Authorization": f"Bearer {token}", "X-Request-Id": "trace-43"},
    )
    deadline = time.monotonic() + 5
    lines: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in SERVER_LOGS[pid].read_text().splitlines()
                 if line.startswith("{")]  # fmt: skip
        if any(line.get("request_id") == "trace-43" for line in lines):
            break
        time.sleep(0.1)
    access = {line["request_id"]: line for line in lines if line["logger"] == "podium.access"}
    assert access["trace-42"]["status"] == 201 and access["trace-42"]["tenant"] == "example.org"
    assert access["trace-42"]["route"] == "/api/v1/webinars"
    assert access["trace-43"]["route"] == "/api/v1/webinars/{class_id}"
    assert access["trace-43"]["status"] == 200 and "duration_ms" in access["trace-43"]
    raw = SERVER_LOGS[pid].read_text()
    assert token not in raw and token_for() not in raw  # no secret in any line


def test_one_served_process_counts_too(database_url: str) -> None:
    """`podium serve` with one process answers from its own registry (a multi-process folder
    that no process writes to would show nothing)."""
    port = free_port()
    proc = start_server(database_url, port, {"PODIUM_METRICS_TOKEN": METRICS_TOKEN})
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(3):
            assert httpx.get(f"{base}/healthz").status_code == 200
        text = httpx.get(f"{base}/metrics",
                         headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text  # fmt: skip
        assert sample(text, "podium_http_requests_total", method="GET", route="/healthz",
                      status="200") >= 3, text  # fmt: skip
        assert sample(text, "podium_gc_pause_seconds_count", generation="0") > 0
    finally:
        stop_server(proc)
