"""The dashboard's read side, split by concern:

- `labels`: the words (bokmål, from models/wording.py);
- `model`: the typed read models, the same for the pages and /api/;
- `read_models`: building them from the database (a page of revisions, one revision);
- `timeline`: the timeline by body and month; `diagram`: the stage diagram.

This module only names the read side's entry points in one place.
"""

from __future__ import annotations

from .diagram import dag_layout
from .model import RevisionDetail, RevisionPage
from .list_query import PER_PAGE
from .read_models import revision_detail, revision_page

__all__ = ["PER_PAGE", "RevisionDetail", "RevisionPage", "dag_layout", "revision_detail", "revision_page"]
