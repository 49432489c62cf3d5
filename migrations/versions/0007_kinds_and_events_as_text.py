"""stage kinds and email events are stored as text: a new kind needs no schema change

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 08:30:00

`stage.kind` and `outboxmessage.event` become VARCHAR(32); the app checks the values
(models/enums.py). On PostgreSQL they were native enum types (`stagekind`, `emailevent`),
so a new stage kind, or a letter it sends, needed ALTER TYPE ... ADD VALUE; upgrade drops
those types and downgrade makes them again. On SQLite they were VARCHARs as long as the
longest value then, so each table is copied (batch mode), every row with its id.

Downgrade checks first and refuses with a RuntimeError, naming the values, before changing
anything, when a row holds a value the old types do not know.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sa.String(length=32)
# Frozen as 0001, 0002 and 0004 left them: this migration must not follow later changes of models/.
OLD_TYPES = {
    # (table, column): (type name, values)
    ('stage', 'kind'): ('stagekind', ('draft', 'hearing', 'forum_approval', 'political_treatment')),
    ('outboxmessage', 'event'): ('emailevent', (
        'hearing_invitation', 'hearing_reminder', 'hearing_deadline_passed', 'forum_meeting_notice',
        'decision_request', 'decision_reminder', 'overdue_notice', 'decision_receipt', 'stage_completed',
        'revision_completed', 'weekly_digest', 'deadline_moved',
    )),
}


def _old_type(name: str, values: Sequence[str]) -> sa.Enum:
    return sa.Enum(*values, name=name)


def upgrade() -> None:
    conn = op.get_bind()
    for (table, column), (name, values) in OLD_TYPES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=_old_type(name, values), type_=TEXT, existing_nullable=False,
                postgresql_using=f'{column}::text',
            )
    if conn.dialect.name == 'postgresql':
        for name, values in OLD_TYPES.values():
            # Without CASCADE: if something else still used the type, this fails and rolls back.
            _old_type(name, values).drop(conn, checkfirst=True)


def _values_the_old_types_do_not_know(conn: sa.Connection) -> list[str]:
    problems = []
    for (table, column), (name, values) in OLD_TYPES.items():
        col = sa.column(column, sa.String)
        found = conn.execute(
            sa.select(col, sa.func.count()).select_from(sa.table(table, col))
            .where(col.not_in(values)).group_by(col).order_by(col)
        ).all()
        problems += [f"{n} {table} row(s) with {column} {value!r} (not in {name})" for value, n in found]
    return problems


def downgrade() -> None:
    conn = op.get_bind()
    problems = _values_the_old_types_do_not_know(conn)
    if problems:
        raise RuntimeError(
            "cannot downgrade below 0007: " + "; ".join(problems)
            + ". The old columns cannot hold them: change or delete those rows first; nothing was changed"
        )
    if conn.dialect.name == 'postgresql':
        for name, values in OLD_TYPES.values():
            _old_type(name, values).create(conn, checkfirst=False)
    for (table, column), (name, values) in OLD_TYPES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=TEXT, type_=_old_type(name, values), existing_nullable=False,
                postgresql_using=f'{column}::{name}',
            )
