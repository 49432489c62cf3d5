"""The dashboard timeline draws its rows from the plan's own forums and bodies (issue 14): a plan
without AU/FU/ASU/Fagråd/PSU gets no such rows; its forums get theirs (in the plan's order) and so
do the other bodies its milestones name. Real SQLite and PostgreSQL, no Prefect."""

from __future__ import annotations

import datetime as dt

import pytest

from avtaleflyt.dashboard.read_models import revision_detail
from avtaleflyt.dashboard.timeline import timeline
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.tables import Milestone
from avtaleflyt.tasks.store import store_revision

SLUG = "revidering-nord-2023"
PLAN = f"""
helsefellesskap: Helsefellesskap Nord
revision: Revidering nord 2023
slug: {SLUG}
coordinators: [{{name: Sekretariatet, email: sekretariat@example.no}}]
documents:
  - {{key: overordnet, title: Overordnet samarbeidsavtale}}
parties:
  - {{name: Helse Nord HF, kind: health_trust, org_number: "983974724", email: post@helse-nord.example.no, body: Styret}}
  - {{name: Tromsø kommune, kind: municipality, org_number: "940101808", email: post@tromso.example.no, body: Kommunestyret}}
forums:
  - {{key: SU-TROMSO, name: Samarbeidsutvalet Tromsø, email: su-tromso@example.no}}
  - {{key: OSU, name: Overordnet samarbeidsutval, email: osu@example.no}}
stages:
  - {{key: utkast, kind: draft, due: 2023-02-01}}
  - {{key: samarbeidsutval, kind: forum_approval, forums: [SU-TROMSO, OSU], meeting: 2023-03-10}}
  - {{key: politisk, kind: political_treatment, deadline: 2023-06-01}}
milestones:
  - {{date: 2023-01-17, what: Møte i styringsgruppa, responsible: Styringsgruppa}}
  - {{date: 2023-02-07, what: Møte i OSU, responsible: osu}}
  - {{date: 2023-02-20, what: Møte i samarbeidsutvalet, responsible: Samarbeidsutvalet Tromsø}}
"""
OLD_BODIES = {"AU", "FU", "ASU", "Fagråd", "PSU"}


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    with session_scope(engine) as s:
        store_revision(s, parse_plan(PLAN), PLAN, "t")
    return engine


def test_a_plan_without_au_fu_asu_gets_no_such_rows_and_its_own_forums_and_bodies_get_theirs(engine):
    with session_scope(engine) as s:
        grid = revision_detail(s, SLUG, today=dt.date(2023, 2, 1), prefect_ui_url=None).timeline
    bodies = [row.body for row in grid.rows]
    assert not OLD_BODIES & set(bodies), bodies
    assert bodies == ["Utkast og høring", "Samarbeidsutvalet Tromsø", "OSU", "Styringsgruppa", "Politisk behandling"]
    items = {row.body: [i.label for c in row.cells for i in c.items] for row in grid.rows}
    assert items["OSU"] == ["Møte i OSU", "samarbeidsutval: møte"]  # a milestone naming the forum by its key, in any case
    assert items["Samarbeidsutvalet Tromsø"] == ["Møte i samarbeidsutvalet", "samarbeidsutval: møte"]  # ... or by its name
    assert items["Styringsgruppa"] == ["Møte i styringsgruppa"]


def test_each_forum_of_the_plan_has_a_row_even_before_anything_is_in_it():
    milestone = Milestone(revision_id=1, date="2024-09-25", what="Møte i styringsgruppa", responsible="Styringsgruppa")
    grid = timeline([], [milestone], {"SU-BERGEN": "Samarbeidsutvalet Bergen", "fagråd": "Fagrådene"}, dt.date(2024, 9, 1))
    assert [row.body for row in grid.rows] == ["Utkast og høring", "Samarbeidsutvalet Bergen", "Fagråd", "Styringsgruppa", "Politisk behandling"]
