"""Reading a plan file's YAML strictly, with the line of every value. Pure.

The plan is read with YAML 1.2's core schema rather than PyYAML's YAML 1.1 one:
`yes`, `no`, `on` and `off` stay text (`language: no` is not `False`), `0123` is
not octal, `1:20` is not a number of seconds, and a date stays text for `PlanDate`
to check with its line (PyYAML's own date resolver raises a bare ValueError on
`2024-02-30`). Tags beyond the core schema (`!!binary`, `!!set`, `!!timestamp`,
`!!python/...`), repeated keys and aliases that expand without end are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

import yaml
from yaml.constructor import ConstructorError

from .enums import StageKind
from .limits import MAX_YAML_VALUES

_CORE = "tag:yaml.org,2002:"


class _PlanRules:
    """What a plan's loader adds to PyYAML's safe one: repeated keys refused."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == _CORE + "merge" or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = self.construct_object(key_node)
                try:
                    hash(key)
                except TypeError:  # `!!seq a: b`: a tagged scalar made a list
                    raise ConstructorError("while reading a mapping", node.start_mark, "found unhashable key", key_node.start_mark) from None
                if key in seen:
                    raise ConstructorError(
                        "while reading a mapping", node.start_mark,
                        f"the key {_short(key)!r} is given twice (first on line {seen[key].start_mark.line + 1})", key_node.start_mark,
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)  # type: ignore[misc]


class PlanLoader(_PlanRules, yaml.SafeLoader):
    yaml_implicit_resolvers: ClassVar[dict] = {}  # filled below: the core schema only


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


