"""one digest per recipient, opt-out (issue 16): placeholder, no schema change yet

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30 14:30:00

Reserved for one digest per recipient, opt-out (issue 16) so that helpers working at the same time keep one chain of revisions.
It changes nothing until that work needs a schema change.
"""
from collections.abc import Sequence

revision: str = '0026'
down_revision: str | Sequence[str] | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
