"""Settings: defaults that need nothing, and bad values named at once."""

from __future__ import annotations

import pytest

from podium.config import SettingsError, load_settings


def test_defaults_need_nothing_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PODIUM_DATABASE_URL", "PODIUM_PORT", "PODIUM_TENANTS"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings(_env_file=None)
    assert s.database_url == "" and s.host == "127.0.0.1" and s.port == 8080


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("PODIUM_PORT", "eighty"),
        ("PODIUM_PORT", "70000"),
        ("PODIUM_DATABASE_URL", "mysql://x"),
        ("PODIUM_TENANTS", '[{"audience": "a"}]'),
        ("PODIUM_TENANTS", "not json"),
        ("PODIUM_LOG_LEVEL", "loud"),
        ("PODIUM_MAX_BODY_BYTES", "5"),
    ],
)
def test_a_bad_setting_names_itself(monkeypatch: pytest.MonkeyPatch, env: str, value: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as info:
        load_settings(_env_file=None)
    assert env in str(info.value)


def test_tenants_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_TENANTS", '[{"audience": "a.org", "key": "0123456789abcdef0123"}]')
    s = load_settings(_env_file=None)
    assert s.tenants[0].audience == "a.org" and s.tenants[0].algorithm == "HS256"


def test_dotenv_file(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    env = Path(str(tmp_path)) / ".env"
    env.write_text("PODIUM_PORT=9123\n")
    monkeypatch.delenv("PODIUM_PORT", raising=False)
    assert load_settings(_env_file=env).port == 9123
