#!/bin/sh
# Runs every benchmark in bench/ at the size its figures in bench/README.md were recorded at.
#
#   bench/run_all.sh          # ~2.5 min on a 2-CPU machine (outbox 6,000, sweep 4,000)
#   FULL=1 bench/run_all.sh   # the issue's full size, 2,000 revisions × 40 parties = 80,000 each (~17 + ~21 min)
#
# Run from anywhere; uses the project's .venv. Each benchmark exits non-zero when a message was
# not sent exactly once, and this script stops at the first that does.
set -eu
cd "$(dirname "$0")/.."
PY=.venv/bin/python

if [ "${FULL:-}" = 1 ]; then
  set -x
  $PY bench/bench_outbox.py
  $PY bench/bench_sweep.py
else
  set -x
  $PY bench/bench_outbox.py --messages 6000
  $PY bench/bench_sweep.py --revisions 100 --parties 40
fi
