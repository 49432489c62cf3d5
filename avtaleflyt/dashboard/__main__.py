"""`python -m avtaleflyt.dashboard --host 127.0.0.1 --port 8000`: the dashboard under uvicorn."""

from __future__ import annotations

import argparse
import os


def main(argv: list[str] | None = None) -> int:
    from avtaleflyt.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m avtaleflyt.dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=get_settings().dashboard_port)
    args = parser.parse_args(argv)
    serve(args.host, args.port)
    return 0


def serve(host: str, port: int) -> None:
    import uvicorn

    from .app import create_app

    uvicorn.Server(uvicorn_config(create_app(), host, port)).run()


def uvicorn_config(app, host: str, port: int, **options):  # noqa: ANN001, ANN201 - FastAPI app, uvicorn.Config
    """How the dashboard is served.

    Logins are throttled per client address: behind a reverse proxy that address is in
    X-Forwarded-For, believed only from FORWARDED_ALLOW_IPS (uvicorn's setting; by default
    127.0.0.1, a proxy on the same host). Set it to the proxy's address elsewhere.
    """
    import uvicorn

    options = {"log_level": "info", **options}
    return uvicorn.Config(
        app, host=host, port=port, proxy_headers=True, forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"), **options
    )


if __name__ == "__main__":
    raise SystemExit(main())
