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


def drive_to_political_treatment(engine=None, *, today, hearing_closed_because: str = "t") -> None:  # noqa: ANN001
    """Store SMALL_PLAN and drive it, pass by pass, until political treatment has started."""
    import datetime as dt

    from avtaleflyt.db import session_scope
    from avtaleflyt.models.enums import ForumOutcome
    from avtaleflyt.models.plan import parse_plan
    from avtaleflyt.tasks import records
    from avtaleflyt.tasks.reconcile import reconcile_revision
    from avtaleflyt.tasks.store import store_revision

    slug = "testrevisjon-2024"
    steps = [
        lambda s: records.complete_draft(s, slug, stage_key=None, actor="t"),
        lambda s: records.record_forum_decision(s, slug, forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2024, 6, 19), today=today, actor="t"),
        lambda s: records.close_hearing(s, slug, stage_key=None, reason=hearing_closed_because, actor="t"),
        lambda s: [records.record_forum_decision(s, slug, forum=f, outcome=ForumOutcome.approved, on=dt.date(2024, 11, 27), today=today, actor="t") for f in ("ASU", "FU", "PSU")],
    ]
    with session_scope(engine) as s:
        store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "t")
    with session_scope(engine) as s:
        reconcile_revision(s, slug, today=today)
    for step in steps:
        with session_scope(engine) as s:
            step(s)
        with session_scope(engine) as s:
            reconcile_revision(s, slug, today=today)


def org_number(n: int) -> str:
    """The n-th valid organisation number of a run starting at 910000000 (mod-11 check digit)."""
    base = 91000000 + n * 3
    while True:
        digits = f"{base:08d}"
        remainder = sum(int(d) * w for d, w in zip(digits, (3, 2, 7, 6, 5, 4, 3, 2))) % 11
        check = 0 if remainder == 0 else 11 - remainder
        if check != 10:
            return digits + str(check)
        base += 1


def treatment_plan(i: int, parties: int = 40) -> str:
    """A revision that goes straight to political treatment: `parties` parties, the health trust among them."""
    rows = "\n".join(
        f"  - {{name: Kommune {p:02d}, kind: municipality, org_number: \"{org_number(p)}\", email: k{p}@r{i}.example.no, body: Kommunestyret}}"
        for p in range(1, parties)
    )
    return f"""
helsefellesskap: Helsefellesskapet Test
revision: Revisjon {i}
slug: revisjon-{i:03d}
coordinators: [{{name: Sekretariatet, email: sekretariat@example.no}}]
documents: [{{key: overordnet, title: Overordnet samarbeidsavtale}}]
parties:
  - {{name: St. Olavs hospital HF, kind: health_trust, org_number: "883974832", email: post@r{i}.stolav.example.no, body: Styret}}
{rows}
stages:
  - {{key: politisk, kind: political_treatment, deadline: 2025-03-01}}
"""
