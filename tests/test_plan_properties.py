"""Property-based tests of the plan validator: it refuses with PlanInvalid, never with a crash."""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from avtaleflyt.models import limits
from avtaleflyt.models.dates import MAX_YEAR, MIN_YEAR, PlanDate, parse_day
from avtaleflyt.models.fremdriftsplan import parse_norwegian_date
from avtaleflyt.models.identifiers import is_valid_org_number
from avtaleflyt.models.plan import CheckedPlan, PlanInvalid, parse_plan

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXAMPLE_SETTINGS = settings(SETTINGS, max_examples=80)  # each example parses the full reference plan

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sondre-trondelag-2024.yaml"
EXAMPLE_DATA = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))

SECTION_FIELDS = {
    "coordinators": ["name", "email"],
    "documents": ["key", "title"],
    "parties": ["name", "kind", "org_number", "email", "body", "language"],
    "forums": ["key", "name", "email"],
    "stages": ["key", "kind", "title", "after", "due", "documents", "opens", "deadline", "forums", "required", "meeting"],
    "milestones": ["date", "what", "about", "responsible"],
}
TOP_FIELDS = ["helsefellesskap", "revision", "slug", "language", "reminders", *SECTION_FIELDS]
REQUIRED = {
    (): ["helsefellesskap", "revision", "coordinators", "documents", "parties", "stages"],
    "coordinators": ["name", "email"],
    "documents": ["key", "title"],
    "parties": ["name", "kind", "org_number", "email", "body"],
    "forums": ["key", "name"],
    "milestones": ["date", "what"],
}
REQUIRED_BY_KIND = {"draft": [], "hearing": ["deadline"], "forum_approval": ["forums"], "political_treatment": ["deadline"], "signing": ["deadline"]}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.dates()
    | st.sampled_from(["all", "nb", "nn", "draft", "hearing", "forum_approval", "political_treatment", "health_trust", "municipality", "883974832", "2024-11", "2024-11-27", "a@example.no"])
)
junk = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8) | st.sampled_from(TOP_FIELDS + SECTION_FIELDS["stages"]) | st.integers(0, 3), inner, max_size=5),
    max_leaves=25,
)


def section_item(section: str) -> st.SearchStrategy[dict[str, Any]]:
    fields = SECTION_FIELDS[section]
    return st.dictionaries(st.sampled_from(fields), junk, max_size=len(fields))


plan_shaped = st.fixed_dictionaries(
    {},
    optional={
        "helsefellesskap": junk,
        "revision": junk,
        "slug": junk,
        "language": junk,
        "reminders": junk,
        **{section: st.lists(section_item(section), max_size=3) | junk for section in SECTION_FIELDS},
    },
)


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True, sort_keys=False)


def check_outcome(text: str) -> CheckedPlan | PlanInvalid:
    """parse_plan either returns or raises PlanInvalid with well-formed problems."""
    try:
        return parse_plan(text)
    except PlanInvalid as exc:
        assert exc.problems
        n_lines = len(text.splitlines()) + 1
        for problem in exc.problems:
            assert problem.place.strip() and problem.message.strip(), problem
            assert problem.line is None or 1 <= problem.line <= n_lines, problem
        return exc


