"""the sweep's set-wise enqueue and the outbox (issue 15): placeholder, no schema change yet

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 14:30:00

Reserved for the sweep's set-wise enqueue and the outbox (issue 15) so that helpers working at the same time keep one chain of revisions.
It changes nothing until that work needs a schema change.
"""
from collections.abc import Sequence

revision: str = '0023'
down_revision: str | Sequence[str] | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
