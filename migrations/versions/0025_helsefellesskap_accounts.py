"""accounts per helsefellesskap (issue 16): a role in each helsefellesskap, and the admin flag

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30 14:30:00

New table `membership` (user_id, helsefellesskap, role; unique per user and helsefellesskap): an
account sees the revisions of the helsefellesskap it is a member of, and records in them as a
coordinator. `user.role` becomes nullable: an installation-wide role (in every helsefellesskap,
also those added later), None for an account with memberships only. `user.admin` (false):
manages accounts.

The upgrade rule, so that nobody loses access: every existing account gets a membership in every
helsefellesskap that has a revision, with the role it had, and its `user.role` is cleared (so a
helsefellesskap added later is not visible to it until it is granted). Downgrade gives each
account back one role: coordinator if it is a coordinator anywhere (membership or
installation-wide), else reader, and drops `admin` and `membership`.
"""
import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0025'
down_revision: str | Sequence[str] | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = sa.Enum('coordinator', 'reader', name='role')


def upgrade() -> None:
    op.create_table(
        'membership',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('helsefellesskap', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'helsefellesskap', name='uq_membership_user_helsefellesskap'),
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_helsefellesskap'), ['helsefellesskap'], unique=False)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admin', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.alter_column('role', existing_type=ROLE, nullable=True)
    copy = sa.text(
        'INSERT INTO membership (user_id, helsefellesskap, role, created_at)'
        ' SELECT u.id, h.helsefellesskap, u.role, :now'
        ' FROM "user" u CROSS JOIN (SELECT DISTINCT helsefellesskap FROM revision) h WHERE u.role IS NOT NULL'
    ).bindparams(sa.bindparam('now', type_=sqlmodel.sql.sqltypes.UTCDateTime()))
    op.get_bind().execute(copy, {'now': dt.datetime.now(dt.UTC)})
    op.execute('UPDATE "user" SET role = NULL')


def downgrade() -> None:
    coordinator = "role = 'coordinator' OR EXISTS (SELECT 1 FROM membership m WHERE m.user_id = \"user\".id AND m.role = 'coordinator')"
    op.execute(f"UPDATE \"user\" SET role = 'coordinator' WHERE {coordinator}")
    op.execute("UPDATE \"user\" SET role = 'reader' WHERE role IS NULL OR role <> 'coordinator'")
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=ROLE, nullable=False)
        batch_op.drop_column('admin')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_helsefellesskap'))
        batch_op.drop_index(batch_op.f('ix_membership_user_id'))
    op.drop_table('membership')
