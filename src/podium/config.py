"""One Settings object, read from PODIUM_* environment variables and `.env`.

Every default runs with nothing installed: an empty database URL means Podium starts its own
PostgreSQL in the data directory. A bad value stops start-up at once with the setting's name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as PydanticSettingsError

from podium.outbound import check_url
from podium.validation import check_origin

ENV_PREFIX = "PODIUM_"


class TenantConfig(BaseModel):
    """A tenant declared in configuration; synced into the database at start-up."""

    audience: str = Field(min_length=1, max_length=255)
    algorithm: Literal["HS256", "ES256"] = "HS256"
    # HS256: the shared secret; ES256: the PEM public key that verifies the tenant's tokens.
    key: str = Field(min_length=16)
    issuer: str | None = None
    service_account: str = "service"
    # Where notifications are POSTed (http(s), no user info), and the secret that signs them
    # (HMAC-SHA256).
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # Milliseconds the modified room's events are shifted by (the tenant's player shows an
    # intro before the recording); unset: PODIUM_PREROLL_MS.
    preroll_ms: int | None = Field(default=None, ge=0, le=600_000)
    # Origins of the tenant's web apps (`https://app.school.org`, or `*`): browsers there may call
    # Podium (auth/cors.py). Unset: what `podium tenant cors` stored is kept.
    cors_origins: list[str] | None = None

    @field_validator("cors_origins")
    @classmethod
    def _cors_origins(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted({check_origin(v) for v in value})

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)


class JanusServerConfig(BaseModel):
    """One Janus server of the media pool."""

    id: str = Field(min_length=1, max_length=100)
    url: str  # its HTTP API as browsers reach it, e.g. https://janus-1.example.org/janus
    admin_url: str  # its admin API as Podium reaches it, e.g. http://10.0.0.5:7088/admin
    admin_secret: str = Field(min_length=8, repr=False)
    room_key: str = Field(min_length=8, repr=False)  # the videoroom plugin's admin_key
    capacity: int = Field(default=100, ge=1)  # participant slots this server takes
    # Where Janus writes recordings (.mjr, a folder on the Janus host); unset: Janus's default.
    rec_dir: str | None = None
    # The address other Janus servers send a forwarded presenter's RTP to (a webinar's replica
    # rooms on this server); unset: all of its interfaces, and Janus names the address.
    forward_host: str | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    # Empty: Podium starts a private PostgreSQL in `data_dir`. Otherwise postgresql://…
    database_url: str = ""
    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # Connections per process. A connection is held for PostgreSQL's round trip plus the time a
    # busy event loop takes to read the answer, so a small pool caps throughput long before the
    # CPU does (measured: 10 connections gave 3.3k reads/s at 64 clients, 64 gave 5.7k).
    db_pool_size: int = Field(default=32, ge=1, le=500)
    # Connections that do not hold up their end (podium.connections): a request head must
    # arrive within this many seconds; a body may pause at most this long; open connections per
    # client address (trusted proxies are exempt).
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    read_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    max_connections_per_address: int = Field(default=1000, ge=1, le=1_000_000)
    # Request bodies above this answer 413.
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    tenants: list[TenantConfig] = Field(default_factory=list)
    # The Janus media pool (JSON list); empty: classes get backend `none`.
    janus_urls: list[JanusServerConfig] = Field(default_factory=list)
    # How often the pool is checked against the database (rooms a restarted Janus lost are
    # re-created, closed classes' rooms destroyed).
    janus_check_seconds: float = Field(default=10.0, gt=0, le=3600)
    # How often presenters' streams are checked and forwarded to their webinar's replica rooms
    # (a presenter who starts publishing is seen in the replicas at most this much later).
    forward_seconds: float = Field(default=1.0, gt=0, le=3600)
    # Live fan-out between processes: memory:// (one process) or redis://host:port/db.
    broker_url: str = "memory://"
    # Durable jobs (webhooks) and periodic tasks (classes that end, lobbies that open): how
    # often an idle process looks for due work, and the first webhook retry delay (doubling up
    # to an hour).
    jobs_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    webhook_retry_base_seconds: float = Field(default=2.0, gt=0, le=3600)
    # How many jobs one process runs at once (each kind may allow fewer, across processes).
    jobs_slots: int = Field(default=8, ge=1, le=1000)
    # WebSocket heartbeat: a ping this often; a peer that does not answer within as long is
    # closed (dead networks, sleeping laptops).
    ws_ping_seconds: float = Field(default=20.0, gt=0, le=600)
    # On SIGTERM a process stops accepting, closes its live sockets with 1012 (clients resume
    # elsewhere with `after=`), finishes the requests in flight for at most this long, hands its
    # running jobs back and exits.
    shutdown_seconds: float = Field(default=20.0, gt=0, le=600)
    # TURN servers offered to clients (JSON list of host or host:port); a read names one at
    # random (a two-party session always the same one, so both peers meet there).
    turn_hosts: list[str] = Field(default_factory=list)
    # The TURN servers' shared secret (coturn `static-auth-secret`): media credentials then carry
    # time-limited TURN usernames/passwords (the TURN REST scheme); without it, STUN only.
    turn_secret: str | None = Field(default=None, min_length=16, repr=False)
    turn_ttl_seconds: int = Field(default=12 * 3600, ge=60, le=7 * 86400)
    # A room whose host left media and did not come back for this long closes (`timed_out`).
    host_timeout_seconds: float = Field(default=600.0, gt=0, le=7 * 86400)
    # A room closes at the latest this long after its first stream started.
    max_stream_seconds: float = Field(default=12 * 3600.0, gt=0, le=30 * 86400)
    # SIP dial-in (spec 003): the number callers dial, and the secret the SIP bridge signs its
    # requests with (HMAC-SHA256). Both set: SIP can be enabled per class; otherwise 412.
    sip_dialin_number: str | None = None
    sip_secret: str | None = Field(default=None, min_length=16, repr=False)
    # Routes callable without a token (POST /api/v1/join, /v1/auth/token, /api/v1/sip/verify):
    # per client address and process, a burst of this many, refilled at this rate per second.
    open_route_burst: int = Field(default=300, ge=1, le=1_000_000)
    open_route_per_second: float = Field(default=5.0, gt=0, le=100_000)
    # Networks outbound calls (webhooks) may reach although they are not public (JSON list,
    # e.g. ["127.0.0.0/8"] for a receiver on this machine); empty: public addresses only.
    outbound_allowed_networks: list[str] = Field(default_factory=list)
    # Proxies in front of Podium whose X-Forwarded-For / X-Forwarded-Proto are believed (JSON
    # list of addresses or networks, e.g. ["10.0.0.0/8"]); empty: the peer's address counts.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Where browsers reach Podium (entry links point there); default http://HOST:PORT.
    public_url: str | None = None
    # Access tokens issued for an entry link last this long, and never past the class's end.
    participant_token_seconds: int = Field(default=12 * 3600, ge=60, le=7 * 86400)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # `json`: one JSON object a line (for a log collector); `text`: for a terminal.
    log_format: Literal["text", "json"] = "text"
    # `/metrics` (Prometheus): with a token, only `Authorization: Bearer <token>` reads it;
    # without one, only callers on this machine (loopback) do.
    metrics_token: str | None = Field(default=None, min_length=16)
    # Recordings (the recordings capability): where finished media and event dumps are kept
    # (file://<dir> or s3://bucket?endpoint=…&region=…; default file://<data dir>/storage), how
    # many janus-pp-rec/ffmpeg processes one Podium process runs at once (default: its cores),
    # where they work (default <data dir>/work), the preroll the modified room's events are
    # shifted by (ms; a tenant may set its own), and how long download links last.
    storage_url: str = ""
    media_concurrency: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    media_work_dir: Path | None = None
    # A media step's lease: renewed while it runs; if its process dies, another takes it over
    # this long after the last renewal.
    media_lease_seconds: float = Field(default=300.0, gt=0, le=86400)
    preroll_ms: int = Field(default=0, ge=0, le=600_000)
    download_link_seconds: int = Field(default=3600, ge=10, le=7 * 86400)

    @property
    def base_url(self) -> str:
        # Bound to every address: name loopback (set PODIUM_PUBLIC_URL for other machines).
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return (self.public_url or f"http://{host}:{self.port}").rstrip("/")

    @property
    def storage(self) -> str:
        return self.storage_url or f"file://{(self.data_dir / 'storage').resolve()}"

    @property
    def work_dir(self) -> Path:
        return (self.media_work_dir or self.data_dir / "work").resolve()

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be empty (embedded server) or a postgresql:// URL")
        return value

    @field_validator("trusted_proxies", "outbound_allowed_networks")
    @classmethod
    def _trusted_proxies(cls, value: list[str]) -> list[str]:
        import ipaddress

        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an address or network") from None
        return value

    @field_validator("broker_url")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://", "unix://")):
            raise ValueError("must be memory:// or a redis:// URL")
        return value


class SettingsError(Exception):
    """A setting has a bad value; the message names the environment variable."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except PydanticSettingsError as exc:
        # A value the environment source could not parse at all (e.g. JSON that is not JSON).
        match = re.search(r'field "(\w+)"', str(exc))
        name = ENV_PREFIX + (match.group(1).upper() if match else "?")
        raise SettingsError(f"invalid setting {name}: {exc.__cause__ or exc}") from None
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ENV_PREFIX + "_".join(str(p) for p in err["loc"][:1]).upper()
            lines.append(f"{name}: {err['msg']}")
        raise SettingsError("invalid setting " + "; ".join(lines)) from None
