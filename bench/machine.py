"""What the machine does while a bench runs: the cores each kind of process used, the
PostgreSQL a bench talks to, and how long its disk made a durable write wait."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import asyncpg


def postmaster_of(url: str) -> int:
    """The pid of the PostgreSQL serving `url` (its backends fork from it, with its CPUs)."""
    port = url.rsplit(":", 1)[1].split("/")[0]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                if Path(argv[0].decode()).name == "postgres" and port.encode() in argv:
                    return int(entry.name)
    raise RuntimeError(f"no PostgreSQL on port {port}")


Usage = dict[int, tuple[str, float]]  # pid: (kind of process, CPU seconds)


def cpu_seconds() -> Usage:
    """CPU seconds used so far by each process on the machine, by pid, with its kind: the
    command name (this bench's own process is "publisher"; a kernel worker is "kworker", since
    its name changes with the work it is doing), and pid 0 for "idle"."""
    tick = os.sysconf("SC_CLK_TCK")
    used: Usage = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        pid, name = int(entry.name), stat[stat.index("(") + 1 : stat.rindex(")")]
        if pid == os.getpid():
            name = "publisher"
        elif name.startswith("kworker/"):
            name = "kworker"
        fields = stat[stat.rindex(")") + 2 :].split()
        used[pid] = (name, (int(fields[11]) + int(fields[12])) / tick)
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()
    used[0] = ("idle", (int(cpu[4]) + int(cpu[5])) / tick)
    return used


def cpu_share(before: Usage, began: float) -> str:
    """The cores used since `before` (taken at `began`) by kind of process, in cores (1.0 = one
    core all the time), the busiest first."""
    spent = shares(before, cpu_seconds(), time.monotonic() - began)
    top = sorted(((v, k) for k, v in spent.items() if v >= 0.02), reverse=True)
    return ", ".join(f"{k} {v:.2f}" for v, k in top)


def shares(before: Usage, after: Usage, seconds: float) -> dict[str, float]:
    """Cores by kind of process between two readings: each process counts what it used since
    `before` (one that started meanwhile, all of it), matched by pid, not by name."""
    spent: dict[str, float] = {}
    for pid, (name, used) in after.items():
        earlier = before.get(pid)
        spent[name] = spent.get(name, 0.0) + (used - (earlier[1] if earlier else 0.0)) / seconds
    return spent


def data_directory(url: str) -> Path | None:
    """The data folder of the PostgreSQL at `url` when it is on this machine (None otherwise,
    or when the role may not read the setting)."""

    async def ask() -> str:
        conn = await asyncpg.connect(url)
        try:
            return str(await conn.fetchval("SHOW data_directory"))
        finally:
            await conn.close()

    try:
        folder = Path(asyncio.run(ask()))
    except (OSError, asyncpg.PostgresError):
        return None
    return folder if folder.is_dir() else None


class DiskStalls:
    """While the block runs, a thread writes 8 KiB to a file in `folder` and waits for it to be
    on disk (fdatasync) every 100 ms: the slowest wait is how long a durable commit on that disk
    could have been held. A VM's disk can stall like that with the machine idle (this one: up to
    376 ms in 30 s), and each event's POST waits for its commit, so a stall shows in a fan-out's
    tail; this says when a run's tail was the disk's. `python -m bench.machine` runs it alone."""

    PERIOD = 0.1

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.slowest_ms = float("nan")
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> DiskStalls:
        if self.folder is not None:
            self._thread = threading.Thread(target=self._probe, daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _probe(self) -> None:
        assert self.folder is not None
        path = self.folder / f"bench-disk-probe-{os.getpid()}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError:  # a folder this user may not write to: nothing measured (nan)
            return
        slowest, block = 0.0, b"\0" * 8192
        try:
            while not self._done.is_set():
                os.pwrite(fd, block, 0)
                began = time.perf_counter()
                os.fdatasync(fd)
                slowest = max(slowest, time.perf_counter() - began)
                self._done.wait(self.PERIOD)
        finally:
            os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
        self.slowest_ms = slowest * 1000


def main() -> None:
    """`python -m bench.machine [folder] [seconds]`: the slowest durable write on the disk under
    `folder` while nothing else runs (what DiskStalls reports during a bench's window)."""
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.gettempdir())
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    with DiskStalls(folder) as probe:
        time.sleep(seconds)
    print(f"{folder}: slowest fdatasync in {seconds:g} s: {probe.slowest_ms:.0f} ms")


if __name__ == "__main__":
    main()
