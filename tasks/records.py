"""Recording what happened: the coordinator's commands, the dashboard's forms, a party's link
and Prefect's resume form all end in one of these. Each call is one transaction: validate,
write, log, raise the event counter. The revision's run then reconciles (see tasks/reconcile.py).

Each recording belongs to its stage kind and lives with it in tasks/stages/<kind>.py.
"""

from __future__ import annotations

from .stages.base import Recorded
from .stages.draft import complete_draft
from .stages.forum_approval import record_forum_decision
from .stages.hearing import close_hearing, record_hearing_response
from .stages.political_treatment import record_party_decision, schedule_party

__all__ = ["Recorded", "close_hearing", "complete_draft", "record_forum_decision", "record_hearing_response", "record_party_decision", "schedule_party"]
