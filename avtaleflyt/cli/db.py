"""`avtaleflyt db upgrade`: migrate the domain database."""

from __future__ import annotations

import typer

from avtaleflyt.cli.common import escape, fail, out

db_app = typer.Typer(help="The domain database: migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the domain database (AVTALEFLYT_DATABASE_URL) to the newest schema; does nothing when it is there."""
    from sqlalchemy.engine import make_url

    from avtaleflyt.db import migrate
    from avtaleflyt.settings import get_settings

    url = get_settings().domain_database_url
    try:
        migrate(url)
    except Exception as exc:  # noqa: BLE001 - unreachable server, wrong password: say so, exit 2
        fail(f"AVTALEFLYT_DATABASE_URL: could not migrate {make_url(url).render_as_string(hide_password=True)}: {exc.__class__.__name__}: {exc}")
    out.print(f"[green]migrated:[/] {escape(make_url(url).render_as_string(hide_password=True))}", highlight=False)
