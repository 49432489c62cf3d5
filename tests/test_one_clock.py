"""One clock: product code reads the wall clock only in avtaleflyt/clock.py.

Everything else takes `now`/`today` from its caller, or asks `avtaleflyt.clock`. The one
exception is the column default (`utcnow` in models/tables.py), which `Field(default_factory=…)`
needs without a caller; other modules must not import it. time.monotonic (timeouts, elapsed
time) is not the wall clock and is allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("models", "tasks", "flows", "avtaleflyt")
CLOCK = "avtaleflyt/clock.py"
COLUMN_DEFAULT = ("models/tables.py", "utcnow")  # (file, function) the column default lives in

# The last two parts of a dotted name that read the wall clock: `dt.datetime.now`,
# `datetime.now`, `date.today`, `pendulum.now`, `time.time`, ...
WALL_CLOCK = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("pendulum", "now"),
    ("pendulum", "today"),
    ("time", "time"),
    ("time", "time_ns"),
}


def _dotted(node: ast.expr) -> list[str]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return parts[::-1]


def _product_files() -> list[tuple[str, Path]]:
    files = []
    for top in PRODUCT:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel == CLOCK:
                continue
            files.append((rel, path))
    return files


def wall_clock_reads(rel: str, source: str) -> list[str]:
    """`file:line name` for every wall-clock read in one module (a call or a reference)."""
    tree = ast.parse(source, filename=rel)
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and (rel, node.name) == COLUMN_DEFAULT:
            allowed |= {id(n) for n in ast.walk(node)}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        if isinstance(node, ast.Attribute):
            name = _dotted(node)
            if tuple(name[-2:]) in WALL_CLOCK:
                found.append((node.lineno, f"{rel}:{node.lineno} {'.'.join(name)}"))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            for alias in node.names:
                if (module, alias.name) in WALL_CLOCK:
                    found.append((node.lineno, f"{rel}:{node.lineno} from {module} import {alias.name}"))
                elif module.endswith("models.tables") and alias.name == COLUMN_DEFAULT[1] and rel != COLUMN_DEFAULT[0]:
                    found.append((node.lineno, f"{rel}:{node.lineno} the column default {alias.name} from {module} (use avtaleflyt.clock)"))
    return [text for _, text in sorted(found)]


def test_no_wall_clock_read_outside_clock_py():
    reads = [hit for rel, path in _product_files() for hit in wall_clock_reads(rel, path.read_text(encoding="utf-8"))]
    assert not reads, "read the wall clock through avtaleflyt.clock (or take now/today from the caller):\n" + "\n".join(reads)


def test_the_scan_sees_each_kind_of_read():
    source = """
import datetime as dt
import time
from datetime import date, datetime
import pendulum
from avtaleflyt.models.tables import Stage, utcnow

def utcnow_elsewhere():
    return dt.datetime.now(dt.timezone.utc)

a = datetime.utcnow()
b = date.today()
c = pendulum.now("Europe/Oslo")
d = pendulum.today()
e = time.time()
f = dict(default_factory=dt.datetime.now)
g = time.monotonic()
from pendulum import now
"""
    lines = [hit.split(" ", 1)[0] for hit in wall_clock_reads("tasks/example.py", source)]
    assert lines == [f"tasks/example.py:{n}" for n in (6, 9, 11, 12, 13, 14, 15, 16, 18)]


def test_the_column_default_is_the_one_exception():
    source = "import datetime as dt\n\ndef utcnow():\n    return dt.datetime.now(dt.timezone.utc)\n\nx = dt.date.today()\n"
    assert wall_clock_reads("models/tables.py", source) == ["models/tables.py:6 dt.date.today"]
    assert wall_clock_reads("models/other.py", source) == ["models/other.py:4 dt.datetime.now", "models/other.py:6 dt.date.today"]
