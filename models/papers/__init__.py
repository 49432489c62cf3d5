"""The papers a secretariat files: a forum's case paper (saksframstilling, forum_case.py) and
a party's draft case (saksframlegg). Pure: each is a typed paper built from the plan and the
revision's history passed in, laid out as a `Paper` (layout.py) in the reader's language; the
Word and HTML renderings are in tasks/papers/."""

from .layout import Block, Bullets, Markdown, Paper, Paragraph, Section, Table

__all__ = ["Block", "Bullets", "Markdown", "Paper", "Paragraph", "Section", "Table"]
