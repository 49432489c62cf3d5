"""Letters the secretariat would send unedited: a named contact person and the archive reference
(vår ref.) in every letter, deadlines on a weekend or holiday written as the working day before,
and an installation's own templates (AVTALEFLYT_TEMPLATE_DIR) used by the sender and checked by
`mail preview` and `plan check` (an undefined variable named with its file and line, exit 2)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
from email import policy
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from avtaleflyt.cli import app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models import letters as lt
from avtaleflyt.models.calendar_rules import working_day_before
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.enums import EmailEvent, ForumOutcome
from avtaleflyt.models.plan import PlanInvalid, parse_plan
from avtaleflyt.models.tables import OutboxMessage, Revision
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import records
from avtaleflyt.tasks.letters import TEMPLATE_DIR
from avtaleflyt.tasks.outbox import build_email
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.shift import apply_shift
from avtaleflyt.tasks.store import store_revision
from avtaleflyt.tasks.sweep import sweep_revision

from .plans import SMALL_PLAN

SLUG = "testrevisjon-2024"
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
CONTACT = "contact: {name: Kari Nordmann, title: seniorrådgiver, phone: +47 72 54 00 00, email: kari.nordmann@example.no}\nreference: \"24/01234\"\n"
# The hearing's deadline is a Sunday, the parties' deadline Easter Monday 2025 (Maundy Thursday and
# Good Friday before it are holidays too): written as Friday 6 September 2024 and Wednesday 16 April 2025.
PLAN = (
    SMALL_PLAN.replace("coordinators: [{name: Sekretariatet, email: sekretariat@example.no}]\n", "coordinators: [{name: Sekretariatet, email: sekretariat@example.no}]\n" + CONTACT)
    .replace("opens: 2024-06-20, deadline: 2024-09-10", "opens: 2024-06-20, deadline: 2024-09-08")
    .replace("kind: political_treatment, deadline: 2025-03-01", "kind: political_treatment, deadline: 2025-04-21")
)
runner = CliRunner()


@pytest.fixture
def engine(domain_db_url):
    return engine_for(domain_db_url)


def reconcile(engine, today: dt.date) -> None:  # noqa: ANN001
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=today)


def to_political_treatment(engine, plan: str = PLAN) -> None:  # noqa: ANN001
    today = dt.date(2024, 6, 25)
    with session_scope(engine) as s:
        store_revision(s, parse_plan(plan), plan, "t")
    steps = [
        lambda s: records.complete_draft(s, SLUG, stage_key=None, actor="t"),
        lambda s: records.record_forum_decision(s, SLUG, forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2024, 6, 19), today=today, actor="t"),
        lambda s: records.close_hearing(s, SLUG, stage_key=None, reason="t", actor="t"),
        lambda s: [records.record_forum_decision(s, SLUG, forum=f, outcome=ForumOutcome.approved, on=dt.date(2024, 11, 27), today=dt.date(2024, 12, 1), actor="t") for f in ("ASU", "FU", "PSU")],
    ]
    reconcile(engine, today)
    for step in steps:
        with session_scope(engine) as s:
            step(s)
        reconcile(engine, today)


def letters(engine, event: EmailEvent) -> dict[str, OutboxMessage]:  # noqa: ANN001
    with session_scope(engine) as s:
        rows = list(s.exec(select(OutboxMessage).where(OutboxMessage.event == event)).all())
        s.expunge_all()
    return {r.to_name: r for r in rows}


def calendar_days(row: OutboxMessage) -> list[str]:
    return [line.split(":")[1] for line in (row.ics or "").splitlines() if line.startswith("DTSTART")]


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("deadline", "written"),
    [
        ("2025-03-01", "2025-02-28"),  # Saturday -> Friday
        ("2025-03-02", "2025-02-28"),  # Sunday
        ("2025-05-17", "2025-05-16"),  # Grunnlovsdag (a Saturday in 2025)
        ("2025-04-21", "2025-04-16"),  # Andre påskedag; Langfredag and Skjærtorsdag are holidays too
        ("2024-05-17", "2024-05-16"),  # Grunnlovsdag on a Friday
        ("2024-12-26", "2024-12-24"),  # Andre and Første juledag; Christmas Eve is a working day
        ("2025-03-03", "2025-03-03"),  # a Monday stays
    ],
)
def test_a_deadline_off_a_working_day_is_written_as_the_working_day_before(deadline: str, written: str) -> None:
    assert working_day_before(dt.date.fromisoformat(deadline)) == dt.date.fromisoformat(written)
    assert lt.written_deadline(PlanDate.parse(deadline)) in (PlanDate.parse(deadline), dt.date.fromisoformat(written))
    assert lt.written_deadline(PlanDate(2025, 3)) == PlanDate(2025, 3)  # a month-only deadline is left as it is


def test_a_reminder_sent_after_the_day_written_names_the_planned_deadline() -> None:
    """The 3-day reminder before Easter Monday 2025 goes out on Good Friday, after the Wednesday
    the letters write: it names Monday with "om 3 dager", not Wednesday "om -2 dager"."""
    from avtaleflyt.tasks.letters import example_context, render

    base = example_context(EmailEvent.decision_reminder, "nb")
    easter = dataclasses.replace(base, deadline=dt.date(2025, 4, 21), days_left=3)
    assert "går ut om 3 dager, mandag 21. april 2025" in render(EmailEvent.decision_reminder, "nb", easter).text
    two_weeks = dataclasses.replace(base, deadline=dt.date(2025, 4, 21), days_left=14)
    assert "går ut om 9 dager, onsdag 16. april 2025" in render(EmailEvent.decision_reminder, "nb", two_weeks).text
    overdue = dataclasses.replace(example_context(EmailEvent.overdue_notice, "nb"), deadline=dt.date(2025, 4, 21), days_overdue=7)
    assert "var onsdag 16. april 2025, for 12 dager siden" in render(EmailEvent.overdue_notice, "nb", overdue).text


# --------------------------------------------------------------------------- real letters


def test_every_letter_names_the_contact_person_and_our_reference_in_nb_and_nn(engine) -> None:
    to_political_treatment(engine)
    for event in (EmailEvent.hearing_invitation, EmailEvent.decision_request):
        sent = letters(engine, event)
        for party, words in (("Trondheim kommune", ("Med vennlig hilsen", "Telefon")), ("Malvik kommune", ("Med venleg helsing", "Telefon"))):
            row = sent[party]
            for body in (row.body_text, row.body_html):
                assert "Vår ref.: 24/01234" in body
                assert body.index("Vår ref.: 24/01234") < body.index("Til " + party)  # at the top
                assert "Kari Nordmann" in body and "seniorrådgiver" in body and "+47 72 54 00 00" in body and "kari.nordmann@example.no" in body
            signature = row.body_text[row.body_text.index(words[0]):]
            assert signature.splitlines()[1:6] == ["Kari Nordmann", "seniorrådgiver", "Helsefellesskapet Test", f"{words[1]}: +47 72 54 00 00", "E-post: kari.nordmann@example.no"]
            assert row.reply_to == "kari.nordmann@example.no"
            received = email.message_from_bytes(build_email(row, "avtaleflyt <a@example.no>").as_bytes(policy=policy.SMTP), policy=policy.default)
            assert received["Reply-To"] == "kari.nordmann@example.no"
    # the coordinators' letters carry the reference too
    assert all("Vår ref.: 24/01234" in r.body_text for r in letters(engine, EmailEvent.stage_completed).values())


def test_without_a_contact_the_first_coordinator_signs_without_title_or_phone(engine) -> None:
    to_political_treatment(engine, PLAN.replace(CONTACT, ""))
    row = letters(engine, EmailEvent.decision_request)["Trondheim kommune"]
    assert "Vår ref." not in row.body_text and "Telefon" not in row.body_text
    assert row.body_text.split("Med vennlig hilsen\n")[1].splitlines()[:3] == ["Sekretariatet", "Helsefellesskapet Test", "E-post: sekretariat@example.no"]
    assert row.reply_to == "sekretariat@example.no"


def test_a_deadline_on_a_holiday_is_written_as_the_working_day_before_in_letter_and_calendar(engine) -> None:
    to_political_treatment(engine, PLAN.replace(CONTACT, ""))
    hearing = letters(engine, EmailEvent.hearing_invitation)
    assert "Høringsfrist: fredag 6. september 2024" in hearing["Trondheim kommune"].body_text
    assert "fredag 6. september 2024" in hearing["Malvik kommune"].body_text and "søndag" not in hearing["Malvik kommune"].body_text
    assert calendar_days(hearing["Trondheim kommune"]) == ["20240906"]
    requests = letters(engine, EmailEvent.decision_request)
    assert "Frist for vedtak: onsdag 16. april 2025" in requests["Trondheim kommune"].body_text
    assert "onsdag 16. april 2025" in requests["Malvik kommune"].body_text and "21. april" not in requests["Malvik kommune"].body_text
    assert calendar_days(requests["Trondheim kommune"]) == ["20250416"]
    # the stored deadline and the reminders' days stay as planned: 14 days before 21 April is 7 April
    with session_scope(engine) as s:
        assert s.exec(select(OutboxMessage.due).where(OutboxMessage.event == EmailEvent.decision_request)).first() == dt.date(2025, 4, 21)
    with session_scope(engine) as s:
        sweep_revision(s, SLUG, dt.date(2025, 4, 6))
    assert letters(engine, EmailEvent.decision_reminder) == {}
    with session_scope(engine) as s:
        sweep_revision(s, SLUG, dt.date(2025, 4, 7))
    reminder = letters(engine, EmailEvent.decision_reminder)["Trondheim kommune"]
    assert reminder.due == dt.date(2025, 4, 21) and calendar_days(reminder) == ["20250416"]
    assert "Fristen for vedtak går ut om 9 dager, onsdag 16. april 2025." in reminder.body_text
    assert "16.04.2025" in reminder.subject


def test_plan_shift_keeps_the_contact_and_reference_up_to_date(engine) -> None:
    to_political_treatment(engine)
    revised = PLAN.replace("name: Kari Nordmann, title: seniorrådgiver, phone: +47 72 54 00 00, email: kari.nordmann@example.no", "name: Ola Nordmann, email: ola@example.no").replace('"24/01234"', '"24/05678"')
    with session_scope(engine) as s:
        apply_shift(s, SLUG, revised, actor="t", reason="ny saksbehandler", today=dt.date(2024, 12, 2))
    with session_scope(engine) as s:
        revision = s.exec(select(Revision).where(Revision.slug == SLUG)).one()
        assert (revision.contact, revision.reference) == ({"name": "Ola Nordmann", "email": "ola@example.no", "title": None, "phone": None}, "24/05678")


@pytest.mark.parametrize(
    ("contact", "place", "words"),
    [
        ("{name: K, email: k@example.no, phone: 72 54 ab}", "contact.phone", "not a phone number"),
        ("{name: K, email: k@example.no, phone: 47+72540000}", "contact.phone", "not a phone number"),
        ("{name: K, email: k@example.no, phone: '123'}", "contact.phone", "not a phone number"),
        ("{name: K, email: not-an-address}", "contact.email", "not a valid email address"),
        ("{name: K}", "contact.email", "required"),
    ],
)
def test_a_bad_contact_is_refused_with_its_place(contact: str, place: str, words: str) -> None:
    with pytest.raises(PlanInvalid) as raised:
        parse_plan(PLAN.replace(CONTACT, f"contact: {contact}\n"))
    assert [(p.place, words in p.message) for p in raised.value.problems] == [(place, True)]


def test_phone_numbers_written_as_people_write_them_are_accepted() -> None:
    for phone, kept in (("+47 72 54 00 00", "+47 72 54 00 00"), ("72540000", "72540000"), ("72  54 00 00", "72 54 00 00")):
        plan = parse_plan(PLAN.replace("phone: +47 72 54 00 00", f"phone: '{phone}'")).plan
        assert plan.contact is not None and plan.contact.phone == kept


# --------------------------------------------------------------------------- the installation's own templates


def overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> Path:
    folder = tmp_path / "templates-local"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("AVTALEFLYT_TEMPLATE_DIR", str(folder))
    get_settings.cache_clear()
    return folder


def built_in(name: str) -> str:
    return (TEMPLATE_DIR / name).read_text(encoding="utf-8")


def test_the_sender_uses_an_overridden_template(engine, tmp_path, monkeypatch) -> None:
    own = built_in("decision_request.nb.txt").replace("Vedtaksorgan: {{ party.body }}", "Vedtaksorgan: {{ party.body }}\nSaksbehandler hos oss: {{ revision.coordinator_name }}")
    overrides(tmp_path, monkeypatch, {"decision_request.nb.txt": own})
    to_political_treatment(engine, PLAN.replace(CONTACT, ""))
    sent = letters(engine, EmailEvent.decision_request)
    assert "Saksbehandler hos oss: Sekretariatet" in sent["Trondheim kommune"].body_text
    assert "Saksbehandler hos oss" not in sent["Malvik kommune"].body_text  # nn is not overridden
    assert "Saksbehandler hos oss" not in sent["Trondheim kommune"].body_html


BROKEN = {
    # line 6 uses `revision.titel` (a typo of `revision.title`)
    "decision_request.nb.txt": built_in("decision_request.nb.txt").replace("(«{{ revision.title }}»).", "(«{{ revision.titel }}»)."),
    # a signature that every nynorsk letter includes, with a syntax error on line 3
    "_signature.nn.txt": "Med venleg helsing\n{{ revision.coordinator_name }}\n{% if revision.contact %}{{ revision.contact.name }\n",
    "decision_requst.nb.txt": "a misspelt name: never used\n",
}


def test_mail_preview_and_plan_check_name_an_undefined_variable_with_its_file_and_line(tmp_path, monkeypatch) -> None:
    assert BROKEN["decision_request.nb.txt"].splitlines()[5].count("revision.titel") == 1  # line 6
    folder = overrides(tmp_path, monkeypatch, BROKEN)
    (folder / "email").mkdir()
    for args in (["mail", "preview", "hearing_invitation"], ["plan", "check", str(EXAMPLE)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert f"error: {folder}/decision_request.nb.txt:6: 'revision.titel' is undefined" in result.stderr
        assert f"error: {folder}/_signature.nn.txt:3: " in result.stderr
        assert f"warning: {folder}/decision_requst.nb.txt: named like no built-in template" in result.stderr
        assert f"warning: {folder}/email: a folder" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout
    assert "Subject:" not in runner.invoke(app, ["mail", "preview", "hearing_invitation"]).stdout  # nothing previewed


def test_good_overrides_pass_and_the_preview_shows_them(tmp_path, monkeypatch) -> None:
    own = built_in("_signature.nb.txt").replace("Med vennlig hilsen", "Vennlig hilsen fra oss")
    overrides(tmp_path, monkeypatch, {"_signature.nb.txt": own})
    result = runner.invoke(app, ["mail", "preview", "decision_request"])
    assert result.exit_code == 0, result.stderr
    assert "Vennlig hilsen fra oss" in result.stdout and "Vår ref.: 24/01234" in result.stdout
    check = runner.invoke(app, ["plan", "check", str(EXAMPLE)])
    assert check.exit_code == 0, check.stderr
    assert "render every letter they take part in" in check.stdout
