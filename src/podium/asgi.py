"""The ASGI entry point for uvicorn workers: the app built from the environment's settings."""

from __future__ import annotations

from litestar import Litestar

from podium.app import create_app
from podium.config import load_settings


def create() -> Litestar:
    settings = load_settings()
    if not settings.database_url:
        raise RuntimeError("PODIUM_DATABASE_URL must be set for workers (`podium serve` sets it)")
    return create_app(settings, settings.database_url)
