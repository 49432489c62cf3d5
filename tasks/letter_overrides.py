"""Checks an installation's own email templates (AVTALEFLYT_TEMPLATE_DIR) before they write a letter.

Each override renders with the example contexts of the events it takes part in (a letter's own
template: its event; a shared part such as `_signature.nb.txt`: every event that includes it) under
StrictUndefined, as the sender would. An undefined variable and a Jinja syntax error are named with
the override's file and line; a file named like no built-in template is never used (a warning).
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from pathlib import Path

from jinja2 import TemplateSyntaxError, UndefinedError
from jinja2.debug import rewrite_traceback_stack

from avtaleflyt.models.enums import EmailEvent, Language

from .letters import TEMPLATE_DIR, environment, example_context, render

NOT_TEMPLATES = frozenset({"README.md"})


@dataclass(frozen=True)
class TemplateProblem:
    path: Path
    line: int | None
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.path}{f':{self.line}' if self.line else ''}: {self.message}"


def built_in_names() -> list[str]:
    return sorted(p.name for p in TEMPLATE_DIR.iterdir() if p.is_file() and p.name not in NOT_TEMPLATES)


def _letters_using(name: str) -> set[tuple[EmailEvent, Language]]:
    """The (event, language) letters a template of this name takes part in."""
    stem, _, _ = name.rpartition(".")
    event, _, language = stem.rpartition(".")
    if event in {e.value for e in EmailEvent} and language in {lang.value for lang in Language}:
        return {(EmailEvent(event), Language(language))}
    languages = [Language(language)] if language in {lang.value for lang in Language} else list(Language)
    return {(e, lang) for e in EmailEvent for lang in languages}


_MISSING_ATTRIBUTE = re.compile(r"has no attribute '(\w+)'")


def _where(exc: BaseException, folder: Path) -> tuple[Path | None, int | None, str]:
    """The innermost template frame of a rendering error: (file, line, source line); an override's first."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).parent in (folder, TEMPLATE_DIR)]
    ours = [f for f in frames if Path(f.filename).parent == folder] or frames  # the override's line, not the built-in layout's
    if not ours:
        return None, None, ""
    frame = ours[-1]
    return Path(frame.filename), frame.lineno, frame.line or ""


def _message(exc: BaseException, source_line: str) -> str:
    """Jinja's words, or for a missing attribute the expression as written: "'revision.titel' is undefined"."""
    text = str(exc)
    if isinstance(exc, UndefinedError) and (m := _MISSING_ATTRIBUTE.search(text)):
        expression = re.search(rf"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\.{re.escape(m.group(1))}\b", source_line)
        return f"'{expression.group(0) if expression else m.group(1)}' is undefined"
    return text if isinstance(exc, UndefinedError) else f"{type(exc).__name__}: {text}"


def check_overrides(folder: Path) -> list[TemplateProblem]:
    """Every problem of the override folder's templates; `warning` ones do not stop a letter."""
    if not folder.is_dir():
        return [TemplateProblem(folder, None, "AVTALEFLYT_TEMPLATE_DIR: not a folder")]
    built_in = set(built_in_names())
    problems: list[TemplateProblem] = []
    letters: set[tuple[EmailEvent, Language]] = set()
    env = environment(folder)
    for path in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        if path.is_dir():
            problems.append(TemplateProblem(path, None, "a folder: only the files directly in the template folder are used", warning=True))
            continue
        if path.name not in built_in:
            problems.append(TemplateProblem(path, None, "named like no built-in template, so never used (e.g. decision_request.nb.txt, _signature.nb.html)", warning=True))
            continue
        try:
            env.parse(path.read_text(encoding="utf-8"), name=path.name, filename=str(path))
        except TemplateSyntaxError as exc:
            problems.append(TemplateProblem(path, exc.lineno, exc.message or "syntax error"))
            continue
        except (UnicodeDecodeError, OSError) as exc:
            problems.append(TemplateProblem(path, None, f"cannot be read as UTF-8 text ({exc})"))
            continue
        letters |= _letters_using(path.name)
    broken = {p.path for p in problems if not p.warning}
    for event, language in sorted(letters):
        try:
            render(event, language, example_context(event, language), templates=folder)
        except TemplateSyntaxError:
            continue  # a broken file another override includes: named above
        except Exception:  # noqa: BLE001 — a template can fail in any way; each is reported with its place
            exc = rewrite_traceback_stack()
            path, line, source_line = _where(exc, folder)
            problem = TemplateProblem(path or folder, line, _message(exc, source_line))
            if problem not in problems and (path not in broken):
                problems.append(problem)
    return problems
