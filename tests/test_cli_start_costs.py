"""`plan check` loads only what it needs: what it does not use costs every coordinator time.

tests/test_cli_start.py checks that the commands that do not talk to Prefect do not import it;
this checks the other costly imports `plan check` once paid (bench/README.md, bench_cli.py):
`holidays` (its country index imported ~300 modules for Norway), the ORM, Jinja2, pendulum,
icalendar, rich (its console and tables: `plan check` prints its few lines through click), the
papers (their layouts, words, python-docx and markdown-it: a resolution template is checked without
them), the other sub-apps' modules (the root group loads a sub-app only when its command runs), the
settings (pydantic-settings and what it imports: asyncio, dotenv), and pydantic's search for plugins
(every installed distribution's entry points read).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
NOT_NEEDED = (
    "holidays", "prefect", "sqlalchemy", "sqlmodel", "alembic", "jinja2", "pendulum", "icalendar", "httpx", "rich",
    "avtaleflyt.cli.revision", "avtaleflyt.cli.recordings", "avtaleflyt.cli.mail", "avtaleflyt.cli.user", "avtaleflyt.cli.reminders",
    "avtaleflyt.settings", "pydantic_settings", "dotenv", "asyncio",
    # the papers (a resolution template is checked by models/resolution_templates.py), their words and renderers,
    # the letters, the tables, the side effects
    "avtaleflyt.models.papers", "avtaleflyt.models.wording", "avtaleflyt.models.wording_papers", "avtaleflyt.models.letters",
    "avtaleflyt.models.tables", "avtaleflyt.tasks", "docx", "markdown_it",
    "avtaleflyt.models.fremdriftsplan",  # the CSV readers: a plan's meetings are checked without them
    # the typed commands (each kind's in models/stages/<kind>_commands.py): a plan is checked without them
    "avtaleflyt.models.commands", "avtaleflyt.models.command_fields",
    "slugify", "text_unidecode",  # the example's title is made a slug without python-slugify (models/identifiers.py)
)

# `plan check FILE` in a fresh interpreter; prints the modules loaded, the entry point groups
# looked up and the commands Typer built.
RUN = """
import importlib.metadata, json, sys
import typer.main
looked_up, built = [], []
entry_points = importlib.metadata.entry_points
importlib.metadata.entry_points = lambda **kw: looked_up.append(kw.get("group")) or entry_points(**kw)
get_command_from_info = typer.main.get_command_from_info
typer.main.get_command_from_info = lambda command_info, **kw: built.append(command_info.name or command_info.callback.__name__) or get_command_from_info(command_info, **kw)
from avtaleflyt.cli import main
import gc
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
sys.argv = ["avtaleflyt", "plan", "check", sys.argv[1]]
try:
    main()
    status = 0
except SystemExit as exit:
    status = exit.code or 0
print("\\n@@" + json.dumps({"status": status, "modules": sorted(sys.modules), "entry_points": looked_up, "built": built,
                           "collector": gc.isenabled(), "frozen": gc.get_freeze_count(), "collections": collections}))
