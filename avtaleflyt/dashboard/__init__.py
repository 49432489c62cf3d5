"""The dashboard: where every revision stands, in a browser (`avtaleflyt dashboard`, part of `up`)."""

from .app import create_app

__all__ = ["create_app"]
