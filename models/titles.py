"""Titles in both languages (issue 14): the plan may give a revision's, a stage's, a document's and
a milestone's title as `{nb: …, nn: …}` (models/plan_fields.split_titles); what a party reads
(its letters, calendar entries, case papers, its page) is in its language, else in the other one.
Pure."""

from __future__ import annotations

import dataclasses

from .enums import Language


def title_in(language: Language | str, nb: str | None, nn: str | None) -> str | None:
    """The title in `language`, else in the other one."""
    if Language(language) == Language.nn and nn:
        return nn
    return nb or nn


class Bilingual(str):
    """A title as stored (bokmål, or the one language the plan gives) that carries its nynorsk;
    `in_language` picks one for a letter, so the parts of a letter need not know its reader."""

    nn: str | None

    def __new__(cls, text: str, nn: str | None = None) -> Bilingual:
        self = super().__new__(cls, text)
        self.nn = nn
        return self

    def __reduce__(self) -> tuple:
        return (Bilingual, (str(self), self.nn))


def in_language(value: object, language: Language | str) -> object:
    """`value` (a letter's context) with each Bilingual in it, however deep, in `language`."""
    if isinstance(value, Bilingual):
        return title_in(language, str(value), value.nn)
    if isinstance(value, tuple):
        return tuple(in_language(v, language) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: in_language(getattr(value, f.name), language) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    return value
