"""an outbox letter whose reason has gone is cancelled, with the reason

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:00:00

`outboxmessage.status` becomes VARCHAR(32), like `event` in 0007, so the new status
`cancelled` (and any later one) needs no ALTER TYPE; the app checks the values
(models/enums.OutboxStatus). On PostgreSQL it was the native enum type `outboxstatus`,
which upgrade drops and downgrade makes again; on SQLite the table is copied (batch mode),
every row with its id. A nullable `cancelled_reason` says why a letter was not sent.

Downgrade checks first and refuses with a RuntimeError, naming the count, before changing
anything, when a row is `cancelled` (the old type has no place for it).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sa.String(length=32)
# Frozen as 0002 made it: this migration must not follow later changes of models/.
OLD_NAME, OLD_VALUES = 'outboxstatus', ('pending', 'sent', 'failed')


def _old_type() -> sa.Enum:
    return sa.Enum(*OLD_VALUES, name=OLD_NAME)


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.alter_column(
            'status', existing_type=_old_type(), type_=TEXT, existing_nullable=False, postgresql_using='status::text',
        )
        batch_op.add_column(sa.Column('cancelled_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    if conn.dialect.name == 'postgresql':
        # Without CASCADE: if something else still used the type, this fails and rolls back.
        _old_type().drop(conn, checkfirst=True)


def downgrade() -> None:
    conn = op.get_bind()
    status = sa.column('status', sa.String)
    found = conn.execute(
        sa.select(status, sa.func.count()).select_from(sa.table('outboxmessage', status))
        .where(status.not_in(OLD_VALUES)).group_by(status).order_by(status)
    ).all()
    if found:
        raise RuntimeError(
            "cannot downgrade below 0008: "
            + "; ".join(f"{n} outboxmessage row(s) with status {value!r} (not in {OLD_NAME})" for value, n in found)
            + ". The old column cannot hold them: delete those rows first; nothing was changed"
        )
    if conn.dialect.name == 'postgresql':
        _old_type().create(conn, checkfirst=False)
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_column('cancelled_reason')
        batch_op.alter_column(
            'status', existing_type=TEXT, type_=_old_type(), existing_nullable=False, postgresql_using=f'status::{OLD_NAME}',
        )
