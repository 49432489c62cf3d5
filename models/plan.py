"""The plan file: its schema and every check made before anything is stored.

Pure: takes the file's text, returns a `Plan` or raises `PlanInvalid` with every
problem found, each with its place (`parties[3].org_number`) and, where the
YAML tells, its line.
"""

from __future__ import annotations

import graphlib
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BeforeValidator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from . import limits
from .dates import PlanDate
from .enums import Language, PartyKind
from .plan_fields import KEY_PATTERN, Key, Name, PlanContext, PlanProblem, Strict, Text, Title, Titled, TitledText, WebAddress, split_titles, titles_validator
from .stages import StageSpec, draft, forum_approval, hearing, kind_names, political_treatment
from .alternatives import AlternativeSpec, order_problems, structure_problems, warnings_of
from .identifiers import is_valid_org_number, slugify
from .plan_yaml import line_index, line_of, load, loc_of, place
from .party_meetings import DEFAULT_CASE_DEADLINE_DAYS, CaseDeadlineDays, PartyMeetingSpec, plan_warnings as party_meeting_warnings
from .written_dates import MilestoneDate, drop_outdated_written, with_written_dates
from .milestones import milestone_problems, tie_milestones

_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[A-Za-z]{2,}$")
_KEY = KEY_PATTERN
_Strict = Strict


