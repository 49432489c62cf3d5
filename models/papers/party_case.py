"""A party's draft case (saksframlegg; a health trust's board gets a styresak) with its proposed
resolution, in the party's language. Pure: tasks/papers/party_case.py gathers the facts from
the database and renders the `Layout` as Word and HTML.

The proposed resolution is a template, one per party kind, from the plan's political
treatment stage (`resolution:` in bokmål, `resolution_nn:` in nynorsk; its placeholders and
checks: models/resolution_templates.py) or the built-in one (models/wording.py, group
``resolution``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .. import wording
from ..dates import PlanDate
from ..enums import ForumOutcome, Language, PartyKind
from ..resolution_templates import ResolutionTemplates, fill, template_problems
from .layout import Bullets, Paper, Paragraph, Section

__all__ = ["Adoption", "Attachment", "Facts", "PartyCase", "ResolutionTemplates", "fill", "party_case", "proposed_resolution", "template_problems", "values"]

_UNKNOWN = "…"  # a value not known yet (no forum has decided, no case number)


# --- the facts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Adoption:
    """A forum's approving decision before the political treatment; planned (outcome None) while it has not decided."""

    forum_key: str
    forum_name: str
    on: dt.date | PlanDate | None
    case_no: str | None = None
    outcome: ForumOutcome | None = None


@dataclass(frozen=True)
class Attachment:
    title: str
    url: str | None = None
    version: str | None = None  # the version's label and date, when documents have versions


@dataclass(frozen=True)
class Facts:
    """What a party's case is made of, before its words."""

    language: Language
    kind: PartyKind
    party: str
    body: str
    trust: str
    helsefellesskap: str
    revision: str  # the revision's title
    coordinator_name: str
    coordinator_email: str
    adopted: tuple[Adoption, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    deadline: dt.date | PlanDate | None = None
    meeting_date: dt.date | None = None  # the party's council or board meeting, when known


def _and(items: Sequence[str], language: str) -> str:
    items = list(dict.fromkeys(i for i in items if i))
    if len(items) < 2:
        return items[0] if items else _UNKNOWN
    return f"{', '.join(items[:-1])} {wording.word('party_case.and', language)} {items[-1]}"


def _adopted(adopted: Sequence[Adoption], language: str) -> str:
    """``ASU 27.11.2024 (sak 09-2024)``; forums that decided on one day in one case are named together
    (``ASU, FU og PSU 27.11.2024 (sak 09-2024)``)."""
    groups: dict[tuple[dt.date | PlanDate | None, str | None], list[str]] = {}
    for a in adopted:
        groups.setdefault((a.on, a.case_no), []).append(a.forum_key)
    return _and([
        f"{_and(keys, language)} {wording.short_date(on, language) if on else ''}".strip()
        + (f" ({wording.word('party_case.case', language)} {case_no})" if case_no else "")
        for (on, case_no), keys in groups.items()
    ], language)


def values(facts: Facts) -> dict[str, str]:
    """Each placeholder's value for this party."""
    lang = facts.language.value
    adopted = facts.adopted
    return {
        "party": facts.party,
        "body": facts.body,
        "trust": facts.trust,
        "helsefellesskap": facts.helsefellesskap,
        "revision": facts.revision,
        "deadline": wording.short_date(facts.deadline, lang) if facts.deadline else _UNKNOWN,
        "forum": _and([a.forum_key for a in adopted], lang),
        "forum_name": _and([a.forum_name for a in adopted], lang),
        "forum_date": _and([wording.short_date(a.on, lang) for a in adopted if a.on], lang),
        "case_no": _and([a.case_no for a in adopted if a.case_no], lang),
        "adopted": _adopted(adopted, lang) if adopted else facts.helsefellesskap,
    }


def proposed_resolution(facts: Facts, templates: Mapping[str, ResolutionTemplates | None] | None = None) -> str:
    """The party's proposed resolution: the plan's template for its kind in its language, else the built-in one.

    `templates`: the stage's ``{"resolution": …, "resolution_nn": …}``. A nynorsk party never gets the
    bokmål text: without ``resolution_nn`` it gets the built-in nynorsk one.
    """
    given = (templates or {}).get("resolution_nn" if facts.language is Language.nn else "resolution")
    text = (given.for_kind(facts.kind) if given else None) or wording.word(f"resolution.{PartyKind(facts.kind).value}", facts.language.value)
    return fill(text, values(facts))


# --- the paper ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyCase:
    facts: Facts
    proposed_resolution: str

    def paper(self) -> Paper:
        """The draft case as the renderers draw it (tasks/papers/word.py, html.py), in the party's language."""
        f, lang = self.facts, self.facts.language.value
        w = wording.words("party_case", lang)
        kind, v = PartyKind(f.kind).value, values(f)
        adopted = tuple(
            f"{a.forum_name} ({a.forum_key}): "
            + (wording.label("forum_outcome", a.outcome, lang) if a.outcome else w["planned"])
            + (f" {wording.short_date(a.on, lang)}" if a.on else "")
            + (f" ({w['case']} {a.case_no})" if a.case_no else "")
            for a in f.adopted
        )
        attachments = tuple(a.title + (f" ({a.version})" if a.version else "") + (f": {a.url}" if a.url else "") for a in f.attachments)
        lowered = {**v, "body": f.body[:1].lower() + f.body[1:]}  # mid-sentence: "legges fram for bystyret"
        background: tuple = (Paragraph(fill(w[f"background_{kind}"], lowered)), Paragraph(w["adopted"] if adopted else w["not_adopted"]))
        return Paper(
            w[f"paper_{kind}"],
            f.revision,
            (
                (w["party"], f.party),
                (w["body"], f.body),
                (w["meeting"], wording.short_date(f.meeting_date, lang) if f.meeting_date else None),
                (w["deadline"], wording.short_date(f.deadline, lang) if f.deadline else None),
            ),
            (
                Section(w["resolution"], (Paragraph(self.proposed_resolution),)),
                Section(w["attachments"], (Bullets(attachments) if attachments else Paragraph(w["no_attachments"]),)),
                Section(w["background"], background + ((Bullets(adopted),) if adopted else ())),
                Section(w["report"], (Paragraph(fill(w["report_text"], {**v, "coordinator": f.coordinator_name, "email": f.coordinator_email})),)),
            ),
            language=lang,
        )


def party_case(facts: Facts, templates: Mapping[str, ResolutionTemplates | None] | None = None) -> PartyCase:
    return PartyCase(facts, proposed_resolution(facts, templates))
