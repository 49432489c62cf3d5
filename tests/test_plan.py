"""The plan file: the reference example, and every error and warning with its place and line."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from avtaleflyt.models.enums import Language, PartyKind, StageKind
from avtaleflyt.models.identifiers import is_valid_org_number
from avtaleflyt.models.plan import CheckedPlan, PlanInvalid, PlanProblem, parse_plan

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sondre-trondelag-2024.yaml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
EXAMPLE_DATA = yaml.safe_load(EXAMPLE_TEXT)

MINIMAL = """\
helsefellesskap: H
revision: Revisjon 1
coordinators: [{name: Sekretariatet, email: s@example.no}]
documents: [{key: avtale, title: Avtale}]
parties:
  - {name: St. Olavs hospital HF, kind: health_trust, org_number: "883974832", email: p@example.no, body: Styret}
forums: [{key: ASU, name: Administrativt samarbeidsutvalg}]
stages:
"""


def dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def mutated(change: Callable[[dict[str, Any]], Any]) -> str:
    data = copy.deepcopy(EXAMPLE_DATA)
    change(data)
    return dump(data)


def minimal(stages: str) -> str:
    return MINIMAL + stages


def problems(text: str) -> list[PlanProblem]:
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(text)
    return caught.value.problems


def only_problem(text: str) -> PlanProblem:
    found = problems(text)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def lines_of(text: str, needle: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]


def line_of(text: str, needle: str) -> int:
    hits = lines_of(text, needle)
    assert len(hits) == 1, f"{needle!r} on lines {hits}"
    return hits[0]


def stage_index(key: str) -> int:
    return next(i for i, s in enumerate(EXAMPLE_DATA["stages"]) if s["key"] == key)


# --- the reference example -----------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> CheckedPlan:
    return parse_plan(EXAMPLE_TEXT)


def test_example_parses_with_only_the_expected_warnings(example: CheckedPlan):
    hearing, political = stage_index("hoering-1"), stage_index("politisk")
    assert [(w.place, w.line) for w in example.warnings] == [
        (f"stages[{hearing}]", line_of(EXAMPLE_TEXT, "key: hoering-1")),
        (f"stages[{political}].deadline", line_of(EXAMPLE_TEXT, "deadline: 2025-03-01")),
        ("alternatives[0]", line_of(EXAMPLE_TEXT, "key: alt-2")),
    ]
    assert "July" in example.warnings[0].message
    assert example.warnings[1].message == "2025-03-01 is not a working day (lørdag)"
    assert "2024-11-10 is not a working day (søndag)" in example.warnings[2].message


def test_example_slug(example: CheckedPlan):
    assert example.plan.revision_slug == "revidering-av-samarbeidsavtalen-2024"


def test_example_parties(example: CheckedPlan):
    parties = example.plan.parties
    trusts = [p for p in parties if p.kind == PartyKind.health_trust]
    assert [(p.name, p.org_number, p.body) for p in trusts] == [("St. Olavs hospital HF", "883974832", "Styret")]
    assert len(parties) >= 21
    assert len({p.name for p in parties}) == len(parties)
    assert len({p.org_number for p in parties}) == len(parties)
    assert all(is_valid_org_number(p.org_number) for p in parties)
    assert all(p.email.endswith(".example.no") for p in parties)
    trondheim = next(p for p in parties if p.name == "Trondheim kommune")
    assert (trondheim.org_number, trondheim.body) == ("942110464", "Bystyret")
    nynorsk = sorted(p.name for p in parties if example.plan.party_language(p) == Language.nn)
    assert nynorsk == ["Heim kommune", "Rindal kommune"]


def test_example_stages_form_two_tracks_that_join(example: CheckedPlan):
    after = example.plan.stage_after()
    assert after == {
        "utkast": [],
        "hoeringsforslag": ["utkast"],
        "hoering-1": ["hoeringsforslag"],
        "utkast-ovrige": [],
        "hoeringsforslag-ovrige": ["utkast-ovrige"],
        "hoering-ovrige": ["hoeringsforslag-ovrige"],
        "sluttbehandling": ["hoering-1", "hoering-ovrige"],
        "politisk": ["sluttbehandling"],
        "signering": ["politisk"],
    }
    hearing = example.plan.stages[stage_index("hoering-1")]
    assert (str(hearing.opens), str(hearing.deadline), hearing.documents) == ("2024-06-20", "2024-09-10", ["overordnet", "retningslinje-1"])
    assert str(example.plan.stages[stage_index("politisk")].deadline) == "2025-03-01"


def test_example_has_exactly_one_three_of_four_forum_stage(example: CheckedPlan):
    quorum = [s for s in example.plan.stages if s.kind == StageKind.forum_approval and len(s.forums) == 4]
    assert [(s.key, s.required, str(s.meeting)) for s in quorum] == [("sluttbehandling", 3, "2024-11-27")]
    assert set(quorum[0].forums) <= {f.key for f in example.plan.forums}


def test_example_milestones_keep_days_and_months(example: CheckedPlan):
    by_date = {}
    for m in example.plan.milestones:
        by_date.setdefault(str(m.date), []).append(m)
    fu = by_date["2024-01-23"]
    assert [(m.responsible, "Oppgave- og ansvarsfordeling" in (m.about or "")) for m in fu] == [("FU", True)]
    assert [m.responsible for m in by_date["2025-01"]].count("PSU") == 2
    assert not by_date["2024-12"][0].date.exact
    assert {"AU", "FU", "ASU", "Fagråd", "PSU", "Kommunene"} == {m.responsible for m in example.plan.milestones}


# --- errors, each with its place and line -----------------------------------------------


def test_bad_org_number():
    text = mutated(lambda d: d["parties"][3].update(org_number="950280019"))
    problem = only_problem(text)
    assert problem.place == "parties[3].org_number"
    assert problem.message.startswith("not a valid organisation number")
    assert problem.line == line_of(text, "950280019")
    assert str(problem) == f"line {problem.line}: parties[3].org_number: {problem.message}"


def test_unknown_key():
    text = mutated(lambda d: d["parties"][0].update(colour="blå"))
    problem = only_problem(text)
    assert (problem.place, problem.message, problem.line) == ("parties[0].colour", "unknown key", line_of(text, "colour:"))


def test_unknown_key_named_like_a_stage_kind_keeps_its_place():
    text = mutated(lambda d: d.update(hearing=1))
    assert (only_problem(text).place, only_problem(text).line) == ("hearing", line_of(text, "hearing: 1"))
    text = mutated(lambda d: d["stages"][0].update(hearing=1))
    assert only_problem(text).place == "stages[0].hearing"


@pytest.mark.parametrize(("key", "place"), [("", "parties[0].''"), (" colour", "parties[0].' colour'"), ("\tcolour", "parties[0].'\\tcolour'")])
def test_an_invisible_unknown_key_is_quoted(key, place):
    assert only_problem(mutated(lambda d: d["parties"][0].update({key: 1}))).place == place


def test_unknown_forum():
    i = stage_index("sluttbehandling")
    text = mutated(lambda d: d["stages"][i]["forums"].__setitem__(1, "SSU"))
    problem = only_problem(text)
    assert problem.place == f"stages[{i}].forums[1]"
    assert problem.message == "unknown forum 'SSU'; known: ASU, AU, FU, PSU, fagråd"
    assert problem.line == line_of(text, "- SSU")


def test_unknown_forum_when_none_declared():
    text = minimal("  - {key: vedtak, kind: forum_approval, forums: [ASU]}\n").replace(
        "forums: [{key: ASU, name: Administrativt samarbeidsutvalg}]\n", ""
    )
    assert only_problem(text).message == "unknown forum 'ASU'; known: none declared under forums"


def test_unknown_document():
    i = stage_index("hoering-1")
    text = mutated(lambda d: d["stages"][i]["documents"].append("retningslinje-9"))
    problem = only_problem(text)
    assert problem.place == f"stages[{i}].documents[2]"
    assert problem.message == "unknown document 'retningslinje-9'; known: overordnet, ovrige-retningslinjer, retningslinje-1"
    assert problem.line == line_of(text, "- retningslinje-9")


def test_unknown_stage_in_after():
    i = stage_index("sluttbehandling")
    text = mutated(lambda d: d["stages"][i].update(after=["hoering-1", "hoering-2"]))
    problem = only_problem(text)
    assert problem.place == f"stages[{i}].after[1]"
    assert problem.message.startswith("unknown stage 'hoering-2'; known: utkast, hoeringsforslag, hoering-1")
    assert problem.line == line_of(text, "- hoering-2")


def test_stage_after_itself():
    i = stage_index("sluttbehandling")
    text = mutated(lambda d: d["stages"][i].update(after=["sluttbehandling"]))
    problem = only_problem(text)
    assert (problem.place, problem.message) == (f"stages[{i}].after[0]", "stage 'sluttbehandling' cannot come after itself")
    assert problem.line == line_of(text, "  - sluttbehandling")


def test_cycle_in_after_shows_the_cycle():
    text = mutated(lambda d: d["stages"][0].update(after=["hoering-1"]))
    problem = only_problem(text)
    assert problem.place == "stages[0].after"
    assert problem.message == "cycle in after: utkast → hoeringsforslag → hoering-1 → utkast"
    assert problem.line == lines_of(text, "after:")[0]


def test_deadline_before_the_hearing_opens():
    text = minimal("  - {key: hoering, kind: hearing, opens: 2024-06-20, deadline: 2024-06-10}\n")
    problem = only_problem(text)
    assert (problem.place, problem.message) == ("stages[0].deadline", "2024-06-10 is before the hearing opens (2024-06-20)")
    assert problem.line == len(text.splitlines())


def test_stage_before_the_stage_it_comes_after():
    text = minimal("  - {key: utkast, kind: draft, due: 2024-09-01}\n  - {key: vedtak, kind: forum_approval, forums: [ASU], meeting: 2024-08-28}\n")
    problem = only_problem(text)
    assert problem.place == "stages[1]"
    assert problem.message == "starts 2024-08-28, before stage 'utkast' it comes after ends (2024-09-01)"


def test_month_dates_overlap_their_days():
    text = minimal("  - {key: utkast, kind: draft, due: 2024-09}\n  - {key: vedtak, kind: forum_approval, forums: [ASU], meeting: 2024-09-02}\n")
    assert parse_plan(text).plan.stages[0].due.exact is False
    text = minimal("  - {key: hoering, kind: hearing, opens: 2024-11, deadline: 2024-11-20}\n")
    assert str(parse_plan(text).plan.stages[0].opens) == "2024-11"


def test_required_larger_than_the_forums():
    i = stage_index("sluttbehandling")
    text = mutated(lambda d: d["stages"][i].update(required=5))
    problem = only_problem(text)
    assert (problem.place, problem.message) == (f"stages[{i}].required", "5 approvals required but only 4 forums named")
    assert problem.line == line_of(text, "required: 5")


@pytest.mark.parametrize("value", [0, True, "two", 2.5, None])
def test_required_must_be_all_or_a_count(value):
    text = minimal(f"  - {{key: vedtak, kind: forum_approval, forums: [ASU], required: {yaml.safe_dump(value).splitlines()[0]}}}\n")
    problem = only_problem(text)
    assert (problem.place, problem.message) == ("stages[0].required", "expected `all` or a whole number of forums (1 or more)")


def test_forum_named_twice():
    text = minimal("  - {key: vedtak, kind: forum_approval, forums: [ASU, ASU]}\n")
    assert (only_problem(text).place, only_problem(text).message) == ("stages[0].forums", "a forum is named twice")


def test_duplicate_stage_keys():
    text = minimal("  - {key: utkast, kind: draft}\n  - {key: utkast, kind: draft}\n")
    problem = only_problem(text)
    assert (problem.place, problem.message) == ("stages[1].key", "'utkast' repeats stages[0]")
    assert problem.line == len(text.splitlines())


def test_duplicate_party_names_ignore_case():
    text = mutated(lambda d: d["parties"][5].update(name="malvik KOMMUNE"))
    problem = only_problem(text)
    assert (problem.place, problem.message) == ("parties[5].name", "'malvik KOMMUNE' repeats parties[2]")
    assert problem.line == line_of(text, "malvik KOMMUNE")


def test_duplicate_org_numbers():
    text = mutated(lambda d: d["parties"][4].update(org_number=d["parties"][3]["org_number"]))
    problem = only_problem(text)
    assert (problem.place, problem.message) == ("parties[4].org_number", "'950280018' repeats parties[3]")


def test_no_health_trust():
    text = mutated(lambda d: d["parties"].pop(0))
    problem = only_problem(text)
    assert problem.place == "parties"
    assert problem.message.startswith("no party of kind health_trust")
    assert problem.line == line_of(text, "parties:")


def test_invalid_yaml():
    problem = only_problem("revision: [unclosed\nparties: x\n")
    assert problem.place == "(file)"
    assert problem.message.startswith("not valid YAML: expected ',' or ']'")
    assert problem.line == 2


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n", "42\n"])
def test_not_a_mapping(text):
    problem = only_problem(text)
    assert (problem.place, problem.line) == ("(file)", None)
    assert problem.message.startswith("expected a mapping")


def test_recursive_alias_is_a_problem_not_a_crash():
    problem = only_problem("helsefellesskap: &x {a: *x}\n")
    assert (problem.place, problem.message, problem.line) == ("(file)", "not valid YAML: an alias refers to the value it is part of", 1)


def test_deep_nesting_is_a_problem_not_a_crash():
    problem = only_problem("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert (problem.place, problem.message) == ("(file)", "not valid YAML: nested too deeply")


def test_bad_month():
    text = mutated(lambda d: d["milestones"][0].update(date="2024-13"))
    problem = only_problem(text)
    assert (problem.place, problem.message) == ("milestones[0].date", "'2024-13': month must be 01-12")
    assert problem.line == line_of(text, "2024-13")


def test_bad_day():
    text = mutated(lambda d: d["milestones"][0].update(date="2024-02-30"))
    problem = only_problem(text)
    assert problem.place == "milestones[0].date"
    assert problem.message.startswith("'2024-02-30' is not a real date")
    assert problem.line == line_of(text, "2024-02-30")


@pytest.mark.parametrize("value", ["30.02.2024", "0000-05", "2024-1-5", "neste uke"])
def test_other_bad_dates(value):
    text = minimal(f"  - {{key: politisk, kind: political_treatment, deadline: '{value}'}}\n")
    problem = only_problem(text)
    assert problem.place == "stages[0].deadline"
    assert repr(value) in problem.message


def test_a_time_is_not_a_date():
    text = minimal("  - {key: politisk, kind: political_treatment, deadline: 2025-03-03T10:00:00}\n")
    assert only_problem(text).message == "expected a date (YYYY-MM-DD) or a month (YYYY-MM), not a time"


@pytest.mark.parametrize("email", ["postmottak(at)malvik.no", "postmottak@malvik", "a b@malvik.no", "<p@malvik.no>"])
def test_bad_email(email):
    text = mutated(lambda d: d["parties"][2].update(email=email))
    problem = only_problem(text)
    assert (problem.place, problem.message) == ("parties[2].email", "not a valid email address")


def test_party_name_with_a_newline():
    text = mutated(lambda d: d["parties"][2].update(name="Malvik\nkommune"))
    problem = only_problem(text)
    assert (problem.place, problem.message) == ("parties[2].name", "must be on one line")


def test_unknown_stage_kind_points_at_kind():
    text = mutated(lambda d: d["stages"][1].update(kind="review"))
    problem = only_problem(text)
    assert problem.place == "stages[1].kind"
    assert problem.message.startswith("unknown kind; expected one of draft, hearing")
    assert problem.line == line_of(text, "kind: review")


def test_missing_stage_kind():
    text = mutated(lambda d: d["stages"][1].pop("kind"))
    problem = only_problem(text)
    assert problem.place == "stages[1].kind"
    assert problem.message.startswith("required (kind:")


def test_missing_required_keys():
    found = problems("helsefellesskap: H\n")
    assert sorted(p.place for p in found) == ["coordinators", "documents", "parties", "revision", "stages"]
    assert {p.message for p in found} == {"required"}


def test_keys_may_use_norwegian_letters_but_not_spaces():
    assert parse_plan(minimal("  - {key: høring, kind: hearing, deadline: 2024-11-08}\n")).plan.stages[0].key == "høring"
    problem = only_problem(minimal("  - {key: høring 1, kind: hearing, deadline: 2024-11-08}\n"))
    assert problem.place == "stages[0].key"


def test_derived_slug_must_be_usable():
    problem = only_problem(mutated(lambda d: d.update(revision="???")))
    assert problem.place == "revision"
    assert "slug ''" in problem.message
    problem = only_problem(mutated(lambda d: d.update(revision="Revidering " * 10)))
    assert problem.place == "revision"
    assert parse_plan(mutated(lambda d: d.update(revision="Revidering " * 10, slug="revidering-2024"))).plan.revision_slug == "revidering-2024"


def test_slug_is_derived_with_norwegian_letters_transliterated():
    plan = parse_plan(mutated(lambda d: d.update(revision="Høring av øvrige retningslinjer, Trøndelag 2025"))).plan
    assert plan.revision_slug == "horing-av-ovrige-retningslinjer-trondelag-2025"


def test_after_defaults_to_the_stage_before():
    plan = parse_plan(minimal("  - {key: a, kind: draft}\n  - {key: b, kind: draft}\n  - {key: c, kind: draft, after: []}\n  - {key: d, kind: draft}\n")).plan
    assert plan.stage_after() == {"a": [], "b": ["a"], "c": [], "d": ["c"]}


# --- all problems at once -----------------------------------------------------------------


def test_schema_problems_are_all_reported_at_once():
    def change(d):
        d["parties"][3]["org_number"] = "950280019"
        d["parties"][0]["colour"] = "blå"
        d["parties"][2]["email"] = "malvik"
        d["milestones"][1]["date"] = "2024-13"
        del d["revision"]

    assert sorted(p.place for p in problems(mutated(change))) == [
        "milestones[1].date",
        "parties[0].colour",
        "parties[2].email",
        "parties[3].org_number",
        "revision",
    ]


def test_cross_field_problems_are_all_reported_at_once():
    slutt, hoering = stage_index("sluttbehandling"), stage_index("hoering-1")

    def change(d):
        d["stages"][slutt]["forums"][1] = "SSU"
        d["stages"][slutt]["required"] = 5
        d["stages"][hoering]["documents"].append("retningslinje-9")
        d["stages"][hoering]["after"] = ["hoeringsforslag", "finnes-ikke"]
        d["parties"][5]["name"] = "Malvik kommune"
        d["parties"].append(dict(d["parties"][1], name="Tydal og Trondheim"))

    found = problems(mutated(change))
    assert sorted(p.place for p in found) == sorted(
        [
            f"stages[{slutt}].forums[1]",
            f"stages[{slutt}].required",
            f"stages[{hoering}].documents[2]",
            f"stages[{hoering}].after[1]",
            "parties[5].name",
            f"parties[{len(EXAMPLE_DATA['parties'])}].org_number",
        ]
    )
    assert all(p.line for p in found)


# --- warnings -------------------------------------------------------------------------------


def warnings_of(text: str) -> list[tuple[str, str]]:
    return [(w.place, w.message) for w in parse_plan(text).warnings]


def test_deadline_on_a_public_holiday():
    text = minimal("  - {key: politisk, kind: political_treatment, deadline: 2024-12-25}\n")
    assert warnings_of(text) == [("stages[0].deadline", "2024-12-25 is not a working day (Første juledag)")]
    assert parse_plan(text).warnings[0].line == len(text.splitlines())


@pytest.mark.parametrize(
    ("field", "stage", "day", "why"),
    [
        ("due", "kind: draft", "2024-09-08", "søndag"),
        ("meeting", "kind: forum_approval, forums: [ASU]", "2025-04-17", "Skjærtorsdag"),
        ("deadline", "kind: political_treatment", "2025-05-17", "lørdag"),
        ("deadline", "kind: political_treatment", "2025-05-01", "Arbeidernes dag"),
    ],
)
def test_non_working_days_are_named(field, stage, day, why):
    text = minimal(f"  - {{key: s, {stage}, {field}: {day}}}\n")
    assert warnings_of(text) == [(f"stages[0].{field}", f"{day} is not a working day ({why})")]


def test_working_days_and_months_give_no_warning():
    text = minimal("  - {key: a, kind: draft, due: 2024-12}\n  - {key: b, kind: political_treatment, deadline: 2025-03-03}\n")
    assert warnings_of(text) == []


@pytest.mark.parametrize(("deadline", "days"), [("2024-10-15", 19), ("2024-11-06", 41)])
def test_hearing_shorter_than_six_weeks(deadline, days):
    text = minimal(f"  - {{key: hoering, kind: hearing, opens: 2024-09-26, deadline: {deadline}}}\n")
    assert warnings_of(text) == [
        ("stages[0].deadline", f"the hearing runs {days} days; Utredningsinstruksen asks for at least 6 weeks")
    ]


def test_hearing_of_six_weeks_is_enough():
    text = minimal("  - {key: hoering, kind: hearing, opens: 2024-09-26, deadline: 2024-11-07}\n")
    assert warnings_of(text) == []


def test_hearing_over_july():
    text = minimal("  - {key: hoering, kind: hearing, opens: 2024-06-20, deadline: 2024-09-10}\n")
    assert warnings_of(text) == [("stages[0]", "the hearing runs over the July holiday; consider a longer deadline")]


def test_hearing_ending_before_mid_july_is_not_over_july():
    text = minimal("  - {key: hoering, kind: hearing, opens: 2024-05-02, deadline: 2024-07-12}\n")
    assert warnings_of(text) == []


def test_warnings_do_not_stop_a_plan():
    text = minimal(
        "  - {key: hoering, kind: hearing, opens: 2024-06-20, deadline: 2024-07-20}\n"
        "  - {key: politisk, kind: political_treatment, deadline: 2024-12-25}\n"
    )
    checked = parse_plan(text)
    assert [s.key for s in checked.plan.stages] == ["hoering", "politisk"]
    assert sorted(w.place for w in checked.warnings) == ["stages[0]", "stages[0].deadline", "stages[0].deadline", "stages[1].deadline"]


# --- bad input: an error with its line, never a traceback (issue 10) -----------------------------


@pytest.mark.parametrize("date", ["2024-02-30", "2024-13-01", "0000-01-01", "9999-12-31", "1899-12-31", "2201-01"])
def test_an_impossible_or_far_date_is_refused_with_its_line(date):
    text = minimal(f"  - {{key: politisk, kind: political_treatment, deadline: {date}}}\n")
    problem = only_problem(text)
    assert (problem.place, problem.line) == ("stages[0].deadline", lines_of(text, date)[0])
    assert date in problem.message


def test_a_repeated_key_is_refused_with_both_lines():
    text = minimal("  - key: politisk\n    kind: political_treatment\n    deadline: 2030-03-01\n    deadline: 2030-04-01\n")
    problem = only_problem(text)
    first, second = lines_of(text, "deadline:")
    assert (problem.place, problem.line) == ("(file)", second)
    assert problem.message == f"not valid YAML: the key 'deadline' is given twice (first on line {first})"


@pytest.mark.parametrize(
    ("field", "value"),
    [("moves_with_after", "yes"), ("moves_with_after", "on"), ("moves_with_after", "1"), ("required", "yes"), ("required", "1.0"), ("required", "true")],
)
def test_no_bool_or_number_coercion(field, value):
    text = minimal(f"  - {{key: asu, kind: forum_approval, forums: [ASU], {field}: {value}}}\n")
    assert only_problem(text).place == f"stages[0].{field}"


def test_norway_stays_no():
    problem = only_problem(MINIMAL.replace("revision: Revisjon 1\n", "revision: Revisjon 1\nlanguage: no\n") + "  - {key: d, kind: draft}\n")
    assert (problem.place, problem.message) == ("language", "Input should be 'nb' or 'nn'")


def test_binary_is_refused():
    text = MINIMAL.replace("helsefellesskap: H", "helsefellesskap: !!binary SA==") + "  - {key: d, kind: draft}\n"
    problem = only_problem(text)
    assert (problem.place, problem.line) == ("(file)", 1)
    assert "'tag:yaml.org,2002:binary' is not allowed" in problem.message


def test_lengths_and_line_breaks_are_bounded():
    long_email = "a" * 244 + "@example.no"  # 255 characters
    text = mutated(lambda d: (
        d["parties"][1].update(email=long_email, body="B" * 201),
        d["coordinators"][0].update(name="Sekretariatet\rX"),
        d["documents"][0].update(title="T" * 301),
        d["milestones"][0].update(about="A" * 501),
    ))
    found = {p.place: p.message for p in problems(text)}
    assert found["parties[1].email"] == "255 characters; an email address has at most 254"
    assert found["parties[1].body"] == "String should have at most 200 characters"
    assert found["coordinators[0].name"] == "must be on one line"
    assert found["documents[0].title"] == "String should have at most 300 characters"
    assert found["milestones[0].about"] == "String should have at most 500 characters"


def test_a_file_over_a_mebibyte_is_refused():
    problem = only_problem(EXAMPLE_TEXT + "#" * (1024 * 1024) + "\n")
    assert problem.place == "(file)" and problem.message.endswith("bytes; a plan file has at most 1048576 (1 MiB)")


def test_aliases_that_expand_without_end_are_refused():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    problem = only_problem("\n".join(lines) + "\n")
    assert problem.message == "not valid YAML: the aliases expand to more than 250000 values"


def test_three_thousand_stages_in_a_cycle_are_refused_without_recursion():
    stages = "".join(f"  - {{key: s{i}, kind: draft}}\n" for i in range(3000))
    assert len(parse_plan(minimal(stages)).plan.stages) == 3000
    problem = only_problem(minimal(stages.replace("{key: s0, kind: draft}", "{key: s0, kind: draft, after: [s2999]}")))
    assert problem.message.startswith("cycle in after: ") and problem.place.endswith(".after")


def test_a_thousand_stages_shift_without_recursion():
    from avtaleflyt.models.shift import shift_plan

    def chain(first_due: str) -> str:
        days = [first_due] + [str(dt.date(2031, 1, 1) + dt.timedelta(days=i)) for i in range(1, 1200)]
        return MINIMAL.replace("stages:\n", "moves_with_after: true\nstages:\n") + "".join(f"  - {{key: s{i}, kind: draft, due: {d}}}\n" for i, d in enumerate(days))

    before = parse_plan(chain("2030-01-01"), dates_in_order=False).plan
    after = parse_plan(chain("2030-01-02"), dates_in_order=False).plan
    shifted = shift_plan(before, before, after, {})
    assert len(shifted.effective.stages) == 1200  # past the recursion limit; _changed_fields is quadratic


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"date": "9999-12-31"}, "date: '9999-12-31': the year must be 1900-2200"),
        ({"date": "2024-12-01", "case_no": "1" * 65}, "case_no: case number: 65 characters; at most 64"),
        ({"date": "2024-12-01", "case_no": "1\r\n2"}, "case_no: case number: must be on one line"),
        ({"action": "hearing_response", "outcome": None, "date": "2024-12-01", "note": "n" * 2001}, "note: note: 2001 characters; at most 2000"),
        ({"date": "2024-12-01", "signer": "Ola Nordmann"}, "signer: not a field of party_decision"),
    ],
)
def test_prefects_resume_form_holds_the_same_bounds(given, message):
    """The resume form (flows/inputs.py) takes any date and text: refused before anything is read or written."""
    from avtaleflyt.flows.inputs import RevisionInput
    from avtaleflyt.models.rules import DomainError
    from avtaleflyt.tasks.run_input import record_input

    event = RevisionInput(**({"action": "party_decision", "party": "Malvik", "outcome": "approved"} | given))
    with pytest.raises(DomainError) as caught:
        record_input(None, "any", event, actor="prefect-ui")  # no session: refused before it is used
    assert str(caught.value) == message
