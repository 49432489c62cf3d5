#!/bin/sh
# Runs every benchmark in bench/ and ends with a summary: one RESULT line each, every
# ratio measured against a baseline taken in the same run (see bench/README.md).
#
#   bench/run_all.sh          # ~12–15 min on a 2-CPU machine (also: make bench)
#   FULL=1 bench/run_all.sh   # outbox and sweep at 80,000 messages, dashboard at 1,000 revisions (~+40 min)
#   ONLY="start resume" bench/run_all.sh    # some of them: cli outbox sweep dashboard selection start resume memory
#
# Sizes (default / FULL=1):
#   cli        `avtaleflyt plan check` on the example vs `python -c pass`    15 pairs (both)
#   outbox     send_batch vs a plain aiosmtplib loop            6,000 / 80,000 messages
#   sweep      run_sweep end to end vs a plain aiosmtplib loop  100 × 40 / 2,000 × 40 revisions × parties
#   dashboard  pages at N revisions vs at 10                    100 / 1,000 revisions
#   selection  the sweep's selection vs a plain SELECT          2,000 × 40 = 80,000 open obligations (both)
#   start      `revision start` → 40 decision requests delivered vs a ping run    7 pairs (both)
#   resume     `party decide` → run caught up vs a ping run     7 pairs (both)
#   memory     the embedded stack with 200 revisions vs at rest 200 revisions (both)
#
# Run from anywhere; uses the project's .venv. Every benchmark runs even when one fails;
# the script exits non-zero if any did. Each one's whole output is kept in $LOG_DIR
# (default: a new folder under /tmp, printed at the end).
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
LOG_DIR=${LOG_DIR:-$(mktemp -d /tmp/avtaleflyt-bench.XXXXXX)}
mkdir -p "$LOG_DIR"
ONLY=${ONLY:-cli outbox sweep dashboard selection start resume memory}

if [ "${FULL:-}" = 1 ]; then
  OUTBOX_ARGS="" SWEEP_ARGS="" DASHBOARD_ARGS="--revisions 1000"
else
  OUTBOX_ARGS="--messages 6000" SWEEP_ARGS="--revisions 100 --parties 40" DASHBOARD_ARGS="--revisions 100"
fi

failed=""
started_all=$(date +%s)
for name in $ONLY; do
  case $name in
    outbox) args=$OUTBOX_ARGS ;;
    sweep) args=$SWEEP_ARGS ;;
    dashboard) args=$DASHBOARD_ARGS ;;
    cli|selection|start|resume|memory) args="" ;;
    *) echo "unknown benchmark: $name" >&2; exit 2 ;;
  esac
  echo "=== $name: $PY bench/bench_$name.py $args" >&2
  started=$(date +%s)
  # shellcheck disable=SC2086
  if $PY "bench/bench_$name.py" $args >"$LOG_DIR/$name.log" 2>&1; then
    status=ok
  else
    status="FAILED (exit $?)"
    failed="$failed $name"
  fi
  tail -n 25 "$LOG_DIR/$name.log"
  echo "=== $name: $status in $(( $(date +%s) - started )) s" >&2
done

echo
echo "=== summary ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), whole run $(( $(date +%s) - started_all )) s; logs in $LOG_DIR)"
echo "    ratio = the measured value's time (or memory) / the baseline's, both from the same run"
for name in $ONLY; do
  if grep -q '^RESULT' "$LOG_DIR/$name.log" 2>/dev/null; then
    grep '^RESULT' "$LOG_DIR/$name.log"
  else
    echo "RESULT $name: none (see $LOG_DIR/$name.log)"
  fi
done
if [ -n "$failed" ]; then
  echo "failed:$failed" >&2
  exit 1
fi
