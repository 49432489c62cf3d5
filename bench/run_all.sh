#!/bin/sh
# Runs every benchmark in bench/ at the size its figures in bench/README.md were recorded at.
#
#   bench/run_all.sh          # ~3 min on a 2-CPU machine (outbox 6,000, sweep 4,000, dashboard 100 revisions)
#   FULL=1 bench/run_all.sh   # the issues' full sizes: 80,000 messages each, 1,000 revisions (~17 + ~21 + ~4 min)
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
  $PY bench/bench_dashboard.py --revisions 1000
else
  set -x
  $PY bench/bench_outbox.py --messages 6000
  $PY bench/bench_sweep.py --revisions 100 --parties 40
  $PY bench/bench_dashboard.py --revisions 100
fi
