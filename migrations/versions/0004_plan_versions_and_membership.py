"""plan versions carry the plan in force; parties join and leave; milestones have parts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 15:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # SQLite stores enums as plain text; PostgreSQL's enum type needs the new letter.
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE emailevent ADD VALUE IF NOT EXISTS 'deadline_moved'")
    with op.batch_alter_table('planversion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effective', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('changes', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joined_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('left_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('left_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.add_column(sa.Column('part', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    # PostgreSQL cannot drop a value from an enum type; 'deadline_moved' stays in emailevent.
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_column('part')
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_column('left_reason')
        batch_op.drop_column('left_on')
        batch_op.drop_column('joined_on')
    with op.batch_alter_table('planversion', schema=None) as batch_op:
        batch_op.drop_column('changes')
        batch_op.drop_column('effective')
