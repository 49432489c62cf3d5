"""each party's meeting plan (issue 14)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 11:15:00

A new table `partymeeting`: a party's council or board meetings (møteplan), from the plan's
`parties[].meetings` or `party meetings import`, each with the days before it the case must
be sent. Downgrade drops the table (the plan's meetings stay in the stored plan versions).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0018'
down_revision: str | Sequence[str] | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'partymeeting',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('revision_id', sa.Integer(), nullable=False),
        sa.Column('party_id', sa.Integer(), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('case_deadline_days', sa.Integer(), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(['party_id'], ['party.id']),
        sa.ForeignKeyConstraint(['revision_id'], ['revision.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('partymeeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partymeeting_party_id'), ['party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partymeeting_revision_id'), ['revision_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('partymeeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partymeeting_revision_id'))
        batch_op.drop_index(batch_op.f('ix_partymeeting_party_id'))
    op.drop_table('partymeeting')
