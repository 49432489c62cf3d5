"""signing: a signature's signer on the party obligation

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 11:00:00

A signing stage (issue 13) records each party's signature as its obligation row: its date is
`answered_on`, who signed `signer` (and `signer_title`), two new nullable columns. Existing rows
are untouched. Downgrade drops the two columns (and the signers in them).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('partyobligation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signer', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('signer_title', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('partyobligation', schema=None) as batch_op:
        batch_op.drop_column('signer_title')
        batch_op.drop_column('signer')