def _check_email(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a valid email address")
    value = limits.one_line(value.strip())
    if len(value) > limits.MAX_EMAIL:
        raise ValueError(f"{len(value)} characters; an email address has at most {limits.MAX_EMAIL}")
    if not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value


Email = Annotated[str, BeforeValidator(_check_email)]


class Coordinator(_Strict):
    name: Name
    email: Email


_PHONE = re.compile(r"^\+?[0-9 ]+$")


def _check_phone(value: Any) -> str:
    text = str(value).strip() if type(value) in (str, int) else ""
    digits = sum(c.isdigit() for c in text)
    if not _PHONE.match(text) or not 5 <= digits <= 15:
        raise ValueError("not a phone number: digits and spaces, with + in front for a country code (+47 72 54 00 00)")
    return " ".join(text.split())


Phone = Annotated[str, BeforeValidator(_check_phone)]


class Contact(_Strict):
    """The revision's contact person: signs every letter; parties answer to this address."""

    name: Name
    email: Email
    title: Name | None = Field(default=None, description="e.g. rådgiver, seniorrådgiver")
    phone: Phone | None = None


class DocumentSpec(_Strict):
    key: Key
    title: Titled
    title_nn: Title | None = Field(default=None, description="the nynorsk title (`title: {nb: …, nn: …}`)")
    public: StrictBool = Field(default=False, description="its versions are shown and served on the public page (`public: true` on the plan)")
    _titles = titles_validator("title", "title_nn")


class PartySpec(_Strict):
    name: Name
    kind: PartyKind
    org_number: str
    email: Email
    body: Name = Field(description="the deciding body: kommunestyre, bystyre, styret")
    language: Language | None = None
    meetings: list[PartyMeetingSpec] = Field(default=[], max_length=200, description="its council's or board's meeting plan (møteplan)")
    records_url: WebAddress | None = Field(default=None, description="its public records (postliste, møtekalender): the public page links its decision there")

    @field_validator("org_number", mode="before")
    @classmethod
    def _org_number(cls, value: Any) -> str:
        text = str(value).replace(" ", "") if type(value) in (str, int) else ""
        if not is_valid_org_number(text):
            raise ValueError("not a valid organisation number (9 digits, mod 11)")
        return text


class ForumSpec(_Strict):
    key: Key
    name: Name
    email: Email | None = None


# Each stage kind's schema is in models/stages/<kind>.py; StageSpec is their union.
DraftStage, HearingStage = draft.DraftStage, hearing.HearingStage
ForumApprovalStage, PoliticalTreatmentStage = forum_approval.ForumApprovalStage, political_treatment.PoliticalTreatmentStage


class Reminders(_Strict):
    before_deadline_days: list[Annotated[StrictInt, Field(ge=1, le=365)]] = Field(default=[14, 3], max_length=20)
    overdue_every_days: Annotated[StrictInt, Field(ge=1, le=365)] = 7


MilestoneAt = Literal["start", "end", "meeting", "deadline"]


class MilestoneSpec(_Strict):
    date: MilestoneDate = Field(description="when: a day, a month, a range (20.06–10.09, Aug./sept.), '?' if uncertain, XX.XX.XX not set; a milestone tied to a stage (`stage`, `at`) takes the stage's date instead")
    written: Name | None = Field(default=None, description="the date as written (`Nov./des.`), shown instead of `date`; dropped when it no longer says `date`")
    what: TitledText
    what_nn: Text | None = Field(default=None, description="the nynorsk title (`what: {nb: …, nn: …}`)")
    about: Annotated[StrictStr, Field(max_length=limits.MAX_TEXT)] | None = None
    responsible: Annotated[StrictStr, Field(max_length=limits.MAX_TEXT)] | None = None
    part: Annotated[StrictStr, Field(max_length=limits.MAX_TEXT)] | None = Field(default=None, description="the plan part it belongs to (a page of the printed Fremdriftsplan)")
    stage: Key | None = Field(default=None, description="tie it to this stage: it takes the stage's date and moves with it")
    at: MilestoneAt | None = Field(default=None, description="which date of `stage`: start (its earliest), end (its latest), meeting, deadline")

    _written_says_date = model_validator(mode="after")(drop_outdated_written)
    _titles = titles_validator("what", "what_nn")


class Plan(_Strict):
    helsefellesskap: Name
    revision: Titled
    revision_nn: Title | None = Field(default=None, description="the nynorsk title (`revision: {nb: …, nn: …}`)")
    slug: Key | None = Field(default=None, description="derived from `revision` when left out")
    language: Language = Language.nb
    coordinators: list[Coordinator] = Field(min_length=1)
    contact: Contact | None = Field(default=None, description="signs the letters; default: the first coordinator")
    reference: Name | None = Field(default=None, description="the archive reference (vår ref.), e.g. 24/01234, at the top of every letter")
    documents: list[DocumentSpec] = Field(min_length=1)
    parties: list[PartySpec] = Field(min_length=1)
    forums: list[ForumSpec] = []
    stages: list[StageSpec] = Field(min_length=1)
    reminders: Reminders = Field(default_factory=Reminders)
    case_deadline_days: CaseDeadlineDays = Field(default=DEFAULT_CASE_DEADLINE_DAYS, description="days before a party's meeting the case must be sent")
    moves_with_after: StrictBool = Field(default=False, description="the default for every stage's `moves_with_after`")
    milestones: list[MilestoneSpec] = []
    alternatives: list[AlternativeSpec] = Field(default=[], max_length=20, description="named alternative dates for some stages; `plan choose` applies one")
    public: StrictBool = Field(default=False, description="a public status page at /offentlig/{slug}, no login: stages, decisions, public documents")

    @model_validator(mode="before")
    @classmethod
    def _written_dates(cls, data: Any) -> Any:
        return with_written_dates(split_titles(data, "revision", "revision_nn"))

    @property
    def revision_slug(self) -> str:
        return self.slug or slugify(self.revision)

    def stage_after(self) -> dict[str, list[str]]:
        """Each stage's predecessors, with the default (the stage before) filled in."""
        result: dict[str, list[str]] = {}
        previous: str | None = None
        for stage in self.stages:
            result[stage.key] = list(stage.after) if stage.after is not None else ([previous] if previous else [])
            previous = stage.key
        return result

    def party_language(self, party: PartySpec) -> Language:
        return party.language or self.language


# --- errors -----------------------------------------------------------------


class PlanInvalid(ValueError):
    def __init__(self, problems: list[PlanProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class CheckedPlan:
    plan: Plan
    warnings: list[PlanProblem]


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required",
    "union_tag_invalid": f"unknown kind; expected one of {', '.join(kind_names())}",
    "union_tag_not_found": f"required (kind: {' | '.join(kind_names())})",
}


def _message(error: dict[str, Any]) -> str:
    if error["type"] in _MESSAGES:
        return _MESSAGES[error["type"]]
    msg: str = error["msg"]
    return msg.removeprefix("Value error, ")


def parse_plan(text: str, *, dates_in_order: bool = True) -> CheckedPlan:
    """Parse and check a plan file's text. Raises `PlanInvalid` with every problem found.

    `dates_in_order=False` skips the check that each stage starts after the stages it
    comes after: a revised plan's stages that move along may still carry their old dates.
    """
    size = len(text) if len(text) > limits.MAX_PLAN_BYTES else len(text.encode("utf-8", "surrogatepass"))
    if size > limits.MAX_PLAN_BYTES:
        raise PlanInvalid([PlanProblem("(file)", f"{size} bytes; a plan file has at most {limits.MAX_PLAN_BYTES} (1 MiB)")])
    try:
        data, node = load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PlanInvalid(
            [PlanProblem("(file)", f"not valid YAML: {getattr(exc, 'problem', exc)}", mark.line + 1 if mark else None)]
        ) from None
    except RecursionError:
        raise PlanInvalid([PlanProblem("(file)", "not valid YAML: nested too deeply")]) from None
    if not isinstance(data, dict):
        raise PlanInvalid([PlanProblem("(file)", "expected a mapping of plan keys (helsefellesskap, revision, ...)")])
    lines = line_index(node) if node is not None else {}
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanInvalid(
            [PlanProblem(place(_error_loc(e)), _message(e), line_of(lines, _error_loc(e))) for e in exc.errors()]
        ) from None
    errors, warnings = check_plan(plan, dates_in_order=dates_in_order)
    if dates_in_order and not errors:
        errors = order_problems(plan)  # each alternative chosen keeps the stages in order
        warnings = warnings + ([] if errors else warnings_of(plan, warnings))
    if errors:
        raise PlanInvalid([PlanProblem(p.place, p.message, line_of(lines, loc_of(p.place))) for p in errors])
    return CheckedPlan(tie_milestones(plan), [PlanProblem(p.place, p.message, line_of(lines, loc_of(p.place))) for p in warnings])


def _error_loc(error: dict[str, Any]) -> tuple[Any, ...]:
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return (*error["loc"], "kind")
    return error["loc"]


# --- cross-field checks -------------------------------------------------------


def _duplicates(items: list[Any], attr: str, section: str, problems: list[PlanProblem], norm=lambda v: v) -> None:
    seen: dict[Any, int] = {}
    for i, item in enumerate(items):
        value = norm(getattr(item, attr))
        if value in seen:
            problems.append(PlanProblem(f"{section}[{i}].{attr}", f"{getattr(item, attr)!r} repeats {section}[{seen[value]}]"))
        else:
            seen[value] = i


def find_cycle(after: dict[str, list[str]]) -> list[str] | None:
    """A cycle in the `after` graph as a path of keys (first == last), each key a stage the next
    comes after; or None. Iterative (graphlib): a plan of thousands of stages is fine."""
    sorter = graphlib.TopologicalSorter({key: [p for p in preds if p in after] for key, preds in after.items()})
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def check_plan(plan: Plan, *, dates_in_order: bool = True) -> tuple[list[PlanProblem], list[PlanProblem]]:
    """Cross-field checks pydantic cannot make: references, the DAG, dates. Returns (errors, warnings)."""
    from .calendar_rules import deadline_warnings

    errors: list[PlanProblem] = []
    warnings: list[PlanProblem] = []
    _duplicates(plan.documents, "key", "documents", errors)
    _duplicates(plan.forums, "key", "forums", errors)
    _duplicates(plan.stages, "key", "stages", errors)
    _duplicates(plan.parties, "name", "parties", errors, norm=str.casefold)
    _duplicates(plan.parties, "org_number", "parties", errors)
    if not any(p.kind == PartyKind.health_trust for p in plan.parties):
        errors.append(PlanProblem("parties", "no party of kind health_trust; the agreement is between the municipalities and a health trust"))

    slug = plan.revision_slug
    if not slug or len(slug) > 64 or not _KEY.match(slug):
        place = "slug" if plan.slug else "revision"
        shown = slug if len(slug) <= 40 else slug[:40] + "…"
        errors.append(PlanProblem(place, f"gives the slug {shown!r}; a slug is 1-64 letters, digits or -: set `slug:`"))

    context = PlanContext(frozenset(d.key for d in plan.documents), frozenset(f.key for f in plan.forums), frozenset(p.name for p in plan.parties))
    stage_keys = [s.key for s in plan.stages]
    after = plan.stage_after()
    for i, stage in enumerate(plan.stages):
        place = f"stages[{i}]"
        for j, pred in enumerate(stage.after or []):
            if pred == stage.key:
                errors.append(PlanProblem(f"{place}.after[{j}]", f"stage {stage.key!r} cannot come after itself"))
            elif pred not in stage_keys:
                errors.append(PlanProblem(f"{place}.after[{j}]", f"unknown stage {pred!r}; known: {', '.join(stage_keys)}"))
        errors += stage.problems(place, context)

    if not any(e.place.startswith("stages") and (".after" in e.place or e.place.endswith(".key")) for e in errors):
        if cycle := find_cycle(after):
            index = stage_keys.index(cycle[0])
            errors.append(PlanProblem(f"stages[{index}].after", "cycle in after: " + " → ".join(cycle)))
        elif dates_in_order:
            errors += _dates_against_predecessors(plan, after)

    milestone_errors, milestone_warnings = milestone_problems(plan)
    errors += milestone_errors + structure_problems(plan)
    warnings += deadline_warnings(plan) + milestone_warnings + party_meeting_warnings(plan)
    return errors, warnings


def stage_dates(stage: Any) -> tuple[PlanDate | None, PlanDate | None]:
    """(earliest, latest) plan date of a stage, for ordering checks and the timeline."""
    values = [v for v in (getattr(stage, f, None) for f in ("opens", "meeting", "due", "deadline")) if v is not None]
    values += [m.date for m in (getattr(stage, "meetings", None) or {}).values() if m.date is not None]  # forums' own meetings
    if not values:
        return None, None
    return min(values), max(values)


def _dates_against_predecessors(plan: Plan, after: dict[str, list[str]]) -> list[PlanProblem]:
    problems = []
    by_key = {s.key: s for s in plan.stages}
    for i, stage in enumerate(plan.stages):
        start, _ = stage_dates(stage)
        if start is None:
            continue
        for pred in after[stage.key]:
            _, pred_end = stage_dates(by_key[pred])
            if pred_end is not None and start.last_day < pred_end.first_day:
                problems.append(
                    PlanProblem(f"stages[{i}]", f"starts {start}, before stage {pred!r} it comes after ends ({pred_end})")
                )
    return problems
