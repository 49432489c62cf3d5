"""reserved: document versions and approved versions (issue 13, documents)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 11:00:00

A placeholder that changes nothing, so that the work of issue 13 done in parallel keeps
one chain of revisions; the helper that owns it fills it in (and rewrites this docstring).
"""
from collections.abc import Sequence

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
