"""Reading the dashboard's forms into commands (models.commands): the same parser as the
CLI's and the resume form's. A refusal is a DomainError; the routers word it in Norwegian
(dashboard/errors.py).
"""

from __future__ import annotations

from fastapi import HTTPException

from avtaleflyt.models import wording
from avtaleflyt.models.commands import ACTIONS, Command, input_fields, parse_command

OUTCOME_NB = wording.words("party_outcome")


def command_from_form(action: str, slug: str, form) -> Command:
    """The command one of the revision page's forms describes (`action` as in its URL: `party-decision`).

    Only the command's own fields are read from the form (not the CSRF token)."""
    name = action.replace("-", "_")
    if name not in ACTIONS:
        raise HTTPException(404, f"Ukjent registrering {action!r}")
    return parse_command({"action": name, "revision": slug} | {f: form.get(f) for f in input_fields(name)})
