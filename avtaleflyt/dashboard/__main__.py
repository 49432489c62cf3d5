"""`python -m avtaleflyt.dashboard --host 127.0.0.1 --port 8000`: the dashboard under uvicorn."""

from __future__ import annotations

import argparse


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

    uvicorn.run(create_app(), host=host, port=port, log_level="info", proxy_headers=False)


if __name__ == "__main__":
    raise SystemExit(main())
