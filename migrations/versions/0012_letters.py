"""the revision's contact person and archive reference (issue 13, letters)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 11:00:00

`revision` gains `contact` (JSON: name, email, title, phone; NULL: the first coordinator is the
contact, as before) and `reference` (the archive reference, "vår ref.", NULL: none). Both are
written from the plan when a revision is stored and by every `plan shift`. Existing rows keep
NULL in both. Downgrade drops the two columns.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('revision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('revision', schema=None) as batch_op:
        batch_op.drop_column('reference')
        batch_op.drop_column('contact')
