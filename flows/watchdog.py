"""The run watchdog: every ten minutes, make sure each active revision's run is alive and current.

It is the judge of liveness (flows/automations.py says why no automation is). It looks
at the runs themselves: a run crashed, failed (or marked Stalled, when the automation that
restarts those lost its event), Running with no heartbeat stored for
`silence_window(heartbeat)` seconds, claimed but never started (Pending for
AVTALEFLYT_STUCK_PENDING_SECONDS) or suspended on an older event than the database's is
nudged the way every command nudges it (`tasks.runs.nudge`). A run that is fine is left
alone, so running it often does no harm.

`flow_run_id` (`<id>` or `prefect.flow-run.<id>`) checks one run only.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from prefect import flow, get_run_logger
from sqlmodel import or_, select

from avtaleflyt.clock import utcnow
from avtaleflyt.db import session_scope
from avtaleflyt.models.enums import RevisionStatus
from avtaleflyt.models.tables import Revision
from avtaleflyt.tasks.runs import try_nudge

WATCHDOG_FLOW = "run-watchdog"
WATCHDOG_DEPLOYMENT = "every-10-minutes"
WATCHDOG_CRON = "*/10 * * * *"
# A revision the database has completed can still have a run a dead worker left
# behind (killed after the last pass committed): look at those for a week.
RECENTLY = dt.timedelta(days=7)


@flow(name=WATCHDOG_FLOW, persist_result=False)
def run_watchdog(flow_run_id: str | None = None) -> dict:
    logger = get_run_logger()
    with session_scope() as session:
        query = select(Revision.slug, Revision.flow_run_id, Revision.seq).where(
            or_(Revision.status == RevisionStatus.active, Revision.completed_at >= utcnow() - RECENTLY)
        )
        if flow_run_id:
            query = query.where(Revision.flow_run_id == flow_run_id.removeprefix("prefect.flow-run."))
        active = session.exec(query).all()
    outcomes: Counter[str] = Counter()
    for slug, flow_run_id, seq in active:
        outcome = try_nudge(flow_run_id, seq, wait_seconds=0)
        what = outcome.nudge.value if outcome.nudge else "not reached"
        outcomes[what] += 1
        if outcome.error or what in ("restarted", "resumed", "missing", "cancelled"):
            logger.warning("%s: %s%s", slug, what, f" ({outcome.error})" if outcome.error else "")
    return dict(outcomes)