for _tag, _pattern, _first in [
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^[-+]?[0-9]+$", "-+0123456789"),
    ("float", r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$", "-+0123456789."),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("merge", r"^(?:<<)$", "<"),
]:
    PlanLoader.add_implicit_resolver(_CORE + _tag, re.compile(_pattern), list(_first))


def _scalar(kind: str, convert: Callable[[str], Any]) -> Callable[[PlanLoader, yaml.Node], Any]:
    def construct(loader: PlanLoader, node: yaml.Node) -> Any:
        value = loader.construct_scalar(node)
        try:
            return convert(value)
        except (KeyError, ValueError):
            raise ConstructorError(None, None, f"{_short(value)!r} is not {kind}", node.start_mark) from None

    return construct


def _refused(loader: PlanLoader, node: yaml.Node) -> Any:
    raise ConstructorError(None, None, f"the tag {node.tag!r} is not allowed in a plan", node.start_mark)


PlanLoader.add_constructor(_CORE + "bool", _scalar("true or false", lambda v: {"true": True, "false": False}[v.lower()]))
PlanLoader.add_constructor(_CORE + "int", _scalar("a whole number", lambda v: int(v, 10)))
PlanLoader.add_constructor(_CORE + "float", _scalar("a number", float))
for _tag in ("binary", "timestamp", "set", "omap", "pairs"):
    PlanLoader.add_constructor(_CORE + _tag, _refused)
PlanLoader.add_constructor(None, _refused)


# The same rules on libyaml's parser (CSafeLoader), when PyYAML has it: ~8x faster on the example,
# which was most of `plan check`'s time after its imports. It is used only where it reads as the
# pure-Python one does: a text that might differ (pure_only), that it refuses, that is not a
# mapping (refused anyway) or that nests deeper than MAX_FAST_DEPTH is read again by PlanLoader, so
# every refusal, and "nested too deeply", is worded and placed as before. libyaml composes
# recursively in C without a depth check (100,000 levels crash the process), so a text that could
# nest deeper than MAX_C_DEPTH never reaches it.
_CLoader = getattr(yaml, "CSafeLoader", None)
if _CLoader is not None:

    class _FastPlanLoader(_PlanRules, _CLoader):  # type: ignore[valid-type, misc]
        yaml_implicit_resolvers = PlanLoader.yaml_implicit_resolvers
        yaml_constructors = PlanLoader.yaml_constructors
        yaml_multi_constructors = PlanLoader.yaml_multi_constructors

MAX_FAST_DEPTH = 64  # a plan nests 5 deep; the pure loader reaches Python's recursion limit at ~500
MAX_C_DEPTH = 3000  # ~1 MB of C stack (measured: a 1 MB thread stack composes 3,000 levels)
# Where the two readers were found to differ (tests/test_plan_yaml.py): tabs, a BOM or a line break
# other than \n (libyaml reads `a:\t-` and `\r\ufeff` where PyYAML refuses them or reads them
# otherwise), a block scalar header followed by anything but a space or a line break (`|-#`), and
# the bare tag `!` (`a: !` is '' to libyaml, None to PyYAML).
_PURE_ONLY_CHARACTERS = "\t\r\x85\u2028\u2029\ufeff"
_AFTER_BLOCK_HEADER = re.compile(r"[-+0-9]*[^-+0-9 \n]")  # after `|` or `>`
_BARE_TAG = re.compile(r"(?:^|[\s,\[\]{}])!(?=$|[\s,\[\]{}])", re.MULTILINE)


def pure_only(text: str) -> bool:
    """Whether `text` has one of the above. Searched piece by piece, each only where its first
    character occurs: one regular expression for all three took ~8% of reading the example."""
    if any(c in text for c in _PURE_ONLY_CHARACTERS):
        return True
    for header in "|>":
        at = text.find(header)
        while at != -1:
            if _AFTER_BLOCK_HEADER.match(text, at + 1):
                return True
            at = text.find(header, at + 1)
    return "!" in text and _BARE_TAG.search(text) is not None


def load(text: str) -> tuple[Any, yaml.Node | None]:
    """The YAML document and its node tree; raises yaml.YAMLError (with a mark) or RecursionError."""
    if _CLoader is not None and not pure_only(text) and _depth_bound(text) <= MAX_C_DEPTH:
        read = _read_fast(text)
        if read is not None:
            return read
    return _load(PlanLoader, text)


def _read_fast(text: str) -> tuple[Any, yaml.Node] | None:
    try:
        data, node = _load(_FastPlanLoader, text)
    except Exception:  # noqa: BLE001 - refused (or not encodable as UTF-8): the pure loader says why
        return None
    return (data, node) if isinstance(node, yaml.MappingNode) and _as_pure_reads_it(node) else None


def _load(loader_class: type, text: str) -> tuple[Any, yaml.Node | None]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(node)
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def _depth_bound(text: str) -> int:
    """At least the deepest nesting `text` can have: each flow level opens a bracket, and a block
    level starts right of its parent's column or, at most every other level, at the same one."""
    longest = max(map(len, text.splitlines()), default=0)
    return text.count("[") + text.count("{") + 2 * longest + 2


def _as_pure_reads_it(root: yaml.Node) -> bool:
    """No deeper than MAX_FAST_DEPTH, and no plain scalar inside [...] or {...} holding a `?`: PyYAML
    ends such a scalar at the `?` (YAML 1.1), libyaml reads on (`{email: a?b}`). Iterative; an alias
    node is looked at where it is anchored."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, in_flow = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if depth > MAX_FAST_DEPTH:
            return False
        if isinstance(node, yaml.ScalarNode):
            if in_flow and not node.style and "?" in node.value:  # plain: None (PyYAML), "" (libyaml)
                return False
            continue
        in_flow = in_flow or bool(node.flow_style)
        children = [child for pair in node.value for child in pair] if isinstance(node, yaml.MappingNode) else node.value
        stack.extend((child, depth + 1, in_flow) for child in reversed(children))
    return True


def _check_expansion(root: yaml.Node) -> None:
    """Refuse aliases that refer to themselves or expand past MAX_YAML_VALUES values."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, open_: set[int]) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_:
            raise ConstructorError(None, None, "an alias refers to the value it is part of", node.start_mark)
        open_.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        for child in children:
            total += size(child, open_)
            if total > MAX_YAML_VALUES:
                raise ConstructorError(None, None, f"the aliases expand to more than {MAX_YAML_VALUES} values", child.start_mark)
        open_.discard(id(node))
        sizes[id(node)] = total
        return total

    size(root, set())


def line_index(node: yaml.Node, path: tuple[Any, ...] = (), out: dict | None = None, seen: set[int] | None = None) -> dict:
    """{path in the data: its line}, e.g. ("stages", 2, "deadline") → 41."""
    out = {} if out is None else out
    seen = set() if seen is None else seen
    out[path] = node.start_mark.line + 1
    if id(node) in seen:  # an alias: its node is indexed where it is anchored
        return out
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            line_index(value_node, path + (key_node.value,), out, seen)
            out[path + (key_node.value,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            line_index(item, path + (i,), out, seen)
    return out


# --- places in the file: `stages[2].deadline`, and its line ----------------------------


def without_tag(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's tag of the stage union (`stages, 0, hearing, deadline`): not a place in the file."""
    kinds = {k.value for k in StageKind}
    return tuple(
        p for i, p in enumerate(loc) if not (i >= 2 and loc[i - 2] == "stages" and isinstance(loc[i - 1], int) and p in kinds)
    )


def place(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in without_tag(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if part and part.isprintable() and part.strip() == part else repr(part)
            out += f".{name}" if out else name
    return out or "(top)"


def line_of(lines: dict, loc: tuple[Any, ...]) -> int | None:
    loc = without_tag(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())


def loc_of(place: str) -> tuple[Any, ...]:
    parts: list[Any] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", place):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return tuple(parts)
