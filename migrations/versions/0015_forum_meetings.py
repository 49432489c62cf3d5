"""per-forum meetings (issue 14)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 11:15:00

`stage` gains a nullable JSON column `meetings`: a forum stage's own meetings, forum key ->
{date, time, place} as the plan's `meetings:` gives them (a forum without an entry meets on
the stage's `meeting`). Rows written before keep NULL: every forum meets on `meeting`.
Downgrade drops the column (the per-forum dates stay in the stored plan versions).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meetings', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.drop_column('meetings')
