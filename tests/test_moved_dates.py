"""`plan shift` tells everyone whose date moved: the forums whose meeting moved, and each
party of every one of its deadlines that moved, with their calendar entries moved (same UIDs).

Real SQLite, no Prefect (as tests/test_shift.py, whose fixtures these are).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from avtaleflyt.models import letters as lt
from avtaleflyt.models.enums import EmailEvent, ForumOutcome, StageKind
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.tables import OutboxMessage
from avtaleflyt.tasks import records
from avtaleflyt.tasks.letters import example_context, render
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.shift import apply_shift
from avtaleflyt.tasks.store import store_revision
from icalendar import Calendar

from avtaleflyt.db import session_scope

from .test_shift import (  # noqa: F401 - fixtures
    ASU_MEETING,
    EXAMPLE,
    SLUG,
    TODAY,
    edited,
    engine,
    example,
    messages,
    reconcile,
    shift,
)

SEPT_25, OCT_9 = dt.date(2024, 9, 25), dt.date(2024, 10, 9)


def events(message: OutboxMessage) -> dict[str, dt.date]:
    """The letter's calendar entries, UID → day (icalendar reads it back, or the test fails)."""
    return {str(e["UID"]): e.decoded("DTSTART") for e in Calendar.from_ical(message.ics).walk("VEVENT")}


def test_a_moved_forum_meeting_is_told_to_the_forum_with_its_calendar_entry_moved(example):  # noqa: F811 - the fixture
    # The other guidelines' draft is done: ASU has its meeting notice for 25 September.
    with session_scope(example) as s:
        records.complete_draft(s, SLUG, stage_key="utkast-ovrige", actor="t")
    reconcile(example)
    notice = next(m for m in messages(example, EmailEvent.forum_meeting_notice) if m.stage_key == "hoeringsforslag-ovrige")
    assert notice.to_address == "asu@example.no" and list(events(notice).values()) == [SEPT_25]

    applied = shift(example, edited(EXAMPLE, ASU_MEETING, "    meeting: 2024-10-09\n"))

    to_forums = {m.to_address: m for m in messages(example, EmailEvent.deadline_moved) if m.party_id is None}
    assert sorted(to_forums) == ["asu@example.no", "fagrad@example.no", "fu@example.no", "psu@example.no"]
    asu = to_forums["asu@example.no"]
    # One letter for both of ASU's moved meetings; the first one's entry is the notice's, moved.
    assert events(asu)[next(iter(events(notice)))] == OCT_9
    assert sorted(events(asu).values()) == [OCT_9, dt.date(2024, 12, 11)]
    assert asu.to_name == "Administrativt samarbeidsutvalg" and asu.language == "nb"
    assert "møtet er flyttet fra onsdag 25. september 2024 til onsdag 9. oktober 2024" in asu.body_text
    assert "Administrativt samarbeidsutvalg" in asu.subject and "ASU-møtet 25.09 er flyttet" in asu.body_text
    assert list(events(to_forums["fu@example.no"]).values()) == [dt.date(2024, 12, 11)]
    # The parties are told as before, once each; the preview names the forums.
    assert len([m for m in messages(example, EmailEvent.deadline_moved) if m.party_id is not None]) == 21
    assert sorted(n.forum for n in applied.preview.forum_notices) == ["ASU", "FU", "PSU", "fagråd"]


def test_a_forum_that_has_decided_in_the_stage_under_way_is_not_told(example):  # noqa: F811 - the fixture
    """The final treatment is under way and ASU has decided: its meeting moves; FU, PSU and fagråd are told."""
    steps = [
        lambda s: records.complete_draft(s, SLUG, stage_key="utkast-ovrige", actor="t"),
        lambda s: records.close_hearing(s, SLUG, stage_key="hoering-1", reason="t", actor="t"),
        lambda s: records.record_forum_decision(s, SLUG, forum="ASU", outcome=ForumOutcome.approved, on=TODAY, today=TODAY, stage_key="hoeringsforslag-ovrige", actor="t"),
        lambda s: records.close_hearing(s, SLUG, stage_key="hoering-ovrige", reason="t", actor="t"),
        lambda s: records.record_forum_decision(s, SLUG, forum="ASU", outcome=ForumOutcome.approved, on=TODAY, today=TODAY, stage_key="sluttbehandling", actor="t"),
    ]
    for step in steps:
        with session_scope(example) as s:
            step(s)
        reconcile(example)
    notices = {m.to_address: m for m in messages(example, EmailEvent.forum_meeting_notice) if m.stage_key == "sluttbehandling"}
    assert len(notices) == 4

    shift(example, edited(EXAMPLE, "    meeting: 2024-11-27\n", "    meeting: 2024-12-04\n"))

    told = {m.to_address: m for m in messages(example, EmailEvent.deadline_moved) if m.party_id is None}
    assert sorted(told) == ["fagrad@example.no", "fu@example.no", "psu@example.no"]
    for address, letter in told.items():
        assert events(letter) == {uid: dt.date(2024, 12, 4) for uid in events(notices[address])}


