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
# Run from anywhere; uses the project's .venv. Every benchmark runs even when one fails.
# The summary (bench/goals.py) gives each RESULT line as printed, its goal (issues 11 and
# 15) and `met` / `not met`. Exit status: 1 if a benchmark failed (exited non-zero, or
# left out a RESULT line a goal expects); a goal not met is reported, not an error.
# Each one's whole output is kept in $LOG_DIR (default: a new folder under /tmp, printed
# at the end), with its exit status in $LOG_DIR/<name>.rc.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
LOG_DIR=${LOG_DIR:-$(mktemp -d /tmp/avtaleflyt-bench.XXXXXX)}
mkdir -p "$LOG_DIR"
ONLY=${ONLY:-cli outbox sweep dashboard selection start resume memory}

if [ "${FULL:-}" = 1 ]; then
  SIZES="FULL=1 sizes" OUTBOX_ARGS="" SWEEP_ARGS="" DASHBOARD_ARGS="--revisions 1000"
else
  SIZES="default sizes" OUTBOX_ARGS="--messages 6000" SWEEP_ARGS="--revisions 100 --parties 40" DASHBOARD_ARGS="--revisions 100"
fi
for name in $ONLY; do
  case $name in
    cli|outbox|sweep|dashboard|selection|start|resume|memory) ;;
    *) echo "unknown benchmark: $name (known: cli outbox sweep dashboard selection start resume memory)" >&2; exit 2 ;;
  esac
done

started_all=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# The commit measured: taken at the start (others may commit while it runs).
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit + working tree"; fi
for name in $ONLY; do
  case $name in
    outbox) args=$OUTBOX_ARGS ;;
    sweep) args=$SWEEP_ARGS ;;
    dashboard) args=$DASHBOARD_ARGS ;;
    *) args="" ;;
  esac
  echo "=== $name: $PY bench/bench_$name.py $args" >&2
  started=$(date +%s)
  # shellcheck disable=SC2086
  $PY "bench/bench_$name.py" $args >"$LOG_DIR/$name.log" 2>&1
  rc=$?
  echo "$rc" >"$LOG_DIR/$name.rc"
  if [ "$rc" = 0 ]; then status=ok; else status="FAILED (exit $rc)"; fi
  tail -n 25 "$LOG_DIR/$name.log"
  echo "=== $name: $status in $(( $(date +%s) - started )) s" >&2
done

echo
echo "=== summary: started $(date -u -d "@$started_all" '+%Y-%m-%d %H:%M UTC'), commit $commit, $SIZES, $(nproc) CPUs, load $load_start at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end, whole run $(( $(date +%s) - started_all )) s; logs in $LOG_DIR"
echo "    ratio = the measured value's time (or memory) / the baseline's, both from the same run; goals: bench/goals.py"
$PY bench/goals.py "$LOG_DIR" $ONLY
