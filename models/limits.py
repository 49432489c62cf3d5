"""How long a value a user gives may be, in one place: the plan file, the CLI, the dashboard and
the spreadsheet import all check against these. Pure."""

from __future__ import annotations

MAX_PLAN_BYTES = 1024 * 1024  # a plan file (YAML) or a milestones spreadsheet (CSV)
MAX_EMAIL = 254  # RFC 5321: the longest address a server must accept
MAX_KEY = 64  # stage, document and forum keys; slugs
MAX_NAME = 200  # people, parties, forums, bodies, the helsefellesskap
MAX_TITLE = 300  # revision, document and stage titles
MAX_CASE_NO = 64  # a case number (saksnummer)
MAX_TEXT = 500  # a milestone's `what`, `about`, `responsible`, `part`
MAX_NOTE = 2000  # notes and reasons given with a recording
MAX_MINUTES_TEXT = 50_000  # a decision's text or extract of minutes (særutskrift) given as text
MAX_RESERVATIONS = 10_000  # a conditional approval's reservations (forbehold)
MAX_RESOLUTION = 4000  # a case paper's proposed resolution (forslag til vedtak)
MAX_CASE_TEXT = 20_000  # a case paper's Markdown section (background, facts, assessment)
MAX_EARLIER_CASES = 20  # the earlier cases a case paper links to

# Characters that end a line somewhere (str.splitlines, email headers, iCalendar) or that no
# one-line field may hold: refused in names, titles, case numbers, emails and keys.
LINE_BREAKS = frozenset("\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def one_line(value: str) -> str:
    """`value` unchanged, or ValueError if it holds a line break."""
    if any(c in LINE_BREAKS for c in value):
        raise ValueError("must be on one line")
    return value


def check_length(value: str, maximum: int, what: str) -> str:
    """`value` unchanged, or ValueError naming `what` and the limit."""
    if len(value) > maximum:
        raise ValueError(f"{what}: {len(value)} characters; at most {maximum}")
    return value

MAX_YAML_VALUES = 250_000  # values in a plan once YAML aliases are expanded (a "billion laughs" stops here)


_RECORDED_TEXT = {"case_no": ("case number", MAX_CASE_NO, True), "note": ("note", MAX_NOTE, False), "reason": ("reason", MAX_NOTE, False)}


def check_recorded_text(values: dict) -> None:
    """The case number, note or reason given with a recording (CLI, dashboard, party link):
    ValueError naming the first that is too long, or a case number over more than one line."""
    for field, (what, maximum, single) in _RECORDED_TEXT.items():
        value = values.get(field)
        if isinstance(value, str):
            check_length(value, maximum, what)
            if single:
                try:
                    one_line(value)
                except ValueError as exc:
                    raise ValueError(f"{what}: {exc}") from None