def place_of(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def children(data: Any) -> Any:
    if isinstance(data, dict):
        return data.items()
    return enumerate(data) if isinstance(data, list) else ()


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return [p for key, value in children(data) for p in [prefix + (key,), *paths(value, prefix + (key,))]]


def mappings(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    own = [prefix] if isinstance(data, dict) else []
    return own + [p for key, value in children(data) for p in mappings(value, prefix + (key,))]


def get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


ALL_PATHS = paths(EXAMPLE_DATA)
ALL_MAPPINGS = [p for p in mappings(EXAMPLE_DATA) if not (p[:1] == ("alternatives",) and p[-1:] == ("stages",))]  # keyed by stage: an unknown one is 'unknown stage'
REQUIRED_PATHS = [(key,) for key in REQUIRED[()]] + [
    (section, i, key)
    for section, items in EXAMPLE_DATA.items()
    if isinstance(items, list) and section != "stages"
    for i in range(len(items))
    for key in REQUIRED.get(section, [])
] + [
    ("stages", i, key)
    for i, s in enumerate(EXAMPLE_DATA["stages"])
    for key in ["key", "kind", *REQUIRED_BY_KIND[s["kind"]]]
]


# --- (a) junk never crashes -------------------------------------------------------------------


@SETTINGS
@given(junk)
def test_any_yaml_value_is_parsed_or_refused(value):
    check_outcome(dump(value))


@SETTINGS
@given(plan_shaped)
def test_plan_shaped_junk_is_parsed_or_refused(value):
    check_outcome(dump(value))


@SETTINGS
@given(st.text(max_size=200))
@example("a: &x [*x]\n")
@example("stages: [" * 3000)
@example("? [a, b]\n: c\n")
@example("a: !!python/object:os.system x\n")
def test_any_text_is_parsed_or_refused(text):
    check_outcome(text)


# --- (b) mutations of the reference example ------------------------------------------------------


@EXAMPLE_SETTINGS
@given(st.sampled_from(REQUIRED_PATHS))
def test_dropping_a_required_key_names_it(path):
    data = copy.deepcopy(EXAMPLE_DATA)
    del get(data, path[:-1])[path[-1]]
    outcome = check_outcome(dump(data))
    assert isinstance(outcome, PlanInvalid)
    assert any(p.place == place_of(path) and p.message.startswith("required") for p in outcome.problems), outcome


@EXAMPLE_SETTINGS
@given(st.sampled_from(ALL_MAPPINGS), st.text(st.characters(exclude_categories=("C", "Z")), min_size=1, max_size=10))
def test_an_unknown_key_is_named(path, suffix):
    data = copy.deepcopy(EXAMPLE_DATA)
    key = f"zz-{suffix}"
    get(data, path)[key] = 1
    outcome = check_outcome(dump(data))
    assert isinstance(outcome, PlanInvalid)
    assert any(p.place == place_of(path + (key,)) and p.message == "unknown key" for p in outcome.problems), outcome


@EXAMPLE_SETTINGS
@given(st.sampled_from(ALL_PATHS), junk)
def test_setting_any_field_to_anything_is_parsed_or_refused(path, value):
    data = copy.deepcopy(EXAMPLE_DATA)
    get(data, path[:-1])[path[-1]] = value
    check_outcome(dump(data))


EXAMPLE_AFTER = parse_plan(EXAMPLE.read_text(encoding="utf-8")).plan.stage_after()


@EXAMPLE_SETTINGS
@given(st.permutations([{**s, "after": EXAMPLE_AFTER[s["key"]]} for s in EXAMPLE_DATA["stages"]]))
def test_reordered_stages_with_their_after_are_accepted_in_the_new_order(stages):
    data = copy.deepcopy(EXAMPLE_DATA)
    data["stages"] = stages
    outcome = check_outcome(dump(data))
    assert isinstance(outcome, CheckedPlan), outcome
    assert [s.key for s in outcome.plan.stages] == [s["key"] for s in stages]
    assert outcome.plan.stage_after() == EXAMPLE_AFTER


@EXAMPLE_SETTINGS
@given(st.permutations(EXAMPLE_DATA["stages"]).filter(lambda p: p != EXAMPLE_DATA["stages"]))
def test_reordered_stages_relying_on_the_default_after_are_refused_on_their_dates(stages):
    """Without `after`, each stage follows the one before it: out of order, some stage starts too early."""
    data = copy.deepcopy(EXAMPLE_DATA)
    data["stages"] = [{k: v for k, v in s.items() if k != "after"} for s in stages]
    outcome = check_outcome(dump(data))
    assert isinstance(outcome, PlanInvalid), [s["key"] for s in stages]
    assert all(re.fullmatch(r"stages\[\d+\]", p.place) and "before stage" in p.message for p in outcome.problems), outcome


@EXAMPLE_SETTINGS
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), junk), min_size=1, max_size=4))
def test_several_mutations_are_parsed_or_refused(changes):
    data = copy.deepcopy(EXAMPLE_DATA)
    for path, value in changes:
        try:
            get(data, path[:-1])[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    check_outcome(dump(data))


# --- (c) generated DAG plans -----------------------------------------------------------------------

BASE = dt.date(2030, 1, 7)
HEADER = {
    "helsefellesskap": "Helsefellesskapet",
    "revision": "Revisjon",
    "coordinators": [{"name": "Sekretariatet", "email": "s@example.no"}],
    "documents": [{"key": "avtale", "title": "Avtale"}],
    "parties": [{"name": "St. Olavs hospital HF", "kind": "health_trust", "org_number": "883974832", "email": "p@example.no", "body": "Styret"}],
    "forums": [{"key": "ASU", "name": "Administrativt samarbeidsutvalg"}],
}


def stage_spec(i: int, kind: str) -> dict[str, Any]:
    start = BASE + dt.timedelta(days=28 * i)
    spec: dict[str, Any] = {"key": f"s{i}", "kind": kind}
    match kind:
        case "draft":
            spec["due"] = start
        case "hearing":
            spec.update(opens=start, deadline=start + dt.timedelta(days=14))
        case "forum_approval":
            spec.update(forums=["ASU"], meeting=start)
        case "political_treatment":
            spec["deadline"] = start
    return spec


@st.composite
def dag_plans(draw) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A plan whose stages only come after earlier ones, and its expected `after` graph."""
    n = draw(st.integers(1, 8))
    stages, expected = [], {}
    for i in range(n):
        spec = stage_spec(i, draw(st.sampled_from(["draft", "hearing", "forum_approval", "political_treatment"])))
        if draw(st.booleans()):
            expected[spec["key"]] = [f"s{i - 1}"] if i else []
        else:
            spec["after"] = [f"s{j}" for j in sorted(draw(st.sets(st.integers(0, i - 1), max_size=i)))] if i else []
            expected[spec["key"]] = spec["after"]
        stages.append(spec)
    return {**HEADER, "stages": stages}, expected


def descendants(graph: dict[str, list[str]], key: str) -> set[str]:
    found, frontier = set(), [key]
    while frontier:
        current = frontier.pop()
        for other, preds in graph.items():
            if current in preds and other not in found:
                found.add(other)
                frontier.append(other)
    return found


@SETTINGS
@given(dag_plans())
def test_acyclic_plans_are_accepted(generated):
    data, expected = generated
    checked = parse_plan(dump(data))
    assert checked.plan.stage_after() == expected


@SETTINGS
@given(dag_plans(), st.data())
def test_a_back_edge_closing_a_cycle_is_refused(generated, data):
    plan, graph = generated
    pairs = [(a, b) for a in graph for b in sorted(descendants(graph, a))]
    assume(pairs)
    first, last = data.draw(st.sampled_from(pairs))
    index = int(first[1:])
    plan["stages"][index]["after"] = graph[first] + [last]
    graph = dict(graph, **{first: graph[first] + [last]})

    outcome = check_outcome(dump(plan))
    assert isinstance(outcome, PlanInvalid)
    [problem] = outcome.problems
    assert problem.message.startswith("cycle in after: ")
    cycle = problem.message.removeprefix("cycle in after: ").split(" → ")
    assert problem.place == f"stages[{int(cycle[0][1:])}].after"
    assert len(cycle) >= 2 and cycle[0] == cycle[-1]
    assert all(a in graph[b] for a, b in zip(cycle, cycle[1:])), cycle


# --- plan dates and organisation numbers ---------------------------------------------------------

plan_days = st.dates(dt.date(MIN_YEAR, 1, 1), dt.date(MAX_YEAR, 12, 31))
months = st.builds(PlanDate, st.integers(MIN_YEAR, MAX_YEAR), st.integers(1, 12))
days = plan_days.map(PlanDate.parse)


@SETTINGS
@given(plan_days)
def test_a_day_round_trips(day):
    parsed = PlanDate.parse(day.isoformat())
    assert (parsed.exact, parsed.as_date(), str(parsed)) == (True, day, day.isoformat())
    assert PlanDate.parse(str(parsed)) == parsed == PlanDate.parse(day)


@SETTINGS
@given(months)
def test_a_month_round_trips(month):
    text = str(month)
    assert re.fullmatch(r"\d{4}-\d{2}", text)
    parsed = PlanDate.parse(text)
    assert parsed == month and parsed.as_date() is None
    assert parsed.first_day == dt.date(month.year, month.month, 1)
    assert parsed.last_day.month == month.month
    if parsed.last_day < dt.date.max:
        assert (parsed.last_day + dt.timedelta(days=1)).day == 1


@SETTINGS
@given(months | days, months | days)
def test_plan_dates_sort_as_their_text(a, b):
    assert (a < b) == (str(a) < str(b))
    assert (a == b) == (str(a) == str(b))
    assert sorted([a, b]) == sorted([a, b], key=str)


@SETTINGS
@given(plan_days)
def test_a_month_sorts_before_its_days(day):
    month, exact = PlanDate(day.year, day.month), PlanDate.parse(day)
    assert month < exact and exact > month and month != exact
    assert min(exact, month) is month and max(month, exact) is exact


WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


@SETTINGS
@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_org_number_has_one_check_digit_unless_it_would_be_ten(body):
    remainder = sum(int(d) * w for d, w in zip(body, WEIGHTS)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    valid = [d for d in "0123456789" if is_valid_org_number(body + d)]
    assert valid == ([] if check == 10 else [str(check)])


def check_digit(body: str) -> str | None:
    remainder = sum(int(d) * w for d, w in zip(body, WEIGHTS)) % 11
    return None if remainder == 1 else str((11 - remainder) % 11)


def spaced(digits: str, draw) -> str:  # noqa: ANN001
    return "".join(d + draw(st.sampled_from(["", "", " "])) for d in digits)


@st.composite
def org_number_texts(draw) -> str:
    """Valid numbers (spaced or not), valid ones with one character changed, and any text."""
    body = draw(st.text(alphabet="0123456789", min_size=8, max_size=8).filter(lambda b: check_digit(b) is not None))
    valid = body + check_digit(body)
    match draw(st.sampled_from(["valid", "changed", "text"])):
        case "valid":
            return spaced(valid, draw)
        case "changed":
            i = draw(st.integers(0, 8))
            return spaced(valid[:i] + draw(st.characters(codec="utf-8")) + valid[i + 1:], draw)
    return draw(st.text(max_size=12))


@SETTINGS
@given(org_number_texts())
@example("٨٨٣٩٧٤٨٣٢")
@example("88397483²")
@example("883 974 832")
def test_org_number_is_nine_ascii_digits_with_their_check_digit(text):
    digits = text.replace(" ", "")
    expected = bool(re.fullmatch(r"[0-9]{9}", digits)) and check_digit(digits[:8]) == digits[8]
    assert is_valid_org_number(text) is expected


# --- (d) raw YAML text: what a Python object cannot carry reaches the parser ---------------------

RAW = """\
helsefellesskap: Helsefellesskapet
revision: Revisjon
language: nb
moves_with_after: false
coordinators:
  - name: Sekretariatet
    email: s@example.no
documents:
  - key: avtale
    title: Avtale
parties:
  - name: St. Olavs hospital HF
    kind: health_trust
    org_number: "883974832"
    email: p@example.no
    body: Styret
forums:
  - key: ASU
    name: Administrativt samarbeidsutvalg
stages:
  - key: utkast
    kind: draft
    title: Utkast
    due: 2030-01-07
  - key: horing
    kind: hearing
    opens: 2030-02-04
    deadline: 2030-03-04
  - key: asu
    kind: forum_approval
    forums: [ASU]
    required: 1
    meeting: 2030-04-01
    moves_with_after: true
  - key: politisk
    kind: political_treatment
    deadline: 2030-05-06
reminders:
  before_deadline_days: [14, 3]
  overdue_every_days: 7
milestones:
  - date: 2030-01
    what: Oppstart
"""
RAW_LINES = RAW.splitlines()
FIELD_LINE = re.compile(r"^(\s*)(- )?([a-z_]+):(.*)$")


def raw_lines(*fields: str) -> list[int]:
    """0-based indexes of the lines giving one of `fields` (all fields if none named)."""
    return [i for i, line in enumerate(RAW_LINES) if (m := FIELD_LINE.match(line)) and (not fields or m[3] in fields)]


def with_value(i: int, value: str) -> str:
    """RAW with line `i`'s value replaced by `value` (YAML text)."""
    m = FIELD_LINE.match(RAW_LINES[i])
    return "\n".join([*RAW_LINES[:i], f"{m[1]}{m[2] or ''}{m[3]}: {value}", *RAW_LINES[i + 1:]]) + "\n"


def refused_at(text: str, line: int, place_end: str | None = None) -> PlanInvalid:
    """The text is refused, and one problem names `line` (1-based) and, if given, a place ending so."""
    outcome = check_outcome(text)
    assert isinstance(outcome, PlanInvalid), text
    assert any(p.line == line and (place_end is None or p.place.endswith(place_end)) for p in outcome.problems), outcome
    return outcome


def test_the_raw_plan_is_accepted():
    assert isinstance(check_outcome(RAW), CheckedPlan)


_LEAP = {y for y in range(0, 10000) if y % 4 == 0 and (y % 100 or y % 400 == 0)}
impossible_days = st.one_of(
    st.tuples(st.integers(0, 9999), st.sampled_from([2]), st.integers(30, 31)),
    st.tuples(st.integers(0, 9999).filter(lambda y: y not in _LEAP), st.just(2), st.just(29)),
    st.tuples(st.integers(0, 9999), st.sampled_from([4, 6, 9, 11]), st.just(31)),
    st.tuples(st.integers(0, 9999), st.sampled_from([0, *range(13, 100)]), st.integers(1, 28)),
    st.tuples(st.integers(0, 9999), st.integers(1, 12), st.sampled_from([0, *range(32, 100)])),
    st.tuples(st.integers(0, MIN_YEAR - 1) | st.integers(MAX_YEAR + 1, 9999), st.integers(1, 12), st.integers(1, 28)),
).map(lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}")
impossible_months = st.one_of(
    st.tuples(st.integers(0, 9999), st.sampled_from([0, *range(13, 100)])),
    st.tuples(st.integers(0, MIN_YEAR - 1) | st.integers(MAX_YEAR + 1, 9999), st.integers(1, 12)),
).map(lambda t: f"{t[0]:04d}-{t[1]:02d}")
DATE_LINES = raw_lines("due", "opens", "deadline", "meeting", "date")


@SETTINGS
@given(st.sampled_from(DATE_LINES), impossible_days | impossible_months, st.sampled_from(["{}", "'{}'", '"{}"']))
@example(DATE_LINES[1], "2024-02-30", "{}")
@example(DATE_LINES[1], "2024-13-01", "{}")
@example(DATE_LINES[1], "0000-01-01", "{}")
@example(DATE_LINES[2], "9999-12-31", "{}")
def test_an_impossible_date_is_refused_with_its_line(i, date, quoting):
    field = FIELD_LINE.match(RAW_LINES[i])[3]
    outcome = refused_at(with_value(i, quoting.format(date)), i + 1, f".{field}")
    assert any(date in p.message for p in outcome.problems), outcome


@SETTINGS
@given(st.sampled_from(raw_lines()), st.text(st.characters(codec="utf-8", exclude_categories=("C",)), max_size=8))
def test_a_repeated_key_is_refused_with_its_line(i, value):
    m = FIELD_LINE.match(RAW_LINES[i])
    repeat = f"{m[3]}: {yaml_string(value)}"
    if not m[4]:  # a key whose value follows on the next lines: the repeat goes before it
        lines = [*RAW_LINES[:i], m[1] + repeat, *RAW_LINES[i:]]
    else:
        lines = [*RAW_LINES[: i + 1], m[1] + ("  " if m[2] else "") + repeat, *RAW_LINES[i + 1:]]
    outcome = refused_at("\n".join(lines) + "\n", i + 2)
    assert any(p.place == "(file)" and f"the key {m[3]!r} is given twice (first on line {i + 1})" in p.message for p in outcome.problems), outcome


COERCIBLE = ["yes", "no", "on", "off", "y", "n", "Yes", "ON", "1", "0", "1.0", "'true'", '"1"', "0x1", "0o1", "1_0", "1:20", "~1", "!!binary eWVz", "!!int 1", "!!float 1"]
STRICT_LINES = raw_lines("moves_with_after", "required", "overdue_every_days")


@SETTINGS
@given(st.sampled_from(STRICT_LINES), st.sampled_from(COERCIBLE))
def test_no_bool_or_number_coercion(i, value):
    field = FIELD_LINE.match(RAW_LINES[i])[3]
    text = with_value(i, value)
    outcome = check_outcome(text)
    if field == "required" and value in ("1", "!!int 1"):  # a whole number of forums is what `required` takes
        assert isinstance(outcome, CheckedPlan)
    elif field == "overdue_every_days" and value in ("1", "!!int 1"):
        assert isinstance(outcome, CheckedPlan)
    else:
        refused_at(text, i + 1)


TEXT_LINES = raw_lines("helsefellesskap", "revision", "name", "title", "body", "email", "key", "what")
ONE_LINE = {"helsefellesskap", "revision", "name", "title", "body", "email", "key"}


@SETTINGS
@given(st.sampled_from(TEXT_LINES), st.text(min_size=1, max_size=20), st.sampled_from(["\n", "\r", "\r\n", "\u2028", "\x85"]))
def test_a_line_break_in_a_one_line_field_is_refused(i, words, newline):
    field = FIELD_LINE.match(RAW_LINES[i])[3]
    value = f"a{words}{newline}b{words}"
    text = with_value(i, yaml_string(value))
    outcome = check_outcome(text)
    if field in ONE_LINE:
        refused_at(text, i + 1, f".{field}" if field not in ("helsefellesskap", "revision") else field)
    else:  # `what` is free text: a spreadsheet cell may hold a line break
        assert isinstance(outcome, CheckedPlan), outcome


LIMIT = {"helsefellesskap": limits.MAX_NAME, "revision": limits.MAX_TITLE, "name": limits.MAX_NAME, "title": limits.MAX_TITLE,
         "body": limits.MAX_NAME, "key": limits.MAX_KEY, "what": limits.MAX_TEXT}


@SETTINGS
@given(st.sampled_from(TEXT_LINES), st.integers(1, 3000), st.sampled_from("aæ-"))
def test_an_over_long_value_is_refused(i, extra, letter):
    field = FIELD_LINE.match(RAW_LINES[i])[3]
    if field == "email":
        value = "a" * (limits.MAX_EMAIL - 10 + extra) + "@example.no"
    else:
        value = "a" + letter * (LIMIT[field] - 1 + extra)
    refused_at(with_value(i, value), i + 1, field)


def yaml_string(value: str) -> str:
    """A double-quoted YAML scalar; whatever is not printable as it is, escaped as \\UXXXXXXXX."""
    escaped = "".join(
        "\\" + c if c in '"\\' else c if c.isprintable() and c not in "\x85\u2028\u2029" else f"\\U{ord(c):08x}" for c in value
    )
    return f'"{escaped}"'


@settings(SETTINGS, max_examples=20)
@given(st.integers(1, 5000))
def test_a_file_over_the_size_limit_is_refused(extra):
    text = RAW + "#" * (limits.MAX_PLAN_BYTES - len(RAW.encode()) + extra - 1) + "\n"
    assert len(text.encode()) == limits.MAX_PLAN_BYTES + extra
    outcome = check_outcome(text)
    assert isinstance(outcome, PlanInvalid) and "at most 1048576" in outcome.problems[0].message


@SETTINGS
@given(st.integers(0, len(RAW)), st.integers(0, 30),
       st.lists(st.sampled_from(list(":-[]{}&*!|>'\"%@`#,?\n\t ") + ["<<", "!!binary", "yes", "2024-02-30", "*a", "&a"]), max_size=6))
def test_spliced_raw_text_is_parsed_or_refused(at, cut, inserted):
    check_outcome(RAW[:at] + "".join(inserted) + RAW[at + cut:])


@settings(SETTINGS, max_examples=10)  # each parses up to 6,000 stages; test_plan.py has 3,000 in a cycle by hand
@given(st.integers(2, 3000), st.data())
def test_a_long_chain_of_stages_is_checked_without_recursion(n, data):
    """The cycle check is iterative: thousands of stages in a chain, closed into a cycle or not."""
    stages = "".join(f"  - {{key: s{i}, kind: draft}}\n" for i in range(n))
    head = RAW[: RAW.index("stages:\n")]
    assert isinstance(check_outcome(head + "stages:\n" + stages), CheckedPlan)
    back = data.draw(st.integers(0, n - 1))
    closing = f"  - {{key: s{n}, kind: draft, after: [s{n - 1}]}}\n"
    cyclic = stages.replace(f"{{key: s{back}, kind: draft}}", f"{{key: s{back}, kind: draft, after: [s{n}]}}", 1)
    outcome = check_outcome(head + "stages:\n" + cyclic + closing)
    assert isinstance(outcome, PlanInvalid) and outcome.problems[0].message.startswith("cycle in after: ")


# --- dates a user gives lie within MIN_YEAR-MAX_YEAR -------------------------------------------


@SETTINGS
@given(st.dates())
def test_every_way_of_giving_a_date_holds_the_same_years(day):
    inside = MIN_YEAR <= day.year <= MAX_YEAR
    givens = [
        lambda: PlanDate.parse(day.isoformat()),
        lambda: PlanDate.parse(day),
        lambda: PlanDate.parse(day.isoformat()[:7]),
        lambda: parse_day(day.isoformat()),
        lambda: parse_day(f"{day.day}.{day.month}.{day.year:04d}"),
        lambda: parse_norwegian_date(f"{day.day}.{day.month}.{day.year:04d}"),
        lambda: parse_norwegian_date(f"{day.year:04d}-{day.month}"),
    ]
    for given_ in givens:
        if inside:
            given_()
        else:
            try:
                given_()
            except ValueError as exc:
                assert f"{MIN_YEAR}-{MAX_YEAR}" in str(exc) or "not a date" in str(exc), exc
            else:
                raise AssertionError(f"{day} accepted")
