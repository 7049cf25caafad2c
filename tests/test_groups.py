"""Many groups from one repository (issue 15 §2): discovery as a matrix, the files each group
commits, the Sheets quota arithmetic, and three groups synced as the matrix runs them, against
the loopback emulator, each keeping its own sheets, README and calendar events."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import cast

import pytest

from formsync.config import load_config
from formsync.emulator import Emulator
from formsync.emulator.calendar import CalendarApi
from formsync.emulator.testing import make_authorized_user
from formsync.errors import ConfigError
from formsync.google.auth import GMAIL_COMPOSE, SCOPE_CALENDAR, SCOPE_SHEETS
from formsync.groups import (
    SHEETS_REQUESTS_BUSIEST_RUN,
    SHEETS_REQUESTS_QUIET_RUN,
    QuotaPlan,
    commit_paths,
    find_groups,
    matrix,
    quota_table,
)
from formsync.readme import import_table

FORMSYNC = str(Path(sys.executable).parent / "formsync")
TERM_DAY = "2020-11-15T09:30:00-06:00"
GROUPS = ("d2l-es", "rust", "sicp")


def run(*args: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FORMSYNC_", "GOOGLE_", "GITHUB_")) and "PROXY" not in k.upper()}
    return subprocess.run([FORMSYNC, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**env, **extra}, check=False)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- discovery


def test_discovery_lists_each_groups_config_and_files(tmp_path: Path) -> None:
    _write(tmp_path / "groups/sicp/formsync.toml", "")
    _write(tmp_path / "groups/d2l-es/formsync.toml",
           '[readme]\npath = "docs/README.md"\n[calendar]\nics_path = "site/cal.ics"\n')
    _write(tmp_path / "groups/no-config/README.md", "")
    _write(tmp_path / "formsync.toml", "")  # the root config is not a group
    entries = find_groups(tmp_path)
    assert [e.as_json() for e in entries] == [
        {"group": "d2l-es", "config": "groups/d2l-es/formsync.toml",
         "commit": "groups/d2l-es/docs/README.md groups/d2l-es/docs/.formsync/readme-table.md "
                   "groups/d2l-es/site/cal.ics"},
        {"group": "sicp", "config": "groups/sicp/formsync.toml",
         "commit": "groups/sicp/README.md groups/sicp/.formsync/readme-table.md "
                   "groups/sicp/calendar.ics"}]
    assert json.loads(matrix(entries)) == {"include": [e.as_json() for e in entries]}
    result = run("groups", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(matrix(entries))


def test_commit_paths_follow_the_config(tmp_path: Path) -> None:
    _write(tmp_path / "formsync.toml", "[calendar]\nenabled = false\n")
    assert commit_paths(load_config(tmp_path / "formsync.toml"), relative_to=tmp_path) == [
        "README.md", ".formsync/readme-table.md"]
    result = run("commit-paths", cwd=tmp_path)
    assert result.stdout.splitlines() == ["README.md", ".formsync/readme-table.md"]


def test_a_broken_group_config_stops_discovery_with_its_fix(tmp_path: Path) -> None:
    _write(tmp_path / "groups/a/formsync.toml", '[group]\ntimezone = "Mars/Olympus"\n')
    with pytest.raises(ConfigError):
        find_groups(tmp_path)
    result = run("groups", "--json", cwd=tmp_path)
    assert result.returncode == 2 and "group.timezone" in result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- quota arithmetic


@pytest.mark.parametrize(("groups", "shared", "parallel", "minutes"), [
    (3, True, 2, 2), (10, True, 2, 5), (100, True, 2, 50),
    (10, False, 10, 1), (100, False, 13, 8), (1, True, 1, 1), (0, True, 1, 0)])
def test_max_parallel_keeps_within_the_sheets_quota(groups: int, shared: bool, parallel: int,
                                                    minutes: int) -> None:
    plan = QuotaPlan(groups, shared_credentials=shared)
    assert plan.max_parallel == parallel
    assert plan.peak_per_minute <= plan.limit_per_minute
    assert plan.minutes == minutes
    assert plan.requests_per_schedule == groups * SHEETS_REQUESTS_BUSIEST_RUN


def test_the_docs_show_the_quota_table_that_formsync_computes() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "groups.md").read_text(
        encoding="utf-8")
    for line in quota_table():
        assert line in docs, line


def test_groups_prints_the_arithmetic(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        _write(tmp_path / f"groups/{name}/formsync.toml", "")
    printed = run("groups", cwd=tmp_path).stdout
    assert f"3 group(s) x {SHEETS_REQUESTS_BUSIEST_RUN} Sheets requests per run" in printed
    assert "max-parallel 2" in printed
    assert run("groups", "--max-parallel", "--credentials", "per-group",
               cwd=tmp_path).stdout.strip() == "3"


# ---------------------------------------------------------------- three groups, one emulator


def _seed_group(root: Path, emulator: Emulator, name: str) -> None:
    """The sample group under groups/NAME, with its own spreadsheets and chapter titles."""
    data = resources.files("formsync").joinpath("data")
    sessions = import_table(data.joinpath("README.md").read_text(encoding="utf-8"))
    rows = [[row[0], f"{name}: {row[1]}", *row[2:]] for row in sessions.rows]
    responses = list(csv.reader(io.StringIO(
        data.joinpath("responses.csv").read_text(encoding="utf-8"), newline="")))
    emulator.sheets.create_spreadsheet(f"{name}-form", {"Respuestas de formulario 1": responses})
    emulator.sheets.create_spreadsheet(f"{name}-master",
                                       {"Sessions": [list(sessions.header), *rows]})
    token = make_authorized_user(emulator, user_email="organizer@example.org",
                                 scopes=(SCOPE_SHEETS, SCOPE_CALENDAR, GMAIL_COMPOSE))
    folder = root / "groups" / name
    _write(folder / "emulator-token.json", json.dumps(token))
    _write(folder / "README.md", f"# {name}\n\n<!-- formsync:calendar:start -->\n"
                                 "<!-- formsync:calendar:end -->\n")
    base = emulator.base_url
    config = f"""\
