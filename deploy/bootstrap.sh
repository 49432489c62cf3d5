#!/bin/sh
# Once per install and per release, before the workers start (systemd: avtaleflyt-deploy.service;
# compose: the `deploy` service; Kubernetes: the avtaleflyt-deploy Job). Safe to run again.
#
#   1. migrates the domain database (AVTALEFLYT_DATABASE_URL) to the newest schema;
#   2. waits for the Prefect server (PREFECT_API_URL) to answer;
#   3. creates the process work pool `avtaleflyt` unless it exists, and sets its concurrency
#      limit (AVTALEFLYT_POOL_LIMIT, default 16: about 4 per core over all worker machines);
#   4. installs the automation that reschedules a revision run marked Stalled (and removes older ones);
#   5. registers every deployment in prefect.yaml (the revision flow, the daily sweep, ping).
#
# Needs `avtaleflyt`, `prefect` and `python` of one installation on PATH.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
PREFECT_FILE=${PREFECT_FILE:-$here/prefect.yaml}
POOL=${AVTALEFLYT_WORK_POOL:-avtaleflyt}
WAIT_SECONDS=${AVTALEFLYT_WAIT_SECONDS:-180}
: "${AVTALEFLYT_DATABASE_URL:?set AVTALEFLYT_DATABASE_URL (the domain database)}"
: "${PREFECT_API_URL:?set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)}"

echo "bootstrap: migrating the domain database"
avtaleflyt db upgrade

echo "bootstrap: waiting for the Prefect server at $PREFECT_API_URL"
python - "$WAIT_SECONDS" <<'EOF'
import os, sys, time
import httpx
deadline = time.monotonic() + float(sys.argv[1])
url = os.environ["PREFECT_API_URL"].rstrip("/") + "/health"
while True:
    try:
        if httpx.get(url, timeout=5).status_code == 200:
            break
    except httpx.HTTPError:
        pass
    if time.monotonic() > deadline:
        sys.exit(f"bootstrap: the Prefect server did not answer {url} within {sys.argv[1]} s")
    time.sleep(2)
EOF

if prefect work-pool inspect "$POOL" >/dev/null 2>&1; then
    echo "bootstrap: work pool $POOL exists"
else
    echo "bootstrap: creating the process work pool $POOL"
    prefect work-pool create "$POOL" --type process
fi
echo "bootstrap: the pool runs at most ${AVTALEFLYT_POOL_LIMIT:-16} flow runs at once"
prefect work-pool set-concurrency-limit "$POOL" "${AVTALEFLYT_POOL_LIMIT:-16}"

echo "bootstrap: installing the automation for runs marked Stalled"
python -m avtaleflyt.flows.automations

echo "bootstrap: registering the deployments in $PREFECT_FILE"
prefect --no-prompt deploy --all --prefect-file "$PREFECT_FILE"
echo "bootstrap: done"
