"""A `Paper` as an HTML page (templates/papers/): every value escaped; Markdown rendered with
raw HTML escaped (tasks/papers/markdown.py).

The API: html_page(paper, template="paper.html") -> str, the page; paper_fragment(paper) -> Markup, the
paper inside a letter. A paper kind with its own page extends templates/papers/_base.html.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

import avtaleflyt.templates
from avtaleflyt.models.papers import Bullets, Markdown, Paper, Paragraph, Table

from .markdown import to_html

TEMPLATE_DIR = Path(avtaleflyt.templates.__file__).parent / "papers"


def lines(text: str) -> Markup:
    """Plain text with its line breaks kept."""
    return Markup("<br>\n").join(escape(line) for line in str(text).split("\n"))


def block(b: object) -> Markup:
    match b:
        case Markdown(text=text):
            return Markup(to_html(text))
        case Paragraph(text=text):
            return Markup("<p>%s</p>") % lines(text)
        case Bullets(items=items):
            return Markup("<ul>%s</ul>") % Markup("").join(Markup("<li>%s</li>") % lines(i) for i in items)
        case Table(header=header, rows=rows):
            head = Markup("").join(Markup('<th scope="col">%s</th>') % h for h in header)
            body = Markup("").join(Markup("<tr>%s</tr>") % Markup("").join(Markup("<td>%s</td>") % lines(c) for c in row) for row in rows)
            return Markup("<table><thead><tr>%s</tr></thead><tbody>%s</tbody></table>") % (head, body)
    raise TypeError(f"not a paper block: {type(b).__name__}")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html"]), undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    env.filters.update(lines=lines, block=block)
    return env


def html_page(paper: Paper, template: str = "paper.html") -> str:
    return environment().get_template(template).render(paper=paper)


def paper_fragment(paper: Paper) -> Markup:
    """The paper without its page (no <html>, no style): to put inside a letter."""
    return Markup(environment().get_template("_fragment.html").render(paper=paper))
