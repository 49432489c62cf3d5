"""the list page's indexes (issue 15): the list's order, alone and under its filters

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 14:30:00

`/` and `/api/revisions` read the newest revisions first, optionally of one status or one
helsefellesskap, and look for active stages, and councils that have met, to find what is
overdue or waits for a coordinator. EXPLAIN on PostgreSQL at 1,000 revisions showed a
sequential scan of `revision` and a sort for every page, and sequential scans of `stage`
and `partyobligation` for the filters (bench/README.md, `explain_list.py`):

- `revision (created_at, id)`, `(status, created_at, id)`, `(helsefellesskap, created_at, id)`:
  a page is the first rows of an index, with or without the filter; the helsefellesskap to
  choose from are read from the last one;
- `stage (status, revision_id)`: the active stages of a revision;
- `partyobligation (meeting_date)`: the councils that have met.

Indexes only: downgrade drops them, no data changes.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0022'
down_revision: str | Sequence[str] | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ('ix_revision_list', 'revision', ['created_at', 'id']),
    ('ix_revision_status_list', 'revision', ['status', 'created_at', 'id']),
    ('ix_revision_helsefellesskap_list', 'revision', ['helsefellesskap', 'created_at', 'id']),
    ('ix_stage_status_revision', 'stage', ['status', 'revision_id']),
    ('ix_partyobligation_meeting_date', 'partyobligation', ['meeting_date']),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
