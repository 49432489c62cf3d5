"""document versions, and the versions each decision approved (issue 13, documents)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 11:00:00

A new table `documentversion`: one row per version of a document (a stored file or a web
address, its label, date, SHA-256 and size, whether a change after its hearing was
significant). `forumdecision` and `partyobligation` gain `approved_versions` (JSON, NULL for
rows written before). Existing rows are kept; `document.version` keeps its meaning (the
latest version's number). Downgrade drops the table and the two columns.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'documentversion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('label', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=True),
        sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('significant', sa.Boolean(), nullable=True),
        sa.Column('added_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('added_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['document.id']),
        sa.ForeignKeyConstraint(['file_id'], ['storedfile.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('document_id', 'number'),
    )
    with op.batch_alter_table('documentversion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documentversion_document_id'), ['document_id'], unique=False)
    with op.batch_alter_table('forumdecision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_versions', sa.JSON(), nullable=True))
    with op.batch_alter_table('partyobligation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_versions', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('partyobligation', schema=None) as batch_op:
        batch_op.drop_column('approved_versions')
    with op.batch_alter_table('forumdecision', schema=None) as batch_op:
        batch_op.drop_column('approved_versions')
    with op.batch_alter_table('documentversion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documentversion_document_id'))
    op.drop_table('documentversion')
