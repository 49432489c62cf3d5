"""Settings from the environment (AVTALEFLYT_*) or a `.env` file; databases by URL only."""

from __future__ import annotations

import getpass
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REVISION_FLOW = "revision"
REVISION_DEPLOYMENT = "avtaleflyt"
# Run processes beat this often (Prefect's minimum); a revision run silent for three
# beats while Running has lost its worker and is run again (its pass is idempotent).
HEARTBEAT_SECONDS = 30
SILENT_RUN_SECONDS = 3 * HEARTBEAT_SECONDS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AVTALEFLYT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path(".avtaleflyt"), description="where the embedded stack keeps its databases and mail")
    database_url: str | None = Field(default=None, description="domain database; default: SQLite in data_dir")
    prefect_port: int = 4200
    prefect_database_url: str | None = Field(
        default=None, description="`up`'s Prefect server database, e.g. postgresql+asyncpg://…; default SQLite under data_dir/prefect"
    )
    actor: str = Field(default_factory=lambda: getpass.getuser() or "coordinator", description="who the CLI records as")
    resume_wait_seconds: float = Field(default=30.0, description="how long a command waits for a busy run before leaving it to catch up")

    smtp_host: str | None = Field(default=None, description="SMTP server; none: `up` runs a local sink that stores .eml files")
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout: float = 30.0
    smtp_max_attempts: int = Field(default=8, description="temporary failures (4xx, dropped connection) before a message is marked failed")
    mail_from: str = Field(default="avtaleflyt <avtaleflyt@localhost>", description="the From header of every message")
    sink_port: int = Field(default=8025, description="port of `up`'s local SMTP sink")
    dashboard_port: int = Field(default=8000, description="port of the dashboard (`up` and `avtaleflyt dashboard`)")

    secret_key: str | None = Field(default=None, description="signs party links and sessions; default: made once and kept in data_dir/secret.key")
    public_url: str = Field(default="http://127.0.0.1:8000", description="the dashboard's address as parties reach it (links in letters)")
    run_limit: int = Field(default=8, ge=1, description="flow runs the embedded worker runs at once (about 2-4 per core)")
    stuck_pending_seconds: int = Field(default=300, ge=10, description="a run Pending this long was claimed by a worker that died: restart it")
    outbox_lease_seconds: int = Field(default=600, ge=1, description="how long a sending batch holds the rows it claimed; a killed sender's rows wait this long")
    link_valid_days: int = Field(default=120, description="how long a party's decision link works")

    def signing_key(self) -> str:
        return self.secret_key or _key_file((self.data_dir / "secret.key").resolve())

    @property
    def domain_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'avtaleflyt.db').resolve()}"

    @property
    def deployment(self) -> str:
        return f"{REVISION_FLOW}/{REVISION_DEPLOYMENT}"


@lru_cache(maxsize=8)
def _key_file(path: Path) -> str:
    """The installation's signing key, made on first use (read once per process: it is asked per letter)."""
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="ascii")
    return path.read_text(encoding="ascii").strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
