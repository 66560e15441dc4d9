"""The embedded PostgreSQL server starts, is reused after a crash, and stops."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from podium.embedded import EmbeddedPostgres, find_bindir


def _psql(url: str, sql: str) -> str:
    bindir = find_bindir()
    psql = bindir / "psql" if (bindir / "psql").exists() else Path("psql")
    return subprocess.run(
        [str(psql), url, "-Atc", sql], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_start_reuse_stop() -> None:
    root = Path(tempfile.mkdtemp(prefix="podium-emb-"))
    server = EmbeddedPostgres(root)
    url = server.start()
    try:
        assert _psql(url, "SELECT 1") == "1"
        if os.geteuid() == 0:
            owner = (root / "postgres").stat().st_uid
            assert owner != 0, "as root the server runs as an unprivileged user"
        # A second handle on the same data directory reuses the running server.
        again = EmbeddedPostgres(root)
        assert again.start() == url and not again.started_here
        again.stop()  # not ours to stop
        assert _psql(url, "SELECT 2") == "2"
    finally:
        server.stop()
    pid_file = root / "postgres" / "postmaster.pid"
    deadline = time.monotonic() + 10
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_file.exists()


def test_restart_keeps_data() -> None:
    root = Path(tempfile.mkdtemp(prefix="podium-emb-"))
    server = EmbeddedPostgres(root)
    url = server.start()
    try:
        _psql(url, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)")
    finally:
        server.stop()
    server = EmbeddedPostgres(root)
    url = server.start()
    try:
        assert _psql(url, "SELECT x FROM kept") == "42"
    finally:
        server.stop()


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_a_server_left_by_a_killed_owner_is_adopted() -> None:
    root = Path(tempfile.mkdtemp(prefix="podium-emb-"))
    server = EmbeddedPostgres(root)
    server.start()
    pid = int((root / "postgres" / "postmaster.pid").read_text().splitlines()[0])
    adopted = EmbeddedPostgres(root)
    try:
        adopted.start()
        assert adopted.port == server.port
    finally:
        os.kill(pid, signal.SIGTERM)  # fast shutdown, as its owner would have done
        deadline = time.monotonic() + 10
        while (root / "postgres" / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
