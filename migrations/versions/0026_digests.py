"""one digest per recipient, opt-out (issue 16): the digest opt-out table

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30 14:30:00

`digestoptout`: one row per address (casefolded) that wants no weekly digest, from
`avtaleflyt mail optout ADDRESS` or the signed link in a digest. The digests themselves
need no column: one outbox row per recipient and ISO week (key `digest:ADDRESS:YYYY-Www`,
revision_id NULL). Downgrade drops the table (and with it the opt-outs).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0026'
down_revision: str | Sequence[str] | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'digestoptout',
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.PrimaryKeyConstraint('address'),
    )


def downgrade() -> None:
    op.drop_table('digestoptout')
