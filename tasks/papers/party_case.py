"""A party's draft case (saksframlegg; styresak for a health trust's board) from a running
revision: its facts from the database, its resolution template from the plan in force,
rendered as Word (word.py: case systems such as Elements, WebSak and ePhorte take Word) or HTML.

The decision request quotes the same proposed resolution and links the paper through the
party's own link (/p/{token}/saksframlegg.docx|html).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, col, select

from avtaleflyt.models import letters as lt
from avtaleflyt.models import rules, wording
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.enums import Language, PartyKind
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.identifiers import slugify
from avtaleflyt.models.papers.party_case import Adoption, Attachment, Facts, PartyCase, ResolutionTemplates, party_case
from avtaleflyt.models.plan import Plan
from avtaleflyt.models.stages import rules_for
from avtaleflyt.models.stages.forum_approval import forum_tally
from avtaleflyt.models.tables import Document, DocumentVersion, Forum, ForumDecision, Party, PartyObligation, Revision, Stage
from avtaleflyt.models.titles import title_in

from .. import letter_parts as parts
from . import html, word

FORMATS = ("docx", "html")
URL_NAME = "saksframlegg"  # /p/{token}/saksframlegg.docx|html (a health trust's styresak too)
MEDIA_TYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "html": "text/html; charset=utf-8"}


def treatment_stage(session: Session, revision: Revision) -> Stage | None:
    """The stage in which each party decides on the agreement (the registry's `party_decision`)."""
    stages = session.exec(select(Stage).where(Stage.revision_id == revision.id).order_by(col(Stage.position))).all()
    return next((s for s in stages if rules_for(s.kind).party_decision), None)


def plan_of(session: Session, revision: Revision) -> Plan | None:
    from ..shift import latest_version, plan_in_force

    version = latest_version(session, revision)
    try:
        return plan_in_force(version) if version is not None else None
    except ValueError:  # a stored plan this version no longer reads: the built-in texts, never a failed letter
        return None


def templates(plan: Plan | None, stage_key: str) -> dict[str, ResolutionTemplates | None]:
    """The stage's resolution templates in the plan in force (none: the built-in text)."""
    spec = next((s for s in plan.stages if s.key == stage_key), None) if plan else None
    return {field: getattr(spec, field, None) for field in ("resolution", "resolution_nn")}


def adoptions(session: Session, stage: Stage, plan: Plan | None = None) -> tuple[Adoption, ...]:
    """The approving decisions of the forum stages right before `stage`; a forum stage none has approved yet
    gives its forums as planned (its meeting date, its case number from the plan's `case:`)."""
    before = session.exec(select(Stage).where(Stage.revision_id == stage.revision_id, col(Stage.key).in_(stage.after)).order_by(col(Stage.position))).all()
    names = {f.key: f.name for f in session.exec(select(Forum).where(Forum.revision_id == stage.revision_id))}
    specs = {s.key: s for s in plan.stages} if plan else {}
    found: list[Adoption] = []
    for forum_stage in (s for s in before if s.forums):
        rows = session.exec(select(ForumDecision).where(ForumDecision.stage_id == forum_stage.id, ForumDecision.round == forum_stage.round)).all()
        tally = forum_tally(forum_stage, rows)
        if tally.approved:
            found += [
                Adoption(k, names.get(k, k), tally.latest[k].decided_on, tally.latest[k].case_no, tally.latest[k].outcome) for k in tally.approved
            ]
            continue
        case = getattr(specs.get(forum_stage.key), "case", None)
        meeting = PlanDate.parse(forum_stage.meeting) if forum_stage.meeting else None
        found += [Adoption(k, names.get(k, k), meeting, getattr(case, "number", None)) for k in forum_stage.forums]
    return tuple(found)


def attachments(
    session: Session, revision: Revision, link: str | None, language: Language | None = None,
    current: Sequence[tuple[Document, DocumentVersion | None]] | None = None,
) -> tuple[Attachment, ...]:
    """Every document with its current version (label and date); a web address links to itself, a stored
    file to `link` + /documents/KEY/vN (`link`: the party's own link, or the revision on the dashboard).
    `current`: `documents.with_current` read once for many parties (None: read here)."""
    from ..documents import with_current

    found = []
    for d, v in current if current is not None else with_current(session, revision):
        if v is None:
            found.append(Attachment(title_in(language or revision.language, d.title, d.title_nn)))
            continue
        url = v.url or (f"{link.rstrip('/')}/documents/{d.key}/v{v.number}" if link else None)
        found.append(Attachment(title_in(language or revision.language, d.title, d.title_nn), url, f"{v.label}, {wording.short_date(v.date)}"))  # a day is written alike in nb and nn
    return tuple(found)


def facts(
    session: Session, revision: Revision, party: Party, stage: Stage, adopted: tuple[Adoption, ...], *, link: str | None = None,
    current: Sequence[tuple[Document, DocumentVersion | None]] | None = None,
) -> Facts:
    trust = session.exec(select(Party).where(Party.revision_id == revision.id, Party.kind == PartyKind.health_trust).order_by(col(Party.id))).first()
    row = session.exec(select(PartyObligation).where(PartyObligation.stage_id == stage.id, PartyObligation.party_id == party.id)).first()
    coordinator = revision.coordinators[0]
    return Facts(
        Language(party.language), PartyKind(party.kind), party.name, party.body, trust.name if trust else "helseforetaket",
        revision.helsefellesskap, title_in(party.language, revision.title, revision.title_nn), coordinator["name"], coordinator["email"],
        adopted, attachments(session, revision, link, Language(party.language), current),
        _deadline(stage), row.meeting_date if row else None,
    )


def _deadline(stage: Stage) -> dt.date | PlanDate | None:
    """As the letters write it: one on a weekend or public holiday is the working day before."""
    planned = parts.plan_date(stage.deadline)
    return lt.written_deadline(planned) if planned is not None else None


def build(session: Session, revision: Revision, party: Party, stage: Stage | None = None, *, link: str | None = None) -> PartyCase:
    """`link`: where the paper's files are fetched (the party's own link; default: the revision on the dashboard)."""
    stage = stage or treatment_stage(session, revision)
    if stage is None:
        raise DomainError(
            f"SLUG: {revision.slug!r} has no stage in which the parties decide; a party's draft case belongs to one",
            code=ErrorCode.refused, field="revision", why="no_party_decision", slug=revision.slug,
        )
    plan = plan_of(session, revision)
    link = link or dashboard_link(revision)
    return party_case(facts(session, revision, party, stage, adoptions(session, stage, plan), link=link), templates(plan, stage.key))


def dashboard_link(revision: Revision) -> str:
    """The revision's page on the dashboard: a document's file under it is served to coordinators."""
    from avtaleflyt.settings import get_settings

    return f"{get_settings().public_url.rstrip('/')}/revisions/{revision.slug}"


def for_party(session: Session, slug: str, party: str) -> PartyCase:
    """A party's draft case by the revision's slug and the party's name (unknown ones refused, naming the known)."""
    revision = session.exec(select(Revision).where(Revision.slug == slug)).first()
    if revision is None:
        known = session.exec(select(Revision.slug).order_by(Revision.slug)).all()
        hint = f"; known: {', '.join(known)}" if known else "; no revision has been started"
        raise DomainError(f"SLUG: no revision {slug!r}{hint}", code=ErrorCode.no_revision, field="revision", slug=slug)
    parties = session.exec(select(Party).where(Party.revision_id == revision.id).order_by(col(Party.id))).all()
    return build(session, revision, rules.find_party(parties, party))


def render(case: PartyCase, fmt: str) -> bytes:
    """The paper as a .docx or an HTML page (UTF-8)."""
    if fmt not in FORMATS:
        raise DomainError(f"--format: {fmt!r}; expected one of {', '.join(FORMATS)}", code=ErrorCode.invalid_value, field="format", value=fmt)
    paper = case.paper()
    return word.docx_bytes(paper) if fmt == "docx" else html.html_page(paper).encode("utf-8")


def file_name(case: PartyCase, fmt: str) -> str:
    """``saksframlegg-malvik-kommune.docx`` (``styresak-…`` for a health trust)."""
    return f"{slugify(case.paper().kind)}-{slugify(case.facts.party)}.{fmt}"
