"""Letters: every event renders in both languages; strict contexts, escaping, one-line subjects."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re

import jinja2
import pytest

from avtaleflyt.models import letters as lt
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.enums import EmailEvent, Language, PartyKind, PartyOutcome
from avtaleflyt.tasks.letters import TEMPLATE_DIR, Rendered, example_context, one_line, preview, render

E = EmailEvent
CASES = [(event, language) for event in EmailEvent for language in Language]
PARTY_EVENTS = [event for event in EmailEvent if "party" in {f.name for f in dataclasses.fields(lt.CONTEXTS[event])}]

# The date each example letter is about, as its reader sees it (nb, nn); a deadline on Saturday
# 1 (15) March 2025 is written as the Friday before.
DATES = {
    E.hearing_invitation: ("tirsdag 10. september 2024", "tysdag 10. september 2024"),
    E.hearing_reminder: ("tirsdag 10. september 2024", "tysdag 10. september 2024"),
    E.hearing_deadline_passed: ("tirsdag 10. september 2024", "tysdag 10. september 2024"),
    E.forum_meeting_notice: ("onsdag 27. november 2024", "onsdag 27. november 2024"),
    E.decision_request: ("fredag 28. februar 2025", "fredag 28. februar 2025"),
    E.decision_reminder: ("fredag 28. februar 2025", "fredag 28. februar 2025"),
    E.overdue_notice: ("fredag 28. februar 2025", "fredag 28. februar 2025"),
    E.decision_receipt: ("torsdag 13. februar 2025", "torsdag 20. februar 2025"),
    E.stage_completed: ("onsdag 27. november 2024", "onsdag 27. november 2024"),
    E.revision_completed: ("torsdag 20. mars 2025", "torsdag 20. mars 2025"),
    E.weekly_digest: ("mandag 10. mars 2025", "måndag 10. mars 2025"),
    E.party_digest: ("mandag 17. februar 2025", "måndag 17. februar 2025"),
    E.deadline_moved: ("fredag 14. mars 2025", "fredag 14. mars 2025"),
    E.signing_request: ("mandag 30. juni 2025", "måndag 30. juni 2025"),
    E.signing_reminder: ("mandag 30. juni 2025", "måndag 30. juni 2025"),
    E.signing_receipt: ("tirsdag 6. mai 2025", "tysdag 6. mai 2025"),
    E.information_notice: ("onsdag 15. januar 2025", "onsdag 15. januar 2025"),
}

# A nynorsk word each nynorsk letter uses and its bokmål twin does not.
NYNORSK = {
    E.hearing_invitation: "høyringa",
    E.hearing_reminder: "påminninga",
    E.hearing_deadline_passed: "innspela",
    E.forum_meeting_notice: "handsamast",
    E.decision_request: "Framlegg til vedtak",
    E.decision_reminder: "dagar",
    E.overdue_notice: "ikkje",
    E.decision_receipt: "godkjend med merknader",
    E.stage_completed: "vart avslutta",
    E.revision_completed: "partane",
    E.weekly_digest: "veke",
    E.party_digest: "dykk",
    E.deadline_moved: "flytta frå",
    E.signing_request: "signerast",
    E.signing_reminder: "påminninga",
    E.signing_receipt: "i kraft for Heim kommune frå",
    E.information_notice: "treng ikkje svare",
}


def inject(event: EmailEvent, context: object, value: str) -> object:
    """Puts `value` where a name lands in the letter, and in its subject where the subject has one."""
    if event in PARTY_EVENTS:
        return dataclasses.replace(context, party=dataclasses.replace(context.party, name=value))
    if event in (E.forum_meeting_notice, E.information_notice):
        return dataclasses.replace(context, stage_title=value)
    if event is E.weekly_digest:
        return dataclasses.replace(context, recipient_name=value)
    return dataclasses.replace(context, revision=dataclasses.replace(context.revision, title=value))


def html_title(rendered: Rendered) -> str:
    return html.unescape(re.search(r"<title>(.*?)</title>", rendered.html, re.S).group(1))


@pytest.mark.parametrize(("event", "language"), CASES)
def test_every_event_renders_in_both_languages(event: EmailEvent, language: Language) -> None:
    rendered = preview(event, language)
    context = example_context(event, language)

    assert rendered.text.strip() and rendered.html.strip()
    assert rendered.subject and "\n" not in rendered.subject and rendered.subject == rendered.subject.strip()
    assert html_title(rendered) == rendered.subject  # the txt and html templates agree on the subject

    date = DATES[event][language is Language.nn]
    assert date in rendered.text and date in rendered.html
    names = [context.party.name] if event in PARTY_EVENTS else []
    names.append("Revidering av samarbeidsavtalen 2024")
    for name in names:
        assert name in rendered.text and name in rendered.html

    assert rendered.html.startswith("<!DOCTYPE html>") and f'<html lang="{language}">' in rendered.html
    assert not re.search(r"<(img|link|script|style|iframe)\b|\bsrc=", rendered.html), "no external resources"


@pytest.mark.parametrize("event", list(EmailEvent))
def test_nynorsk_is_its_own_text(event: EmailEvent) -> None:
    nb, nn = preview(event, Language.nb), preview(event, Language.nn)
    marker = NYNORSK[event]
    assert marker in nn.text and marker in nn.html
    assert marker not in nb.text and marker not in nb.html
    assert nb.text != nn.text and nb.html != nn.html


def test_decision_request_carries_the_proposed_resolution() -> None:
    adopted = "slik {} i Forhandlingsutvalget 19.11.2024 (sak 14-2024), Fagrådene 25.11.2024 og Administrativt samarbeidsutvalg 27.11.2024 (sak 09-2024)"
    for language, heading, text in [
        (Language.nb, "Forslag til vedtak", "Bystyret godkjenner revidert overordnet samarbeidsavtale med tilhørende retningslinjer mellom "
         f"Trondheim kommune og St. Olavs hospital HF, {adopted.format('vedtatt')}. Kommunedirektøren gis fullmakt til å signere avtalen."),
        (Language.nn, "Framlegg til vedtak", "Kommunestyret godkjenner revidert overordna samarbeidsavtale med tilhøyrande retningslinjer mellom "
         f"Heim kommune og St. Olavs hospital HF, {adopted.format('vedteke')}. Kommunedirektøren får fullmakt til å signere avtalen."),
    ]:
        rendered = preview(E.decision_request, language)
        for body in (rendered.text, rendered.html):
            assert heading in body and text in body and "/saksframlegg.docx" in body


def test_proposed_resolution_for_the_health_trust() -> None:
    trust = lt.PartyRef("St. Olavs hospital HF", "Styret", "postmottak@stolav.example.no", PartyKind.health_trust)
    assert lt.proposed_resolution(Language.nb, trust, "St. Olavs hospital HF", "Helsefellesskapet Søndre Trøndelag") == (
        "Styret godkjenner revidert overordnet samarbeidsavtale med tilhørende retningslinjer mellom St. Olavs hospital HF "
        "og kommunene i Helsefellesskapet Søndre Trøndelag, slik vedtatt i Helsefellesskapet Søndre Trøndelag. "
        "Administrerende direktør gis fullmakt til å signere avtalene."
    )
    assert "kommunane i" in lt.proposed_resolution(Language.nn, trust, "St. Olavs hospital HF", "Helsefellesskapet")


def test_report_url_is_optional() -> None:
    with_url = example_context(E.decision_request, Language.nb)
    without = dataclasses.replace(with_url, report_url=None)
    assert with_url.report_url in render(E.decision_request, Language.nb, with_url).text
    rendered = render(E.decision_request, Language.nb, without)
    assert "direkte her" not in rendered.text and "Meld vedtaket" not in rendered.html


@pytest.mark.parametrize(
    ("language", "days_left", "words"),
    [(Language.nb, 0, "i dag"), (Language.nb, 1, "i morgen"), (Language.nn, 1, "i morgon"), (Language.nn, 3, "om 3 dagar")],
)
def test_days_left_in_words(language: Language, days_left: int, words: str) -> None:
    context = dataclasses.replace(example_context(E.hearing_reminder, language), days_left=days_left)
    assert f"går ut {words}," in render(E.hearing_reminder, language, context).text


def test_month_only_plan_date() -> None:
    context = dataclasses.replace(example_context(E.forum_meeting_notice, Language.nb), meeting=PlanDate(2025, 2))
    rendered = render(E.forum_meeting_notice, Language.nb, context)
    assert rendered.subject.startswith("Sak til møte i ASU februar 2025:")
    assert "Møtedato: februar 2025" in rendered.text


def test_outcome_in_words_per_language() -> None:
    base = example_context(E.decision_receipt, Language.nn)
    rejected = render(E.decision_receipt, Language.nn, dataclasses.replace(base, outcome=PartyOutcome.rejected))
    assert "Utfall: ikkje godkjend" in rejected.text
    approved = render(E.decision_receipt, Language.nb, dataclasses.replace(base, outcome=PartyOutcome.approved))
    assert "Utfall: godkjent" in approved.text


# --- strictness and safety --------------------------------------------------------

DATE_FIELD = {
    E.hearing_invitation: "deadline",
    E.hearing_reminder: "deadline",
    E.hearing_deadline_passed: "deadline",
    E.forum_meeting_notice: "meeting",
    E.decision_request: "deadline",
    E.decision_reminder: "deadline",
    E.overdue_notice: "deadline",
    E.decision_receipt: "decided_on",
    E.stage_completed: "completed_on",
    E.revision_completed: "completed_on",
    E.weekly_digest: "as_of",
    E.party_digest: "as_of",
    E.deadline_moved: "moves",
    E.signing_request: "deadline",
    E.signing_reminder: "deadline",
    E.signing_receipt: "signed_on",
    E.information_notice: "date",
}


def as_dict(context: object) -> dict[str, object]:
    return {f.name: getattr(context, f.name) for f in dataclasses.fields(context)}


@pytest.mark.parametrize(("event", "language"), CASES)
def test_a_missing_value_raises(event: EmailEvent, language: Language) -> None:
    values = as_dict(example_context(event, language))
    render(event, language, values)  # a mapping with everything renders
    del values[DATE_FIELD[event]]
    with pytest.raises(jinja2.UndefinedError):
        render(event, language, values)


def test_an_optional_value_left_out_raises_too() -> None:
    values = as_dict(example_context(E.decision_request, Language.nb))
    del values["report_url"]
    with pytest.raises(jinja2.UndefinedError):
        render(E.decision_request, Language.nb, values)


def test_the_wrong_context_type_is_refused() -> None:
    with pytest.raises(TypeError, match="HearingInvitation"):
        render(E.hearing_invitation, Language.nb, example_context(E.decision_request, Language.nb))


@pytest.mark.parametrize(("event", "language"), CASES)
def test_html_is_escaped_and_text_is_not(event: EmailEvent, language: Language) -> None:
    script = "<script>alert(1)</script>"
    rendered = render(event, language, inject(event, example_context(event, language), script))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<script" not in rendered.html
    assert script in rendered.text


@pytest.mark.parametrize(("event", "language"), CASES)
def test_a_line_break_cannot_add_a_header(event: EmailEvent, language: Language) -> None:
    context = inject(event, example_context(event, language), "Trondheim kommune\r\nBcc: x@evil.example")
    if event is E.weekly_digest:  # its subject holds no name: the name is harmless there
        subject = render(event, language, context).subject
        assert "\r" not in subject and "\n" not in subject
        return
    with pytest.raises(ValueError, match="one line"):
        render(event, language, context)


@pytest.mark.parametrize("breaking", ["\n", "\r", "\u2028", "\x85", "\v"])
def test_one_line_refuses_every_line_break(breaking: str) -> None:
    with pytest.raises(ValueError):
        one_line(f"Høring{breaking}Bcc: x@evil.example")


def test_one_line_collapses_whitespace() -> None:
    assert one_line("  Høring:\t Trondheim   kommune ") == "Høring: Trondheim kommune"


# --- the template files -----------------------------------------------------------


def test_every_event_and_language_has_both_templates_and_nothing_else() -> None:
    on_disk = {p.name for p in TEMPLATE_DIR.iterdir() if p.is_file() and not p.name.startswith("_")} - {"README.md"}
    expected = {f"{event}.{language}.{ext}" for event in EmailEvent for language in Language for ext in ("txt", "html")}
    assert on_disk == expected


def test_every_event_has_a_context_and_an_example() -> None:
    assert set(lt.CONTEXTS) == set(EmailEvent)
    for event, language in CASES:
        assert isinstance(example_context(event, language), lt.CONTEXTS[event])


def test_contexts_are_frozen() -> None:
    context = example_context(E.hearing_invitation, Language.nb)
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.deadline = dt.date(2025, 1, 1)  # type: ignore[misc]
    assert isinstance(context.deadline, dt.date)
