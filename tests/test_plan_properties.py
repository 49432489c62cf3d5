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

from avtaleflyt.models.dates import PlanDate
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
REQUIRED_BY_KIND = {"draft": [], "hearing": ["deadline"], "forum_approval": ["forums"], "political_treatment": ["deadline"]}

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
ALL_MAPPINGS = mappings(EXAMPLE_DATA)
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


@EXAMPLE_SETTINGS
@given(st.permutations(EXAMPLE_DATA["stages"]))
def test_reordered_stages_are_parsed_or_refused(stages):
    data = copy.deepcopy(EXAMPLE_DATA)
    data["stages"] = stages
    outcome = check_outcome(dump(data))
    if isinstance(outcome, CheckedPlan):
        assert [s.key for s in outcome.plan.stages] == [s["key"] for s in stages]


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

months = st.builds(PlanDate, st.integers(1, 9999), st.integers(1, 12))
days = st.dates().map(PlanDate.parse)


@SETTINGS
@given(st.dates())
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
@given(st.dates())
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


@SETTINGS
@given(st.text(max_size=12))
@example("٨٨٣٩٧٤٨٣٢")
@example("88397483²")
@example("883 974 832")
def test_org_number_is_nine_ascii_digits(text):
    result = is_valid_org_number(text)
    assert isinstance(result, bool)
    if result:
        assert re.fullmatch(r"[0-9]{9}", text.replace(" ", ""))
