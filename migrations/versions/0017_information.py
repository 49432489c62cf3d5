"""information items (issue 14)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 11:15:00

`stage` gains a nullable JSON column `parties`: the parties an information stage (til
orientering) tells, the text "all" or a list of their names. NULL: it tells no party (every
stage of another kind, and the rows written before). Downgrade drops the column (the stage's
`parties:` stays in the stored plan versions).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | Sequence[str] | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parties', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.drop_column('parties')
