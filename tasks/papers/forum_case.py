"""The forum case paper from a running revision (its plan in force and its history) or from
a plan file alone (a preview), as a laid-out `Paper`; word.py and html.py render it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from sqlmodel import Session, col, select

from avtaleflyt.models import letters as lt
from avtaleflyt.models import wording
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.papers import Paper
from avtaleflyt.models.papers import forum_case as fc
from avtaleflyt.models.plan import Plan, parse_plan
from avtaleflyt.models.stages import rules_for
from avtaleflyt.models.tables import Forum, ForumDecision, Party, PartyObligation, PlanVersion, Revision, Stage
from avtaleflyt.models.titles import in_language

from .html import html_page, paper_fragment
from .text import paper_text

FORMATS = ("docx", "html")


def render(paper: Paper, fmt: str) -> bytes:
    """The paper as a file's bytes: .docx, or HTML in UTF-8."""
    if fmt == "docx":
        from .word import docx_bytes  # python-docx (lxml): loaded only for a Word file, not for a meeting notice

        return docx_bytes(paper)
    if fmt == "html":
        return html_page(paper).encode("utf-8")
    raise DomainError(f"--format: {fmt!r}; expected {' or '.join(FORMATS)}", code=ErrorCode.invalid_value, field="format", problem="other", value=fmt)


def preview(source: str, stage_key: str, language: str | None = None) -> Paper:
    """From a plan file's text alone (PlanInvalid if it does not check): the history's sections say none yet."""
    plan = parse_plan(source).plan
    return fc.layout(fc.forum_case_paper(plan, stage_key, history=None, language=language))


# --- from a revision ----------------------------------------------------------------------


def find_revision(session: Session, slug: str) -> Revision:
    revision = session.exec(select(Revision).where(Revision.slug == slug)).first()
    if revision is None:
        known = session.exec(select(Revision.slug).order_by(Revision.slug)).all()
        hint = f"; known: {', '.join(known)}" if known else "; no revision has been started"
        raise DomainError(f"SLUG: no revision {slug!r}{hint}", code=ErrorCode.no_revision, field="revision", slug=slug)
    return revision


def plan_of(session: Session, revision: Revision) -> Plan:
    """The plan in force: the latest version's, with dates moved by shifts."""
    version = session.exec(
        select(PlanVersion).where(PlanVersion.revision_id == revision.id).order_by(col(PlanVersion.version).desc())
    ).first()
    if version.effective is not None:
        return Plan.model_validate(version.effective)
    return parse_plan(version.source).plan


def before(plan: Plan, stage_key: str) -> set[str]:
    """Every stage that `stage_key` comes after, directly or through others."""
    after, found, todo = plan.stage_after(), set(), list(plan.stage_after().get(stage_key, []))
    while todo:
        key = todo.pop()
        if key not in found:
            found.add(key)
            todo += after.get(key, [])
    return found


def _hearings(session: Session, stages: list[Stage], parties: dict[int, Party]) -> tuple[fc.HearingSummary, ...]:
    """The stages before that ask every party for an answer of its own (a hearing: a column per party)."""
    found = []
    for stage in stages:
        rules = rules_for(stage.kind)
        if not (rules.party_column and rules.first_status):
            continue
        rows = session.exec(select(PartyObligation).where(PartyObligation.stage_id == stage.id)).all()
        rows = sorted(rows, key=lambda o: parties[o.party_id].name if o.party_id in parties else "")
        deadline = getattr(stage, rules.party_deadline, None) if rules.party_deadline else None
        found.append(
            fc.HearingSummary(
                title=stage.title or stage.key,
                deadline=PlanDate.parse(deadline) if deadline else None,
                answers=tuple(
                    fc.Answer(parties[o.party_id].name, o.answered_on if o.status in rules.answered else None) for o in rows if o.party_id in parties
                ),
                started=bool(rows),
            )
        )
    return tuple(found)


