"""The Fremdriftsplan as secretariats keep it: a spreadsheet of milestones (Når / Hva / Om / Ansvar).

Pure: reads and writes CSV text, parses Norwegian dates (models/written_dates.py),
groups milestones into the parts of the printed plan, and puts imported
milestones into a plan file's text. No files, no database.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import yaml

from .dates import PlanDate
from .limits import MAX_PLAN_BYTES, MAX_TEXT
from .written_dates import (
    Years,
    format_norwegian_date,
    has_own_year,
    parse_norwegian_date,
    written_form,
)

COLUMNS = ("Når", "Hva", "Om", "Ansvar", "Del")
FIELDS = ("date", "what", "about", "responsible", "part")
_REQUIRED = ("Når", "Hva")
_HEADER_NAMES = {"når": "Når", "nar": "Når", "hva": "Hva", "om": "Om", "ansvar": "Ansvar", "del": "Del"}
_DELIMITERS = (";", "\t", ",")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet may run a cell starting so as a formula

@dataclass(frozen=True)
class MilestoneRow:
    date: PlanDate
    what: str
    about: str | None = None
    responsible: str | None = None
    part: str | None = None
    written: str | None = None  # the date as the spreadsheet wrote it ("Nov./des."), if not canonical text


@dataclass(frozen=True)
class RowProblem:
    row: int  # as a spreadsheet counts: the header, if any, is row 1
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.message}"


class MilestonesInvalid(ValueError):
    """Every problem of a milestones CSV, each with its row and column."""

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --- reading the CSV ----------------------------------------------------------------


def _decode(data: str | bytes) -> str:
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MilestonesInvalid([RowProblem(1, "(file)", f"not UTF-8 text (byte {exc.start}); save it as CSV UTF-8")]) from None
    return data.removeprefix("\ufeff")


def _header(first_line: str) -> tuple[str, list[str]] | None:
    """(delimiter, column names) if the first line is a header row, else None."""
    for delimiter in _DELIMITERS:
        try:
            cells = [c.strip().casefold() for c in next(csv.reader([first_line], delimiter=delimiter), [])]
        except csv.Error:  # read again, and reported with its row, below
            return None
        while cells and not cells[-1]:
            cells.pop()
        if len(cells) >= 2 and all(c in _HEADER_NAMES for c in cells):
            return delimiter, [_HEADER_NAMES[c] for c in cells]
    return None


def is_formula(cell: str) -> bool:
    """True if a spreadsheet could take the cell for a formula (CSV injection)."""
    return cell.startswith(_FORMULA_START)


def neutralised(cell: str) -> str:
    """The cell as text a spreadsheet shows and never runs: `'` before a formula's first character."""
    return "'" + cell if is_formula(cell) else cell


def _unneutralised(cell: str) -> str:
    """What `neutralised` wrote: an exported CSV reads back as it was."""
    return cell[1:] if cell.startswith("'") and is_formula(cell[1:]) else cell


def read_milestones_csv(data: str | bytes, warnings: list[RowProblem] | None = None, years: Years | None = None) -> list[MilestoneRow]:
    """Every milestone of a CSV (see `read_milestones`), or `MilestonesInvalid` with every problem: nothing partial."""
    read = read_milestones(data, warnings, years)
    if read.problems:
        raise MilestonesInvalid(read.problems)
    return read.rows


@dataclass(frozen=True)
class MilestonesRead:
    rows: list[MilestoneRow]
    problems: list[RowProblem]  # the rows left out, each with its row number and reason


def read_milestones(data: str | bytes, warnings: list[RowProblem] | None = None, years: Years | None = None) -> MilestonesRead:
    """The milestones of a CSV, `;`-separated (or `,`/tab when the header row uses them).

    The header `Når;Hva;Om;Ansvar[;Del]` is optional (its columns may come in any
    order); without it the columns are in that order. Empty rows are skipped.
    Every row that reads is kept; every other row is a problem with its row number.
    A file that cannot be read at all (not UTF-8, too large, a bad header) raises
    `MilestonesInvalid`. A date without a year takes it from `years`.
    Cells a spreadsheet would run as a formula are kept, each with a warning
    appended to `warnings`.
    """
    if len(data) > MAX_PLAN_BYTES:
        raise MilestonesInvalid([RowProblem(1, "(file)", f"{len(data)} bytes; at most {MAX_PLAN_BYTES} (1 MiB)")])
    text = _decode(data)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    header = _header(first_line)
    if header:
        delimiter, columns = header
        problems = [RowProblem(1, name, "named twice in the header") for name in set(columns) if columns.count(name) > 1]
        problems += [RowProblem(1, name, "missing from the header") for name in _REQUIRED if name not in columns]
        if problems:
            raise MilestonesInvalid(problems)
    else:
        delimiter = ";" if ";" in first_line or "\t" not in first_line else "\t"
        columns = list(COLUMNS)

    rows: list[MilestoneRow] = []
    problems = []
    header_skipped = header is None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        number = reader.line_num + 1  # a quoted cell may span lines: the row starts on the next line
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a field over csv.field_size_limit(), a stray quote in strict files
            problems.append(RowProblem(number, "(row)", f"not readable as CSV: {exc}"))
            break
        if not any(c.strip() for c in cells):
            continue
        if not header_skipped:
            header_skipped = True
            continue
        extra = [c for c in cells[len(columns):] if c.strip()]
        if extra:
            problems.append(RowProblem(number, "(row)", f"{len(cells)} columns; expected {delimiter.join(columns)}"))
            continue
        values = {name: _unneutralised(cells[i].strip()) if i < len(cells) else "" for i, name in enumerate(columns)}
        if warnings is not None:
            warnings += [
                RowProblem(number, name, f"starts with {value[0]!r}: a spreadsheet may run it as a formula; check it, it is imported as text")
                for name, value in values.items()
                if name != "Når" and is_formula(value)
            ]
        row, row_problems = _row(number, values, years)
        problems += row_problems
        if row is not None:
            rows.append(row)
    return MilestonesRead(rows, problems)


