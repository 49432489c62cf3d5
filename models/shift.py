"""A revised plan applied to a running revision: what moves, what may not, what it means.

Pure. Three plans go in: the file as given last time, the plan in force (that file
with dependent dates moved), and the file as given now. A date the coordinator
changed in the file is taken as written; a date left as it was keeps its value in
force, moved by as many days as the stages it comes after moved, when the stage
(or the plan) says `moves_with_after`. Comparing the new file with the last one,
not with the plan in force, is what lets a coordinator keep editing one file.

Stages already done cannot be rewritten; stages under way may change only their
dates and title. Parties are matched on organisation number: one that is missing
from the new file leaves (its history stays), a new one joins.
"""

from __future__ import annotations

import datetime as dt
import graphlib
from collections import Counter
from dataclasses import dataclass, field

from .dates import PlanDate
from .enums import StageStatus
from .plan import MilestoneSpec, PartySpec, Plan, PlanProblem, check_plan, find_cycle, tie_milestones
from .alternatives import stale
from .rules import DomainError, ErrorCode
from .stages import KINDS

DATE_FIELDS = ("opens", "due", "meeting", "deadline")
# What a stage under way may still change: when it happens (a forum's own meeting too) and what it is called.
_MAY_CHANGE_WHILE_ACTIVE = {*DATE_FIELDS, "title", "title_nn", "meetings"}
_OWN = "@"  # `meeting@SU-VEST`: a forum's own meeting date (`meetings:`) among a stage's dates here
# The dates a party has to meet, by stage kind: a move of one of these is a deadline moved.
PARTY_DEADLINES = {kind: r.party_deadline for kind, r in KINDS.items() if r.party_deadline}


class ShiftRefused(DomainError):
    """The revised plan cannot be applied; every reason is listed, nothing was changed."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "the plan was not shifted; nothing changed:\n" + "\n".join(f"  {p}" for p in problems), code=ErrorCode.shift_refused, problems=problems
        )


@dataclass(frozen=True)
class DateMove:
    stage: str
    field: str  # opens | due | meeting | deadline
    before: PlanDate | None
    after: PlanDate | None
    moved_with: str | None = None  # the stage it moved with; None when the file changed it
    forum: str | None = None  # a forum's own meeting (`meetings:`) moved: only this forum meets on it

    @property
    def days(self) -> int | None:
        if self.before is None or self.after is None:
            return None
        return (self.after.first_day - self.before.first_day).days


@dataclass(frozen=True)
class MilestoneMove:
    what: str
    before: PlanDate
    after: PlanDate

    @property
    def days(self) -> int | None:
        """None when either date is not set (XX.XX.XX)."""
        if not (self.before.is_set and self.after.is_set):
            return None
        return (self.after.first_day - self.before.first_day).days


@dataclass(frozen=True)
class PlanShift:
    effective: Plan  # the plan in force after the shift
    date_moves: list[DateMove] = field(default_factory=list)
    stages_added: list[str] = field(default_factory=list)
    stages_removed: list[str] = field(default_factory=list)
    stages_changed: list[str] = field(default_factory=list)  # other than dates, e.g. "politisk: title"
    parties_joined: list[PartySpec] = field(default_factory=list)
    parties_left: list[PartySpec] = field(default_factory=list)
    parties_changed: list[tuple[PartySpec, PartySpec]] = field(default_factory=list)  # (before, after), same org number
    milestones_moved: list[MilestoneMove] = field(default_factory=list)
    milestones_added: list[MilestoneSpec] = field(default_factory=list)
    milestones_removed: list[MilestoneSpec] = field(default_factory=list)
    other: list[str] = field(default_factory=list)  # plan-wide changes: reminders, coordinators, documents, forums
    warnings: list[PlanProblem] = field(default_factory=list)  # of the plan in force, e.g. a deadline moved onto a Saturday

    @property
    def empty(self) -> bool:
        return not (
            self.date_moves or self.stages_added or self.stages_removed or self.stages_changed or self.parties_joined
            or self.parties_left or self.parties_changed or self.milestones_moved or self.milestones_added
            or self.milestones_removed or self.other
        )

    def deadline_moves(self) -> list[DateMove]:
        """Moves of dates parties have to meet (hearing and political treatment deadlines)."""
        kinds = {s.key: s.kind for s in self.effective.stages}
        return [m for m in self.date_moves if PARTY_DEADLINES.get(kinds.get(m.stage)) == m.field and m.before and m.after]


def _dates(stage) -> dict[str, PlanDate | None]:  # noqa: ANN001 - any StageSpec
    """Its date fields, and each forum's own meeting date as `meeting@FORUM`."""
    dates = {f: getattr(stage, f, None) for f in DATE_FIELDS if f in type(stage).model_fields}
    for forum, own in (getattr(stage, "meetings", None) or {}).items():
        if own.date is not None:
            dates[f"meeting{_OWN}{forum}"] = own.date
    return dates


