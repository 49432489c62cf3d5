"""A plan moved to another year: every date by the same number of days. Pure.

`rebase(text, start)` moves every date of a plan file (the stages' and the milestones')
so that the earliest stage date lands on `start`, and gives back the same text with
only those dates rewritten: comments, order, quoting and layout stay as they were. The
dates are found in the YAML's node tree and rewritten at their places in the text, not
dumped again. A month-only date (`2024-11`) moves to the month that holds its first
day moved by as many days. The result is read back and checked like `plan check`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel

from .dates import PlanDate
from .plan import CheckedPlan, PlanInvalid, PlanProblem, parse_plan
from .plan_yaml import PlanLoader, place

Loc = tuple[Any, ...]


@dataclass(frozen=True)
class Rebased:
    text: str
    days: int  # how far every date moved
    earliest: PlanDate  # the earliest stage date before
    moved: int  # how many dates were rewritten in the text
    checked: CheckedPlan  # the rebased plan, with its warnings


def shifted(date: PlanDate, days: int) -> PlanDate:
    """`date` moved by `days`; a month-only date to the month of its first day moved; a range's ends each; not set stays."""
    return date.shifted(days)


def plan_dates(value: Any, loc: Loc = ()) -> list[tuple[Loc, PlanDate]]:
    """Every date of a parsed plan with its place: (("stages", 0, "due"), 2024-06-18), ..."""
    if isinstance(value, PlanDate):
        return [(loc, value)]
    if isinstance(value, BaseModel):
        return [
            found
            for name, field in type(value).model_fields.items()
            for found in plan_dates(getattr(value, name), loc + (field.alias or name,))
        ]
    if isinstance(value, (list, tuple)):
        return [found for i, item in enumerate(value) for found in plan_dates(item, loc + (i,))]
    if isinstance(value, dict):  # an alternative's stages: key -> dates
        return [found for key, item in value.items() for found in plan_dates(item, loc + (key,))]
    return []


def rebase(text: str, start: dt.date) -> Rebased:
    """Raises PlanInvalid: the plan (before or after) is not valid, or a date cannot be moved in its text."""
    checked = parse_plan(text)
    dates = plan_dates(checked.plan)
    stage_dates = [date for loc, date in dates if loc[:1] == ("stages",)]
    if not stage_dates:
        raise PlanInvalid([PlanProblem("stages", "no stage has a date: nothing to move to --start")])
    earliest = min(stage_dates, key=lambda d: d.first_day)
    days = (start - earliest.first_day).days

    root = _node_tree(text)
    edits: dict[int, tuple[yaml.ScalarNode, str]] = {}
    for loc, date in dates:
        node = _node_at(root, loc)
        if node is None:
            continue  # not written in the file (a date the plan derives): it follows what it is derived from
        edits[id(node)] = (node, _moved_text(text, node, loc, str(shifted(date, days))))
    out = text
    for node, new in sorted(edits.values(), key=lambda e: e[0].start_mark.index, reverse=True):
        out = out[: node.start_mark.index] + new + out[node.end_mark.index :]

    after = parse_plan(out)
    wrong = [
        place(loc) for (loc, date), (loc_after, date_after) in zip(dates, plan_dates(after.plan), strict=False)
        if loc != loc_after or date_after != shifted(date, days)
    ]
    if wrong or len(plan_dates(after.plan)) != len(dates):
        raise PlanInvalid([PlanProblem(wrong[0] if wrong else "(file)", "this date could not be moved in the file's text; write it as YYYY-MM-DD")])
    return Rebased(out, days, earliest, len(edits), after)


def _node_tree(text: str) -> yaml.Node:
    """The document's nodes, read by the pure-Python loader (its marks count characters of `text`),
    with merge keys (`<<: *base`) resolved into the mappings that use them."""
    loader = PlanLoader(text)
    try:
        node = loader.get_single_node()
        loader.construct_document(node)  # flattens merge keys in place
        return node
    finally:
        loader.dispose()


def _node_at(node: yaml.Node, loc: Loc) -> yaml.Node | None:
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            node = next((v for k, v in reversed(node.value) if isinstance(k, yaml.ScalarNode) and k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        elif isinstance(node, yaml.ScalarNode) and part == "date":  # `SU-BERGEN: 2022-03-08`: a forum's meeting as its date alone
            return node
        else:
            return None
        if node is None:
            return None
    return node


def _moved_text(text: str, node: yaml.Node, loc: Loc, new: str) -> str:
    """The node's text with the date in it replaced (a quoted date stays quoted)."""
    written = text[node.start_mark.index : node.end_mark.index]
    value = node.value.strip() if isinstance(node, yaml.ScalarNode) else ""
    if not value or written.count(value) != 1:
        line = node.start_mark.line + 1
        raise PlanInvalid([PlanProblem(place(loc), "this date could not be moved in the file's text; write it as YYYY-MM-DD", line)])
    return written.replace(value, new)


__all__ = ["Rebased", "plan_dates", "rebase", "shifted"]
