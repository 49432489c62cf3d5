"""a milestone may be tied to a stage's date

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 09:30:00

Two nullable columns on `milestone`: `stage_key` (the stage it is tied to) and `at`
(start | end | meeting | deadline of that stage). A tied milestone's `date` is kept as
the stage's date and moves with it when the plan shifts. Rows written before keep NULL:
not tied. Downgrade drops the two columns; the dates stay.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage_key', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('at', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_column('at')
        batch_op.drop_column('stage_key')