def _with_dates(spec, dates: dict[str, PlanDate | None]):  # noqa: ANN001, ANN202 - any StageSpec
    """`spec` with `dates` (as `_dates` names them) put in, the forums' own meetings too."""
    update = {f: v for f, v in dates.items() if _OWN not in f}
    own = {f.split(_OWN, 1)[1]: v for f, v in dates.items() if _OWN in f}
    if own:
        update["meetings"] = {k: m.model_copy(update={"date": own[k]}) if k in own else m for k, m in spec.meetings.items()}
    return spec.model_copy(update=update)


def _date_move(stage: str, name: str, before: PlanDate | None, after: PlanDate | None, moved_with: str | None = None) -> DateMove:
    field, _, forum = name.partition(_OWN)
    return DateMove(stage, field, before, after, moved_with, forum or None)


def _moved(value: PlanDate | None, days: int) -> PlanDate | None:
    if value is None or days == 0:
        return value
    day = value.first_day + dt.timedelta(days=days)
    return PlanDate(day.year, day.month, day.day if value.exact else None)


def _delta(before: dict[str, PlanDate | None], after: dict[str, PlanDate | None]) -> int:
    """How far a stage moved: the largest move among its dates (0 when none has both values)."""
    moves = [(after[f].first_day - before[f].first_day).days for f in after if after[f] and before.get(f) and after[f] != before[f]]
    return max(moves, key=abs) if moves else 0


def _topological(after: dict[str, list[str]]) -> list[str]:
    """Every stage after the stages it comes after; iterative, so thousands of stages are fine."""
    return list(graphlib.TopologicalSorter({key: [p for p in preds if p in after] for key, preds in after.items()}).static_order())


def _end(stage) -> PlanDate | None:  # noqa: ANN001 - any StageSpec
    return max((v for v in _dates(stage).values() if v is not None), default=None)


def _follow(preds: list[str], before: dict, now: dict, deltas: dict[str, int]) -> tuple[int, str | None]:
    """How far a stage moves with the stages it comes after: as far as the last of them to
    end moved its end (a meeting after two hearings waits for the later one only). Stages
    without dates pass on how far they moved."""
    if not preds:
        return 0, None
    ends = [(_end(before[p]) if p in before else None, _end(now[p]), p) for p in preds]
    if all(old and new for old, new, _ in ends):
        old_last = max(old for old, _, _ in ends)
        new_last, leader = max((new, p) for _, new, p in ends)
        return (new_last.first_day - old_last.first_day).days, leader
    return max((deltas.get(p, 0), p) for p in preds)


