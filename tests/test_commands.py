"""The one command model (models/commands.py): every front end parses into it, and
`actions.execute` records it through the one handler table (tasks/handlers.py)."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import select

from avtaleflyt import actions
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models import commands
from avtaleflyt.models.commands import parse_command
from avtaleflyt.models.enums import ForumOutcome, PartyOutcome
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.tables import AuditEntry, Revision

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 2, 10)
ROOT = Path(__file__).resolve().parent.parent

EXAMPLES = {
    "draft_complete": {"stage": "utkast", "note": "ferdig"},
    "hearing_response": {"party": "Malvik kommune", "date": "2024-09-05", "stage": "horing", "note": "innspill"},
    "hearing_close": {"stage": "horing", "reason": "alle har svart"},
    "hearing_reopen": {"stage": "horing", "deadline": "2025-03-14", "reason": "ny paragraf 5"},
    "forum_decision": {"forum": "ASU", "outcome": "approved", "date": "19.06.2024", "case_no": "12/24", "stage": "asu"},
    "party_schedule": {"party": "Malvik kommune", "meeting": "2025-03-01"},
    "party_decision": {"party": "Malvik kommune", "outcome": "rejected", "date": "2025-02-01", "case_no": "PS 4/25"},
    "forum_withdraw": {"forum": "ASU", "reason": "registrert ved en feil", "stage": "asu"},
    "party_withdraw": {"party": "Malvik kommune", "reason": "registrert ved en feil"},
    "party_signing": {"party": "Malvik kommune", "date": "2025-05-02", "signer": "Kari Nordmann", "signer_title": "ordførar"},
    "signing_withdraw": {"party": "Malvik kommune", "reason": "registrert ved en feil"},
    "followup_close": {"id": "3", "note": "dialogmøte 12.03.2025"},
    "information_done": {"stage": "orientering", "note": "lagt fram i PSU"},
    "refresh": {},
}


def test_every_action_has_an_example():
    assert set(EXAMPLES) == set(commands.ACTIONS)


@pytest.mark.parametrize("action", sorted(EXAMPLES))
def test_the_union_parses_each_action(action):
    command = parse_command({"action": action, "revision": SLUG, **EXAMPLES[action]})
    assert type(command) is commands.COMMANDS[action] and command.action == action and command.revision == SLUG
    with pytest.raises(Exception):  # noqa: B017 - frozen: pydantic's ValidationError
        command.revision = "x"


def test_dates_and_outcomes_become_typed_values():
    forum = parse_command({"action": "forum_decision", "revision": SLUG, **EXAMPLES["forum_decision"]})
    assert (forum.date, forum.outcome) == (dt.date(2024, 6, 19), ForumOutcome.approved)
    party = parse_command({"action": "party_decision", "revision": SLUG, **EXAMPLES["party_decision"]})
    assert (party.date, party.outcome, party.self_reported) == (dt.date(2025, 2, 1), PartyOutcome.rejected, False)


@pytest.mark.parametrize(
    ("given", "code", "field"),
    [
        ({"action": "party_decision", "outcome": "approved", "date": "2025-02-01"}, ErrorCode.required, "party"),
        ({"action": "party_decision", "party": "  ", "outcome": "approved", "date": "2025-02-01"}, ErrorCode.required, "party"),
        ({"action": "party_decision", "party": "M", "outcome": "maybe", "date": "2025-02-01"}, ErrorCode.invalid_value, "outcome"),
        ({"action": "party_decision", "party": "M", "outcome": "approved", "date": "19/06/2024"}, ErrorCode.invalid_value, "date"),
        ({"action": "party_decision", "party": "M", "outcome": "approved", "date": "9999-12-31"}, ErrorCode.invalid_value, "date"),
        ({"action": "party_decision", "party": "M", "outcome": "approved", "date": dt.date(1899, 1, 1)}, ErrorCode.invalid_value, "date"),
        ({"action": "party_decision", "party": "M", "outcome": "approved", "date": "2025-02-01", "case_no": "1" * 65}, ErrorCode.too_long, "case_no"),
        ({"action": "party_decision", "party": "M", "outcome": "approved", "date": "2025-02-01", "case_no": "1\nBcc: x"}, ErrorCode.invalid_value, "case_no"),
        ({"action": "party_decision", "party": "M", "outcome": "approved", "date": "2025-02-01", "stage": "s"}, ErrorCode.invalid_value, "stage"),
        ({"action": "party_decision", "party": "M", "outcome": "approved", "date": "2025-02-01", "self_reported": True}, ErrorCode.invalid_value, "self_reported"),
        ({"action": "party_decision", "party": "x" * 201, "outcome": "approved", "date": "2025-02-01"}, ErrorCode.too_long, "party"),
        ({"action": "hearing_close", "reason": "r" * 2001}, ErrorCode.too_long, "reason"),
        ({"action": "draft_complete", "note": "n" * 2001}, ErrorCode.too_long, "note"),
        ({"action": "party_schedule", "party": "M", "meeting": "2025-02-30"}, ErrorCode.invalid_value, "meeting"),
        ({"action": "sign"}, ErrorCode.invalid_value, "action"),
        ({}, ErrorCode.required, "action"),
    ],
)
def test_bad_input_is_a_domain_error_with_code_and_field(given, code, field):
    with pytest.raises(DomainError) as caught:
        parse_command({"revision": SLUG, **given})
    assert (caught.value.code, caught.value.field) == (code, field), caught.value
    assert str(caught.value).startswith(f"{field}: ")


def test_the_same_command_from_cli_dashboard_and_resume_form_parses_equal():
    """Each front end's own way of giving the fields (CLI strings, a form, Prefect's typed input)."""
    from starlette.datastructures import FormData

    from avtaleflyt.dashboard.forms import command_from_form
    from avtaleflyt.flows.inputs import RevisionInput
    from avtaleflyt.tasks.run_input import command_from_input

    cli = parse_command({"action": "party_decision", "revision": SLUG, "party": "Malvik kommune", "outcome": "approved", "date": "2025-02-01", "case_no": None})
    form = FormData([("csrf_token", "t"), ("party", "Malvik kommune"), ("outcome", "approved"), ("date", "01.02.2025"), ("case_no", "")])
    dashboard = command_from_form("party-decision", SLUG, form)
    resume = command_from_input(SLUG, RevisionInput(action="party_decision", party="Malvik kommune", outcome="approved", date=dt.date(2025, 2, 1)))
    assert cli == dashboard == resume
    closing = [
        parse_command({"action": "hearing_close", "revision": SLUG, "stage": "horing", "reason": "nok"}),
        command_from_form("hearing-close", SLUG, FormData([("stage", "horing"), ("reason", "nok")])),
        command_from_input(SLUG, RevisionInput(action="hearing_close", stage="horing", note="nok")),
    ]
    assert closing[0] == closing[1] == closing[2]
    schedule = command_from_input(SLUG, RevisionInput(action="party_schedule", party="Malvik kommune", date=dt.date(2025, 3, 1)))
    assert schedule == command_from_form("party-schedule", SLUG, FormData([("party", "Malvik kommune"), ("meeting", "2025-03-01")]))


def test_the_resume_form_offers_exactly_the_commands_actions():
    import typing

    from avtaleflyt.flows.inputs import RevisionInput

    assert set(typing.get_args(RevisionInput.model_fields["action"].annotation)) == set(commands.ACTIONS)


def test_every_command_has_a_handler():
    from avtaleflyt.tasks.handlers import HANDLERS

    assert set(HANDLERS) == set(commands.COMMANDS.values())


def test_no_second_dispatcher_on_the_action():
    """Only models/commands.py knows the action names: no front end matches on them."""
    names = set(commands.ACTIONS) | {a.replace("_", "-") for a in commands.ACTIONS}
    for path in ["avtaleflyt/cli/recordings.py", "avtaleflyt/dashboard/forms.py", "avtaleflyt/dashboard/routers/forms.py", "tasks/run_input.py", "avtaleflyt/actions.py"]:
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Match)], f"{path}: a match statement"
        compared = [
            c.value for n in ast.walk(tree) if isinstance(n, ast.Compare)
            for c in [n.left, *n.comparators] if isinstance(c, ast.Constant) and c.value in names
        ]
        assert not compared, f"{path}: compares the action with {compared}"


# --------------------------------------------------------------------------- execute on a real database


@pytest.fixture
def engine(domain_db_url):
    from .plans import drive_to_political_treatment

    engine = engine_for(domain_db_url)
    drive_to_political_treatment(engine, today=TODAY)
    return engine


class FixedClock:
    def now(self) -> dt.datetime:
        return dt.datetime(2025, 2, 10, 12, tzinfo=dt.timezone.utc)

    def today(self) -> dt.date:
        return TODAY


def _seq(engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(Revision.seq).where(Revision.slug == SLUG)).one()


def test_execute_records_once_and_is_idempotent(engine):
    command = parse_command({"action": "party_decision", "revision": SLUG, "party": "malvik kommune", "outcome": "approved", "date": "06.02.2025", "case_no": "PS 4/25"})
    before = _seq(engine)
    recorded, outcome = actions.execute(command, actor="kari", clock=FixedClock(), engine=engine)
    assert recorded.changed and recorded.seq == before + 1 and outcome.error == "the revision has no run yet"
    assert recorded.message == "Malvik kommune: approved on 2025-02-06 (case PS 4/25)"
    again, _ = actions.execute(command, actor="kari", clock=FixedClock(), engine=engine)
    assert not again.changed and again.message.startswith("already recorded: ") and _seq(engine) == before + 1
    with session_scope(engine) as s:
        entries = s.exec(select(AuditEntry).where(AuditEntry.action == "party.decided")).all()
        assert [(e.actor, e.to_value) for e in entries] == [("kari", "approved 2025-02-06 (case PS 4/25)")]


def test_execute_refuses_and_writes_nothing(engine):
    before = _seq(engine)
    command = parse_command({"action": "hearing_close", "revision": SLUG})  # the hearing is over
    with pytest.raises(DomainError) as caught:
        actions.execute(command, actor="kari", clock=FixedClock(), engine=engine)
    assert caught.value.field == "stage" and caught.value.code != ErrorCode.refused
    future = parse_command({"action": "party_decision", "revision": SLUG, "party": "Malvik kommune", "outcome": "approved", "date": "2025-02-11"})
    with pytest.raises(DomainError) as caught:
        actions.execute(future, actor="kari", clock=FixedClock(), engine=engine)  # the day after the clock's today
    assert (caught.value.code, caught.value.field) == (ErrorCode.future_date, "date")
    assert _seq(engine) == before
    with pytest.raises(DomainError) as missing:
        actions.execute(parse_command({"action": "refresh", "revision": "ingen"}), actor="kari", clock=FixedClock(), engine=engine)
    assert (missing.value.code, missing.value.params["slug"]) == (ErrorCode.no_revision, "ingen")


def test_refresh_records_nothing(engine):
    recorded, outcome = actions.execute(parse_command({"action": "refresh", "revision": SLUG}), actor="kari", clock=FixedClock(), engine=engine)
    assert (recorded.changed, recorded.seq, outcome.error) == (False, _seq(engine), "the revision has no run yet")


def test_the_before_hook_runs_in_the_same_transaction(engine):
    """What `report_by_link` relies on: a refusal by the handler undoes what `before` wrote."""
    command = parse_command({"action": "hearing_close", "revision": SLUG})

    def before(session):  # noqa: ANN001, ANN202
        revision = session.exec(select(Revision).where(Revision.slug == SLUG)).one()
        revision.title = "skrevet av before"
        session.add(revision)

    with pytest.raises(DomainError):
        actions.execute(command, actor="kari", clock=FixedClock(), engine=engine, before=before)
    with session_scope(engine) as s:
        assert s.exec(select(Revision.title).where(Revision.slug == SLUG)).one() != "skrevet av before"


# --------------------------------------------------------------------------- wording


def test_every_error_code_has_a_norwegian_wording():
    from avtaleflyt.dashboard.errors import WORDING, in_norwegian

    assert set(WORDING) == set(ErrorCode)
    for code in ErrorCode:  # without params (a raise site that gives none) it still says something in Norwegian
        text = in_norwegian(DomainError("english", code=code))
        assert text and "english" not in text, code


@pytest.mark.parametrize(
    ("error", "wording"),
    [
        (DomainError("x", code=ErrorCode.required, field="party"), "part: må fylles ut"),
        (DomainError("x", code=ErrorCode.too_long, field="case_no", length=65, maximum=64), "saksnr.: for lang (65 tegn; høyst 64)"),
        (DomainError("x", code=ErrorCode.no_party, field="party", party="Malvk", near=["Malvik kommune"]),
         "part: ingen part «Malvk» i denne revideringen; mente du «Malvik kommune»?"),
        (DomainError("x", code=ErrorCode.future_date, field="date", day=dt.date(2025, 3, 1), today=dt.date(2025, 2, 10)),
         "dato: 01.03.2025 er etter i dag (10.02.2025); registrer vedtak når de er fattet"),
        (DomainError("x", code=ErrorCode.no_open_stage, field="stage", kind="hearing", forum=None, pending=["horing"]),
         "trinn: ingen åpne trinn for høring; venter: «horing»"),
        (DomainError("x", code=ErrorCode.link_spent, reason="expired", on=dt.datetime(2025, 1, 2, 3, 4)), "Lenken utløp 02.01.2025 04:04 (norsk tid); be sekretariatet om en ny"),
        (DomainError("x", code=ErrorCode.no_party, field="party", party="x" * 1000, near=[]), "part: ingen part «" + "x" * 59 + "…» i denne revideringen"),
    ],
)
def test_the_dashboard_words_an_error_from_its_code_and_params(error, wording):
    from avtaleflyt.dashboard.errors import in_norwegian

    assert in_norwegian(error) == wording


def test_a_parse_error_is_worded_in_norwegian():
    from avtaleflyt.dashboard.errors import in_norwegian

    with pytest.raises(DomainError) as caught:
        parse_command({"action": "party_decision", "revision": SLUG, "party": "M", "outcome": "approved", "date": "19/06/2024"})
    assert in_norwegian(caught.value) == "dato: «19/06/2024» er ikke en dato (ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ)"


def test_no_front_end_matches_on_the_text_of_an_error():
    """`"not valid" in str(exc)` and the like: a front end decides on `code`, never on the message."""
    front_ends = [*(ROOT / "avtaleflyt/dashboard").rglob("*.py"), *(ROOT / "avtaleflyt/cli").rglob("*.py"), ROOT / "avtaleflyt/actions.py"]
    for path in front_ends:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
                sides = [node.left, *node.comparators]
                texts = [s for s in sides if isinstance(s, ast.Call) and isinstance(s.func, ast.Name) and s.func.id == "str"]
                messages = [s for s in sides if isinstance(s, ast.Attribute) and s.attr in ("message", "args")]
                assert not texts and not messages, f"{path.relative_to(ROOT)}:{node.lineno}: matches on an error's text"
