"""signing: a signature's signer on the party obligation, and the coordinators' follow-up items

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 11:00:00

A signing stage (issue 13) records each party's signature as its obligation row: its date is
`answered_on`, who signed `signer` (and `signer_title`), two new nullable columns. A new table
`followup`: an item the coordinators must follow up (a party that rejected the agreement), open
until closed. Existing rows are untouched. Downgrade drops the table and the two columns (and
the signers and follow-ups in them).
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
    op.create_table(
        'followup',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('revision_id', sa.Integer(), nullable=False),
        sa.Column('party_id', sa.Integer(), nullable=True),
        sa.Column('forum_key', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('opened_on', sa.Date(), nullable=False),
        sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('closed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(['party_id'], ['party.id']),
        sa.ForeignKeyConstraint(['revision_id'], ['revision.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_revision_id'), ['revision_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_revision_id'))
    op.drop_table('followup')
    with op.batch_alter_table('partyobligation', schema=None) as batch_op:
        batch_op.drop_column('signer_title')
        batch_op.drop_column('signer')
