"""a quorum as a threshold (issue 14): a forum's follow-up item names its stage

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 11:15:00

A forum stage done on its quorum (3 of 4) opens a follow-up item for each forum that returned
it or has not decided; `followup` gains a nullable `stage_key` naming that stage (a forum may
owe two stages). Rows written before (a party's rejection) keep NULL. Downgrade drops the column
(the items stay, without their stage).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage_key', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.drop_column('stage_key')
