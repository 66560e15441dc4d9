"""The benchmarks stay runnable: what they share with Podium's SQL still fits it."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import pytest

from bench.limit_app import insert_args
from podium.classes import queries


def test_the_limit_app_inserts_with_as_many_arguments_as_the_statement_takes() -> None:
    taken = max(int(n) for n in re.findall(r"\$(\d+)", queries.INSERT_CLASS))
    assert len(insert_args("s", "t", [1, 2], "{}")) == taken


def test_the_benchmarks_import() -> None:
    import bench.fanout
    import bench.http
    import bench.join
    import bench.provision
    import bench.unit

    assert bench.http.main and bench.fanout.main and bench.provision.main and bench.unit.main
    assert bench.join.main


def test_the_sampled_subscribers_are_spread_over_the_connection_order() -> None:
    from bench.fanout import is_sampled

    for n, sampled in [(10000, 50), (5000, 25), (7, 3), (10, 50)]:
        chosen = [i for i in range(n) if is_sampled(i, n, sampled)]
        assert len(chosen) == min(n, sampled)
        assert chosen[0] == 0 and chosen[-1] >= n - n // sampled - 1  # the last ones count too
    assert not any(is_sampled(i, 100, 0) for i in range(100))


def test_the_disk_probe_times_durable_writes_and_leaves_nothing(tmp_path: Path) -> None:
    from bench.machine import DiskStalls

    with DiskStalls(tmp_path) as probe:
        time.sleep(0.25)
    assert probe.slowest_ms >= 0
    assert list(tmp_path.iterdir()) == []
    with DiskStalls(None) as nowhere:  # a database on another machine: nothing to watch
        pass
    assert math.isnan(nowhere.slowest_ms)


def test_a_process_counts_only_what_it_used_in_the_window_even_when_renamed() -> None:
    from bench.machine import shares

    # A kernel worker's name changes with its work ("kworker/1:2-events" then "-mm_percpu_wq"):
    # matched by name, its whole life's CPU was counted as the window's.
    before = {0: ("idle", 100.0), 7: ("kworker", 50.0), 9: ("python", 3.0)}
    after = {0: ("idle", 100.5), 7: ("kworker", 50.1), 9: ("python", 4.0), 11: ("python", 0.5)}
    assert shares(before, after, 2.0) == pytest.approx(
        {"idle": 0.25, "kworker": 0.05, "python": 0.75}
    )


def test_the_disk_probe_measures_nothing_where_it_may_not_write(tmp_path: Path) -> None:
    from bench.machine import DiskStalls

    with DiskStalls(tmp_path / "no such folder") as probe:
        time.sleep(0.05)
    assert math.isnan(probe.slowest_ms)
