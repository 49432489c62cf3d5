"""A plan's YAML is read by libyaml where it cannot differ from the pure-Python reader.

`plan_yaml.load` tries PyYAML's C parser first (about 15x faster on the example) and reads a text
again with the pure-Python one when the C parser refuses it, or when it nests deeper than a plan
does. These tests hold the two to the same outcome: the same data and lines, or the same refusal.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from avtaleflyt.models import plan_yaml
from avtaleflyt.models.plan import PlanInvalid, parse_plan
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.yaml"))
needs_libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")


def outcome(read, text: str) -> tuple:
    """What reading `text` gives: the data and {place: line}, or the refusal as parse_plan words it."""
    try:
        data, node = read(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return ("refused", type(exc).__name__, str(getattr(exc, "problem", exc)), mark.line if mark else None)
    except RecursionError:
        return ("too deep",)
    return ("read", repr(data), plan_yaml.line_index(node) if node is not None else None)


def pure(text: str) -> tuple:
    return plan_yaml._load(plan_yaml.PlanLoader, text)


@needs_libyaml
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_an_example_is_read_by_libyaml_with_the_same_data_and_lines(path, monkeypatch):
    text = path.read_text(encoding="utf-8")
    expected = outcome(pure, text)
    constructed: list[str] = []

    class Counting(plan_yaml.PlanLoader):
        def __init__(self, stream):
            constructed.append("pure")
            super().__init__(stream)

    monkeypatch.setattr(plan_yaml, "PlanLoader", Counting)
    assert outcome(plan_yaml.load, text) == expected
    assert constructed == []


TOKENS = [
    "a", "b", "key", "ÆØÅ", "1", "0123", "1:20", "0x1F", "1e3", ".inf", "yes", "no", "~", "null", "true", "2024-02-30",
    ": ", ":", "- ", "-", "? ", "[", "]", "{", "}", ", ", ",", "&x ", "*x", "&y ", "*y", "!!str ", "!!binary ", "!!int ",
    "!t ", "<<: ", "#", " #c", "'", "''", '"', '\\"', "\\", "\\n", "|", "|-", ">", ">+", "---", "...", "%YAML 1.2\n",
    "%YAML 1.3\n", "%TAG ! tag:x,2000:\n", " ", "  ", "\t", "\n", "\n  ", "\n    ", "\n- ", "\r\n", "\r", "\x85",
    "\u2028", "\u2029", "\ufeff", "\x07", "\x00", "\ud800", "é", "😀", "@", "`", "%", "|2\n",
]


@needs_libyaml
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
@example("a: [b, {c: d}]\ne:\n- f\n- &x g\n- *x\n")
@example("a: 1\na: 2\n")
@example("a: &x {b: *x}\n")
@example("a: !!binary SA==\n")
@example("a: \"\\ud800\"\n")
@example("a:\tb\nc:\n\t- d\n")
@example("%YAML 1.3\n--- a\n")
@example("a: b\n---\nc: d\n")
@example("a: " + "[" * 100 + "]" * 100 + "\n")
@example("- " * 70 + "x\n")
# where libyaml and PyYAML were found to differ (plan_yaml._PURE_ONLY and _as_pure_reads_it)
@example("a: \\\t\n")
@example("a: >\t\n")
@example("a: b\r\ufeff")
@example("-\u2028\ufeff\u2028")
@example("a: |-#\n")
@example("---")
@example("a: !\n")
@example("a: {email: asu@ex? ample.no}\n")
@example("a: [c ?d]\n")
def test_yaml_text_gives_what_the_pure_reader_gives(text):
    assert outcome(plan_yaml.load, text) == outcome(pure, text)


def test_nesting_too_deep_for_libyaml_is_refused_not_a_crash():
    """libyaml composes recursively in C: 100,000 levels crash the process (a subprocess here)."""
    code = (
        "from avtaleflyt.models.plan import parse_plan, PlanInvalid\n"
        "try:\n"
        "    parse_plan('a: ' + '[' * 100000 + ']' * 100000 + '\\n')\n"
        "except PlanInvalid as exc:\n"
        "    print(exc.problems[0].message)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "not valid YAML: nested too deeply"), done.stderr[-2000:]


def depth(node: yaml.Node) -> int:
    children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else node.value
    return 1 + max(map(depth, children), default=0) if isinstance(node, yaml.CollectionNode) else 1


def test_the_depth_bound_is_not_below_the_depth():
    for text in ["a: b\n", "- - - - x\n", "a:\n- b:\n  - c: [d, {e: [f]}]\n", "[[[[]]]]\n", "? - a\n: b\n"]:
        node = yaml.compose(text, Loader=plan_yaml.PlanLoader)
        assert depth(node) <= plan_yaml._depth_bound(text), text



@pytest.mark.parametrize("text", ["!!seq a: b\n", "? !!seq a\n: b\n", "!!map a: 1\n", "a: {!!seq b: c}\n"])
def test_a_key_that_is_not_text_is_refused_not_a_crash(text):
    """A tagged key constructs to a list or a dict: a refusal with its line, not a TypeError."""
    with pytest.raises(PlanInvalid) as refused:
        parse_plan(text)
    assert [(p.place, p.message, p.line) for p in refused.value.problems] == [("(file)", "not valid YAML: found unhashable key", 1)]
