"""The revision flow: one run per revision, a reconciler that suspends at human gates.

Each pass loads the revision from the domain database, starts what is ready, closes
what is met, and suspends until something happens. Every event writes the database
first and then resumes the run, which starts again from the top; the pass is
idempotent, so that is safe. The gate key comes from the revision's event counter
(`wait-<seq>`): a fixed key would fire once and hand back its old input forever.
"""

from __future__ import annotations

import gc
import os

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.context import FlowRunContext

# In a process Prefect started for this run (avtaleflyt.db.in_flow_run_process), what it imported before
# this module (~110,000 objects) lives as long as the process: frozen, the collector's full passes while
# our modules load and the pass runs leave it out (one such pass was ~0.08 s of every run's CPU).
if os.environ.get("PREFECT__FLOW_RUN_ID"):
    gc.freeze()

from avtaleflyt import clock
from avtaleflyt.db import get_engine, session_scope
from avtaleflyt.models.rules import DomainError
from avtaleflyt.settings import REVISION_FLOW, get_settings
from avtaleflyt.tasks.outbox import send_pending
from avtaleflyt.tasks.reconcile import PassResult, reconcile_revision
from avtaleflyt.tasks.run_input import record_input

from . import pulse
from .gates import suspend_awaiting
from .inputs import RevisionInput

RESUME_FORM_ACTOR = "prefect-ui"

# Loading this module is the first thing of ours a run process does, before Prefect
# proposes Running and waits for the server's answer: beat from here (flows/pulse.py).
pulse.start()


@task(name="reconcile", cache_policy=NONE, retries=3, retry_delay_seconds=[2, 10, 30])
def reconcile(slug: str) -> PassResult:
    with session_scope() as session:
        return reconcile_revision(session, slug, today=clock.today())


@task(name="send-outbox", cache_policy=NONE)
def send_outbox() -> None:
    """Send what is pending (hearing letters, decision requests, receipts, ...) now rather than at the next sweep."""
    settings = get_settings()
    if not settings.smtp_host:
        get_run_logger().warning("no SMTP server configured (AVTALEFLYT_SMTP_HOST): letters wait in the outbox")
        return
    try:
        report = send_pending(get_engine(), settings)
    except Exception as exc:  # noqa: BLE001 - mail trouble must not fail the revision; the outbox keeps the rows
        get_run_logger().error("outbox not sent: %s: %s", exc.__class__.__name__, exc)
        return
    if report.attempted:
        get_run_logger().info("outbox: sent %d, deferred %d, failed %d", report.sent, report.deferred, report.failed)
    if report.stopped:  # the rest waits in the outbox for the next sender
        get_run_logger().warning("outbox: sending stopped: %s", report.stopped)


@task(name="record-resume-input", cache_policy=NONE)
def record_resume_input(slug: str, event: RevisionInput) -> None:
    logger = get_run_logger()
    try:
        with session_scope() as session:
            recorded = record_input(session, slug, event, RESUME_FORM_ACTOR)
    except (DomainError, ValueError) as exc:
        logger.warning("input from the resume form not recorded: %s", exc)
        return
    if recorded is not None:
        logger.info("recorded from the resume form: %s", recorded.message)


def gate_key(seq: int, fired: int) -> str:
    """`wait-<seq>`, then `wait-<seq>-<n>` for gates resumed with nothing new at the same seq.

    (Prefect allows only lowercase letters, digits and dashes in input keys.)
    """
    return f"wait-{seq}" if fired == 0 else f"wait-{seq}-{fired}"


@flow(name=REVISION_FLOW, flow_run_name="revision/{slug}", persist_result=False, log_prints=True)
def revision_flow(slug: str) -> dict:
    context = FlowRunContext.get()
    stop = pulse.start(str(context.flow_run.id)) if context and context.flow_run else None  # run in a process not started for it
    try:
        return _reconcile_until_suspended(slug)
    finally:
        if stop is not None:
            stop.set()


def _reconcile_until_suspended(slug: str) -> dict:
    logger = get_run_logger()
    last_seq, fired = -1, 0
    while True:
        result = reconcile(slug)
        for change in result.changes:
            logger.info(change)
        send_outbox()  # also what the command that resumed us enqueued (a receipt, say)
        if result.completed:
            return {"slug": slug, "status": "completed", "seq": result.seq}
        if result.seq != last_seq:
            last_seq, fired = result.seq, 0
        event = suspend_awaiting(result.awaiting, gate_key(result.seq, fired), RevisionInput)
        # Only reached when this gate fired before: replay its input, then look again.
        fired += 1
        if event is not None and event.action != "refresh":
            record_resume_input(slug, event)
