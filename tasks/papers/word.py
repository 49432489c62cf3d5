"""A `Paper` as a Word file (.docx) with python-docx: the kind of paper, its title, a table of
fields, then each section's heading and blocks. Markdown blocks keep their paragraphs, lists,
headings, **bold**, *italic*, `code` and links.

The API (the forum case paper and the party's draft case both use it):
  docx_bytes(paper) -> bytes           the whole file
  add_markdown(document, text, level)  Markdown into any python-docx Document
"""

from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import RGBColor
from docx.text.paragraph import Paragraph as DocxParagraph

from avtaleflyt.models.papers import Bullets, Markdown, Paper, Paragraph, Table

from .markdown import tokens

_LANG = {"nb": "nb-NO", "nn": "nn-NO"}
_LINK_COLOUR = RGBColor(0x1D, 0x4E, 0xD8)


def docx_bytes(paper: Paper) -> bytes:
    document = Document()
    _set_language(document, _LANG.get(paper.language, "nb-NO"))
    document.core_properties.title = paper.title
    document.core_properties.subject = paper.kind
    document.core_properties.language = _LANG.get(paper.language, "nb-NO")
    kind = document.add_paragraph()
    kind.add_run(paper.kind).bold = True
    document.add_heading(paper.title, level=1)
    rows = paper.shown_fields()
    if rows:
        table = document.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for label, value in rows:
            cells = table.add_row().cells
            cells[0].paragraphs[0].add_run(label).bold = True
            _multiline(cells[1].paragraphs[0], value)
    for section in paper.sections:
        document.add_heading(section.heading, level=2)
        for block in section.blocks:
            _add_block(document, block)
    if paper.footer:
        document.add_paragraph().add_run(paper.footer).italic = True
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _set_language(document: DocxDocument, tag: str) -> None:
    """The spelling language of the Normal style (and so of every paragraph): nb-NO or nn-NO."""
    rpr = document.styles["Normal"].element.get_or_add_rPr()
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), tag)


def _multiline(paragraph: DocxParagraph, text: str) -> None:
    for i, line in enumerate(text.split("\n")):
        if i:
            paragraph.add_run().add_break()
        paragraph.add_run(line)


def _add_block(document: DocxDocument, block: object) -> None:
    match block:
        case Markdown(text=text):
            add_markdown(document, text, level=3)
        case Paragraph(text=text):
            _multiline(document.add_paragraph(), text)
        case Bullets(items=items):
            for item in items:
                _multiline(document.add_paragraph(style="List Bullet"), item)
        case Table(header=header, rows=rows):
            table = document.add_table(rows=1, cols=len(header))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, header):
                cell.paragraphs[0].add_run(text).bold = True
            for row in rows:
                for cell, text in zip(table.add_row().cells, row):
                    _multiline(cell.paragraphs[0], text)
            document.add_paragraph()
        case _:
            raise TypeError(f"not a paper block: {type(block).__name__}")


# --- Markdown ---------------------------------------------------------------------------


def _list_style(kind: str, depth: int) -> str:
    base = "List Number" if kind == "ordered" else "List Bullet"
    return base if depth <= 1 else f"{base} {min(depth, 3)}"


def add_markdown(document: DocxDocument, text: str, level: int = 3) -> None:
    """Markdown as Word paragraphs; its headings start at Word heading `level` (at most 4)."""
    lists: list[str] = []  # the open lists, innermost last: "bullet" | "ordered"
    style: str | None = None
    quote = 0
    for token in tokens(text):
        match token.type:
            case "bullet_list_open" | "ordered_list_open":
                lists.append("ordered" if token.type.startswith("ordered") else "bullet")
            case "bullet_list_close" | "ordered_list_close":
                lists.pop()
            case "blockquote_open":
                quote += 1
            case "blockquote_close":
                quote -= 1
            case "heading_open":
                style = f"Heading {min(level + int(token.tag[1]) - 1, 4)}"
            case "paragraph_open":
                style = _list_style(lists[-1], len(lists)) if lists else ("Quote" if quote else None)
            case "inline":
                paragraph = document.add_paragraph(style=style) if style else document.add_paragraph()
                _inline(paragraph, token.children or [])
                style = None
            case "fence" | "code_block" | "html_block":
                paragraph = document.add_paragraph()
                run = paragraph.add_run(token.content.rstrip("\n"))
                if token.type != "html_block":
                    run.font.name = "Courier New"
            case "hr":
                document.add_paragraph("—" * 10)


def _inline(paragraph: DocxParagraph, children: list) -> None:
    bold = italic = False
    href: str | None = None
    link_runs: list = []
    for child in children:
        match child.type:
            case "strong_open":
                bold = True
            case "strong_close":
                bold = False
            case "em_open":
                italic = True
            case "em_close":
                italic = False
            case "link_open":
                href, link_runs = str(child.attrs.get("href", "")), []
            case "link_close":
                _hyperlink(paragraph, href or "", link_runs)
                href = None
            case "softbreak":
                paragraph.add_run(" ")
            case "hardbreak":
                paragraph.add_run().add_break()
            case "text" | "code_inline" | "html_inline" | "image":
                text = child.content if child.type != "image" else (child.content or "")
                if not text:
                    continue
                run = paragraph.add_run(text)
                run.bold, run.italic = bold or None, italic or None
                if child.type == "code_inline":
                    run.font.name = "Courier New"
                if href is not None:
                    link_runs.append(run)


def _hyperlink(paragraph: DocxParagraph, url: str, runs: list) -> None:
    """Moves `runs` into a w:hyperlink to `url` (python-docx makes no links of its own)."""
    if not runs or not url.startswith(("https://", "http://", "mailto:")):
        return
    r_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    runs[0]._r.addprevious(link)
    for run in runs:
        run.font.color.rgb = _LINK_COLOUR
        run.font.underline = True
        link.append(run._r)