[group]
name = "Group {name}"
timezone = "America/Mexico_City"
language = "es"
cadence_days = 14
session_minutes = 150
organizers = ["organizer@example.org"]

[backend]
kind = "google"

[google]
responses_spreadsheet = "{name}-form"
responses_worksheet = "Respuestas de formulario 1"
master_spreadsheet = "{name}-master"
oauth_token_file = "emulator-token.json"
token_uri = "{base}/token"
sheets_base_url = "{base}"
calendar_base_url = "{base}"
gmail_base_url = "{base}"

[reminders]
transport = "gmail"
from_address = "Group {name} <organizer@example.org>"
"""
    _write(folder / "formsync.toml", config)


@pytest.fixture
def repository(tmp_path: Path) -> Iterator[tuple[Emulator, Path]]:
    with Emulator() as emulator:
        for name in GROUPS:
            _seed_group(tmp_path, emulator, name)
        yield emulator, tmp_path


def test_three_groups_as_the_matrix_runs_them_each_keep_their_own(
        repository: tuple[Emulator, Path]) -> None:
    emulator, root = repository
    listed = run("groups", "--json", cwd=root)
    assert listed.returncode == 0, listed.stderr
    entries = json.loads(listed.stdout)["include"]
    assert [e["group"] for e in entries] == list(GROUPS)

    parallel = int(run("groups", "--max-parallel", cwd=root).stdout)
    assert parallel == 2

    def job(entry: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """One matrix job, from the repository root, with its own step outputs."""
        return run("--config", entry["config"], "sync", "--now", TERM_DAY, cwd=root,
                   GITHUB_OUTPUT=str(root / f"output-{entry['group']}"))

    before = emulator.counts()
    with ThreadPoolExecutor(max_workers=parallel) as pool:  # the matrix's max-parallel
        results = list(pool.map(job, entries))
    for entry, first in zip(entries, results, strict=True):
        assert first.returncode == 1, first.stdout + first.stderr  # the sample's broken rows
        assert "Traceback" not in first.stderr, first.stdout + first.stderr
        output = (root / f"output-{entry['group']}").read_text(encoding="utf-8")
        outputs = dict(line.split("=", 1) for line in output.splitlines())
        assert outputs["changed"] == "true" and int(outputs["problems"]) > 0
    sheets = sum((emulator.counts() - before).of("sheets").by_name.values())
    assert sheets <= len(GROUPS) * SHEETS_REQUESTS_BUSIEST_RUN

    for name in GROUPS:
        others = [g for g in GROUPS if g != name]
        members = emulator.sheets.values(f"{name}-master", "Members")
        assert len(members) == 31
        sessions = emulator.sheets.values(f"{name}-master", "Sessions")
        assert all(row[1].startswith(f"{name}: ") for row in sessions[1:] if row[1])
        readme = (root / "groups" / name / "README.md").read_text(encoding="utf-8")
        assert f"{name}: Linear Neural Networks" in readme
        assert not any(f"{other}: " in readme for other in others)
        ics = (root / "groups" / name / "calendar.ics").read_text(encoding="utf-8")
        assert f"Group {name}" in ics and not any(f"Group {o}" in ics for o in others)
        paths = commit_paths(load_config(root / "groups" / name / "formsync.toml"),
                             relative_to=root)
        assert all(path.startswith(f"groups/{name}/") for path in paths)

    # One organizer's calendar holds all three groups' events; each group finds only its own.
    calendar = cast("CalendarApi", emulator.apis["calendar"])
    events = calendar.events("organizer@example.org", show_deleted=False)
    by_group = {name: [e for e in events if e["summary"].endswith(f"· Group {name}")]
                for name in GROUPS}
    assert all(by_group.values()) and sum(map(len, by_group.values())) == len(events)
    assert len({len(v) for v in by_group.values()}) == 1

    for entry in entries:  # the next scheduled run: nothing to do, the quiet Sheets cost
        before = emulator.counts()
        again = run("--config", entry["config"], "sync", "--now", TERM_DAY, cwd=root)
        assert "Nothing to do" in again.stdout, again.stdout + again.stderr
        calls = emulator.counts() - before
        # These groups have no homework form: one spreadsheet fewer to read.
        assert sum(calls.of("sheets").by_name.values()) == SHEETS_REQUESTS_QUIET_RUN - 1
        assert calls.writes == 0


def test_a_path_with_a_space_is_refused_with_its_name(tmp_path: Path) -> None:
    _write(tmp_path / "groups/my group/formsync.toml", "")
    with pytest.raises(ConfigError, match=r"'groups/my group/README\.md' has a space"):
        find_groups(tmp_path)
