"""reserved: dates as people write them (issue 14)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 11:15:00

A placeholder that changes nothing, so that the work of issue 14 done in parallel keeps
one chain of revisions; the helper that owns it fills it in (and rewrites this docstring).
"""
from collections.abc import Sequence

revision: str = '0019'
down_revision: str | Sequence[str] | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
