"""A forum's case paper (saksframstilling): the plan's `case:` block of a forum stage, the
revision's own history up to it (the hearings: who answered and when, who did not; the forums'
earlier decisions; the documents attached), laid out in the forum's language.

Pure: the caller passes the plan and the history (tasks/papers/forum_case.py reads them); a
preview from a plan file alone passes no history, and the history's sections say there is none yet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import letters as lt
from .. import wording
from ..dates import PlanDate
from ..errors import DomainError, ErrorCode
from ..stages.forum_approval import RULES as FORUM_RULES
from ..stages.forum_approval import ForumApprovalStage, ForumCase
from ..titles import title_in
from .layout import Bullets, Markdown, Paper, Paragraph, Section, Table

if TYPE_CHECKING:
    from ..plan import Plan


@dataclass(frozen=True)
class Answer:
    party: str
    answered_on: dt.date | None  # None: not answered


@dataclass(frozen=True)
class HearingSummary:
    title: str
    deadline: dt.date | PlanDate | None
    answers: tuple[Answer, ...]  # every party invited, in the plan's order
    started: bool = True


@dataclass(frozen=True)
class EarlierDecision:
    forum: str  # its name
    stage_title: str
    decided_on: dt.date
    outcome: str  # ForumOutcome's value
    case_no: str | None = None


@dataclass(frozen=True)
class Attachment:
    title: str
    version: str | None = None  # its label ("versjon 2", "høringsutkast")
    dated: dt.date | None = None
    url: str | None = None  # a version that is a web address (public): shown after it


@dataclass(frozen=True)
class History:
    """What the revision recorded before this stage's meeting."""

    hearings: tuple[HearingSummary, ...] = ()
    decisions: tuple[EarlierDecision, ...] = ()
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class ForumCasePaper:
    helsefellesskap: str
    revision: str
    stage_key: str
    forums: tuple[str, ...]  # the forums' names
    meeting: dt.date | PlanDate | None
    case: ForumCase
    title: str
    history: History | None  # None: a preview from the plan alone
    attachments: tuple[Attachment, ...]  # the revision's document versions, or the plan's documents
    language: str = "nb"


@dataclass(frozen=True)
class NoticeWithPaper(lt.ForumMeetingNotice):
    """A forum meeting notice with the stage's case paper in it: a forum has no party link and no
    login, so the paper goes to its members in the letter itself (text, and HTML whose Markdown
    is already escaped: markupsafe.Markup)."""

    paper_text: str | None = None
    paper_html: str | None = None


def case_stage(plan: Plan, stage_key: str) -> ForumApprovalStage:
    """The forum stage `stage_key` of `plan` with its `case:` block; DomainError naming what is wrong."""
    stages = {s.key: s for s in plan.stages}
    stage = stages.get(stage_key)
    if stage is None:
        raise DomainError(
            f"--stage: no stage {stage_key!r}; the plan's stages are {', '.join(stages)}", code=ErrorCode.no_stage, field="stage", stage=stage_key, stages=list(stages)
        )
    if not isinstance(stage, ForumApprovalStage):
        forum_stages = [s.key for s in plan.stages if isinstance(s, ForumApprovalStage)]
        raise DomainError(
            f"--stage: {stage_key!r} is a {stage.kind.value} stage; a case paper is for a forum stage ({', '.join(forum_stages) or 'the plan has none'})",
            code=ErrorCode.wrong_stage_kind, field="stage", stage=stage_key, kind=stage.kind.value, wanted=FORUM_RULES.kind.value,
        )
    if stage.case is None:
        with_case = [s.key for s in plan.stages if isinstance(s, ForumApprovalStage) and s.case is not None]
        raise DomainError(
            f"--stage: {stage_key!r} has no case: block in the plan (number, officer, title, proposed_resolution, background, facts, assessment)"
            + (f"; stages with one: {', '.join(with_case)}" if with_case else ""),
            code=ErrorCode.refused, field="stage", why="no_case", stage=stage_key,
        )
    return stage


def forum_case_paper(
    plan: Plan, stage_key: str, *, history: History | None, attachments: tuple[Attachment, ...] | None = None, language: str | None = None,
    meeting: dt.date | PlanDate | None = None,
) -> ForumCasePaper:
    """The paper for `stage_key`. `attachments`: the document versions (default: the documents the
    stage names in the plan, every one when it names none); `meeting`: the date in force (default: the plan's)."""
    stage = case_stage(plan, stage_key)
    names = {f.key: f.name for f in plan.forums}
    language = str(language or plan.language.value)
    if attachments is None:
        wanted = set(stage.documents or [d.key for d in plan.documents])
        attachments = tuple(Attachment(title_in(language, d.title, d.title_nn)) for d in plan.documents if d.key in wanted)
    return ForumCasePaper(
        helsefellesskap=plan.helsefellesskap, revision=title_in(language, plan.revision, plan.revision_nn), stage_key=stage.key,
        forums=tuple(names.get(f, f) for f in stage.forums), case=stage.case,
        meeting=None if stage.meetings else meeting or stage.meeting,  # forums meeting on their own days: each notice gives its own
        title=stage.case.title or title_in(language, stage.title, stage.title_nn) or stage.key, history=history, attachments=attachments,
        language=language,
    )


