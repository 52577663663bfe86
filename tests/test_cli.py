"""The `groupgate` command, called as a user calls it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from authz import keys
from authz.tokens import validate_access_token
from data import migrate
from data.database import create_engine
from data.models.users import SignInAttempt
from groupgate.app import token_settings
from groupgate.cli import main
from groupgate.settings import Settings


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("GROUPGATE_SIGNING_KEY_PATH", str(tmp_path / "keys"))
    return tmp_path


def test_migrate_upgrades_to_head(
    environment: Path,
    empty_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GROUPGATE_DATABASE_URL", empty_database_url)
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.strip() == f"database at revision {migrate.head_revision()}"

    async def at_head() -> bool:
        engine = create_engine(empty_database_url)
        try:
            return await migrate.is_at_head(engine)
        finally:
            await engine.dispose()

    assert asyncio.run(at_head())


def test_schema_prints_sdl(environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert "type Query" in capsys.readouterr().out


def test_keys_rotate_adds_a_key_and_keeps_the_old(environment: Path) -> None:
    assert main(["keys", "rotate"]) == 0
    first = keys.load(environment / "keys")
    assert main(["keys", "rotate"]) == 0
    both = keys.load(environment / "keys")
    assert both.current.kid != first.current.kid
    assert {key["kid"] for key in both.public_jwks()["keys"]} >= {first.current.kid}


def test_serve_refuses_development_defaults_in_production(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GROUPGATE_ENV", "production")
    assert main(["serve"]) == 2
    error = capsys.readouterr().err
    assert "refusing to start in production" in error
    assert "GROUPGATE_SECRET_KEY" in error


@pytest.mark.parametrize("arguments", [["demo", "--groups", "0"], ["demo", "--groups", "x"], []])
def test_bad_arguments_are_refused_with_usage(
    environment: Path, arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    assert exited.value.code == 2
    assert "usage: groupgate" in capsys.readouterr().err


def test_token_prints_a_valid_token_for_a_persona(
    environment: Path,
    demo_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GROUPGATE_DATABASE_URL", demo_url)
    assert main(["token", "admin@acme.example"]) == 0
    token = capsys.readouterr().out.strip()
    settings = Settings()
    claims = validate_access_token(
        token, keys.load(settings.signing_key_path).all, token_settings(settings)
    )
    assert claims.subject.startswith("user:")
    assert main(["token", "nobody@acme.example"]) == 1
    assert "no active user" in capsys.readouterr().err


def test_token_is_refused_in_production(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GROUPGATE_ENV", "production")
    assert main(["token", "admin@acme.example"]) == 2
    assert "development" in capsys.readouterr().err


def test_purge_deletes_what_is_past_its_time(
    environment: Path,
    empty_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GROUPGATE_DATABASE_URL", empty_database_url)
    assert main(["migrate"]) == 0
    now = datetime.now(UTC)

    async def plant() -> None:
        engine = create_engine(empty_database_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    insert(SignInAttempt),
                    [
                        {
                            "email": "x@acme.example",
                            "address": "10.0.0.1",
                            "succeeded": False,
                            "attempted_at": now - timedelta(days=days),
                        }
                        for days in (2, 0)
                    ],
                )
        finally:
            await engine.dispose()

    asyncio.run(plant())
    capsys.readouterr()
    assert main(["purge"]) == 0
    assert capsys.readouterr().out.strip() == (
        "purged 1 sign-in attempts, 0 authorization codes, 0 refresh tokens, "
        "0 quote rate-limit windows; 0 members whose coverage ended terminated"
    )
