"""Benchmark: the deadline sweep (`run_sweep`) end to end against a plain aiosmtplib loop, same server, same run.

    .venv/bin/python bench/bench_sweep.py                                # 2,000 revisions × 40 parties = 80,000 reminders
    .venv/bin/python bench/bench_sweep.py --revisions 100 --parties 40   # scaled down: 4,000
    .venv/bin/python bench/bench_sweep.py --revisions 100 --profile      # + where the time goes (cProfile, slower)
    .venv/bin/python bench/bench_sweep.py --revisions 100 --profile-send # + cProfile of send_pending alone, its commit thread apart

What is measured, on one machine:
1. Setup (timed, not part of the figures): a fresh SQLite domain database in a temp dir
   holding N revisions × P parties, every revision in political treatment: one plan
   (one health trust, P-1 municipalities, every 4th in nynorsk) is parsed and stored
   with `store_revision`, its earlier stages marked done, its hearing answered, its
   political stage active with the deadline 14 days after `--as-of` and a party
   obligation (kind political_treatment, status sent) per party; then it is copied N-1 times with SQL (new
   ids, slugs and titles). So the sweep finds P decision reminders (the 14-day one)
   per revision: N × P messages.
2. sweep: `run_sweep(as_of, send=True)` as the CLI and the scheduled flow call it: the
   set-wise selection of what is due (one transaction, a few statements), then per
   revision with something new one transaction that locks it, plans it again, reads its
   stages, parties, obligations and party links once, composes (report link, Jinja2
   text + HTML, .ics) each reminder and enqueues them in one INSERT … ON CONFLICT DO
   NOTHING; then `send_pending` sends the outbox over one connection (render + header
   check, SMTP, a commit per row).
   `send_pending` is wrapped with a timer here, so enqueue and send are also given apart.
3. baseline: the same messages' bytes (rendered from the outbox rows with the
   sender's own `_render` beforehand, not timed) sent with `aiosmtplib.SMTP.sendmail`
   in a loop over one connection: the transport alone.
RESULT sweep_<N×P>: the sweep's **time** divided by the plain loop's for the same messages, so
**lower is better**; the issue states its goal as a throughput ratio, sweep msg/s ÷ plain msg/s
**≥ 0.5** at 2,000 × 40 (`FULL=1`), i.e. a printed time ratio **≤ 2.0x** (bench/goals.py
converts). Before issue 15: 6.18x at 100 × 40 (0.162 throughput), 0.144 throughput at full size.
The server is an aiosmtpd sink in a child process that counts and discards (no disk;
`bench_outbox.serve`), so it is not the bottleneck and competes with neither side
for the GIL. The default `--as-of` is a Friday, so no weekly digest (Mondays) is due
and the sweep sends exactly N × P messages.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import os
import platform
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_outbox import plain_loop  # noqa: E402  (the same baseline loop as the outbox benchmark)

AS_OF = dt.date(2025, 2, 14)  # a Friday: no weekly digest
MAIL_FROM = "Sekretariatet <sekretariat@helsefellesskap.example.no>"
CHUNK = 5000


# --------------------------------------------------------------------------- the plan


def org_number(seed: int) -> str:
    """A valid organisation number (9 digits, mod-11 check digit as in models/identifiers.py) from `seed`."""
    from avtaleflyt.models.identifiers import _ORG_WEIGHTS, is_valid_org_number

    n = seed
    while True:
        body = f"9{n % 10_000_000:07d}"
        remainder = sum(int(d) * w for d, w in zip(body, _ORG_WEIGHTS)) % 11
        check = 0 if remainder == 0 else 11 - remainder
        n += 1
        if check != 10:
            number = f"{body}{check}"
            assert is_valid_org_number(number), number
            return number


def plan_yaml(title: str, parties: int, deadline: dt.date) -> str:
    rows = [
        f'  - {{name: Bench helseforetak HF, kind: health_trust, org_number: "{org_number(1000)}", '
        f"email: postmottak@hf.example.no, body: Styret}}"
    ]
    for i in range(1, parties):
        lang = ", language: nn" if i % 4 == 0 else ""
        rows.append(
            f'  - {{name: Kommune {i:03d}, kind: municipality, org_number: "{org_number(2000 + 37 * i)}", '
            f"email: postmottak@kommune{i:03d}.example.no, body: Kommunestyret{lang}}}"
        )
    parties_yaml = "\n".join(rows)
    return f"""
helsefellesskap: Helsefellesskapet Bench
revision: {title}
coordinators: [{{name: Sekretariatet, email: sekretariat@helsefellesskap.example.no}}]
documents:
  - {{key: overordnet, title: Overordnet samarbeidsavtale}}
  - {{key: delavtale-1, title: Delavtale om innleggelse}}
