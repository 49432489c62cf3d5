"""Settings from the environment (AVTALEFLYT_*) or a `.env` file; databases by URL only."""

from __future__ import annotations

import getpass
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REVISION_FLOW = "revision"
REVISION_DEPLOYMENT = "avtaleflyt"
# The liveness rule rests on one setting, Prefect's PREFECT_FLOWS_HEARTBEAT_FREQUENCY
# (alias PREFECT_RUNNER_HEARTBEAT_FREQUENCY): how often a run process beats. Unset, our
# processes use 30 s (Prefect's minimum; Prefect's own default is 180). A revision run
# silent for MISSED_BEATS beats while Running has lost its process and is run again
# (its pass is idempotent). Four, not three: under load the server itself stalls for
# up to a minute (SQLite's busy wait) and a run's first beat waits for its answer.
DEFAULT_HEARTBEAT_SECONDS = 30
MIN_HEARTBEAT_SECONDS = 30  # prefect 3.8.8 flow_engine.MINIMUM_HEARTBEAT_INTERVAL
MISSED_BEATS = 4
# Written by `avtaleflyt up` into its data folder while its SMTP sink listens (Settings.for_sending).
SINK_FILE = "smtp-sink.json"


def heartbeat_seconds() -> int:
    """The heartbeat interval of run processes: Prefect's setting when given (environment or profile), else 30 s."""
    from prefect.settings import get_current_settings

    flows = get_current_settings().flows
    if "heartbeat_frequency" in flows.model_fields_set and flows.heartbeat_frequency is not None:
        return max(int(flows.heartbeat_frequency), MIN_HEARTBEAT_SECONDS)
    return DEFAULT_HEARTBEAT_SECONDS


def silence_window(heartbeat: int) -> int:
    """Seconds without a heartbeat after which a Running run counts as silent (pure: the interval is passed in)."""
    return MISSED_BEATS * max(int(heartbeat), MIN_HEARTBEAT_SECONDS)


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
    prefect_auth_string: str | None = Field(
        default=None,
        description="`up`'s Prefect server (API and UI) asks for this `user:password` (PREFECT_SERVER_API_AUTH_STRING); "
        "default: made once and kept in data_dir/prefect-auth; empty: no password",
    )
    public_url: str = Field(default="http://127.0.0.1:8000", description="the dashboard's address as parties reach it (links in letters)")
    run_limit: int = Field(default=8, ge=1, description="flow runs the embedded worker runs at once (about 2-4 per core)")
    stuck_pending_seconds: int = Field(default=300, ge=10, description="a run Pending this long was claimed by a worker that died: restart it")
    outbox_lease_seconds: int = Field(default=600, ge=1, description="how long a sending batch holds the rows it claimed; a killed sender's rows wait this long")
    link_valid_days: int = Field(default=120, description="how long a party's decision link works")
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1, description="the largest file a document version or a party's minutes may be")
    template_dir: Path | None = Field(default=None, description="the installation's own email templates: a file here replaces the built-in one of its name (decision_request.nb.txt, _signature.nb.txt)")

    def signing_key(self) -> str:
        return self.secret_key or _key_file((self.data_dir / "secret.key").resolve())

    def prefect_auth(self, *, create: bool = False) -> str | None:
        """The auth string of `up`'s Prefect server: the setting, else data_dir/prefect-auth (made if `create`)."""
        if self.prefect_auth_string is not None:
            return self.prefect_auth_string or None
        path = (self.data_dir / "prefect-auth").resolve()
        if not create and not path.exists():
            return None
        return _key_file(path, prefix="avtaleflyt:")

    def for_sending(self) -> Settings:
        """These settings, or, with no SMTP server configured, ones that send to the SMTP sink of the
        `avtaleflyt up` running on this data folder (it writes `data_dir/smtp-sink.json` while the sink
        listens): a command run next to `up` delivers the letters it enqueued at once."""
        if self.smtp_host:
            return self
        import json
        import os

        try:
            sink = json.loads((self.data_dir / SINK_FILE).resolve().read_text(encoding="utf-8"))
            os.kill(int(sink["pid"]), 0)  # `up` is gone (killed, so it could not remove the file): no sink
            host, port = str(sink["host"]), int(sink["port"])
        except (OSError, ValueError, KeyError, TypeError):
            return self
        return self.model_copy(update={"smtp_host": host, "smtp_port": port, "smtp_starttls": False})

    @property
    def domain_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'avtaleflyt.db').resolve()}"

    @property
    def deployment(self) -> str:
        return f"{REVISION_FLOW}/{REVISION_DEPLOYMENT}"


@lru_cache(maxsize=8)
def _key_file(path: Path, prefix: str = "") -> str:
    """A secret of the installation (the signing key, the Prefect password), made on first use
    (read once per process: the signing key is asked per letter)."""
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(prefix + secrets.token_urlsafe(48), encoding="ascii")
    return path.read_text(encoding="ascii").strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
