"""the public status page (issue 16): a document version may be marked public

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 14:30:00

`documentversion.public`: a version added with `document add --public` is shown and served on
the revision's public page (/offentlig/{slug}) even when the plan does not mark its document
public. Rows written before are not public (false). Whether a revision, a document or a party's
records address is public is the plan's (`public`, `documents[].public`, `parties[].records_url`,
read from the plan in force): no column. Downgrade drops the column.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | Sequence[str] | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('documentversion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('documentversion', schema=None) as batch_op:
        batch_op.drop_column('public')
