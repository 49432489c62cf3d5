"""A `Paper` as plain text, for a letter's text part: fields as `Label: value`, headings
underlined, Markdown as written (it reads as text), bullets and table rows as lines."""

from __future__ import annotations

from avtaleflyt.models.papers import Bullets, Markdown, Paper, Paragraph, Table


def _block(b: object) -> str:
    match b:
        case Markdown(text=text) | Paragraph(text=text):
            return text.strip()
        case Bullets(items=items):
            return "\n".join(f"- {i}" for i in items)
        case Table(rows=rows):
            return "\n".join(f"- {': '.join(c for c in row if c)}" for row in rows)
    raise TypeError(f"not a paper block: {type(b).__name__}")


def paper_text(paper: Paper) -> str:
    lines = [paper.kind.upper(), paper.title, ""]
    lines += [f"{label}: {value}" for label, value in paper.shown_fields()]
    for section in paper.sections:
        lines += ["", section.heading, "-" * len(section.heading)]
        lines += ["\n\n".join(_block(b) for b in section.blocks)]
    return "\n".join(lines).strip() + "\n"
