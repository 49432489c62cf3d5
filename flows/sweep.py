"""The daily deadline sweep, scheduled at 07:00 Europe/Oslo (DST-safe), also run by
`avtaleflyt reminders run`. The day is a parameter, so months can be driven in a test.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger
from prefect.states import Failed

from avtaleflyt import clock
from avtaleflyt.tasks.sweep import run_sweep

SWEEP_FLOW = "deadline-sweep"
SWEEP_DEPLOYMENT = "daily"
SWEEP_CRON = "0 7 * * *"


@flow(name=SWEEP_FLOW, persist_result=False)
def deadline_sweep(as_of: dt.date | None = None, dry_run: bool = False):  # noqa: ANN201 - a dict, or a Failed state carrying it
    """Ends Failed, with what was not done, when a revision, the database or the mail server failed it."""
    logger = get_run_logger()
    report = run_sweep(as_of or clock.today(), dry_run=dry_run)
    for swept in report.revisions:
        if swept.enqueued or swept.closed:
            logger.info("%s: %d new messages, hearings closed: %s", swept.slug, swept.enqueued, ", ".join(swept.closed) or "none")
    for error in report.errors:
        logger.error("not done: %s", error)
    if report.sent:
        logger.info("sent %d, deferred %d, failed %d", report.sent.sent, report.sent.deferred, report.sent.failed)
        if report.sent.stopped:  # the rest waits in the outbox for the next sender
            logger.warning("sending stopped: %s", report.sent.stopped)
    summary = {
        "as_of": report.as_of.isoformat(),
        "enqueued": report.enqueued,
        "closed": {r.slug: r.closed for r in report.revisions if r.closed},
        "errors": report.errors,
    }
    if report.errors:
        return Failed(message=f"{len(report.errors)} not done: " + "; ".join(report.errors)[:1000], data=summary)
    return summary
