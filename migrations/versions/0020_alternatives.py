"""alternatives (issue 14): no schema change

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 11:15:00

A plan's alternatives live in the plan version's text and its plan in force (planversion.source,
planversion.effective, JSON); the one chosen is a change of its plan version ({"kind":
"alternative_chosen", "alternative": KEY} in planversion.changes) and an audit entry
(plan.alternative_chosen). Nothing new to store, so this revision changes nothing; it keeps
the chain of issue 14's revisions.
"""
from collections.abc import Sequence

revision: str = '0020'
down_revision: str | Sequence[str] | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