parties:
{parties_yaml}
forums:
  - {{key: ASU, name: Administrativt samarbeidsutvalg}}
  - {{key: PSU, name: Politisk samarbeidsutvalg}}
stages:
  - {{key: utkast, kind: draft, due: 2024-06-14}}
  - {{key: hoeringsforslag, kind: forum_approval, forums: [ASU], meeting: 2024-06-19}}
  - {{key: hoering, kind: hearing, opens: 2024-06-20, deadline: 2024-09-10}}
  - {{key: sluttbehandling, kind: forum_approval, forums: [ASU, PSU], meeting: 2024-11-27}}
  - {{key: politisk, kind: political_treatment, deadline: {deadline.isoformat()}}}
"""


# --------------------------------------------------------------------------- the database


def build_database(engine, revisions: int, parties: int, as_of: dt.date) -> dict[str, int]:
    """Store one revision in political treatment, then copy it with SQL; rows per table."""
    from sqlalchemy import func, insert, select
    from sqlmodel import SQLModel

    from avtaleflyt.db import session_scope
    from avtaleflyt.models.enums import HearingStatus, StageKind, StageStatus, TreatmentStatus
    from avtaleflyt.models.plan import parse_plan
    from avtaleflyt.models.tables import Party, PartyObligation, Stage
    from avtaleflyt.tasks.store import store_revision

    source = plan_yaml("Benchrevisjon 00000", parties, as_of + dt.timedelta(days=14))
    with session_scope(engine) as session:
        revision = store_revision(session, parse_plan(source), source, "bench")
        session.flush()
        started = dt.datetime.combine(as_of - dt.timedelta(days=70), dt.time(7), dt.timezone.utc)
        stages = session.execute(select(Stage).where(Stage.revision_id == revision.id)).scalars().all()
        party_rows = session.execute(select(Party).where(Party.revision_id == revision.id)).scalars().all()
        for stage in stages:
            stage.started_at = started - dt.timedelta(days=200)
            if stage.kind == StageKind.political_treatment:
                stage.status, stage.started_at = StageStatus.active, started
                session.add_all(
                    PartyObligation(stage_id=stage.id, party_id=p.id, kind=stage.kind.value, status=TreatmentStatus.sent) for p in party_rows
                )
            else:
                stage.status, stage.completed_at = StageStatus.done, started
                if stage.kind == StageKind.hearing:
                    session.add_all(
                        PartyObligation(stage_id=stage.id, party_id=p.id, kind=stage.kind.value, status=HearingStatus.responded,
                                        answered_on=dt.date(2024, 9, 1))
                        for p in party_rows
                    )
            session.add(stage)

    tables = SQLModel.metadata.tables
    # parents first; every id in the template is 1..count, so copy k gets id + k * count
    order = ["revision", "document", "party", "forum", "stage", "milestone", "planversion", "auditentry",
             "partyobligation"]
    fks = {"revision_id": "revision", "party_id": "party", "stage_id": "stage"}
    with engine.begin() as conn:
        template = {name: [dict(r._mapping) for r in conn.execute(select(tables[name]).order_by(tables[name].c.id))] for name in order}
        count = {name: (conn.execute(select(func.max(tables[name].c.id))).scalar() or 0) for name in order}
        for name in order:
            assert len(template[name]) == count[name], f"{name}: ids are not 1..n"
        for name in order:
            table, batch = tables[name], []
            for k in range(1, revisions):
                for row in template[name]:
                    new = dict(row, id=row["id"] + k * count[name])
                    for column, parent in fks.items():
                        if new.get(column) is not None:
                            new[column] = row[column] + k * count[parent]
                    if name == "revision":
                        new["slug"] = f"benchrevisjon-{k:05d}"
                        new["title"] = f"Benchrevisjon {k:05d}"
                    batch.append(new)
                    if len(batch) >= CHUNK:
                        conn.execute(insert(table), batch)
                        batch.clear()
            if batch:
                conn.execute(insert(table), batch)
        conn.exec_driver_sql("ANALYZE")
        counts = {name: conn.execute(select(func.count()).select_from(tables[name])).scalar() for name in order}
        obligation = tables["partyobligation"]
        for kind, n in conn.execute(select(obligation.c.kind, func.count()).group_by(obligation.c.kind)):
            counts[f"partyobligation:{kind}"] = n
        return counts


# --------------------------------------------------------------------------- the benchmark


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{len(os.sched_getaffinity(0))} CPUs (nproc), {cpu}; Python {platform.python_version()}; "
            f"{platform.system()} {platform.release()}")


def top(profile: cProfile.Profile, title: str, n: int = 30) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(n)
    print(f"\n--- profile: {title} (cumulative) ---")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:12000])
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(n)
    print(f"\n--- profile: {title} (own time) ---")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:12000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=2000)
    parser.add_argument("--parties", type=int, default=40)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF, help=f"the sweep's day (default {AS_OF}, a Friday)")
    parser.add_argument("--dir", type=Path, default=None, help="where the SQLite database goes and stays "
                        "(default: a temp dir, removed at the end)")
    parser.add_argument("--profile", action="store_true", help="run the sweep under cProfile and print where its time goes "
                        "(the sweep's figures are then slower than without)")
    parser.add_argument("--profile-send", action="store_true", help="profile send_pending alone: its event loop's thread and, "
                        "apart, the thread that commits each mark with the next fence and reason (sender._settle)")
    args = parser.parse_args()
    if args.parties < 2:
        parser.error("--parties: at least 2 (a health trust and a municipality)")
    n = args.revisions * args.parties
    whole = time.perf_counter()
    load_at_start = " ".join(f"{x:.2f}" for x in os.getloadavg())

    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    # Before anything reads the settings: this database, the sink below, no STARTTLS. The
    # signing key for the party links is made in data_dir/secret.key, as `avtaleflyt up` does.
    from avtaleflyt.stack import free_port

    port = free_port()
    os.environ.update({
        "AVTALEFLYT_DATA_DIR": str(folder / "data"),
        "AVTALEFLYT_DATABASE_URL": url,
        "AVTALEFLYT_SMTP_HOST": "127.0.0.1",
        "AVTALEFLYT_SMTP_PORT": str(port),
        "AVTALEFLYT_SMTP_STARTTLS": "false",
        "AVTALEFLYT_MAIL_FROM": MAIL_FROM,
    })
    os.environ.pop("AVTALEFLYT_SMTP_USERNAME", None)
    os.environ.pop("AVTALEFLYT_SECRET_KEY", None)

    from sqlalchemy import func, select

    import avtaleflyt.actions  # noqa: F401  run_sweep imports it (and Prefect) on first call: not the sweep's time
    from avtaleflyt.db import engine_for
    from avtaleflyt.models.enums import EmailEvent, OutboxStatus
    from avtaleflyt.models.tables import OutboxMessage
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks import outbox
    from avtaleflyt.tasks.sweep import run_sweep

    get_settings.cache_clear()
    settings = get_settings()
    assert settings.domain_database_url == url and settings.smtp_port == port

    t = time.perf_counter()
    engine = engine_for(url)
    counts = build_database(engine, args.revisions, args.parties, args.as_of)
    setup_s = time.perf_counter() - t
    settings.signing_key()  # made once, before timing

    server = subprocess.Popen([sys.executable, str(HERE / "bench_outbox.py"), "--serve", str(port)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().strip() == "ready"

    # ---- (a) the sweep, end to end; send_pending timed on its own
    send_time: dict[str, float] = {}
    real_send_pending = outbox.send_pending

    send_profiles = (cProfile.Profile(), cProfile.Profile()) if args.profile_send else None

    def timed_send_pending(*a, **kw):
        started, cpu = time.perf_counter(), time.process_time()
        if send_profiles:
            send_profiles[0].enable()
        try:
            return real_send_pending(*a, **kw)
        finally:
            if send_profiles:
                send_profiles[0].disable()
            send_time["s"], send_time["cpu"] = time.perf_counter() - started, time.process_time() - cpu

    from avtaleflyt.tasks.outbox import sender as outbox_sender

    real_settle = outbox_sender._settle

    def profiled_settle(*a, **kw):  # a cProfile sees only the thread it was enabled in
        if threading.current_thread() is threading.main_thread():
            return real_settle(*a, **kw)
        send_profiles[1].enable()
        try:
            return real_settle(*a, **kw)
        finally:
            send_profiles[1].disable()

    if send_profiles:
        outbox_sender._settle = profiled_settle

    outbox.send_pending = timed_send_pending
    profile = cProfile.Profile() if args.profile else None
    try:
        t, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        report = run_sweep(args.as_of, send=True, engine=engine)
        if profile:
            profile.disable()
        sweep_s, sweep_cpu = time.perf_counter() - t, time.process_time() - cpu
    finally:
        outbox.send_pending = real_send_pending
        outbox_sender._settle = real_settle
    send_s = send_time.get("s", float("nan"))
    enqueue_s = sweep_s - send_s
    rss_after_sweep = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    with engine.connect() as conn:
        by_status = dict(conn.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
        events = dict(conn.execute(select(OutboxMessage.event, func.count()).group_by(OutboxMessage.event)).all())

    # ---- (b) the baseline: the same rows' bytes, rendered beforehand (not timed), one connection
    t = time.perf_counter()
    sender = outbox.parse_sender(settings.mail_from)
    table = OutboxMessage.__table__
    messages: list[tuple[str, bytes]] = []
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=2000).execute(select(table).order_by(table.c.id))
        for row in result:
            messages.append((row.to_address, outbox.render(row, sender)[1]))
    render_s = time.perf_counter() - t
    avg_size = sum(len(d) for _, d in messages) / max(len(messages), 1)
    plain_s = asyncio.run(plain_loop(port, sender.addr_spec, messages))
    sent_plain = len(messages)
    del messages

    server.stdin.close()
    received = server.stdout.read().strip()
    server.wait(timeout=30)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    sent = report.sent.sent if report.sent else 0
    if not sent:
        sys.exit(f"the sweep sent nothing: {report.errors or report.sent}")
    sweep_rate, plain_rate = sent / sweep_s, sent_plain / plain_s
    print(f"machine: {machine()}")
    print(f"size: {args.revisions} revisions × {args.parties} parties = {n} reminders, as of {args.as_of}; database {url}")
    print(f"setup: {setup_s:.1f} s (store one revision, copy it {args.revisions - 1}× with SQL: "
          f"{counts['party']} parties, {counts['partyobligation:political_treatment']} treatments, {counts['stage']} stages)")
    print(f"{'':34}{'seconds':>10}{'msg/s':>10}{'ms/msg':>10}")
    print(f"{'sweep: enqueue (plan+compose+insert)':34}{enqueue_s:10.1f}{sent / enqueue_s:10.0f}{1000 * enqueue_s / sent:10.2f}")
    print(f"{'sweep: send_pending':34}{send_s:10.1f}{sent / send_s:10.0f}{1000 * send_s / sent:10.2f}")
    print(f"{'sweep: run_sweep(send=True) total':34}{sweep_s:10.1f}{sweep_rate:10.0f}{1000 * sweep_s / sent:10.2f}")
    print(f"{'plain aiosmtplib loop':34}{plain_s:10.1f}{plain_rate:10.0f}{1000 * plain_s / sent_plain:10.2f}")
    send_cpu = send_time.get("cpu", float("nan"))
    print(f"CPU of this process (less moved by the load than wall time): enqueue {1000 * (sweep_cpu - send_cpu) / sent:.2f} ms/msg, "
          f"send_pending {1000 * send_cpu / sent:.2f} ms/msg (the SMTP server is another process)")
    print(f"ratio sweep / plain: {sweep_rate / plain_rate:.3f}   (send_pending alone / plain: {sent / send_s / plain_rate:.2f})")
    print(f"baseline bytes rendered beforehand in {render_s:.1f} s (not timed), {avg_size / 1024:.1f} KB per message")
    print(f"outbox: {', '.join(f'{k}: {v}' for k, v in sorted(by_status.items()))}; events: "
          f"{', '.join(f'{k}: {v}' for k, v in sorted(events.items()))}")
    print(f"sweep report: enqueued {report.enqueued}, sent {sent}, errors {len(report.errors)}"
          f"{' (' + report.errors[0] + ')' if report.errors else ''}; server: {received} (sweep + baseline)")
    print(f"peak RSS: {rss_after_sweep:.0f} MB after the sweep, {rss_mb:.0f} MB at the end (the baseline's pre-rendered list)")
    full = args.revisions * args.parties
    if full != 80_000:
        print(f"estimate for 2,000 × 40 = 80,000 at these rates: sweep {80_000 / sweep_rate / 60:.1f} min, "
              f"plain loop {80_000 / plain_rate / 60:.1f} min")
    print(f"whole run: {time.perf_counter() - whole:.0f} s; load average at start {load_at_start}, at the end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (other processes share the CPUs)")
    engine.dispose()
    if args.dir is None:
        shutil.rmtree(folder, ignore_errors=True)
    if profile:
        top(profile, "run_sweep(send=True)")
    if send_profiles:
        top(send_profiles[0], "send_pending, the event loop's thread", 24)
        top(send_profiles[1], "send_pending, the commit thread (sender._settle)", 24)
    ok = (report.enqueued == n and sent == n and not report.errors and by_status.get(OutboxStatus.sent) == n
          and events.get(EmailEvent.decision_reminder) == n and received == f"received {2 * n}")
    if not ok:
        sys.exit("not every reminder was enqueued and sent exactly once")
    print(f"RESULT sweep_{n}: {sweep_s / (plain_s * sent / sent_plain):.2f}x ({sweep_s:.1f} s vs baseline plain aiosmtplib loop "
          f"{plain_s:.1f} s; {sweep_rate:.0f} vs {plain_rate:.0f} msg/s)")


if __name__ == "__main__":
    main()
