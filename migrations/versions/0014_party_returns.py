"""reserved: what a party sends back with its decision (issue 13, party returns)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 11:00:00

A placeholder that changes nothing, so that the work of issue 13 done in parallel keeps
one chain of revisions; the helper that owns it fills it in (and rewrites this docstring).
"""
from collections.abc import Sequence

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
