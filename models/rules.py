"""The pure rules of a revision that hold for every stage kind: which stages are ready,
what the run waits on, which stage a command acts on. No I/O; the callers pass in what
they loaded. Each kind's own rules (its gate, its progress, its reminders) are in
models/stages/<kind>.py.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence

from .enums import StageKind, StageStatus
from .errors import DomainError, ErrorCode  # noqa: F401 - DomainError is imported from here by many
from .stages import KINDS, Gate, rules_for  # noqa: F401 - Gate too
from .tables import Party, Stage


# --- the DAG -------------------------------------------------------------------


def ready_stages(stages: Sequence[Stage]) -> list[Stage]:
    """Pending stages whose `after` stages are all done, in plan order.

    A stage sent back by a returned decision also waits for the draft it was returned to.
    """
    done = {s.key for s in stages if s.status == StageStatus.done}
    return [
        s
        for s in stages
        if s.status == StageStatus.pending
        and all(a in done for a in s.after)
        and all(k in done for k in returned_to(s))
    ]


def is_revision_done(stages: Sequence[Stage]) -> bool:
    return bool(stages) and all(s.status == StageStatus.done for s in stages)


def nearest_drafts(stage: Stage, stages: Sequence[Stage]) -> list[Stage]:
    """The closest draft stages `stage` comes after (breadth first along `after`).

    Every draft at the closest distance: a stage that joins two tracks goes back to
    both tracks' drafts when they are as near as each other.
    """
    by_key = {s.key: s for s in stages}
    frontier, seen = list(stage.after), set()
    while frontier:
        next_frontier, found = [], []
        for key in frontier:
            if key in seen or key not in by_key:
                continue
            seen.add(key)
            candidate = by_key[key]
            if rules_for(candidate.kind).takes_returns:
                found.append(candidate)
            next_frontier.extend(candidate.after)
        if found:
            return sorted(found, key=lambda s: s.position)
        frontier = next_frontier
    return []


def returned_to(stage: Stage) -> list[str]:
    """The drafts a returned stage waits for (stored comma-separated)."""
    return stage.returned_to.split(",") if stage.returned_to else []


def downstream(stage_key: str, stages: Sequence[Stage]) -> set[str]:
    """Every stage that comes (directly or not) after `stage_key`."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for s in stages:
            if s.key not in found and (stage_key in s.after or found.intersection(s.after)):
                found.add(s.key)
                changed = True
    return found


# --- what the run waits on -------------------------------------------------------

def awaiting(stages: Sequence[Stage]) -> str:
    """The name of the run's suspended state: what the most advanced open stage waits on."""
    open_kinds = [rules_for(s.kind) for s in stages if s.status == StageStatus.active]
    return max(open_kinds, key=lambda r: r.rank).awaiting if open_kinds else "AwaitingEvent"


# --- legal recordings -------------------------------------------------------------


def pick_stage(stages: Sequence[Stage], kind: StageKind, key: str | None, *, forum: str | None = None) -> Stage:
    """The stage a command acts on: the one named by --stage, or the only open one of `kind`
    (that `forum` decides, when one is given)."""
    label = kind.value
    if key is not None:
        match = next((s for s in stages if s.key == key), None)
        if match is None:
            keys = [s.key for s in stages]
            raise DomainError(f"--stage: no stage {key!r}; stages: {', '.join(keys)}", code=ErrorCode.no_stage, field="stage", stage=key, stages=keys)
        if match.kind != kind:
            raise DomainError(
                f"--stage: {key!r} is a {match.kind.value} stage, not {label}",
                code=ErrorCode.wrong_stage_kind, field="stage", stage=key, kind=match.kind.value, wanted=label,
            )
        return match
    ours = [s for s in stages if s.kind == kind and (forum is None or forum in s.forums)]
    also = f" for forum {forum!r}" if forum is not None else ""
    candidates = [s for s in ours if s.status == StageStatus.active]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        pending = [s.key for s in ours if s.status == StageStatus.pending]
        hint = f" (not yet started: {', '.join(pending)})" if pending else ""
        raise DomainError(f"no {label} stage is open{also}{hint}", code=ErrorCode.no_open_stage, field="stage", kind=label, forum=forum, pending=pending)
    keys = [s.key for s in candidates]
    raise DomainError(
        f"several {label} stages are open{also}; name one with --stage: {', '.join(keys)}",
        code=ErrorCode.several_open_stages, field="stage", kind=label, forum=forum, stages=keys,
    )


def check_not_future(day: dt.date, today: dt.date, option: str) -> None:
    if day > today:
        raise DomainError(
            f"{option}: {day} is after today ({today}); record decisions once they are made",
            code=ErrorCode.future_date, field=option.removeprefix("--"), day=day, today=today,
        )


def require_active(stage: Stage) -> None:
    if stage.status == StageStatus.pending:
        if stage.returned_to:
            why = "it was returned to draft " + ", ".join(repr(k) for k in returned_to(stage))
        elif stage.after:
            why = f"it comes after {', '.join(stage.after)}"
        else:
            why = "the revision has not started"
        raise DomainError(
            f"--stage: {stage.key!r} has not started yet ({why})",
            code=ErrorCode.stage_not_started, field="stage", stage=stage.key, after=list(stage.after), returned_to=returned_to(stage),
        )
    if stage.status == StageStatus.done:
        raise DomainError(f"--stage: {stage.key!r} is already done", code=ErrorCode.stage_done, field="stage", stage=stage.key)


def find_party(parties: Sequence[Party], name: str) -> Party:
    """By name (any case) or organisation number; the error suggests near names."""
    wanted = name.strip().casefold()
    for p in parties:
        if p.name.casefold() == wanted or p.org_number == wanted.replace(" ", ""):
            return p
    near = difflib.get_close_matches(name, [p.name for p in parties], n=3, cutoff=0.75)
    hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
    raise DomainError(f"--party: no party named {name!r} in this revision{hint}", code=ErrorCode.no_party, field="party", party=name, near=near)
