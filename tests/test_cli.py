"""The `podium` command, run against a test database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from podium.auth import tokens
from podium.auth.models import Tenant
from podium.cli import main


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PODIUM_DATABASE_URL", database_url)
    return CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["serve"],
        ["worker"],
        ["migrate"],
        ["token"],
        ["tenant"],
        ["tenant", "add"],
        ["tenant", "list"],
        ["tenant", "show"],
        ["tenant", "remove"],
        ["client"],
        ["client", "create"],
        ["client", "list"],
        ["client", "remove"],
    ],
)
def test_help_everywhere(args: list[str]) -> None:
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_tenant_lifecycle_and_tokens(run: CliRunner) -> None:
    assert run.invoke(main, ["migrate"]).exit_code == 0
    added = run.invoke(main, ["tenant", "add", "school.org"])
    assert added.exit_code == 0, added.output
    secret = added.output.split("its secret: ")[1].strip()
    assert run.invoke(main, ["tenant", "add", "school.org"]).exit_code != 0  # exists

    listed = run.invoke(main, ["tenant", "list"])
    assert "school.org\tHS256" in listed.output and secret not in listed.output
    shown = run.invoke(main, ["tenant", "show", "school.org"])
    assert "key_fingerprint: sha256:" in shown.output and secret not in shown.output

    minted = run.invoke(main, ["token", "school.org", "--sub", "alice", "--ttl", "60"])
    assert minted.exit_code == 0
    tenant = Tenant("school.org", "HS256", secret, "school.org", "service")
    principal = tokens.verify(minted.output.strip(), tenant)
    assert principal.account_id == "alice" and not principal.is_service
    service = run.invoke(main, ["token", "school.org"]).output.strip()
    assert tokens.verify(service, tenant).is_service

    assert run.invoke(main, ["tenant", "remove", "school.org"]).exit_code == 0
    assert run.invoke(main, ["token", "school.org"]).exit_code != 0


def test_es256_tenant_prints_its_private_key_once(run: CliRunner, tmp_path: object) -> None:
    from pathlib import Path

    added = run.invoke(main, ["tenant", "add", "es.org", "--algorithm", "ES256"])
    assert added.exit_code == 0 and "BEGIN PRIVATE KEY" in added.output
    key = Path(str(tmp_path)) / "es.pem"
    key.write_text(added.output[added.output.index("-----BEGIN") :])
    assert run.invoke(main, ["token", "es.org"]).exit_code != 0  # needs the private key
    minted = run.invoke(main, ["token", "es.org", "--private-key", str(key)])
    assert minted.exit_code == 0 and minted.output.count(".") == 2


def test_a_bad_setting_stops_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_PORT", "not-a-port")
    result = CliRunner().invoke(main, ["tenant", "list"])
    assert result.exit_code != 0 and "PODIUM_PORT" in result.output


def test_commands_on_a_fresh_database_bring_it_up_to_date(
    pg_admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No traceback about missing tables: a command migrates first."""
    import asyncio
    import uuid

    from tests.conftest import _admin, with_database

    name = f"fresh_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(pg_admin_url, f"CREATE DATABASE {name}"))
    try:
        monkeypatch.setenv("PODIUM_DATABASE_URL", with_database(pg_admin_url, name))
        listed = CliRunner().invoke(main, ["tenant", "list"])
        assert listed.exit_code == 0 and "Traceback" not in listed.output, listed.output
        added = CliRunner().invoke(main, ["tenant", "add", "fresh.org"])
        assert added.exit_code == 0 and "fresh.org" in added.output, added.output
    finally:
        asyncio.run(_admin(pg_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
