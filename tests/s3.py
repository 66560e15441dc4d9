"""An S3-compatible server on a free loopback port for tests: moto's standalone server (PyPI
`moto[server]`), spoken to over real HTTP."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from podium.embedded import free_port
from tests.processes import stop, wait_for_port

BUCKET = "podium-test"


def why_not() -> str | None:
    found = _server_command()
    return None if found else "moto's server is not installed (pip install 'moto[server]')"


def _server_command() -> list[str] | None:
    beside = Path(sys.executable).with_name("moto_server")
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    return [found] if found else None


class S3Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, bucket: str = BUCKET, prefix: str = "") -> str:
        path = f"/{prefix}" if prefix else ""
        return (f"s3://{bucket}{path}?endpoint={self.endpoint}&region=us-east-1"
                "&access_key_id=test&secret_access_key=test")  # fmt: skip

    def start(self) -> None:
        command = _server_command()
        assert command is not None, why_not()
        self.proc = subprocess.Popen(
            [*command, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port, "moto_server", 20)
        self.make_bucket(BUCKET)

    def make_bucket(self, bucket: str) -> None:
        # moto takes unsigned requests: a plain PUT makes a bucket.
        httpx.put(f"{self.endpoint}/{bucket}", timeout=10).raise_for_status()

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None
