"""The embedded PostgreSQL server starts, is reused after a crash, and stops."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
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


def _serve(root: Path, port: int) -> subprocess.Popen[bytes]:
    """`podium serve` on its own embedded PostgreSQL in `root`, ready when this returns."""
    import httpx

    env = {k: v for k, v in os.environ.items() if k != "PODIUM_DATABASE_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "podium.cli", "serve", "--port", str(port)],
        env={**env, "PODIUM_DATA_DIR": str(root), "PODIUM_LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("podium serve did not become ready")


def _postmaster(root: Path) -> int | None:
    try:
        return int((root / "postgres" / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_after_a_kill_9_the_next_podium_adopts_and_stops_the_server() -> None:
    from podium.embedded import free_port

    root = Path(tempfile.mkdtemp(prefix="podium-emb-"))
    first = _serve(root, free_port())
    first.send_signal(signal.SIGKILL)  # the embedded PostgreSQL is left running
    first.wait()
    left = _postmaster(root)
    assert left is not None
    second = _serve(root, free_port())
    try:
        assert _postmaster(root) == left  # adopted, not started again
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)
    deadline = time.monotonic() + 20
    while _postmaster(root) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _postmaster(root) is None  # stopped with its adopter