"""


def check_fresh(cwd: Path, **env: str) -> tuple[int, dict, str]:
    inherited = {k: v for k, v in os.environ.items() if k.upper() != "AVTALEFLYT_TEMPLATE_DIR"}
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(EXAMPLE)], capture_output=True, text=True, timeout=300, check=False, cwd=cwd, env={**inherited, **env}
    )
    assert "\n@@" in done.stdout, done.stdout + done.stderr
    output, _, tail = done.stdout.rpartition("\n@@")
    seen = json.loads(tail)
    return seen["status"], seen, output + done.stderr


def test_plan_check_loads_nothing_it_does_not_use(tmp_path):
    status, seen, output = check_fresh(tmp_path)
    assert status == 0, output
    assert [m for m in seen["modules"] if any(m == n or m.startswith(n + ".") for n in NOT_NEEDED)] == []
    assert "pydantic" not in seen["entry_points"]
    assert sorted(seen["built"]) == ["check", "dashboard", "up"]  # not plan's export, shift, import, ...
    assert [m for m in seen["modules"] if m.startswith("avtaleflyt.models.stages.") and m.endswith("_commands")] == []
    # what was imported before the command ran is left out of the collector's passes, which are on again
    # after; it makes (nearly) none while the CLI starts, imports the plan's models and reads the file
    assert seen["frozen"] > 0 and seen["collector"]
    assert len(seen["collections"]) <= 5, seen["collections"]  # 56 before


def test_a_kinds_commands_load_when_asked_for():
    """The commands live beside their kind (models/stages/<kind>_commands.py) and are still found
    through it: the registry's `rules.commands`, and a name imported from the kind's module."""
    code = (
        "import sys\n"
        "from avtaleflyt.models.stages import KINDS, hearing\n"
        "print(any(m.endswith('_commands') for m in sys.modules))\n"
        "from avtaleflyt.models.stages.hearing import HearingResponse\n"
        "print(HearingResponse.__module__, [c.__name__ for c in KINDS['hearing'].commands])\n"
        "print(hasattr(hearing, 'NoSuchCommand'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout.splitlines() == [
        "False", "avtaleflyt.models.stages.hearing_commands ['HearingResponse', 'HearingClose', 'HearingReopen']", "False"
    ]


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from([*map(chr, range(32, 127)), *"æøåÆØÅéü\t\u00a0"]), max_size=40))
@example("Revidering av samarbeidsavtalen 2024")
@example("Avtale om «øyeblikkelig hjelp», 2024–2025")
@example("1,000 & Co's 'plan'")
def test_a_slug_made_without_python_slugify_is_the_one_it_makes(title):
    """models/identifiers.slugify makes the slug of a plain title itself, without importing python-slugify."""
    from avtaleflyt.models.identifiers import library_slugify, slugify

    assert slugify(title) == library_slugify(title)


def test_a_command_runs_with_the_collector_on(monkeypatch):
    """`main()` pauses the collector while the CLI starts; any command (`up` runs for days) runs
    with it on again. Under a test's CliRunner nothing is paused or frozen."""
    import gc

    from avtaleflyt.cli import common
    from avtaleflyt.cli.app import collecting

    seen = []
    command = collecting(lambda: seen.append(gc.isenabled()))
    monkeypatch.setitem(common.CONSOLE_SCRIPT, "collector_paused", True)
    gc.disable()
    try:
        command()
    finally:
        gc.enable()
    assert seen == [True] and not common.CONSOLE_SCRIPT["collector_paused"]
    frozen = gc.get_freeze_count()
    common.nothing_left_to_collect()  # not the console script
    assert gc.get_freeze_count() == frozen


def test_the_collector_is_paused_only_inside():
    import gc

    from avtaleflyt.cli.common import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_lines_printed_without_rich_show_control_characters(capsys):
    """Errors, warnings and `plan check` print through click, not rich: a control character in
    a value (an escape sequence that would retitle or recolour the terminal) is shown, not sent."""
    from avtaleflyt.cli.common import say

    say("error:", "red", "party '\x1b]0;pwned\x07\x1b[31m' left", to_err=True)
    assert capsys.readouterr().err == "error: party '\\x1b]0;pwned\\x07\\x1b[31m' left\n"


@pytest.mark.parametrize("where", [".env", "environment, in lower case"])
def test_templates_set_in_any_way_the_settings_read_are_still_checked(tmp_path, where):
    """`plan check` leaves the settings unloaded only when nothing can set AVTALEFLYT_TEMPLATE_DIR:
    one given in a `.env` file, or in any case in the environment, is checked as before."""
    folder = tmp_path / "templates-local"
    folder.mkdir()
    (folder / "_signature.nb.txt").write_text("Med vennlig hilsen\n{{ revision.titel }}\n", encoding="utf-8")
    if where == ".env":
        (tmp_path / ".env").write_text(f"AVTALEFLYT_TEMPLATE_DIR={folder}\n", encoding="utf-8")
        status, seen, output = check_fresh(tmp_path)
    else:
        status, seen, output = check_fresh(tmp_path, avtaleflyt_template_dir=str(folder))
    assert status == 2, output
    assert f"error: {folder}/_signature.nb.txt:2: 'revision.titel' is undefined" in output
    assert "avtaleflyt.settings" in seen["modules"]


