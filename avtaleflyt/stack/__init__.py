"""The embedded stack behind `avtaleflyt up`: a Prefect server on SQLite, a worker, the SMTP sink, the dashboard.

- `processes`: ManagedProcess (a child in its own process group, logging to a file) and ports;
- `prefect_env`: Prefect's environment, its password, pointing this process at a server;
- `services`: starting each piece and waiting until it answers;
- `up`: `run_up`, which starts them all, prints where they are and stops them.

Every name is importable from `avtaleflyt.stack` itself.
"""

from .prefect_env import (
    apply_prefect_env,
    auth_env,
    auth_headers,
    prefect_env,
    use_local_prefect_api,
)
from .processes import (
    HOST,
    ManagedProcess,
    StackError,
    _python_env,
    ensure_port_free,
    free_port,
)
from .services import (
    DASHBOARD_START_TIMEOUT,
    SERVER_START_TIMEOUT,
    SINK_START_TIMEOUT,
    WORKER_MODULE,
    WORKER_START_TIMEOUT,
    sink_env,
    start_dashboard,
    start_prefect_server,
    start_smtp_sink,
    start_worker,
    wait_for_deployment,
    wait_until_answering,
)
from .up import Stack, run_up

__all__ = [
    "DASHBOARD_START_TIMEOUT",
    "HOST",
    "SERVER_START_TIMEOUT",
    "SINK_START_TIMEOUT",
    "WORKER_MODULE",
    "WORKER_START_TIMEOUT",
    "ManagedProcess",
    "Stack",
    "StackError",
    "_python_env",
    "apply_prefect_env",
    "auth_env",
    "auth_headers",
    "ensure_port_free",
    "free_port",
    "prefect_env",
    "run_up",
    "sink_env",
    "start_dashboard",
    "start_prefect_server",
    "start_smtp_sink",
    "start_worker",
    "use_local_prefect_api",
    "wait_for_deployment",
    "wait_until_answering",
]
