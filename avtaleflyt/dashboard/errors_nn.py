"""A refusal in nynorsk, for a nynorsk party's own link (errors.in_norwegian(err, "nn")):
the same codes, fields and params as the bokmål wordings in errors.py.
"""

from __future__ import annotations

from collections.abc import Callable

from avtaleflyt.models import wording
from avtaleflyt.models.errors import ErrorCode

from .errors import _day, _forum, _list, _mb, _q

FIELDS = {
    "action": "handling", "revision": "revidering", "stage": "steg", "forum": "utval", "party": "part", "outcome": "utfall",
    "date": "dato", "meeting": "møtedato", "case_no": "saksnr.", "note": "merknad", "reason": "grunngjeving",
    "self_reported": "eigenrapportert", "username": "brukarnamn", "password": "passord",
    "reservations": "atterhald", "minutes_text": "vedtaksteksten", "minutes_file": "fil", "file": "fil",
    "helsefellesskap": "helsefellesskap", "role": "rolle",
}
KINDS = wording.words("stage_kind", "nn")
STATUSES = wording.words("hearing_status", "nn") | wording.words("treatment", "nn")
FORUM_OUTCOMES = wording.words("forum_outcome", "nn")


def _kind(p: dict, key: str = "kind") -> str:
    return KINDS.get(p[key], p[key])


def _invalid(p: dict) -> str:
    problem, value = p.get("problem"), p.get("value", "")
    return {
        "not_a_date": f"{_q(value)} er ikkje ein dato (ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ)",
        "year_out_of_range": f"{_q(value)}: året må vere 1900–2200",
        "multi_line": "må stå på éi linje",
        "not_allowed": "høyrer ikkje til denne registreringa",
        "choice": f"{_q(value)} er ikkje eit gyldig val" + (f"; vel {_list(p['allowed'])}" if p.get("allowed") else ""),
    }.get(problem, f"{_q(value)} er ugyldig" if value else "ugyldig verdi")


def _already(p: dict) -> str:
    who = p.get("forum") or p["party"]
    outcome = str(p.get("outcome") or p["status"])
    said = FORUM_OUTCOMES.get(outcome, outcome) if p.get("forum") else STATUSES.get(outcome, outcome)
    return f"{_q(who)} har alt registrert {said} {_day(p.get('date') or p['on'])}" + (f" (saksnr. {p['case_no']})" if p.get("case_no") else "")


WORDING: dict[ErrorCode, Callable[[dict], str]] = {
    ErrorCode.refused: lambda p: "registreringa vart avvist",
    ErrorCode.required: lambda p: "må fyllast ut",
    ErrorCode.invalid_value: _invalid,
    ErrorCode.too_long: lambda p: f"for lang ({p['length']} teikn; høgst {p['maximum']})",
    ErrorCode.future_date: lambda p: f"{_day(p['day'])} er etter i dag ({_day(p['today'])}); registrer vedtak når dei er gjorde",
    ErrorCode.no_revision: lambda p: f"inga revidering {_q(p['slug'])}",
    ErrorCode.revision_completed: lambda p: f"revideringa {_q(p['slug'])} er fullført",
    ErrorCode.no_open_stage: lambda p: f"ingen opne steg for {_kind(p)}{_forum(p)}",
    ErrorCode.stage_not_started: lambda p: f"steget {_q(p['stage'])} har ikkje starta enno",
    ErrorCode.stage_done: lambda p: f"steget {_q(p['stage'])} er alt ferdig",
    ErrorCode.no_party: lambda p: f"ingen part {_q(p['party'])} i denne revideringa",
    ErrorCode.party_not_owing: lambda p: f"{_q(p['party'])} har ingen {_kind(p)} i steget {_q(p['stage'])}",
    ErrorCode.party_left: lambda p: f"{_q(p['party'])} gjekk ut av revideringa {_day(p['left_on'])} og kan ikkje registrerast",
    ErrorCode.already_answered: _already,
    ErrorCode.prefect_unreachable: lambda p: "Prefect svarar ikkje; ingenting vart lagra",
    ErrorCode.link_invalid: lambda p: "lenka er ikkje gyldig (ho er endra eller ufullstendig)" if p.get("reason") == "forged" else "lenka er ukjend her",
    ErrorCode.link_spent: lambda p: {
        "used": f"lenka vart brukt {_day(p.get('on'))}; be sekretariatet om ei ny",
        "withdrawn": f"lenka vart trekt tilbake {_day(p.get('on'))}; be sekretariatet om ei ny om de treng det",
        "expired": f"lenka gjekk ut {_day(p.get('on'))}; be sekretariatet om ei ny",
        "left": "parten har gått ut av revideringa; lenka verkar ikkje lenger",
    }[p["reason"]],
    ErrorCode.file_too_large: lambda p: f"fila er for stor ({_mb(p['size'])}; høgst {_mb(p['maximum'])}); ingenting vart lagra",
    ErrorCode.bad_file_name: lambda p: f"filnamnet {_q(p['name'])} kan ikkje brukast",
    ErrorCode.bad_url: lambda p: f"{_q(p['url'])} er ikkje ei nettadresse (http:// eller https://)",
    ErrorCode.unreadable_file: lambda p: f"fila {_q(p['name'])} kan ikkje lesast",
}

SHORT = {
    ErrorCode.too_long: "for lang", ErrorCode.future_date: "datoen er etter i dag", ErrorCode.no_revision: "inga slik revidering",
    ErrorCode.revision_completed: "revideringa er fullført", ErrorCode.no_open_stage: "ingen opne steg",
    ErrorCode.stage_not_started: "steget har ikkje starta enno", ErrorCode.stage_done: "steget er alt ferdig",
    ErrorCode.no_party: "ingen slik part", ErrorCode.party_not_owing: "parten har ikkje noko å svare på her",
    ErrorCode.party_left: "parten har gått ut av revideringa", ErrorCode.already_answered: "eit anna svar er alt registrert",
    ErrorCode.link_spent: "lenka kan ikkje brukast lenger",
    ErrorCode.file_too_large: "fila er for stor; ingenting vart lagra", ErrorCode.bad_file_name: "filnamnet kan ikkje brukast",
}
