"""Benchmark: the outbox sender (`send_batch`) against a plain aiosmtplib loop, same server, same run.

    .venv/bin/python bench/bench_outbox.py                   # 2,000 revisions × 40 parties = 80,000 messages
    .venv/bin/python bench/bench_outbox.py --messages 6000   # the size run_all.sh runs
    .venv/bin/python bench/bench_outbox.py --messages 1000 --profile   # + cProfile of send_batch (slows it)

RESULT outbox_send_N: the outbox's time divided by the plain loop's (lower is better). Issue 15's
goal: the outbox at >= 0.6x the plain loop's throughput, i.e. a time ratio of at most 1.67x.

What is measured, on one machine:
1. N outbox rows (a reminder with an .ics each) are written to a fresh SQLite domain database.
2. baseline: the same N messages, rendered to bytes beforehand (not timed), sent with
   `aiosmtplib.SMTP.sendmail` in a loop over one connection: the transport alone.
3. outbox: `send_batch` sends the N rows: reads them in pages, renders and checks each
   message, sends it over one connection, and commits its row (sent + the server's answer)
   with the next row's fence before that next message's final dot (the commit in a thread
   while the next envelope goes out): everything that makes it crash-safe.
The server is an aiosmtpd sink in a child process that counts and discards (no disk),
so both sides compete for the same server and neither for the GIL with it.
Memory: send_batch holds one page of 500 rows; the baseline holds all N pre-rendered
messages (~2.2 KB each): 80,000 messages ≈ 180 MB more. Time here: ~13 ms per message
for the whole run (render for the baseline + baseline + outbox), so 80,000 take ~17
minutes; `--messages 6000` about 80 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//avtaleflyt//bench//NO\r\nMETHOD:PUBLISH\r\n"
    "BEGIN:VEVENT\r\nUID:{uid}@avtaleflyt\r\nDTSTAMP:20250201T070000Z\r\n"
    "DTSTART;VALUE=DATE:20250301\r\nDTEND;VALUE=DATE:20250302\r\n"
    "SUMMARY:Frist for politisk behandling\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
TEXT = (
    "Til {name}\n\nSom kjent skal samarbeidsavtalen behandles politisk i alle kommuner og i "
    "helseforetakets styre. Fristen for politisk behandling er lørdag 1. mars 2025.\n\n"
    "Forslag til vedtak:\n{name} godkjenner revidert overordnet samarbeidsavtale med retningslinjer.\n\n"
    "Med vennlig hilsen\nSekretariatet for helsefellesskapet\n"
)
HTML = (
    "<p>Til {name}</p><p>Som kjent skal samarbeidsavtalen behandles politisk i alle kommuner og i "
    "helseforetakets styre. Fristen for politisk behandling er <b>lørdag 1. mars 2025</b>.</p>"
    "<h2>Forslag til vedtak</h2><p>{name} godkjenner revidert overordnet samarbeidsavtale med "
    "retningslinjer.</p><p>Med vennlig hilsen<br>Sekretariatet for helsefellesskapet</p>"
)


# --------------------------------------------------------------------------- the server (child process)


def serve(port: int) -> None:
    from aiosmtpd.controller import Controller

    class Counting:
        count = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
            Counting.count += 1
            return f"250 2.0.0 Ok: queued as {Counting.count}"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        controller.stop()
        print(f"received {Counting.count}", flush=True)


# --------------------------------------------------------------------------- the benchmark


def rows(n: int, parties: int):
    from avtaleflyt.models.enums import EmailEvent, Language
    from avtaleflyt.models.tables import OutboxMessage

    now = dt.datetime.now(dt.timezone.utc)
    for i in range(n):
        rev, party = divmod(i, parties)
        name = f"Kommune {party + 1}"
        key = f"revisjon-{rev}/politisk/party-{party}/decision_reminder/2025-03-01"
        yield OutboxMessage(
            key=key, revision_id=None, stage_key="politisk", event=EmailEvent.decision_reminder,
            language=Language.nb, due=dt.date(2025, 3, 1), to_name=name,
            to_address=f"postmottak@kommune{party + 1}.example.no",
            subject=f"Påminnelse: frist for politisk behandling lørdag 1. mars 2025 (revisjon {rev})",
            body_text=TEXT.format(name=name), body_html=HTML.format(name=name),
            ics=ICS.format(uid=f"r{rev}p{party}"), created_at=now,
        )


async def plain_loop(port: int, sender: str, messages: list[tuple[str, bytes]]) -> float:
    import aiosmtplib

    started = time.perf_counter()
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=30)
    await smtp.connect()
    for to, data in messages:
        await smtp.sendmail(sender, [to], data)
    await smtp.quit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=2000)
    parser.add_argument("--parties", type=int, default=40)
    parser.add_argument("--messages", type=int, default=None, help="total messages (default revisions × parties)")
    parser.add_argument("--dir", type=Path, default=None, help="where the SQLite database goes (default: a temp dir)")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of send_batch")
    parser.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="FULL",
                        help="SQLite's synchronous setting for the outbox's database (FULL: as the product runs; "
                             "NORMAL: what a commit costs without its fsync, to measure that floor)")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return

    from sqlalchemy import insert

    from avtaleflyt.db import engine_for
    from avtaleflyt.models.enums import OutboxStatus
    from avtaleflyt.models.tables import OutboxMessage
    from avtaleflyt.settings import Settings
    from avtaleflyt.stack import free_port
    from avtaleflyt.tasks.outbox import parse_sender, send_batch
    from avtaleflyt.tasks.outbox.mime import message_bytes

    n = args.messages or args.revisions * args.parties
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = engine_for(url)
    if args.synchronous != "FULL":
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _synchronous(dbapi_connection, _record):  # noqa: ANN001
            dbapi_connection.execute(f"PRAGMA synchronous={args.synchronous}")

        engine.dispose()  # connections already open get it too
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().strip() == "ready"
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                        mail_from="Sekretariatet <sekretariat@helsefellesskap.example.no>")
    sender = parse_sender(settings.mail_from)

    t = time.perf_counter()
    batch: list[dict] = []
    with engine.begin() as conn:
        for row in rows(n, args.parties):
            batch.append(row.model_dump(exclude={"id"}))
            if len(batch) == 5000:
                conn.execute(insert(OutboxMessage), batch)
                batch.clear()
        if batch:
            conn.execute(insert(OutboxMessage), batch)
    insert_s = time.perf_counter() - t

    t = time.perf_counter()
    rendered = [(row.to_address, message_bytes(row, sender)) for row in rows(n, args.parties)]
    render_s = time.perf_counter() - t
    avg_size = sum(len(d) for _, d in rendered) / n

    plain_s = asyncio.run(plain_loop(port, sender.addr_spec, rendered))
    del rendered

    profile = None
    if args.profile:
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    t = time.perf_counter()
    report = asyncio.run(send_batch(engine, settings))
    outbox_s = time.perf_counter() - t
    if profile is not None:
        import pstats

        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(14)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(22)

    server.stdin.close()
    received = server.stdout.read().strip()
    server.wait(timeout=30)
    with engine.connect() as conn:
        pending = conn.exec_driver_sql(
            "select count(*) from outboxmessage where status != ?", (OutboxStatus.sent.name,)
        ).scalar()
    engine.dispose()
    if args.dir is None:
        shutil.rmtree(folder, ignore_errors=True)

    plain_rate, outbox_rate = n / plain_s, n / outbox_s
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    print(f"messages: {n} ({avg_size / 1024:.1f} KB each, with .ics); database {url} (synchronous={args.synchronous})")
    print(f"setup: insert rows {insert_s:.1f} s; render for the baseline {render_s:.1f} s "
          f"({n / render_s:.0f} msg/s, not part of the baseline's time)")
    print(f"{'':24}{'seconds':>10}{'msg/s':>10}")
    print(f"{'plain aiosmtplib loop':24}{plain_s:10.1f}{plain_rate:10.0f}")
    print(f"{'outbox send_batch':24}{outbox_s:10.1f}{outbox_rate:10.0f}")
    print(f"ratio outbox / plain: {outbox_rate / plain_rate:.2f}")
    print(f"send_batch report: sent {report.sent}, deferred {report.deferred}, failed {report.failed}, "
          f"connections {report.connections}; rows not sent: {pending}; server: {received}; "
          f"peak RSS {rss_mb:.0f} MB")
    if report.sent != n or pending:
        sys.exit("not every message was sent")
    print(f"RESULT outbox_send_{n}: {outbox_s / plain_s:.2f}x ({outbox_s:.1f} s vs baseline plain aiosmtplib loop {plain_s:.1f} s; "
          f"{outbox_rate:.0f} vs {plain_rate:.0f} msg/s)")


if __name__ == "__main__":
    main()
