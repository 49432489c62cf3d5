"""The secretariat's Markdown, parsed once for both renderings: CommonMark with raw HTML
switched off, so `<script>` in a plan is text in the Word file and escaped in the HTML."""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    # commonmark + tables; "html": False escapes raw HTML; links are checked (no javascript:).
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def tokens(text: str) -> list[Token]:
    return parser().parse(text)


def to_html(text: str) -> str:
    """Safe HTML for `text`: raw HTML in it escaped, unsafe links left as text."""
    return parser().render(text)