def shift_plan(given_before: Plan, in_force: Plan, given_now: Plan, statuses: dict[str, StageStatus]) -> PlanShift:
    """The plan in force after applying `given_now`, and every difference; raises `ShiftRefused`."""
    problems: list[str] = []
    if given_now.revision_slug != in_force.revision_slug:
        raise ShiftRefused([f"the file is for revision {given_now.revision_slug!r}, not {in_force.revision_slug!r} (its `revision:` or `slug:` differs)"])

    cycle = find_cycle(given_now.stage_after())
    if cycle:
        raise ShiftRefused([f"stages: `after` makes a cycle: {' → '.join(cycle)}"])

    written = {s.key: s for s in given_before.stages}
    current = {s.key: s for s in in_force.stages}
    after = given_now.stage_after()
    by_key = {s.key: s for s in given_now.stages}
    deltas: dict[str, int] = {}
    moved_with: dict[str, str] = {}
    new_stages = {}
    moves: list[DateMove] = []
    for key in _topological(after):
        spec = by_key[key]
        old = current.get(key)
        if old is None:  # a new stage: as written
            new_stages[key] = spec
            deltas[key] = 0
            continue
        last_written, wanted, in_force_dates = _dates(written.get(key, old)), _dates(spec), _dates(old)
        touched = {f for f in wanted if wanted[f] != last_written.get(f)}
        dates = {f: (wanted[f] if f in touched else in_force_dates.get(f)) for f in wanted}
        delta = _delta(in_force_dates, dates) if touched else 0
        follows = spec.moves_with_after if spec.moves_with_after is not None else given_now.moves_with_after
        if not touched and follows:
            delta, leader = _follow(after[key], current, new_stages, deltas)
            if delta:
                dates = {f: _moved(v, delta) for f, v in dates.items()}
                moved_with[key] = leader
        deltas[key] = delta
        new_stages[key] = _with_dates(spec, dates)
        for f in dates:
            before = in_force_dates.get(f, in_force_dates.get("meeting") if _OWN in f else None)  # a forum given its own date met on the stage's
            if dates[f] != before:
                moves.append(_date_move(key, f, before, dates[f], moved_with.get(key)))

    stages = [new_stages[s.key] for s in given_now.stages]
    effective = tie_milestones(given_now.model_copy(update={"stages": stages}))  # a tied milestone moves with its stage

    stages_changed: list[str] = []
    for key, old in current.items():
        status = statuses.get(key, StageStatus.pending)
        if key not in new_stages:
            if status != StageStatus.pending:
                problems.append(f"stages: {key!r} is {_status_words(status)}; it cannot be removed")
            continue
        changed = _changed_fields(old, new_stages[key], in_force, effective)
        if not changed:
            continue
        if status == StageStatus.done:
            problems.append(f"stages: {key!r} is completed; it cannot be rewritten (changed: {', '.join(sorted(changed))})")
        elif status == StageStatus.active and (structural := changed - _MAY_CHANGE_WHILE_ACTIVE):
            problems.append(f"stages: {key!r} has started; only its dates and title can change (changed: {', '.join(sorted(structural))})")
        if "meetings" in changed and _undated(old) == _undated(new_stages[key]):
            changed.discard("meetings")  # only the forums' own dates moved: date moves
        stages_changed += [f"{key}: {f}" for f in sorted(changed - set(DATE_FIELDS))]

    errors, warnings = check_plan(effective)
    warnings += untied_on_old_dates(effective, moves) + stale(effective)
    problems += [f"after moving dates: {p}" for p in errors]
    if problems:
        raise ShiftRefused(problems)

    before_parties = {p.org_number: p for p in in_force.parties}
    now_parties = {p.org_number: p for p in given_now.parties}
    milestones_moved, milestones_added, milestones_removed = _milestone_changes(in_force.milestones, effective.milestones)
    return PlanShift(
        effective=effective,
        date_moves=moves,
        stages_added=[k for k in new_stages if k not in current],
        stages_removed=[k for k in current if k not in new_stages],
        stages_changed=stages_changed,
        parties_joined=[p for o, p in now_parties.items() if o not in before_parties],
        parties_left=[p for o, p in before_parties.items() if o not in now_parties],
        parties_changed=[(before_parties[o], p) for o, p in now_parties.items() if o in before_parties and before_parties[o] != p],
        milestones_moved=milestones_moved,
        milestones_added=milestones_added,
        milestones_removed=milestones_removed,
        other=_plan_wide_changes(in_force, given_now),
        warnings=warnings,
    )


# The `at:` that ties a milestone to a stage's date field.
_AT_FOR_FIELD = {"opens": "start", "due": "end", "meeting": "meeting", "deadline": "deadline"}