def test_a_starts_first_pass_reads_the_documents_and_links_once_not_per_party(tmp_path):
    """`revision start` composes its first letters in the storing transaction (tasks/reconcile.py): the
    documents, their versions and the parties' links are read once for the letters (links.batch), and the
    letters go in one `INSERT … ON CONFLICT`: 3 statements more per party (18 before; bench_start.py)."""
    import datetime as dt

    from sqlalchemy import event

    from avtaleflyt.db import engine_for, session_scope
    from avtaleflyt.models.plan import parse_plan
    from avtaleflyt.models.tables import OutboxMessage
    from avtaleflyt.tasks.reconcile import reconcile_revision
    from avtaleflyt.tasks.store import store_revision
    from sqlmodel import func, select

    from .plans import treatment_plan

    engine = engine_for(f"sqlite:///{tmp_path / 'start.db'}")
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *rest: statements.append(statement))
    counts = {}
    for i, parties in ((1, 10), (2, 30)):
        source = treatment_plan(i, parties)
        with session_scope(engine) as s:
            store_revision(s, parse_plan(source), source, "tester")
            s.flush()
            statements.clear()
            reconcile_revision(s, f"revisjon-{i:03d}", today=dt.date(2025, 1, 6))
            counts[parties] = len(statements)
        with session_scope(engine) as s:
            assert s.exec(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.key.startswith(f"revisjon-{i:03d}/"))).one() == parties
    assert (counts[30] - counts[10]) / 20 <= 3, counts


# A revision's flow-run process on SQLite (bench/README.md, bench_resume.py): Prefect starts one for every
# pass of every revision (~190 in `make test`), and what the flow's module loads is paid by each.
FLOW_RUN = """
import gc, json, sys
import prefect.engine, prefect.flow_engine  # what `python -m prefect.engine` has loaded before the flow's module
import avtaleflyt.flows.revision
print("\\n@@" + json.dumps({"modules": sorted(sys.modules), "frozen": gc.get_freeze_count()}))
"""


def flow_module_fresh(**env: str) -> dict:
    inherited = {k: v for k, v in os.environ.items() if k != "PREFECT__FLOW_RUN_ID"}
    done = subprocess.run([sys.executable, "-c", FLOW_RUN], capture_output=True, text=True, timeout=300, check=False, env={**inherited, **env})
    assert "\n@@" in done.stdout, done.stdout + done.stderr
    return json.loads(done.stdout.rpartition("\n@@")[2])


def test_a_revision_run_process_loads_jinja2_only_to_compose_a_letter():
    """A pass that composes no letter (a decision recorded: its receipt was composed by the command) loads
    neither Jinja2 nor the templates' module; tasks/letter_parts.py imports them where it renders."""
    modules = set(flow_module_fresh()["modules"])
    assert "avtaleflyt.tasks.letter_parts" in modules  # the chain that once brought them
    assert sorted(m for m in modules if m.split(".")[0] in ("jinja2", "markupsafe") or m == "avtaleflyt.tasks.letters") == []


def test_a_revision_run_process_leaves_what_prefect_loaded_out_of_the_collectors_passes():
    """In a flow-run process, what Prefect imported before the flow's module (~110,000 objects) is frozen
    (flows/revision.py): the collector's full passes while our modules load, the pass runs and the process
    exits no longer walk it. Only there: a test's or the serve process's heap is left as it is."""
    assert flow_module_fresh(PREFECT__FLOW_RUN_ID="00000000-0000-0000-0000-000000000000")["frozen"] > 50_000
    assert flow_module_fresh()["frozen"] == 0
