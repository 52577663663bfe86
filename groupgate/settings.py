"""Runtime configuration, read from `GROUPGATE_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./groupgate.db"
# Only ever used in development; production refuses to start with it.
DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"  # noqa: S105


class ConfigurationError(Exception):
    """Settings that cannot be used in the current environment; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GROUPGATE_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    # PostgreSQL connections each server process keeps (10 more at a peak). A request runs up
    # to five loader batches at once, one connection each: 20 busy dashboards want ~60, and a
    # smaller pool reconnects under load (bench/RESULTS.md). Mind max_connections over workers.
    database_pool_size: int = Field(default=30, ge=1, le=500)
    # Directory holding the token-signing keys (one JWK file per key, newest signs).
    signing_key_path: Path = Path("./var/signing-keys")
    # Keys the SSN hash and signed download URLs; long and random in production.
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    file_store_path: Path = Path("./var/files")
    # Access tokens: who issues them (this gateway's public URL), for whom, for how long.
    token_issuer: str = "http://127.0.0.1:8000"  # noqa: S105 (a URL, not a secret)
    token_audience: str = "groupgate"  # noqa: S105 (a name, not a secret)
    access_token_minutes: int = Field(default=10, ge=1, le=60)
    # External identity provider mode: set all three, and the gateway only validates its tokens.
    external_issuer: str | None = None
    external_audience: str | None = None
    external_jwks_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Enrollment batch workers inside the server process; 0 leaves batches to separate
    # `groupgate worker` processes.
    batch_workers: int = Field(default=1, ge=0, le=8)
    # Seconds between purges of records past their time (sign-in attempts, expired codes and
    # refresh tokens); 0: none in this process (run `groupgate purge` from a scheduler instead).
    housekeeping_interval: float = Field(default=3600, ge=0)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def external_identity(self) -> tuple[str, str, str] | None:
        """(issuer, audience, JWKS URL) of the external identity provider, if one is set."""
        if self.external_issuer and self.external_audience and self.external_jwks_url:
            return self.external_issuer, self.external_audience, self.external_jwks_url
        return None

    @cached_property
    def database_backend(self) -> str:
        """`sqlite` or `postgresql`: the dialect part of the URL."""
        return self.database_url.split(":", 1)[0].split("+", 1)[0]

    def check(self) -> None:
        """Refuse incomplete settings, and development defaults in production, naming each."""
        external = (self.external_issuer, self.external_audience, self.external_jwks_url)
        if any(external) and not all(external):
            raise ConfigurationError(
                "set GROUPGATE_EXTERNAL_ISSUER, GROUPGATE_EXTERNAL_AUDIENCE and"
                " GROUPGATE_EXTERNAL_JWKS_URL together (external identity provider mode)"
            )
        if not self.is_production:
            return
        problems: list[str] = []
        if self.secret_key.get_secret_value() == DEVELOPMENT_SECRET:
            problems.append("GROUPGATE_SECRET_KEY is the development default; set a random value")
        elif len(self.secret_key.get_secret_value()) < 32:
            problems.append("GROUPGATE_SECRET_KEY must be at least 32 characters")
        if not self.signing_key_path.is_dir() or not any(self.signing_key_path.glob("*.json")):
            problems.append(
                f"GROUPGATE_SIGNING_KEY_PATH ({self.signing_key_path}) holds no signing key; "
                "create one with `groupgate keys rotate` and point the setting at its directory"
            )
        if self.database_url == DEFAULT_DATABASE_URL:
            problems.append(
                "GROUPGATE_DATABASE_URL is the development SQLite default; "
                "set a postgresql+asyncpg:// URL"
            )
        if problems:
            raise ConfigurationError(
                "refusing to start in production:\n" + "\n".join(f"- {p}" for p in problems)
            )
