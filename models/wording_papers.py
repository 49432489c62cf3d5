"""The words of a party's papers and its own page, in bokmål and nynorsk: the forum's case paper
(saksframstilling), a party's draft case (saksframlegg / styresak), its proposed resolution, and the
party's link (/p/{token}). Part of the catalogue in `models.wording`; read them through
``wording.word("papers.title", "nn")`` and the like, never from here.
"""

from __future__ import annotations

Pair = tuple[str, str]  # (bokmål, nynorsk)

# group → value → (bokmål, nynorsk)
PAPER_GROUPS: dict[str, dict[str, Pair]] = {
    "party_page": {  # a party's own link (/p/{token}), in the party's language
        "report": ("Meld vedtak", "Meld vedtak"),
        "decision_in": ("Vedtak i", "Vedtak i"),
        "date": ("Vedtaksdato", "Vedtaksdato"),
        "case_no": ("Saksnummer", "Saksnummer"),
        "case_example": ("f.eks. PS 12/25", "t.d. PS 12/25"),
        "send": ("Send", "Send"),
        "once": ("Lenken kan brukes én gang. Spørsmål: kontakt sekretariatet.", "Lenka kan brukast éin gong. Spørsmål: kontakt sekretariatet."),
        "not_sent": ("Ikke sendt", "Ikkje sendt"),
        "thanks": ("Takk", "Takk"),
        "recorded": ("Vedtaket er registrert", "Vedtaket er registrert"),
        "seen": ("Sekretariatet ser det med en gang, og dere får en kvittering på e-post.", "Sekretariatet ser det med ein gong, og de får ei kvittering på e-post."),
        "already": ("Vedtaket er allerede registrert", "Vedtaket er allereie registrert"),
        "case": ("saksnr.", "saksnr."),
        "wrong": ("Er noe feil, kontakt sekretariatet.", "Er noko feil, kontakt sekretariatet."),
        # what the party sends back with its decision (tasks/party_returns.py)
        "minutes_file": ("Vedtaket eller særutskrift av møteboka (fil)", "Vedtaket eller særutskrift av møteboka (fil)"),
        "minutes_text": ("…eller vedtaksteksten", "…eller vedtaksteksten"),
        "note": ("Merknader", "Merknader"),
        "reservations": ("Forbehold", "Atterhald"),
        "reservations_hint": ("må fylles ut når vedtaket er godkjent med merknader", "må fyllast ut når vedtaket er godkjend med merknader"),
        "file_limit": ("Høyst {size}.", "Høgst {size}."),
        "received": ("Mottatt", "Motteke"),
        "got_note": ("merknadene", "merknadene"),
        "got_reservations": ("forbeholdene", "atterhalda"),
        "got_minutes_text": ("vedtaksteksten", "vedtaksteksten"),
        "refused": ("Lenken kan ikke brukes", "Lenka kan ikkje brukast"),
        "no_csrf": (
            "Skjemaet mangler en gyldig sikkerhetsnøkkel (CSRF). Last siden på nytt og prøv igjen.",
            "Skjemaet manglar ein gyldig tryggleiksnøkkel (CSRF). Last sida på nytt og prøv igjen.",
        ),
    },
    "papers": {  # a forum's case paper (saksframstilling) and a party's draft case (saksframlegg)
        "forum_case": ("Saksframstilling", "Saksframstilling"),
        "forum": ("Råd/utvalg", "Råd/utval"),
        "meeting": ("Møtedato", "Møtedato"),
        "number": ("Saksnummer", "Saksnummer"),
        "officer": ("Saksbehandler", "Sakshandsamar"),
        "title": ("Sakstittel", "Sakstittel"),
        "proposed_resolution": ("Forslag til vedtak", "Framlegg til vedtak"),
        "attachments": ("Vedlegg", "Vedlegg"),
        "background": ("Bakgrunn for saken", "Bakgrunn for saka"),
        "follow_up": ("oppfølging sak", "oppfølging sak"),  # "Bakgrunn for saken (oppfølging sak 24 og 49-2023)"
        "and": ("og", "og"),
        "facts": ("Saksopplysninger", "Saksopplysningar"),
        "assessment": ("Vurderinger", "Vurderingar"),
        "earlier_decisions": ("Tidligere behandling", "Tidlegare handsaming"),
        "responses": ("Høringsinnspill", "Høyringsinnspel"),
        "answers": ("svar fra {done} av {of} parter", "svar frå {done} av {of} partar"),
        "party": ("Part", "Part"),
        "answered_on": ("Svar mottatt", "Svar motteke"),
        "date": ("Dato", "Dato"),
        "decision": ("Vedtak", "Vedtak"),
        "version": ("versjon", "versjon"),
        "none": ("Ingen.", "Ingen."),
        "none_yet": ("Ingen ennå: revideringen er ikke startet.", "Ingen enno: revideringa er ikkje starta."),
        "not_started": ("Høringen er ikke startet.", "Høyringa er ikkje starta."),
        "made_by": ("Laget med avtaleflyt", "Laga med avtaleflyt"),
    },
    "resolution": {  # a party's proposed resolution when the plan gives none (placeholders: models/resolution_templates.py)
        "municipality": (
            "{body} godkjenner revidert overordnet samarbeidsavtale med tilhørende retningslinjer mellom {party} og {trust}, "
            "slik vedtatt i {adopted}. Kommunedirektøren gis fullmakt til å signere avtalen.",
            "{body} godkjenner revidert overordna samarbeidsavtale med tilhøyrande retningslinjer mellom {party} og {trust}, "
            "slik vedteke i {adopted}. Kommunedirektøren får fullmakt til å signere avtalen.",
        ),
        "health_trust": (
            "{body} godkjenner revidert overordnet samarbeidsavtale med tilhørende retningslinjer mellom {party} og kommunene i "
            "{helsefellesskap}, slik vedtatt i {adopted}. Administrerende direktør gis fullmakt til å signere avtalene.",
            "{body} godkjenner revidert overordna samarbeidsavtale med tilhøyrande retningslinjer mellom {party} og kommunane i "
            "{helsefellesskap}, slik vedteke i {adopted}. Administrerande direktør får fullmakt til å signere avtalane.",
        ),
    },
    "party_case": {  # a party's draft case (saksframlegg; the health trust's board: styresak)
        "paper_municipality": ("Saksframlegg", "Saksframlegg"),
        "paper_health_trust": ("Styresak", "Styresak"),
        "party": ("Part", "Part"),
        "body": ("Vedtaksorgan", "Vedtaksorgan"),
        "meeting": ("Møtedato", "Møtedato"),
        "deadline": ("Frist for vedtak", "Frist for vedtak"),
        "resolution": ("Forslag til vedtak", "Framlegg til vedtak"),
        "attachments": ("Vedlegg", "Vedlegg"),
        "no_attachments": ("Ingen vedlegg.", "Ingen vedlegg."),
        "background": ("Saksopplysninger", "Saksopplysningar"),
        "background_municipality": (
            "{helsefellesskap} har revidert samarbeidsavtalen mellom kommunene og {trust} med tilhørende retningslinjer "
            "(«{revision}»). Avtalen gjelder mellom hver kommune og helseforetaket, og hver kommune vedtar den for seg. "
            "Saken legges fram for {body} til politisk behandling.",
            "{helsefellesskap} har revidert samarbeidsavtalen mellom kommunane og {trust} med tilhøyrande retningslinjer "
            "(«{revision}»). Avtalen gjeld mellom kvar kommune og helseføretaket, og kvar kommune vedtek han for seg. "
            "Saka blir lagd fram for {body} til politisk handsaming.",
        ),
        "background_health_trust": (
            "{helsefellesskap} har revidert samarbeidsavtalen mellom {party} og kommunene i helsefellesskapet med tilhørende "
            "retningslinjer («{revision}»). Saken legges fram for styret som styresak.",
            "{helsefellesskap} har revidert samarbeidsavtalen mellom {party} og kommunane i helsefellesskapet med tilhøyrande "
            "retningslinjer («{revision}»). Saka blir lagd fram for styret som styresak.",
        ),
        "adopted": ("Saken er behandlet i helsefellesskapet:", "Saka er handsama i helsefellesskapet:"),
        "not_adopted": ("Saken er ennå ikke behandlet i helsefellesskapets utvalg.", "Saka er enno ikkje handsama i utvala i helsefellesskapet."),
        "planned": ("skal behandles", "skal handsamast"),
        "case": ("sak", "sak"),
        "and": ("og", "og"),
        "report": ("Melding om vedtaket", "Melding om vedtaket"),
        "report_text": (
            "Helsefellesskapet ber om at saken behandles innen {deadline}, og at vedtaket (særutskrift) sendes til "
            "{coordinator} ({email}) med vedtaksdato og saksnummer.",
            "Helsefellesskapet ber om at saka blir handsama innan {deadline}, og at vedtaket (særutskrift) blir sendt til "
            "{coordinator} ({email}) med vedtaksdato og saksnummer.",
        ),
    },
}
