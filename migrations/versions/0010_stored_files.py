"""uploaded files in the domain database

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 11:00:00

A new table `storedfile`: an upload's bytes (document versions, a party's minutes), once per
SHA-256. Nothing existing changes. Downgrade drops the table and the files in it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'storedfile',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('storedfile', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_storedfile_sha256'), ['sha256'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('storedfile', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_storedfile_sha256'))
    op.drop_table('storedfile')