def untied_on_old_dates(effective: Plan, moves: list[DateMove]) -> list[PlanProblem]:
    """Milestones not tied to a stage that sit on a date the shift moved away: most likely the
    same event, now shown on two dates (a warning; tying them makes them move along)."""
    moved = {}
    for m in moves:
        if m.before is not None and m.after is not None and m.forum is None:  # `at: meeting` is the stage's own
            moved.setdefault(m.before, m)
    warnings = []
    for i, milestone in enumerate(effective.milestones):
        if milestone.stage is None and (move := moved.get(milestone.date)) is not None:
            warnings.append(PlanProblem(
                f"milestones[{i}]",
                f"{milestone.what!r} stays on {move.before}, the {move.field} of stage {move.stage!r} before the shift (now {move.after}); "
                f"to move it with the stage, tie it: `stage: {move.stage}, at: {_AT_FOR_FIELD[move.field]}`",
            ))
    return warnings


def _status_words(status: StageStatus) -> str:
    return {StageStatus.done: "completed", StageStatus.active: "under way"}.get(status, status.value)


def _changed_fields(old, new, old_plan: Plan, new_plan: Plan) -> set[str]:  # noqa: ANN001 - StageSpecs
    """The fields that differ, with defaults filled in (`after`, hearing documents) so that
    writing out a default is not a change."""
    a, b = old.model_dump(), new.model_dump()
    a["after"], b["after"] = old_plan.stage_after()[old.key], new_plan.stage_after()[new.key]
    a.update(old.columns([d.key for d in old_plan.documents]))
    b.update(new.columns([d.key for d in new_plan.documents]))
    for f in ("moves_with_after",):
        a.pop(f, None), b.pop(f, None)
    return {f for f in a.keys() | b.keys() if a.get(f) != b.get(f)}


def _undated(stage) -> dict:  # noqa: ANN001 - a StageSpec
    """Its forums' own meetings without their dates (time and place)."""
    return {k: m.model_dump(exclude={"date"}) for k, m in (getattr(stage, "meetings", None) or {}).items()}


def _identity(m: MilestoneSpec) -> tuple:
    return (m.what, m.about, m.responsible, m.part)


def _milestone_changes(before: list[MilestoneSpec], after: list[MilestoneSpec]):  # noqa: ANN202
    """Milestones matched on what/about/responsible/part (the n-th of equals with the n-th)."""
    def keyed(items: list[MilestoneSpec]) -> dict[tuple, MilestoneSpec]:
        seen: Counter = Counter()
        out = {}
        for m in items:
            ident = _identity(m)
            out[(ident, seen[ident])] = m
            seen[ident] += 1
        return out

    old, new = keyed(before), keyed(after)
    moved = [MilestoneMove(m.what, old[k].date, m.date) for k, m in new.items() if k in old and old[k].date != m.date]
    return moved, [m for k, m in new.items() if k not in old], [m for k, m in old.items() if k not in new]


def _plan_wide_changes(before: Plan, after: Plan) -> list[str]:
    out = []
    for name in ("revision", "helsefellesskap", "language", "coordinators", "contact", "reference", "reminders", "moves_with_after", "alternatives", "public"):
        if getattr(before, name) != getattr(after, name):
            out.append(f"{name} changed")
    for name, attr in (("documents", "key"), ("forums", "key")):
        old = {getattr(x, attr): x for x in getattr(before, name)}
        new = {getattr(x, attr): x for x in getattr(after, name)}
        out += [f"{name}: {k} added" for k in new if k not in old]
        out += [f"{name}: {k} removed" for k in old if k not in new]
        out += [f"{name}: {k} changed" for k in new if k in old and new[k] != old[k]]
    return out


def slips(baseline: Plan, current: Plan) -> tuple[list[DateMove], list[MilestoneMove]]:
    """How far each stage date and milestone has moved since the baseline (version 1)."""
    base = {s.key: _dates(s) for s in baseline.stages}
    moves = [
        _date_move(s.key, f, base[s.key].get(f), v)
        for s in current.stages
        if s.key in base
        for f, v in _dates(s).items()
        if v is not None and base[s.key].get(f) is not None and v != base[s.key][f]
    ]
    milestone_moves, _, _ = _milestone_changes(baseline.milestones, current.milestones)
    return moves, milestone_moves
