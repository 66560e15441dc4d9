"""Starting and stopping the real servers tests run (Janus, Redis, moto's S3, Podium)."""

from __future__ import annotations

import socket
import subprocess
import time


def wait_for_port(port: int, what: str, seconds: float = 10) -> None:
    """Until something accepts connections on 127.0.0.1:port (RuntimeError after `seconds`)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start")


def stop(proc: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float = 10) -> None:
    """SIGTERM, and SIGKILL if it is still there after `timeout`."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
