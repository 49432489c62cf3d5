"""The stage-kind registry: every kind has its rules (models/stages/) and its side effects
(tasks/stages/), and nothing outside the registry names a kind.

Pure: no database, no server.
"""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest

from avtaleflyt.models.enums import StageKind
from avtaleflyt.models.plan import Plan
from avtaleflyt.models.stages import KINDS, rules_for
from avtaleflyt.tasks.stages import EFFECTS, effects_for

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("models", "tasks", "flows", "avtaleflyt")
# Where a kind may be named: the enum itself and the kinds' own modules (migrations are not product code here).
ALLOWED = ("models/enums.py", "models/stages/", "tasks/stages/")


def test_every_kind_has_rules_and_effects():
    assert list(KINDS) == list(StageKind)
    assert EFFECTS.keys() == KINDS.keys()
    for kind in StageKind:
        assert rules_for(kind.value).kind is kind
        assert effects_for(kind).rules is rules_for(kind)


@pytest.mark.parametrize("kind", list(StageKind))
def test_a_kinds_schema_is_part_of_the_plan(kind: StageKind):
    rules = rules_for(kind)
    assert typing.get_args(rules.spec.model_fields["kind"].annotation) == (kind,)
    stages_union = typing.get_args(typing.get_args(Plan.model_fields["stages"].annotation)[0])[0]
    assert rules.spec in typing.get_args(stages_union)
    assert set(rules.dates) <= set(rules.spec.model_fields), "a kind's dates are fields of its schema"
    assert rules.party_dates <= set(rules.dates) and (rules.party_deadline is None or rules.party_deadline in rules.party_dates)
    assert set(rules.digest) <= set(rules.dates) and set(rules.date_words) <= set(rules.dates)


def test_every_command_of_every_kind_is_parsed_and_handled():
    from avtaleflyt.models.commands import COMMANDS
    from avtaleflyt.tasks.handlers import HANDLERS

    for rules in KINDS.values():
        for command in rules.commands:
            action = command.model_fields["action"].default
            assert COMMANDS[action] is command and command in HANDLERS


def test_the_run_states_are_distinct_and_ordered():
    assert len({r.awaiting for r in KINDS.values()}) == len(KINDS)
    assert len({r.rank for r in KINDS.values()}) == len(KINDS)


def test_kinds_that_ask_every_party_say_what_counts_as_an_answer():
    for rules in KINDS.values():
        if rules.first_status is not None:
            assert rules.answered and rules.first_status not in rules.answered


def _kind_members(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "StageKind" and node.attr in StageKind.__members__
    ]


def test_no_kind_is_named_outside_the_registry():
    found = []
    for top in PRODUCT:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith(ALLOWED):
                found += [f"{rel}:{line}: StageKind.{name}" for line, name in _kind_members(path)]
    assert found == []


# Where a kind's value may stand as text: the word catalogue (keyed by kind) and the CLI's command names.
TEXT_ALLOWED = (*ALLOWED, "models/wording.py", "avtaleflyt/cli/app.py")


def _kind_texts(path: Path) -> list[tuple[int, str]]:
    values = {k.value for k in StageKind}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(node.lineno, node.value) for node in ast.walk(tree) if isinstance(node, ast.Constant) and node.value in values]


def test_no_kind_is_compared_as_text_outside_the_registry():
    """`s.kind == "hearing"` is the same branch as `StageKind.hearing`: ask the kind's rules instead."""
    found = []
    for top in PRODUCT:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith(TEXT_ALLOWED):
                found += [f"{rel}:{line}: {value!r}" for line, value in _kind_texts(path)]
    assert found == []


def test_the_scan_finds_a_kind_named_outside_the_registry(tmp_path: Path):
    sample = tmp_path / "compose.py"
    sample.write_text("from x import StageKind\nif stage.kind == StageKind.hearing:\n    pass\n", encoding="utf-8")
    assert _kind_members(sample) == [(2, "hearing")]
    sample.write_text("if stage.kind == 'political_treatment':\n    pass\n", encoding="utf-8")
    assert _kind_texts(sample) == [(1, "political_treatment")]
