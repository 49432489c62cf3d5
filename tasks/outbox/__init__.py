"""The outbox: every email is stored as a row first, then sent and marked.

`enqueue` (queue.py) writes a rendered message under its idempotency key (revision,
stage, party, event, due date); writing the same key again is a no-op, also when two
writers race. `send_batch` (sender.py) sends what is pending over one SMTP
connection (smtp.py) and marks each row after the server's answer, before the next
row is sent: in one short transaction with the next row's fence (one commit per
message, in a thread while the next row's envelope goes out; that message's final
dot waits for the commit), or on its own when no row follows:

- 250                      → `sent`, with the answer (`smtp_response`) and `sent_at`;
- 4xx, a dropped connection or a timeout → stays `pending`: `attempts` + 1 and
  `next_attempt_at` = now + backoff (1 min × 2^(attempts-1), at most 1 h); after
  `max_attempts` it is `failed`. The batch reconnects and goes on with the next row;
- 5xx (refused recipient, refused message) → `failed` with the answer, never retried;
- a message that cannot be written safely (an address that is not one plain
  address) → `failed` before anything is sent.
- a letter whose reason has gone (reasons.py asks the stage kind's
  `letter_reason_gone`: the stage closed, the party answered, decided or left, the
  deadline it names moved) → `cancelled`, with `cancelled_reason`, never sent. Read
  right before the fence and marked with the same condition as `sent`, so a row is
  either cancelled or sent. Letters without a stage and a party are never cancelled.

A connection that cannot be opened at all (server down, login refused, 421 at the
greeting) or a server that refuses our sender address (MAIL FROM) stops the batch
and leaves the remaining rows pending and untouched (no attempt counted): they go on
the next run. `SendReport.stopped` says why.

Several senders run at once (revision runs on several workers, the sweep,
`reminders run`). How they share the rows:

- A batch claims a page of rows in one transaction: its token in `claimed_by`, and a
  lease `claimed_until` = the wall clock *at that claim* + the lease
  (AVTALEFLYT_OUTBOX_LEASE_SECONDS, 600 s). Others skip rows under a lease.
- While it sends, the batch renews the lease on the rows it still holds every third
  of the lease, so a page that takes long (a slow server, a loaded machine) stays its.
- Fencing: right before sending a row the batch confirms, in one conditional UPDATE
  (token still ours, row still pending), that it still holds the row, and extends its
  lease. It marks the outcome with the same condition. A batch that finds it has lost
  a row (it stalled past its lease and another sender took over) stops at once, writes
  nothing for that row, and says so (`SendReport.lost_claim`, `stopped`).
- Rows a batch claimed and did not get to are released when it stops; a killed
  sender's rows wait for its lease to run out, then the next batch sends them.

The guarantee, exactly: never zero times, and never again once a row is marked sent.
No database transaction waits for the server (the commit beside an envelope runs
on its own), so a message is sent once more in exactly two cases, each at most once
per sender and occurrence:
- a sender crashes (killed, machine down) after the server accepted a message and
  before its row was marked (or the connection drops after DATA, before the answer):
  the next batch sends that one message again;
- a sender stalls (paused, starved of CPU) for longer than its lease with a message
  in flight: another sender takes the row and sends it; the stalled one, resumed,
  finds it lost the row and stops. Only the one message it had in flight goes twice.
Every copy is the same, byte for byte (mime.py): the `Message-ID` is derived from the
key, `Date` is the row's creation time and the MIME boundaries come from the key, so
receivers and their clients drop the duplicate.

Leases are compared on each sender's own clock: the machines' clocks must agree to
well within the lease (NTP does).

Plain functions: the flows wrap them in Prefect tasks. `send_pending` is the
synchronous entry point; `send_batch` the async one.
"""

from .mime import build_email, message_id, parse_sender, render
from .queue import Claims, _insert, enqueue, enqueue_all
from .sender import CLAIM_LEASE, DEFAULT_MAX_ATTEMPTS, PAGE_SIZE, SendReport, backoff, send_batch, send_pending

__all__ = [
    "CLAIM_LEASE", "DEFAULT_MAX_ATTEMPTS", "PAGE_SIZE", "Claims", "SendReport", "_insert", "backoff",
    "build_email", "enqueue", "enqueue_all", "message_id", "parse_sender", "render", "send_batch", "send_pending",
]
