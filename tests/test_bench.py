"""The benchmarks stay runnable: what they share with Podium's SQL still fits it."""

from __future__ import annotations

import re

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
