"""What route handlers receive by injection: the caller and the database."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from podium.auth.models import Principal
from podium.auth.service import TenantDirectory, bearer_token
from podium.db import Database

# Annotated names for handler parameters.
Caller = NamedDependency[Principal]
Db = NamedDependency[Database]


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    tenants: TenantDirectory = request.app.state.tenants
    token = bearer_token(
        request.headers.get("authorization"), request.query_params.get("access_token")
    )
    return await tenants.authenticate(token)


def provide_db(request: Request[Any, Any, Any]) -> Database:
    db: Database = request.app.state.db
    return db


PROVIDERS = {
    "principal": Provide(provide_principal),
    "db": Provide(provide_db, sync_to_thread=False),
}
