"""The ASGI entry point for uvicorn workers: the app built from the environment's settings."""

from __future__ import annotations

from litestar import Litestar

from podium import logs
from podium.app import create_app
from podium.config import load_settings


def create() -> Litestar:
    settings = load_settings()
    logs.configure(settings.log_level, settings.log_format)  # each worker process's own lines
    if not settings.database_url:
        raise RuntimeError("PODIUM_DATABASE_URL must be set for workers (`podium serve` sets it)")
    return create_app(settings, settings.database_url)
