"""Small plan files for tests that need a revision but not the whole reference example."""

SMALL_PLAN = """
helsefellesskap: Helsefellesskapet Test
revision: Testrevisjon 2024
coordinators: [{name: Sekretariatet, email: sekretariat@example.no}]
documents:
  - {key: overordnet, title: Overordnet samarbeidsavtale}
parties:
  - {name: St. Olavs hospital HF, kind: health_trust, org_number: "883974832", email: postmottak@stolav.example.no, body: Styret}
  - {name: Trondheim kommune, kind: municipality, org_number: "942110464", email: postmottak@trondheim.example.no, body: Bystyret}
  - {name: Malvik kommune, kind: municipality, org_number: "938726027", email: postmottak@malvik.example.no, body: Kommunestyret, language: nn}
forums:
  - {key: ASU, name: Administrativt samarbeidsutvalg}
  - {key: FU, name: Forhandlingsutvalget}
  - {key: PSU, name: Politisk samarbeidsutvalg}
  - {key: fagrad, name: Fagrådene}
stages:
  - {key: utkast, kind: draft, due: 2024-06-14}
  - {key: hoeringsforslag, kind: forum_approval, forums: [ASU], meeting: 2024-06-19}
  - {key: hoering, kind: hearing, opens: 2024-06-20, deadline: 2024-09-10}
  - {key: sluttbehandling, kind: forum_approval, forums: [ASU, FU, PSU, fagrad], required: 3, meeting: 2024-11-27}
  - {key: politisk, kind: political_treatment, deadline: 2025-03-01}
"""
