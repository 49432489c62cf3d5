"""The CLI starts fast: a command that does not talk to Prefect does not import it.

Importing prefect costs about a second of CPU (several under load), so each command below
runs in a fresh interpreter, as the console script would, and the modules it loaded are
looked at afterwards. bench/bench_cli.py measures the time itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from avtaleflyt.models.plan import parse_plan
from avtaleflyt.tasks.store import store_revision

from avtaleflyt.db import session_scope

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
SLUG = "revidering-av-samarbeidsavtalen-2024"

# Runs `main()` with the arguments after -c, then prints its exit status and every prefect module loaded.
RUN_AND_LIST = """
import json, sys
from avtaleflyt.cli import main
sys.argv = ["avtaleflyt", *sys.argv[1:]]
try:
    main()
    status = 0
except SystemExit as exit:
    status = exit.code or 0
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "prefect")
print("\\n@@" + json.dumps({"status": status, "prefect": loaded}))
"""


def run_fresh(*args: str, input: str | None = None, cwd: Path | None = None) -> tuple[int, list[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, *args], input=input, capture_output=True, text=True, timeout=300, cwd=cwd, check=False
    )
    assert "\n@@" in done.stdout, done.stdout + done.stderr
    output, _, tail = done.stdout.rpartition("\n@@")
    result = json.loads(tail)
    return result["status"], result["prefect"], output + done.stderr


def test_the_check_works_when_prefect_is_imported():
    """The check is not vacuous: a command that reaches Prefect does show up."""
    status, prefect, _ = run_fresh("--help")
    assert status == 0 and prefect == []
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST.replace("from avtaleflyt.cli import main", "import prefect; from avtaleflyt.cli import main"), "--help"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert "prefect" in json.loads(done.stdout.rpartition("\n@@")[2])["prefect"]


def test_commands_without_a_database_do_not_import_prefect(tmp_path):
    csv_file = tmp_path / "m.csv"
    csv_file.write_text("Når;Hva;Om;Ansvar;Del\n27.11.24;Møte i ASU;Sluttbehandling;ASU;\n", encoding="utf-8")
    for args in (
        ("plan", "check", str(EXAMPLE)),
        ("plan", "import", str(csv_file)),
        ("plan", "import", str(csv_file), "--into", str(EXAMPLE), "--output", str(tmp_path / "plan.yaml")),
        ("mail", "preview", "decision_request"),
        ("mail", "preview", "hearing_invitation", "--lang", "nn", "--html"),
        ("papers", "preview", str(EXAMPLE), "--stage", "sluttbehandling", "--output", str(tmp_path / "sak.docx")),
    ):
        status, prefect, output = run_fresh(*args)
        assert status == 0, f"{args}: {output}"
        assert prefect == [], f"{' '.join(args)} imported {prefect[:5]}…"


def test_a_refused_plan_check_does_not_import_prefect(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("revision: [", encoding="utf-8")
    status, prefect, output = run_fresh("plan", "check", str(bad))
    assert status == 2 and "error:" in output
    assert prefect == []


def test_commands_on_the_database_do_not_import_prefect(domain_db_url, tmp_path):
    """Reading revisions, the outbox and exports, and managing accounts, leave Prefect alone."""
    source = EXAMPLE.read_text(encoding="utf-8")
    with session_scope() as session:
        store_revision(session, parse_plan(source), source, "test")
    password = "et langt nok passord\n"
    for args, stdin in (
        (("revision", "list"), None),
        (("revision", "list", "--json"), None),
        (("revision", "show", SLUG), None),
        (("revision", "show", SLUG, "--json"), None),
        (("plan", "export", SLUG, "--format", "csv", "--output", str(tmp_path / "m.csv")), None),
        (("mail", "outbox"), None),
        (("papers", "forum", SLUG, "--stage", "sluttbehandling", "--output", str(tmp_path / "sak.docx")), None),
        (("user", "add", "kari", "--everywhere", "--role", "coordinator", "--password-stdin"), password),
        (("user", "role", "kari", "--role", "reader"), None),
        (("user", "disable", "kari"), None),
        (("user", "enable", "kari"), None),
        (("audit", "export", "--since", "2026-01-01", "--format", "jsonl"), None),
        (("audit", "export", "--since", "2026-01-01", "--output", str(tmp_path / "audit.csv")), None),
        (("db", "upgrade"), None),
    ):
        status, prefect, output = run_fresh(*args, input=stdin)
        assert status == 0, f"{args}: {output}"
        assert prefect == [], f"{' '.join(args)} imported {prefect[:5]}…"
    status, prefect, output = run_fresh("revision", "show", "no-such-revision")
    assert status == 2 and "no-such-revision" in output and prefect == []


def test_every_nudge_has_its_words():
    """The CLI words a nudge without importing tasks.runs (it imports prefect): keyed by the StrEnum's values."""
    from avtaleflyt.tasks.runs import Nudge

    from avtaleflyt.cli.common import NUDGE_TEXT

    assert set(NUDGE_TEXT) == {n.value for n in Nudge}
    assert all(NUDGE_TEXT[n] for n in Nudge)
