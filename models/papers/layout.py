"""A paper as the renderers draw it: a heading, a table of fields, then sections of blocks.

Every paper kind (forum case paper, party draft case) lays itself out as a `Paper` with its
words already in the reader's language; tasks/papers/word.py and tasks/papers/html.py turn one
into a .docx or an HTML page. Text is plain text except in a `Markdown` block, whose Markdown is
rendered (HTML in it is shown as text, never passed through).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Markdown:
    """Markdown written by the secretariat (paragraphs, lists, **bold**, *italic*, [links](https://…))."""

    text: str


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of plain text."""

    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Block = Markdown | Paragraph | Bullets | Table


@dataclass(frozen=True)
class Section:
    heading: str
    blocks: tuple[Block, ...] = ()


@dataclass(frozen=True)
class Paper:
    """`kind`: what the paper is ("Saksframstilling"); `title`: the case's title; `fields`:
    (label, value) rows of the table at the top (a row without a value is left out);
    `sections`: headed parts in order. `language`: nb or nn (the HTML's lang)."""

    kind: str
    title: str
    fields: tuple[tuple[str, str | None], ...] = ()
    sections: tuple[Section, ...] = ()
    language: str = "nb"
    footer: str | None = field(default=None)  # a line at the end (who made it, from which plan)

    def shown_fields(self) -> tuple[tuple[str, str], ...]:
        return tuple((label, value) for label, value in self.fields if value)
