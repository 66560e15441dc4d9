"""Prometheus metrics (the maintained `prometheus-client`), correct with several server processes.

`podium serve` points PROMETHEUS_MULTIPROC_DIR at a fresh folder before its workers start: each
process then writes its counters there and `/metrics`, answered by any of them, adds them all up
(live gauges sum the processes alive). Without the folder (an app in a test) the process's own
registry answers. What is counted where it happens lives here as module-level metrics; what is a
state of the shared database (queued jobs, Janus servers) is read when scraped (`Scrape`).
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Request latency buckets: a class read is a few milliseconds, a media join can take a second.
LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

process_up = Gauge(
    "podium_process_up", "1 for each server process alive (by pid)", multiprocess_mode="liveall"
)
requests = Counter(
    "podium_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
request_seconds = Histogram(
    "podium_http_request_duration_seconds", "Time to answer an HTTP request",
    ["method", "route"], buckets=LATENCY,
)  # fmt: skip
live_sockets = Gauge(
    "podium_live_sockets", "Live WebSockets open on event rooms", multiprocess_mode="livesum"
)
live_rooms = Gauge(
    "podium_live_rooms", "Event rooms with a live subscriber here", multiprocess_mode="livesum"
)
fanout_lag = Histogram(
    "podium_fanout_lag_seconds",
    "From an event's arrival in a process to its write on that process's last socket of the room",
    buckets=LATENCY,
)
fanout_events = Histogram(
    "podium_fanout_events_per_write",
    "Events of a room written to its sockets in one pass (more than one when they waited)",
    buckets=(1, 2, 3, 5, 10, 20, 50),
)
slow_consumers = Counter(
    "podium_slow_consumers_closed_total", "Live sockets closed for not keeping up"
)
jobs_finished = Counter(
    "podium_jobs_finished_total", "Jobs run to an end, by kind and outcome (ok, retry, lost)",
    ["kind", "outcome"],
)  # fmt: skip
db_pool_in_use = Gauge(
    "podium_db_pool_connections_in_use", "Database connections lent out",
    multiprocess_mode="livesum",
)  # fmt: skip
db_pool_waiting = Gauge(
    "podium_db_pool_waiting", "Callers waiting for a database connection",
    multiprocess_mode="livesum",
)  # fmt: skip
# The interpreter's garbage collector stops the event loop while it runs: with thousands of live
# sockets (many objects each) a full collection is a pause every socket feels.
gc_pause = Histogram(
    "podium_gc_pause_seconds", "Time the garbage collector stopped the process, by generation",
    ["generation"], buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
)  # fmt: skip
_gc_started: list[float] = [0.0]


def _gc_timer(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    else:
        gc_pause.labels(str(info["generation"])).observe(time.perf_counter() - _gc_started[0])


def watch_gc() -> None:
    """Time every collection (once per process; watching twice changes nothing)."""
    if _gc_timer not in gc.callbacks:
        gc.callbacks.append(_gc_timer)


Rows = Iterable[Any]
Query = Callable[[], Awaitable[Rows]]


class Scrape(Collector):
    """Gauges read from the shared database when scraped (the same whichever process answers):
    jobs waiting and the age of the oldest by kind, failed jobs, Janus servers' health and load."""

    def __init__(self) -> None:
        self.jobs: Rows = ()
        self.servers: Rows = ()

    async def refresh(self, jobs: Query, servers: Query) -> None:
        self.jobs, self.servers = await jobs(), await servers()

    def collect(self) -> Iterable[GaugeMetricFamily]:
        queued = GaugeMetricFamily("podium_jobs_queued", "Jobs due or waiting, by kind",
                                   labels=["kind"])  # fmt: skip
        oldest = GaugeMetricFamily(
            "podium_jobs_oldest_seconds", "Age of the oldest job due, by kind", labels=["kind"]
        )
        failed = GaugeMetricFamily("podium_jobs_failed", "Jobs that gave up, by kind",
                                   labels=["kind"])  # fmt: skip
        for row in self.jobs:
            queued.add_metric([row["kind"]], row["queued"])
            oldest.add_metric([row["kind"]], row["oldest_seconds"] or 0.0)
            failed.add_metric([row["kind"]], row["failed"])
        up = GaugeMetricFamily("podium_janus_up", "1 when the Janus server answered its last check",
                               labels=["server"])  # fmt: skip
        load = GaugeMetricFamily("podium_janus_load", "Slots the open rooms take on the server",
                                 labels=["server"])  # fmt: skip
        capacity = GaugeMetricFamily("podium_janus_capacity", "The server's slots",
                                     labels=["server"])  # fmt: skip
        forwards = GaugeMetricFamily(
            "podium_janus_forwards",
            "Presenters forwarded into the server's replica rooms",
            labels=["server"],
        )
        for row in self.servers:
            up.add_metric([row["id"]], 1.0 if row["healthy"] else 0.0)
            load.add_metric([row["id"]], row["load"])
            capacity.add_metric([row["id"]], row["capacity"])
            forwards.add_metric([row["id"]], row.get("forwards", 0))
        yield from (queued, oldest, failed, up, load, capacity, forwards)


def pool_state(in_use: int, waiting: int) -> None:
    """This process's database pool (each process reports its own; the page sums them)."""
    db_pool_in_use.set(in_use)
    db_pool_waiting.set(waiting)


def exposition(scrape: Scrape) -> bytes:
    """The text every process's metrics add up to, and the shared state's."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY  # this process only (an app in a test)
    out = generate_latest(registry)
    shared = CollectorRegistry()
    shared.register(scrape)
    try:
        return out + generate_latest(shared)
    finally:
        shared.unregister(scrape)


def process_gone(pid: int) -> None:
    """A worker exited: its live gauges no longer count."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
