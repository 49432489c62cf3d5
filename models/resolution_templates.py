"""A party's proposed resolution as the plan gives it: a template per party kind, in one
language (`resolution:` in bokmål, `resolution_nn:` in nynorsk on the political treatment
stage), and the placeholders it may use. Apart from the papers (models/papers/party_case.py
fills it in) so that checking a plan loads no paper.

Placeholders are plain names in braces, filled by `fill` (no str.format: ``{party.__class__}``
is an unknown placeholder, refused by `template_problems` when the plan is checked); ``{{`` and
``}}`` stand for a brace itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, StrictStr

from .enums import PartyKind
from .plan_fields import PlanProblem, Strict

MAX_RESOLUTION_TEMPLATE = 4000

PLACEHOLDERS: dict[str, str] = {
    "party": "the party's name (Malvik kommune)",
    "body": "its deciding body (Kommunestyret, Bystyret, Styret)",
    "trust": "the health trust's name",
    "helsefellesskap": "the helsefellesskap's name",
    "revision": "the revision's title",
    "deadline": "the deadline for the decision (01.03.2025)",
    "forum": "the forums that adopted it, by key (ASU)",
    "forum_name": "the forums that adopted it, by name",
    "forum_date": "the date of their decision (27.11.2024)",
    "case_no": "their case number (09-2024)",
    "adopted": "all of it: ASU 27.11.2024 (sak 09-2024)",
}

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def template_problems(text: str) -> list[str]:
    """What is wrong with a resolution template: unknown placeholders, lone braces."""
    problems = []
    for m in _TOKEN.finditer(text):
        token, name = m.group(0), m.group(1)
        if token in ("{{", "}}"):
            continue
        if name is None:
            problems.append(f"a lone {token!r} at character {m.start() + 1}; write {token * 2} for the brace itself")
        elif name not in PLACEHOLDERS:
            problems.append(f"unknown placeholder {{{name}}}; known: " + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS))
    return problems


def fill(text: str, values: Mapping[str, str]) -> str:
    """The template with its placeholders filled; anything not a known placeholder is left as written."""

    def one(m: re.Match[str]) -> str:
        token, name = m.group(0), m.group(1)
        if token in ("{{", "}}"):
            return token[0]
        return values[name] if name is not None and name in values else token

    return _TOKEN.sub(one, text)


Resolution = Annotated[StrictStr, Field(min_length=1, max_length=MAX_RESOLUTION_TEMPLATE)]


class ResolutionTemplates(Strict):
    """The proposed resolution per party kind, in one language; a kind left out gets the built-in text."""

    municipality: Resolution | None = None
    health_trust: Resolution | None = None

    def for_kind(self, kind: PartyKind) -> str | None:
        return getattr(self, PartyKind(kind).value)


def resolution_problems(place: str, templates: Mapping[str, ResolutionTemplates | None]) -> list[PlanProblem]:
    """A plan problem for each unknown placeholder or lone brace, at its place (`stages[4].resolution_nn.municipality`)."""
    found = []
    for field, given in templates.items():
        for kind in PartyKind:
            text = given.for_kind(kind) if given else None
            found += [PlanProblem(f"{place}.{field}.{kind.value}", p) for p in template_problems(text or "")]
    return found
