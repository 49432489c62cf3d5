"""one table of party obligations: hearing responses and party treatments become rows with a kind

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 08:00:00

Every row is carried both ways with its stage_id, party_id and values (not its id: the
two old tables' ids overlap). Both directions check first and refuse with a RuntimeError
before changing anything: on SQLite the driver commits each CREATE/DROP as it runs (no
transactional DDL), so a failure half-way would leave the database half-migrated.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen as 0001 made them: this migration must not follow later changes of models/.
HEARING = 'hearing'
TREATMENT = 'political_treatment'
HEARING_STATUSES = ('invited', 'responded')
TREATMENT_STATUSES = ('sent', 'scheduled', 'approved', 'approved_with_reservations', 'rejected')

obligation = sa.table(
    'partyobligation',
    sa.column('id', sa.Integer), sa.column('stage_id', sa.Integer), sa.column('party_id', sa.Integer),
    sa.column('kind', sa.String), sa.column('status', sa.String),
    sa.column('answered_on', sa.Date), sa.column('meeting_date', sa.Date),
    sa.column('case_no', sa.String), sa.column('note', sa.String),
    sa.column('self_reported', sa.Boolean),
)
hearing = sa.table(
    'hearingresponse',
    sa.column('id', sa.Integer), sa.column('stage_id', sa.Integer), sa.column('party_id', sa.Integer),
    sa.column('status'), sa.column('responded_on', sa.Date), sa.column('note', sa.String),
)
treatment = sa.table(
    'partytreatment',
    sa.column('id', sa.Integer), sa.column('stage_id', sa.Integer), sa.column('party_id', sa.Integer),
    sa.column('status'), sa.column('meeting_date', sa.Date), sa.column('decided_on', sa.Date),
    sa.column('case_no', sa.String), sa.column('self_reported', sa.Boolean),
)


def _hearing_status() -> sa.Enum:
    return sa.Enum(*HEARING_STATUSES, name='hearingstatus')


def _treatment_status() -> sa.Enum:
    return sa.Enum(*TREATMENT_STATUSES, name='treatmentstatus')


def upgrade() -> None:
    conn = op.get_bind()
    both = conn.execute(
        sa.select(sa.func.count()).select_from(
            hearing.join(treatment, sa.and_(hearing.c.stage_id == treatment.c.stage_id, hearing.c.party_id == treatment.c.party_id))
        )
    ).scalar_one()
    if both:
        raise RuntimeError(
            f"cannot migrate to 0006: {both} (stage, party) pair(s) have both a hearingresponse and a partytreatment "
            "row, and partyobligation holds one row per stage and party; nothing was changed"
        )

    op.create_table('partyobligation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('meeting_date', sa.Date(), nullable=True),
    sa.Column('case_no', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('self_reported', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], ),
    sa.ForeignKeyConstraint(['stage_id'], ['stage.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stage_id', 'party_id')
    )
    with op.batch_alter_table('partyobligation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partyobligation_party_id'), ['party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partyobligation_stage_id'), ['stage_id'], unique=False)

    columns = ['stage_id', 'party_id', 'kind', 'status', 'answered_on', 'meeting_date', 'case_no', 'note', 'self_reported']
    # On PostgreSQL the old status columns are native enums: cast them to text.
    op.execute(obligation.insert().from_select(columns, sa.select(
        hearing.c.stage_id, hearing.c.party_id, sa.literal(HEARING, sa.String), sa.cast(hearing.c.status, sa.String),
        hearing.c.responded_on, sa.null(), sa.null(), hearing.c.note, sa.false(),
    ).order_by(hearing.c.id)))
    op.execute(obligation.insert().from_select(columns, sa.select(
        treatment.c.stage_id, treatment.c.party_id, sa.literal(TREATMENT, sa.String), sa.cast(treatment.c.status, sa.String),
        treatment.c.decided_on, treatment.c.meeting_date, treatment.c.case_no, sa.null(), treatment.c.self_reported,
    ).order_by(treatment.c.id)))

    _drop_old_tables()
    if conn.dialect.name == 'postgresql':
        # Nothing else uses these types (only 0001's two tables did); DROP TYPE without CASCADE
        # would fail, and roll the migration back, if something did.
        _hearing_status().drop(conn, checkfirst=True)
        _treatment_status().drop(conn, checkfirst=True)


def _drop_old_tables() -> None:
    with op.batch_alter_table('partytreatment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partytreatment_stage_id'))
        batch_op.drop_index(batch_op.f('ix_partytreatment_party_id'))
    op.drop_table('partytreatment')
    with op.batch_alter_table('hearingresponse', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hearingresponse_stage_id'))
        batch_op.drop_index(batch_op.f('ix_hearingresponse_party_id'))
    op.drop_table('hearingresponse')


def _rows_that_cannot_go_down(conn: sa.Connection) -> list[str]:
    """What the old tables have no place for, described; empty when every row fits."""
    o = obligation.c
    problems = [
        f"{n} row(s) of kind {kind!r}"
        for kind, n in conn.execute(
            sa.select(o.kind, sa.func.count()).where(o.kind.not_in([HEARING, TREATMENT])).group_by(o.kind).order_by(o.kind)
        )
    ]
    checks = [
        (HEARING, o.status.not_in(HEARING_STATUSES), 'a status hearingresponse does not know'),
        (TREATMENT, o.status.not_in(TREATMENT_STATUSES), 'a status partytreatment does not know'),
        (HEARING, o.meeting_date.is_not(None), 'a meeting_date (hearingresponse has none)'),
        (HEARING, o.case_no.is_not(None), 'a case_no (hearingresponse has none)'),
        (HEARING, o.self_reported.is_(sa.true()), 'self_reported set (hearingresponse has no such column)'),
        (TREATMENT, o.note.is_not(None), 'a note (partytreatment has none)'),
    ]
    for kind, condition, what in checks:
        n = conn.execute(sa.select(sa.func.count()).select_from(obligation).where(o.kind == kind, condition)).scalar_one()
        if n:
            problems.append(f"{n} row(s) of kind {kind!r} with {what}")
    return problems


def downgrade() -> None:
    conn = op.get_bind()
    problems = _rows_that_cannot_go_down(conn)
    if problems:
        raise RuntimeError(
            "cannot downgrade below 0006 without losing data: partyobligation holds "
            + "; ".join(problems)
            + ". The old tables hearingresponse and partytreatment have no place for them; nothing was changed"
        )

    op.create_table('hearingresponse',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('status', _hearing_status(), nullable=False),
    sa.Column('responded_on', sa.Date(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], ),
    sa.ForeignKeyConstraint(['stage_id'], ['stage.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stage_id', 'party_id')
    )
    with op.batch_alter_table('hearingresponse', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hearingresponse_party_id'), ['party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hearingresponse_stage_id'), ['stage_id'], unique=False)

    op.create_table('partytreatment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('status', _treatment_status(), nullable=False),
    sa.Column('meeting_date', sa.Date(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('case_no', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('self_reported', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], ),
    sa.ForeignKeyConstraint(['stage_id'], ['stage.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stage_id', 'party_id')
    )
    with op.batch_alter_table('partytreatment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partytreatment_party_id'), ['party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partytreatment_stage_id'), ['stage_id'], unique=False)

    o = obligation.c
    op.execute(hearing.insert().from_select(
        ['stage_id', 'party_id', 'status', 'responded_on', 'note'],
        sa.select(o.stage_id, o.party_id, sa.cast(o.status, _hearing_status()), o.answered_on, o.note)
        .where(o.kind == HEARING).order_by(o.id),
    ))
    op.execute(treatment.insert().from_select(
        ['stage_id', 'party_id', 'status', 'meeting_date', 'decided_on', 'case_no', 'self_reported'],
        sa.select(o.stage_id, o.party_id, sa.cast(o.status, _treatment_status()), o.meeting_date, o.answered_on, o.case_no, o.self_reported)
        .where(o.kind == TREATMENT).order_by(o.id),
    ))

    with op.batch_alter_table('partyobligation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partyobligation_stage_id'))
        batch_op.drop_index(batch_op.f('ix_partyobligation_party_id'))
    op.drop_table('partyobligation')