def _decisions(session: Session, revision: Revision, stages: list[Stage], this: Stage) -> tuple[fc.EarlierDecision, ...]:
    """The forums' decisions on the stages before, and on this one in its earlier rounds (it came back)."""
    by_id = {s.id: s for s in [*stages, this]}
    names = {f.key: f.name for f in session.exec(select(Forum).where(Forum.revision_id == revision.id))}
    rows = session.exec(select(ForumDecision).where(col(ForumDecision.stage_id).in_(list(by_id)))).all()
    rows = [d for d in rows if d.stage_id != this.id or d.round < this.round]
    return tuple(
        fc.EarlierDecision(names.get(d.forum_key, d.forum_key), by_id[d.stage_id].title or by_id[d.stage_id].key, d.decided_on, d.outcome.value, d.case_no)
        for d in sorted(rows, key=lambda d: (d.decided_on, d.id or 0))
    )


def _attachments(session: Session, revision: Revision, keys: Iterable[str], language: str) -> tuple[fc.Attachment, ...]:
    """Each document the stage names (every one when it names none), with its current version:
    its number and label, its date, and its web address if it is one."""
    from ..documents import current_versions
    from ..letter_parts import documents

    keys = list(keys) or None
    versions = current_versions(session, revision, keys)
    found = []
    for d in documents(session, revision, keys):
        v = versions.get(d.key)
        if v is None:
            found.append(fc.Attachment(in_language(d.title, language)))
            continue
        label = f"{wording.word('papers.version', language)} {v.number}" + (f": {v.label}" if v.label else "")
        found.append(fc.Attachment(in_language(d.title, language), version=label, dated=v.date, url=v.url))  # a web address; a stored file's link needs a login
    return tuple(found)


def for_revision(session: Session, slug: str, stage_key: str, language: str | None = None) -> Paper:
    """The paper of a running (or completed) revision, with its history up to this stage."""
    return fc.layout(_paper(session, find_revision(session, slug), stage_key, language))


def notice_paper(session: Session, revision: Revision, stage: Stage) -> Callable[[lt.ForumMeetingNotice], lt.ForumMeetingNotice]:
    """What puts the stage's case number and case paper into a meeting notice (the paper made once
    for all its forums); the notice unchanged when the plan gives the stage no case."""
    try:
        paper = _paper(session, revision, stage.key, revision.language.value)
    except ValueError:  # no case: block (DomainError), or a stored plan that no longer reads: the notice goes out as before
        return lambda notice: notice
    laid = fc.layout(paper)
    text, html = paper_text(laid), paper_fragment(laid)

    def add(notice: lt.ForumMeetingNotice) -> lt.ForumMeetingNotice:
        values = {f.name: getattr(notice, f.name) for f in dataclasses.fields(notice)}
        return fc.NoticeWithPaper(**{**values, "case_no": paper.case.number or notice.case_no, "paper_text": text, "paper_html": html})

    return add


def _paper(session: Session, revision: Revision, stage_key: str, language: str | None) -> fc.ForumCasePaper:
    plan = plan_of(session, revision)
    fc.case_stage(plan, stage_key)  # the stage, a forum's, with a case (or a clear error)
    language = language or revision.language.value
    stages = {s.key: s for s in session.exec(select(Stage).where(Stage.revision_id == revision.id).order_by(Stage.position))}
    this = stages[stage_key]
    earlier = [s for key, s in stages.items() if key in before(plan, stage_key)]
    parties = {p.id: p for p in session.exec(select(Party).where(Party.revision_id == revision.id))}
    history = fc.History(hearings=_hearings(session, earlier, parties), decisions=_decisions(session, revision, earlier, this))
    return fc.forum_case_paper(
        plan, stage_key, history=history, attachments=_attachments(session, revision, this.documents, language), language=language,
        meeting=PlanDate.parse(this.meeting) if this.meeting else None,
    )
