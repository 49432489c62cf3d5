"""what a party sends back with its decision (issue 13, party returns)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 11:00:00

`partyobligation` gains four nullable columns: `reservations` (a conditional approval's
forbehold), `minutes_text` (the decision's text or its særutskrift, as text), and
`minutes_file_id` (a stored file, foreign key to `storedfile`) with `minutes_file_name`.
A party's remarks (merknader) go in the existing `note`. Rows written before keep NULL.
Downgrade drops the four columns (what parties sent back is lost; the stored files stay).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = 'fk_partyobligation_minutes_file_id_storedfile'


def upgrade() -> None:
    with op.batch_alter_table('partyobligation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reservations', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('minutes_text', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('minutes_file_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('minutes_file_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_foreign_key(FOREIGN_KEY, 'storedfile', ['minutes_file_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('partyobligation', schema=None) as batch_op:
        batch_op.drop_constraint(FOREIGN_KEY, type_='foreignkey')
        batch_op.drop_column('minutes_file_name')
        batch_op.drop_column('minutes_file_id')
        batch_op.drop_column('minutes_text')
        batch_op.drop_column('reservations')
