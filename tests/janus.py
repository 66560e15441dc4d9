"""A private Janus on loopback, as notes/janus.md measured it: the videoroom plugin and the HTTP
transport only, free ports, an admin secret, and the videoroom `admin_key` so only Podium can
create rooms. Used by the tests and the benchmarks (it is not part of the package: Podium runs
against Janus servers an operator configures; docs/operations.md shows their config).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from podium.embedded import free_port
from tests.processes import stop

JANUS_LIB = Path("/usr/lib/x86_64-linux-gnu/janus")


class JanusServer:
    """A private Janus (Debian package `janus`) on free loopback ports: the videoroom plugin and
    the HTTP transport only, an admin secret, and `admin_key` so only Podium creates rooms."""

    def __init__(
        self, server_id: str = "j1", capacity: int = 100, *,
        interface: str = "127.0.0.1", ice_enforce_list: str | None = None,
        http_ip: str = "127.0.0.1", rtp_ports: str = "20000-20999",
    ) -> None:  # fmt: skip
        """`interface` and `ice_enforce_list` are where media flows: Janus gathers no ICE
        candidates on loopback, so a media test gives it a veth inside a network namespace.
        `http_ip`: where its HTTP API listens (a browser in another namespace reaches it there;
        the admin API stays on loopback). `rtp_ports`: its media ports (two servers in one
        namespace each get their own range)."""
        self.http_ip = http_ip
        self.id = server_id
        self.capacity = capacity
        self.dir = Path(tempfile.mkdtemp(prefix="podium-janus-"))
        self.port, self.admin_port = free_port_pair()
        self.admin_secret = "janus-admin-" + uuid.uuid4().hex[:12]
        self.room_key = "janus-rooms-" + uuid.uuid4().hex[:12]
        self.proc: subprocess.Popen[bytes] | None = None
        for sub in ("plugins", "transports", "events", "loggers", "recordings"):
            (self.dir / sub).mkdir()
        (self.dir / "plugins" / "libjanus_videoroom.so").symlink_to(
            JANUS_LIB / "plugins" / "libjanus_videoroom.so"
        )
        (self.dir / "transports" / "libjanus_http.so").symlink_to(
            JANUS_LIB / "transports" / "libjanus_http.so"
        )
        d = self.dir
        nat = f'ice_enforce_list = "{ice_enforce_list}"' if ice_enforce_list else ""
        (d / "janus.jcfg").write_text(
            f'general: {{ configs_folder = "{d}" plugins_folder = "{d}/plugins"\n'
            f' transports_folder = "{d}/transports" events_folder = "{d}/events"\n'
            f' loggers_folder = "{d}/loggers" interface = "{interface}"\n'
            f' admin_secret = "{self.admin_secret}" session_timeout = 60 }}\n'
            f'media: {{ rtp_port_range = "{rtp_ports}" }}\nnat: {{ {nat} }}\n'
        )
        (d / "janus.transport.http.jcfg").write_text(
            f'general: {{ json = "plain" base_path = "/janus" http = true port = {self.port}'
            f' ip = "{http_ip}" https = false }}\n'
            f'admin: {{ admin_base_path = "/admin" admin_http = true admin_port = '
            f'{self.admin_port} admin_ip = "127.0.0.1" }}\n'
        )
        (d / "janus.plugin.videoroom.jcfg").write_text(
            f'general: {{ admin_key = "{self.room_key}" lock_rtp_forward = true'
            " string_ids = true }\n"
        )

    @property
    def url(self) -> str:
        return f"http://{self.http_ip}:{self.port}/janus"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}/admin"

    def config(self) -> dict[str, object]:
        return {
            "id": self.id,
            "url": self.url,
            "admin_url": self.admin_url,
            "admin_secret": self.admin_secret,
            "room_key": self.room_key,
            "capacity": self.capacity,
            "rec_dir": str(self.dir / "recordings"),
        }

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["janus", "-C", str(self.dir / "janus.jcfg"), "-F", str(self.dir), "-o", "-N",
             "-L", str(self.dir / "janus.log")], cwd=self.dir,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/info", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("janus did not start: " + (self.dir / "janus.log").read_text()[-2000:])

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def rooms(self) -> list[str]:
        reply = httpx.post(
            self.admin_url,
            json={
                "janus": "message_plugin",
                "transaction": "t",
                "admin_secret": self.admin_secret,
                "plugin": "janus.plugin.videoroom",
                "request": {"request": "list", "admin_key": self.room_key},
            },
        ).json()
        return [str(r["room"]) for r in reply["response"]["list"]]


def free_port_pair() -> tuple[int, int]:
    return free_port(), free_port()
