"""`plan check` loads only what it needs: what it does not use costs every coordinator time.

tests/test_cli_start.py checks that the commands that do not talk to Prefect do not import it;
this checks the other costly imports `plan check` once paid (bench/README.md, bench_cli.py):
`holidays` (its country index imported ~300 modules for Norway), the ORM, Jinja2, pendulum,
icalendar, rich (its console and tables: `plan check` prints its few lines through click), and the
other sub-apps' modules (the root group loads a sub-app only when its command runs).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
NOT_NEEDED = (
    "holidays", "prefect", "sqlalchemy", "sqlmodel", "alembic", "jinja2", "pendulum", "icalendar", "httpx", "rich",
    "avtaleflyt.cli.revision", "avtaleflyt.cli.recordings", "avtaleflyt.cli.mail", "avtaleflyt.cli.user", "avtaleflyt.cli.reminders",
)

RUN = """
import json, sys
from avtaleflyt.cli import main
sys.argv = ["avtaleflyt", "plan", "check", sys.argv[1]]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
print("\\n@@" + json.dumps(sorted(sys.modules)))
"""


def test_plan_check_loads_nothing_it_does_not_use():
    done = subprocess.run([sys.executable, "-c", RUN, str(EXAMPLE)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0 and "\n@@" in done.stdout, done.stdout + done.stderr
    loaded = json.loads(done.stdout.rpartition("\n@@")[2])
    assert [m for m in loaded if m in NOT_NEEDED or m.split(".")[0] in NOT_NEEDED] == []


def test_lines_printed_without_rich_show_control_characters(capsys):
    """Errors, warnings and `plan check` print through click, not rich: a control character in
    a value (an escape sequence that would retitle or recolour the terminal) is shown, not sent."""
    from avtaleflyt.cli.common import say

    say("error:", "red", "party '\x1b]0;pwned\x07\x1b[31m' left", to_err=True)
    assert capsys.readouterr().err == "error: party '\\x1b]0;pwned\\x07\\x1b[31m' left\n"
