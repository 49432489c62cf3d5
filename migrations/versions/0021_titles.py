"""titles in both languages (issue 14): a nynorsk title beside the title

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 11:15:00

The plan may give a revision's, a stage's, a document's and a milestone's title as
`{nb: …, nn: …}`. The existing column keeps the bokmål title (the nynorsk one when only
that is given); a new nullable column keeps the nynorsk one: `revision.title_nn`,
`stage.title_nn`, `document.title_nn`, `milestone.what_nn`. Rows written before keep
NULL: every reader falls back to the title. Downgrade drops the columns.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0021'
down_revision: str | Sequence[str] | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (('revision', 'title_nn'), ('stage', 'title_nn'), ('document', 'title_nn'), ('milestone', 'what_nn'))


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
