"""A refusal in Norwegian (bokmål), worded from its code, field and params, never from the
English message (models/errors.py). Every ErrorCode has a wording here (tests/test_commands.py).

A wording whose params are missing (a raise site not yet giving them) falls back to the
code's short sentence, so a refusal is always shown in Norwegian.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from avtaleflyt import clock
from avtaleflyt.models import wording
from avtaleflyt.models.errors import DomainError, ErrorCode

FIELDS = {
    "action": "handling", "revision": "revidering", "stage": "trinn", "forum": "utvalg", "party": "part", "outcome": "utfall",
    "date": "dato", "meeting": "møtedato", "case_no": "saksnr.", "note": "merknad", "reason": "begrunnelse",
    "self_reported": "egenrapportert", "username": "brukernavn", "password": "passord",
    "reservations": "forbehold", "minutes_text": "vedtaksteksten", "minutes_file": "fil", "file": "fil",
    "deadline": "frist", "document": "dokument", "label": "betegnelse", "significant": "vesentlig endring",
    "helsefellesskap": "helsefellesskap", "role": "rolle",
}
KINDS = wording.words("stage_kind")  # the one catalogue (models/wording.py)
STATUSES = wording.words("hearing_status") | wording.words("treatment")
FORUM_OUTCOMES = wording.words("forum_outcome")
OSLO = ZoneInfo(clock.TZ)
MAX_SHOWN = 60  # a value quoted back is cut here: the message travels in a cookie (security.FLASH_MAX)


def _q(value: object) -> str:
    text = str(value)
    return f"«{text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + '…'}»"


def _day(value: object) -> str:
    if isinstance(value, dt.datetime):  # a moment: in Norway's time, with the zone said
        return wording.moment(value, OSLO, zone=True)
    if isinstance(value, dt.date):
        return f"{value:%d.%m.%Y}"
    return str(value)


def _list(values: Any) -> str:  # noqa: ANN401
    return ", ".join(_q(v) for v in list(values or [])[:8]) or "ingen"


def _invalid(p: dict) -> str:
    problem, value = p.get("problem"), p.get("value", "")
    return {
        "not_a_date": f"{_q(value)} er ikke en dato (ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ)",
        "year_out_of_range": f"{_q(value)}: året må være 1900–2200",
        "multi_line": "må stå på én linje",
        "not_allowed": "hører ikke til denne registreringen",
        "choice": f"{_q(value)} er ikke et gyldig valg" + (f"; velg {_list(p['allowed'])}" if p.get("allowed") else ""),
    }.get(problem, f"{_q(value)} er ugyldig" if value else "ugyldig verdi")


def _stage_was(p: dict) -> str:
    after, returned = p.get("after") or [], p.get("returned_to") or []
    why = f"venter på {_list(after)}" if after else ""
    if returned:
        why += ("; " if why else "") + f"sendt tilbake til {_list(returned)}"
    return f" ({why})" if why else ""


def _forum(p: dict) -> str:
    return f" for {_q(p['forum'])}" if p.get("forum") else ""


def _already(p: dict) -> str:
    """A different decision over the recorded one (forum or party), or a meeting after the decision."""
    who = p.get("forum") or p["party"]
    outcome = str(p.get("outcome") or p["status"])
    said = FORUM_OUTCOMES.get(outcome, outcome) if p.get("forum") else STATUSES.get(outcome, outcome)
    return f"{_q(who)} har allerede registrert {said} {_day(p.get('date') or p['on'])}" + (f" (saksnr. {p['case_no']})" if p.get("case_no") else "")


_REFUSED: dict[str, Callable[[dict], str]] = {  # ErrorCode.refused by its `why`
    "nothing_to_withdraw": lambda p: f"{_q(p.get('forum') or p['party'])} har ikke noe vedtak å trekke tilbake",
    "hearing_not_closed": lambda p: f"høringen {_q(p['stage'])} er ikke avsluttet; bare en avsluttet høring kan åpnes på nytt",
    "nothing_changed": lambda p: f"ingen av dokumentene i høringen {_q(p['stage'])} er endret vesentlig etter at den ble avsluttet",
    "deadline_past": lambda p: f"den nye fristen {_day(p['day'])} må være etter i dag",
    "decided_after": lambda p: f"{_list(p['after'])} etter høringen er allerede vedtatt; korriger eller trekk tilbake de vedtakene først",
}


WORDING: dict[ErrorCode, Callable[[dict], str]] = {
    ErrorCode.refused: lambda p: _REFUSED.get(p.get("why"), lambda p: "registreringen ble avvist")(p),
    ErrorCode.required: lambda p: "må fylles ut",
    ErrorCode.invalid_value: _invalid,
    ErrorCode.too_long: lambda p: f"for lang ({p['length']} tegn; høyst {p['maximum']})",
    ErrorCode.future_date: lambda p: f"{_day(p['day'])} er etter i dag ({_day(p['today'])}); registrer vedtak når de er fattet",
    ErrorCode.no_revision: lambda p: f"ingen revidering {_q(p['slug'])}",
    ErrorCode.revision_exists: lambda p: f"revideringen {_q(p['slug'])} finnes allerede",
    ErrorCode.revision_completed: lambda p: f"revideringen {_q(p['slug'])} er fullført; planen kan ikke lenger endres",
    ErrorCode.no_stage: lambda p: f"ingen trinn {_q(p['stage'])}; trinnene er {_list(p['stages'])}",
    ErrorCode.wrong_stage_kind: lambda p: f"{_q(p['stage'])} er et trinn for {KINDS.get(p['kind'], p['kind'])}, ikke {KINDS.get(p['wanted'], p['wanted'])}",
    ErrorCode.no_open_stage: lambda p: f"ingen åpne trinn for {KINDS.get(p['kind'], p['kind'])}{_forum(p)}"
    + (f"; venter: {_list(p['pending'])}" if p.get("pending") else ""),
    ErrorCode.several_open_stages: lambda p: f"flere åpne trinn for {KINDS.get(p['kind'], p['kind'])}{_forum(p)}; velg ett av {_list(p['stages'])}",
    ErrorCode.stage_not_started: lambda p: f"trinnet {_q(p['stage'])} har ikke startet ennå{_stage_was(p)}",
    ErrorCode.stage_done: lambda p: f"trinnet {_q(p['stage'])} er allerede ferdig",
    ErrorCode.forum_not_in_stage: lambda p: f"{_q(p['forum'])} behandler ikke trinnet {_q(p['stage'])}; utvalgene er {_list(p['forums'])}",
    ErrorCode.no_party: lambda p: f"ingen part {_q(p['party'])} i denne revideringen" + (f"; mente du {_list(p['near'])}?" if p.get("near") else ""),
    ErrorCode.party_not_owing: lambda p: f"{_q(p['party'])} har ingen {KINDS.get(p['kind'], p['kind'])} i trinnet {_q(p['stage'])}",
    ErrorCode.party_left: lambda p: f"{_q(p['party'])} gikk ut av revideringen {_day(p['left_on'])} og kan ikke registreres",
    ErrorCode.already_answered: _already,
    ErrorCode.plan_unchanged: lambda p: f"filen er planen som gjelder (v{p['version']}); ingenting å flytte",
    ErrorCode.shift_refused: lambda p: "planen kan ikke flyttes slik",
    ErrorCode.prefect_unreachable: lambda p: "Prefect svarer ikke; ingenting ble lagret",
    ErrorCode.run_not_created: lambda p: "planen er lagret, men revideringens kjøring kunne ikke opprettes",
    ErrorCode.link_invalid: lambda p: "lenken er ikke gyldig (den er endret eller ufullstendig)" if p.get("reason") == "forged" else "lenken er ukjent her",
    ErrorCode.link_spent: lambda p: {
        "used": f"lenken ble brukt {_day(p.get('on'))}; be sekretariatet om en ny",
        "withdrawn": f"lenken ble trukket tilbake {_day(p.get('on'))}; be sekretariatet om en ny om du trenger det",
        "expired": f"lenken utløp {_day(p.get('on'))}; be sekretariatet om en ny",
        "left": "parten har gått ut av revideringen; lenken virker ikke lenger",
    }[p["reason"]],
    ErrorCode.bad_username: lambda p: "ett ord, uten mellomrom",
    ErrorCode.weak_password: lambda p: f"minst {p['minimum']} tegn",
    ErrorCode.user_exists: lambda p: f"{_q(p['username'])} finnes allerede",
    ErrorCode.no_user: lambda p: f"ingen bruker {_q(p['username'])}",
    ErrorCode.file_too_large: lambda p: f"filen er for stor ({_mb(p['size'])}; høyst {_mb(p['maximum'])}); ingenting ble lagret",
    ErrorCode.bad_file_name: lambda p: f"filnavnet {_q(p['name'])} kan ikke brukes ({_NAME_PROBLEMS.get(p.get('problem'), 'ugyldig')})",
    ErrorCode.bad_url: lambda p: f"{_q(p['url'])} er ikke en nettadresse (http:// eller https://)",
    ErrorCode.unreadable_file: lambda p: f"filen {_q(p['name'])} kan ikke leses",
}

def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB".replace(".", ",") if size >= 104_858 else f"{size} byte"


_NAME_PROBLEMS = {
    "empty": "tomt", "nul": "inneholder en NUL-byte", "control": "inneholder kontrolltegn", "path": "inneholder / eller \\",
    "dots": "er . eller ..", "hidden": "begynner med punktum", "too_long": "for langt",
}


# What each code says when its params are missing.
SHORT = {
    ErrorCode.too_long: "for lang", ErrorCode.future_date: "datoen er etter i dag", ErrorCode.no_revision: "ingen slik revidering",
    ErrorCode.revision_exists: "revideringen finnes allerede", ErrorCode.revision_completed: "revideringen er fullført",
    ErrorCode.no_stage: "intet slikt trinn", ErrorCode.wrong_stage_kind: "trinnet er av feil slag", ErrorCode.no_open_stage: "ingen åpne trinn",
    ErrorCode.several_open_stages: "flere åpne trinn; velg ett", ErrorCode.stage_not_started: "trinnet har ikke startet ennå",
    ErrorCode.stage_done: "trinnet er allerede ferdig", ErrorCode.forum_not_in_stage: "utvalget behandler ikke dette trinnet",
    ErrorCode.no_party: "ingen slik part", ErrorCode.party_not_owing: "parten har ikke noe å svare på her",
    ErrorCode.party_left: "parten har gått ut av revideringen", ErrorCode.already_answered: "et annet svar er allerede registrert",
    ErrorCode.plan_unchanged: "ingenting å flytte", ErrorCode.link_spent: "lenken kan ikke brukes lenger",
    ErrorCode.weak_password: "for kort passord", ErrorCode.user_exists: "brukeren finnes allerede", ErrorCode.no_user: "ingen slik bruker",
    ErrorCode.file_too_large: "filen er for stor; ingenting ble lagret", ErrorCode.bad_file_name: "filnavnet kan ikke brukes",
    ErrorCode.bad_url: "ikke en nettadresse", ErrorCode.unreadable_file: "filen kan ikke leses",
}


def in_norwegian(err: DomainError, language: str = "nb") -> str:
    """`err` in bokmål (or nynorsk, `language="nn"`: errors_nn.py): "<felt>: <hva som er galt>" when it concerns a field.

    A code without a nynorsk wording yet is said in bokmål."""
    code = ErrorCode(err.code)
    wordings, short, fields = (WORDING, SHORT, FIELDS)
    if language == "nn":
        from . import errors_nn

        if code in errors_nn.WORDING:
            wordings, short, fields = errors_nn.WORDING, errors_nn.SHORT, errors_nn.FIELDS
    try:
        text = wordings[code](err.params)
    except (KeyError, TypeError):
        text = short.get(code) or wordings[code]({})
    label = fields.get(err.field or "", err.field)
    return f"{label}: {text}" if label else text[:1].upper() + text[1:]