def test_forums_still_to_meet_is_asked_of_the_kind():
    from types import SimpleNamespace

    from avtaleflyt.models.enums import StageStatus
    from avtaleflyt.models.stages import KINDS, StageFacts

    kinds = dict(KINDS)
    meeting_kinds = [r for r in kinds.values() if r.forum_dates]
    assert meeting_kinds and all(set(r.forum_dates) <= set(r.dates) for r in meeting_kinds)
    rules = meeting_kinds[0]
    stage = SimpleNamespace(id=1, round=1, forums=["ASU", "FU", "PSU"], required=2, status=StageStatus.active)
    decided = [SimpleNamespace(stage_id=1, round=1, forum_key="ASU", outcome=ForumOutcome.approved, decided_on=SEPT_25, id=1),
               SimpleNamespace(stage_id=1, round=1, forum_key="FU", outcome=ForumOutcome.postponed, decided_on=SEPT_25, id=2)]
    assert rules.forums_to_meet(stage, StageFacts(decisions=decided)) == {"FU", "PSU"}
    stage.status = StageStatus.pending
    assert rules.forums_to_meet(stage, StageFacts()) == {"ASU", "FU", "PSU"}
    assert all(r.forums_to_meet(stage, StageFacts()) == set() for r in kinds.values() if not r.forum_dates)


@pytest.mark.parametrize(("language", "words"), [("nb", ("Nye møtedatoer", "møtet er flyttet fra")), ("nn", ("Nye møtedatoar", "møtet er flytta frå"))])
def test_the_forum_letter_in_both_languages(language, words):
    context = dataclasses.replace(
        example_context(EmailEvent.deadline_moved, language), party=None, forum=lt.ForumRef("ASU", "Administrativt samarbeidsutvalg", "asu@example.no"),
        moves=tuple(lt.MovedDeadline(f"Møte {n}", StageKind.forum_approval, dt.date(2024, 9, 25 - n), dt.date(2024, 10, 9 - n)) for n in (1, 2)),
    )
    letter = render(EmailEvent.deadline_moved, language, context)
    assert letter.subject.startswith(words[0]) and letter.subject.endswith("– Administrativt samarbeidsutvalg")
    for body in (letter.text, letter.html):
        assert words[1] in body and "Til Administrativt samarbeidsutvalg" in body and "frist" not in body.split("Med ven")[0]


PARALLEL = """
helsefellesskap: Helsefellesskapet Test
revision: Parallell 2024
coordinators: [{name: Sekretariatet, email: sekretariat@example.no}]
documents:
  - {key: overordnet, title: Overordnet samarbeidsavtale}
parties:
  - {name: St. Olavs hospital HF, kind: health_trust, org_number: "883974832", email: postmottak@stolav.example.no, body: Styret}
  - {name: Malvik kommune, kind: municipality, org_number: "938726027", email: postmottak@malvik.example.no, body: Kommunestyret, language: nn}
stages:
  - {key: hoering, kind: hearing, opens: 2024-06-20, deadline: 2024-09-10}
  - {key: politisk, kind: political_treatment, deadline: 2024-12-02, after: []}
"""


def test_a_letter_moving_two_deadlines_moves_both_calendar_entries(engine):  # noqa: F811 - the fixture
    today = dt.date(2024, 6, 20)
    with session_scope(engine) as s:
        slug = store_revision(s, parse_plan(PARALLEL), PARALLEL, "t").slug
    with session_scope(engine) as s:
        reconcile_revision(s, slug, today=today)
    first = {}  # party → {uid: day}, from the letters that put the deadlines in its calendar
    for event in (EmailEvent.hearing_invitation, EmailEvent.decision_request):
        for m in messages(engine, event):
            first.setdefault(m.party_id, {}).update(events(m))
    assert all(len(entries) == 2 for entries in first.values()) and len(first) == 2

    text = PARALLEL.replace("deadline: 2024-09-10", "deadline: 2024-09-24").replace("deadline: 2024-12-02", "deadline: 2024-12-16")
    with session_scope(engine) as s:
        apply_shift(s, slug, text, actor="t", reason="mer tid", today=today)

    notices = messages(engine, EmailEvent.deadline_moved)
    assert sorted(n.party_id for n in notices) == sorted(first)
    for n in notices:
        moved = events(n)
        assert set(moved) == set(first[n.party_id])  # the same UIDs: the entries move
        assert sorted(moved.values()) == [dt.date(2024, 9, 24), dt.date(2024, 12, 16)]
        before = first[n.party_id]  # each entry's old day → its new day
        assert {before[uid]: day for uid, day in moved.items()} == {dt.date(2024, 9, 10): dt.date(2024, 9, 24), dt.date(2024, 12, 2): dt.date(2024, 12, 16)}
        assert n.due == dt.date(2024, 9, 24)
