"""The core loads no adapter: planning is pure, so it must not even import I/O code.

Two checks: a run of `plan()` on a realistic snapshot (every step with work to do) in a fresh
interpreter imports no adapter module and none of the libraries they need; and, statically, no
core module imports an adapter at module level (an import inside a function body is how the
core hands work to an adapter without loading it).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "formsync"

CORE = ("actions", "model", "config", "columns", "dates", "tables", "errors", "members",
        "sessions", "readme", "markdown", "plan", "step", "registry", "ports", "problems",
        "calendar.event", "calendar.plan", "calendar.step", "reminders.plan",
        "reminders.ledger", "reminders.step")
ADAPTERS = ("formsync.local", "formsync.google", "formsync.emulator", "formsync.calendar.ics",
            "formsync.calendar.google", "formsync.reminders.transports",
            "formsync.reminders.send", "formsync.reminders.compose",
            "formsync.reminders.delivery", "formsync.doctor",
            "formsync.demo", "formsync.workspace", "formsync.sync", "formsync.cli")
LIBRARIES = ("smtplib", "jinja2", "icalendar", "gspread", "googleapiclient", "google",
             "requests", "pandas", "babel")

PLAN_A_TERM = """
import datetime as dt, sys, tempfile
from pathlib import Path
from formsync.config import parse_config
from formsync.model import MEMBER_HEADER, SESSION_HEADER, REMINDER_HEADER, Snapshot, Table
from formsync.plan import plan

root = Path(tempfile.mkdtemp())
(root / "README.md").write_text("# Group\\n", encoding="utf-8")
config = parse_config({"group": {"organizers": ["org@example.org"]},
                       "calendar": {"enabled": True}, "reminders": {"enabled": True}}, root)
members = Table("Members", MEMBER_HEADER, (
    ("ana@example.org", "Ana", "2020-10-01T10:00:00+00:00", "", "active", "", "es", ""),))
sessions = Table("Sessions", SESSION_HEADER, (
    ("1", "Intro", "Ana", "read", "ex 1", "2020-10-20", "17:00", "19:00"),
    ("2", "Next", "", "read", "ex 2", "2020-11-03", "17:00", "19:00"),
    ("3", "Later", "", "", "", "", "", "")))
responses = Table("responses", ("Timestamp", "Email", "Name"),
                  (("1/10/2020 9:00:00", "bo@example.org", "Bo"),))
snapshot = Snapshot(responses=responses, members=members, sessions=sessions,
                    reminders=Table("Reminders", REMINDER_HEADER), readme_text="# Group\\n")
result = plan(snapshot, config, dt.datetime(2020, 10, 18, 15, tzinfo=dt.UTC))
assert result.sheet_edits and result.calendar and result.reminders, result.describe()
print(sorted(sys.modules))
"""


def test_planning_a_term_imports_no_adapter_and_no_io_library() -> None:
    result = subprocess.run([sys.executable, "-c", PLAN_A_TERM], capture_output=True,
                            text=True, check=True)
    loaded = eval(result.stdout)  # noqa: S307  # our own subprocess printing a list of names
    adapters = [m for m in loaded if m.startswith(ADAPTERS)]
    libraries = [m for m in loaded if m.split(".")[0] in LIBRARIES]
    assert adapters == [] and libraries == [], (adapters, libraries)
    assert "formsync.calendar.plan" in loaded and "formsync.reminders.plan" in loaded


def module_level_imports(module: str) -> set[str]:
    path = SRC.joinpath(*module.split("."))
    source = (path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text()
    found = set()
    for node in ast.parse(source).body:  # module level only: not inside functions
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_no_core_module_imports_an_adapter_at_module_level() -> None:
    offending = {module: sorted(name for name in module_level_imports(module)
                                if name.startswith(ADAPTERS)
                                or name.split(".")[0] in LIBRARIES)
                 for module in CORE}
    assert {m: names for m, names in offending.items() if names} == {}


def test_the_import_graph_check_is_not_vacuous() -> None:
    assert "formsync.reminders.ledger" in module_level_imports("reminders.plan")
    assert "smtplib" in module_level_imports("reminders.transports")
    assert "formsync.ports" in module_level_imports("sync")