# --- layout -------------------------------------------------------------------------------


def _w(key: str, language: str) -> str:
    return wording.word(f"papers.{key}", language)


def _date(value: dt.date | PlanDate | None, language: str) -> str | None:
    return wording.short_date(value, language) if value is not None else None


def _officer(case: ForumCase) -> str | None:
    if case.officer is None:
        return None
    return f"{case.officer.name}, {case.officer.title}" if case.officer.title else case.officer.name


def _attachment(a: Attachment, language: str) -> str:
    extra = [x for x in (a.version, _date(a.dated, language)) if x]
    return a.title + (f" ({', '.join(extra)})" if extra else "") + (f": {a.url}" if a.url else "")


def _background_heading(case: ForumCase, language: str) -> str:
    heading = _w("background", language)
    if not case.earlier_cases:
        return heading
    numbers = [e.number for e in case.earlier_cases]
    joined = numbers[0] if len(numbers) == 1 else f"{', '.join(numbers[:-1])} {_w('and', language)} {numbers[-1]}"
    return f"{heading} ({_w('follow_up', language)} {joined})"


def _earlier_cases(case: ForumCase) -> tuple:
    titled = [f"{e.number}: {e.title}" for e in case.earlier_cases if e.title]
    return (Bullets(tuple(titled)),) if titled else ()


def _hearing_blocks(paper: ForumCasePaper, language: str) -> tuple:
    if paper.history is None:
        return (Paragraph(_w("none_yet", language)),)
    if not paper.history.hearings:
        return (Paragraph(_w("none", language)),)
    blocks: list = []
    unanswered = wording.word("hearing_status.unanswered", language)
    for h in paper.history.hearings:
        deadline = _date(h.deadline, language)
        head = h.title + (f" ({wording.word('date_field.deadline', language)} {deadline})" if deadline else "")
        if not h.started:
            blocks.append(Paragraph(f"{head}: {_w('not_started', language)}"))
            continue
        done = sum(1 for a in h.answers if a.answered_on is not None)
        blocks.append(Paragraph(f"{head}: {_w('answers', language).format(done=done, of=len(h.answers))}."))
        rows = tuple((a.party, _date(a.answered_on, language) if a.answered_on else unanswered) for a in h.answers)
        blocks.append(Table((_w("party", language), _w("answered_on", language)), rows))
    return tuple(blocks)


def _decision_blocks(paper: ForumCasePaper, language: str) -> tuple:
    if paper.history is None:
        return (Paragraph(_w("none_yet", language)),)
    if not paper.history.decisions:
        return (Paragraph(_w("none", language)),)
    rows = tuple(
        (
            _date(d.decided_on, language) or "", d.forum, d.stage_title,
            wording.label("forum_outcome", d.outcome, language), d.case_no or "",
        )
        for d in paper.history.decisions
    )
    header = (_w("date", language), wording.word("papers.forum", language), _w("title", language), _w("decision", language), _w("number", language))
    return (Table(header, rows),)


def layout(paper: ForumCasePaper) -> Paper:
    """The paper in its language, as the renderers draw it."""
    lang, case = paper.language, paper.case
    sections = [
        Section(_w("proposed_resolution", lang), (Markdown(case.proposed_resolution),)),
        Section(_w("attachments", lang), (Bullets(tuple(_attachment(a, lang) for a in paper.attachments)),) if paper.attachments else (Paragraph(_w("none", lang)),)),
    ]
    if case.background or case.earlier_cases:
        sections.append(Section(_background_heading(case, lang), _earlier_cases(case) + ((Markdown(case.background),) if case.background else ())))
    sections.append(Section(_w("earlier_decisions", lang), _decision_blocks(paper, lang)))
    if case.facts:
        sections.append(Section(_w("facts", lang), (Markdown(case.facts),)))
    sections.append(Section(_w("responses", lang), _hearing_blocks(paper, lang)))
    if case.assessment:
        sections.append(Section(_w("assessment", lang), (Markdown(case.assessment),)))
    return Paper(
        kind=_w("forum_case", lang),
        title=paper.title,
        fields=(
            (_w("forum", lang), ", ".join(paper.forums)),
            (_w("meeting", lang), _date(paper.meeting, lang)),
            (_w("number", lang), case.number),
            (_w("officer", lang), _officer(case)),
            (_w("title", lang), paper.title),
        ),
        sections=tuple(sections),
        language=lang,
        footer=f"{paper.helsefellesskap} · {paper.revision} · {_w('made_by', lang)}",
    )
