"""dates as people write them (issue 14): a milestone keeps its date as written

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 11:15:00

One nullable column on `milestone`: `written`, the date as the secretariat wrote it
("Nov./des.", "27. juni", "20.06–10.09", "10.09?", "XX.XX.XX"), shown instead of the
canonical `date` text (which may now also be a range `A/B`, end in `?`, or be
`XXXX-XX-XX`, not set; the column's type is unchanged). Rows written before keep
NULL: shown from `date`. Downgrade drops the column; the canonical dates stay.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0019'
down_revision: str | Sequence[str] | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.add_column(sa.Column('written', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_column('written')
