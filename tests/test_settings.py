"""Production refuses development defaults, naming what to set; development starts as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from authz import keys
from groupgate.settings import ConfigurationError, Settings

POSTGRES = "postgresql+asyncpg://groupgate@db/groupgate"
STRONG_SECRET = "x" * 48


def production(tmp_path: Path, **values: object) -> Settings:
    key_directory = tmp_path / "keys"
    keys.rotate(key_directory)
    defaults: dict[str, object] = {
        "env": "production",
        "database_url": POSTGRES,
        "secret_key": STRONG_SECRET,
        "signing_key_path": key_directory,
    }
    return Settings.model_validate({**defaults, **values})


def test_development_defaults_start() -> None:
    Settings.model_validate({}).check()


def test_complete_production_settings_start(tmp_path: Path) -> None:
    production(tmp_path).check()


@pytest.mark.parametrize(
    ("values", "named"),
    [
        (
            {"secret_key": "development-only-secret-do-not-use-in-production"},
            "GROUPGATE_SECRET_KEY",
        ),
        ({"secret_key": "short"}, "GROUPGATE_SECRET_KEY"),
        ({"signing_key_path": Path("/nonexistent/keys")}, "GROUPGATE_SIGNING_KEY_PATH"),
        ({"database_url": "sqlite+aiosqlite:///./groupgate.db"}, "GROUPGATE_DATABASE_URL"),
    ],
)
def test_production_refuses_development_defaults(
    tmp_path: Path, values: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        production(tmp_path, **values).check()


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    settings = Settings.model_validate({"env": "production", "signing_key_path": tmp_path})
    with pytest.raises(ConfigurationError) as refused:
        settings.check()
    for name in ("GROUPGATE_SECRET_KEY", "GROUPGATE_SIGNING_KEY_PATH", "GROUPGATE_DATABASE_URL"):
        assert name in str(refused.value)


def test_settings_come_from_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUPGATE_PORT", "9123")
    monkeypatch.setenv("GROUPGATE_DATABASE_URL", POSTGRES)
    settings = Settings()
    assert (settings.port, settings.database_backend) == (9123, "postgresql")


@pytest.mark.parametrize(
    "values",
    [
        {"external_issuer": "https://idp.example"},
        {"external_issuer": "https://idp.example", "external_audience": "groupgate"},
        {"external_jwks_url": "https://idp.example/jwks.json"},
    ],
)
def test_external_identity_settings_come_together(values: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="GROUPGATE_EXTERNAL_JWKS_URL together"):
        Settings.model_validate(values).check()
