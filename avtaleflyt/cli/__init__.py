"""`avtaleflyt`: what a coordinator types. Thin: parses, calls avtaleflyt.actions, prints.

Errors go to stderr, name the argument, and exit with status 2; nothing is written
when a command fails. One module per sub-app; only the commands that talk to Prefect
import it (`talks_to_prefect`), so `plan check` and the like start fast.
"""

from avtaleflyt.cli.app import app, main
from avtaleflyt.cli.common import escape

__all__ = ["app", "escape", "main"]