def _row(number: int, values: dict[str, str], years: Years | None) -> tuple[MilestoneRow | None, list[RowProblem]]:
    problems = []
    date = None
    try:
        date = parse_norwegian_date(values.get("Når", ""), years)
    except ValueError as exc:
        problems.append(RowProblem(number, "Når", str(exc)))
    if not values.get("Hva", ""):
        problems.append(RowProblem(number, "Hva", "required"))
    for name in ("Hva", "Om", "Ansvar", "Del"):
        if len(values.get(name, "")) > MAX_TEXT:
            problems.append(RowProblem(number, name, f"{len(values[name])} characters; at most {MAX_TEXT}"))
    if problems:
        return None, problems
    return MilestoneRow(
        date=date,
        what=values["Hva"],
        about=values.get("Om") or None,
        responsible=values.get("Ansvar") or None,
        part=values.get("Del") or None,
        written=written_form(values["Når"], date),
    ), []


# --- writing the CSV ------------------------------------------------------------------


def write_milestones_csv(rows: list[MilestoneRow]) -> str:
    """`Når;Hva;Om;Ansvar;Del` rows with CRLF line ends, starting with a BOM so Excel reads UTF-8.

    A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a `'` before it."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([_date_cell(r), *(neutralised(v or "") for v in (r.what, r.about, r.responsible, r.part))])
    return "\ufeff" + buffer.getvalue()


def _date_cell(row: MilestoneRow) -> str:
    """The date as written when it reads back without being given a year, else the Norwegian canonical form."""
    return row.written if row.written and has_own_year(row.written) else format_norwegian_date(row.date)


# --- the parts of the printed plan -------------------------------------------------------


@dataclass(frozen=True)
class PlanPart:
    title: str
    part: str | None  # None: the plan's main part
    milestones: list[MilestoneRow]


def plan_parts(rows: list[MilestoneRow], main_title: str) -> list[PlanPart]:
    """One part per page: the main part (no `part`, titled `main_title`) first, then the
    others in order of first appearance; each part's milestones in date order."""
    order: list[str | None] = [None]
    grouped: dict[str | None, list[MilestoneRow]] = {None: []}
    for r in rows:
        if r.part not in grouped:
            order.append(r.part)
            grouped[r.part] = []
        grouped[r.part].append(r)
    return [
        PlanPart(main_title if part is None else part, part, sorted(grouped[part], key=lambda r: r.date))
        for part in order
        if grouped[part] or (part is None and len(order) == 1)
    ]


# --- milestones into a plan file ------------------------------------------------------------


def _yaml_value(row: MilestoneRow) -> dict[str, Any]:
    date = row.date.first_day if row.date.exact else str(row.date)  # a date object is written unquoted
    values = {"date": date, "written": row.written, "what": row.what, "about": row.about, "responsible": row.responsible, "part": row.part}
    return {k: v for k, v in values.items() if v is not None}


def milestones_yaml(rows: list[MilestoneRow]) -> str:
    """A `milestones:` block, one flow-style row per milestone as in the example plans."""
    lines = ["milestones:" if rows else "milestones: []"]
    for row in rows:
        flow = yaml.safe_dump(_yaml_value(row), default_flow_style=True, allow_unicode=True, sort_keys=False, width=1_000_000)
        lines.append(f"  - {flow.strip()}")
    return "\n".join(lines) + "\n"


def replace_milestones(plan_text: str, rows: list[MilestoneRow]) -> str:
    """The plan file's text with its top-level `milestones:` block replaced (appended if absent).

    Everything outside the block is kept as written, including comments above it and
    above the key after it; comments inside the block go with the old milestones.
    The caller validates the result (`parse_plan`).
    """
    block = milestones_yaml(rows)
    try:
        root = yaml.compose(plan_text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ValueError(f"the plan file is not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(root, yaml.MappingNode):
        raise ValueError("the plan file is not a mapping of plan keys")
    lines = plan_text.splitlines(keepends=True)
    keys = [key for key, _ in root.value]
    found = next((i for i, key in enumerate(keys) if isinstance(key, yaml.ScalarNode) and key.value == "milestones"), None)
    if found is None:
        text = plan_text if plan_text.endswith("\n") or not plan_text else plan_text + "\n"
        return text + block
    start = keys[found].start_mark.line
    if keys[found].start_mark.column != 0:
        raise ValueError("`milestones:` does not start its line; cannot replace it safely")
    end = keys[found + 1].start_mark.line if found + 1 < len(keys) else len(lines)
    while end > start + 1 and _belongs_to_next_key(lines[end - 1]):
        end -= 1
    return "".join(lines[:start]) + block + "".join(lines[end:])


def _belongs_to_next_key(line: str) -> bool:
    """A blank line or an unindented comment just above the next key stays with that key."""
    return not line.strip() or line.startswith("#")
