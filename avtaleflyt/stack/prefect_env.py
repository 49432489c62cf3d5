"""Prefect's settings for the stack: the server's environment, its password, and switching
this process to another server.

Prefect reads its settings from the environment once, when `prefect` is first
imported; `apply_prefect_env` is how this process switches to another server.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .processes import HOST

if TYPE_CHECKING:
    from avtaleflyt.settings import Settings


def prefect_env(data_dir: Path, port: int, database_url: str | None = None, auth_string: str | None = None) -> dict[str, str]:
    """Environment for a Prefect server (and its clients) on SQLite under `data_dir/prefect`,
    or on the database at `database_url` (e.g. `postgresql+asyncpg://…`); with `auth_string`,
    the server's API and UI ask for it (HTTP basic auth) and its clients send it.

    Names as in prefect 3.8.8 (`prefect/settings/models/`); legacy aliases such as
    PREFECT_API_DATABASE_CONNECTION_URL still work there but are not used here.
    """
    home = (Path(data_dir) / "prefect").resolve()
    api_url = f"http://{HOST}:{port}/api"
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": database_url or f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_API_HOST": HOST,
        "PREFECT_SERVER_API_PORT": str(port),
        # Clients (CLI, worker, flow runs) go here; the UI's API URL and PREFECT_UI_URL
        # are derived from it by prefect.
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_UI_ENABLED": "true",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        # Server-side usage reporting (sens-o-matic) off ...
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # ... and the SDK's client-side usage events (prefect/_internal/analytics) off.
        "DO_NOT_TRACK": "1",
        **(auth_env(auth_string, server=True) if auth_string else {}),
    }


def auth_env(auth_string: str, *, server: bool = False) -> dict[str, str]:
    """Prefect's password: the server checks PREFECT_SERVER_API_AUTH_STRING against every API
    request's `Authorization: Basic` header (prefect/server/api/server.py, health checks
    excepted); its clients (CLI, worker, run processes, dashboard) send PREFECT_API_AUTH_STRING."""
    return {"PREFECT_API_AUTH_STRING": auth_string, **({"PREFECT_SERVER_API_AUTH_STRING": auth_string} if server else {})}


def auth_headers(auth_string: str | None = None) -> dict[str, str]:
    """The header Prefect's client sends: `auth_string`, else this process's PREFECT_API_AUTH_STRING."""
    if auth_string is None:
        from prefect.settings import get_current_settings

        secret = get_current_settings().api.auth_string
        auth_string = secret.get_secret_value() if secret is not None else None
    if not auth_string:
        return {}
    import base64

    return {"Authorization": "Basic " + base64.b64encode(auth_string.encode()).decode()}


def apply_prefect_env(env: Mapping[str, str | None]) -> None:
    """Set (or, for None, unset) variables in os.environ and make an imported prefect see them.

    prefect builds its global settings once, on import; later changes to os.environ
    are ignored until `prefect.context.refresh_global_settings_context()` runs.
    """
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if "prefect.context" in sys.modules:
        sys.modules["prefect.context"].refresh_global_settings_context()


def use_local_prefect_api(settings: Settings) -> str:
    """Point this process at `up`'s server unless a Prefect API URL is configured; returns the URL.

    Without any PREFECT_API_URL (environment or prefect profile) prefect's client
    silently starts a throwaway ephemeral server with its own database, which knows
    none of our runs. A CLI command in a second terminal must reach `up`'s server.
    The password of `up`'s server (data_dir/prefect-auth) goes with it, unless one is
    configured (PREFECT_API_AUTH_STRING); also when PREFECT_API_URL names `up`'s server.
    """
    from prefect.settings import get_current_settings

    current = get_current_settings().api
    local = f"http://{HOST}:{settings.prefect_port}/api"
    url = current.url or local
    env: dict[str, str] = {} if current.url else {"PREFECT_API_URL": local}
    if current.auth_string is None and url.rstrip("/") == local and (auth := settings.prefect_auth()):
        env.update(auth_env(auth))
    if env:
        apply_prefect_env(env)
    return url
