"""The installed `formsync` command on the Google backend: real clients, real HTTP, the loopback
emulator in this test process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from formsync.demo import seed_google_demo
from formsync.emulator import Emulator

FORMSYNC = str(Path(sys.executable).parent / "formsync")
TERM_DAY = "2020-11-15T09:30:00-06:00"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FORMSYNC_", "GOOGLE_")) and "PROXY" not in k.upper()}
    return subprocess.run([FORMSYNC, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env, check=False)


@pytest.fixture
def group(tmp_path: Path) -> Iterator[tuple[Emulator, Path]]:
    with Emulator() as emulator:
        seed_google_demo(tmp_path, emulator)
        yield emulator, tmp_path


def test_sync_then_resync_makes_no_writes(group: tuple[Emulator, Path]) -> None:
    emulator, folder = group
    first = run("sync", "--now", TERM_DAY, cwd=folder)
    assert first.returncode == 1, first.stderr  # the sample's three broken rows
    assert "responses, row 31: response skipped" in first.stdout
    assert "Traceback" not in first.stdout + first.stderr
    members = emulator.sheets.values("demo-master", "Members")
    assert len(members) == 31  # header + 30 people, duplicates merged
    row = next(i for i, r in enumerate(members, start=1) if r[0] == "hacker@example.net")
    stored = emulator.sheets.cell("demo-master", "Members", f"B{row}")
    assert isinstance(stored, str) and stored.startswith("=HYPERLINK")  # RAW text, no formula
    problems = emulator.sheets.values("demo-master", "Problems")
    assert [row[:2] for row in problems[1:] if row[0] == "responses"] == [
        ["responses", "31"], ["responses", "32"], ["responses", "37"]]
    homework = emulator.sheets.values("demo-master", "Homework")
    assert homework[:2] == [["Email", "Name", "Sesión 1", "Sesión 3", "Sesión 4", "Total"],
                            ["Total", "", "7", "3", "0", "10"]]
    assert [row[:2] for row in problems[1:] if row[0] == "submissions"] == [
        ["submissions", "10"], ["submissions", "13"], ["submissions", "15"]]
    before = emulator.counts()
    second = run("sync", "--now", TERM_DAY, cwd=folder)
    calls = emulator.counts() - before
    assert "Nothing to do" in second.stdout, second.stdout + second.stderr
    # The broken rows are listed in Problems since the first run: the second one passes.
    assert second.returncode == 0 and "8 known problems: see Problems" in second.stdout
    # A no-op run: one values.batchGet per spreadsheet (registrations, homework, master), one
    # events.list, no Gmail call, and one token exchange for the run's one credential.
    assert dict(calls.by_name) == {"sheets.values.batchGet": 3, "calendar.events.list": 1,
                                   "oauth.token": 1}


def test_dry_run_on_google_writes_nothing(group: tuple[Emulator, Path]) -> None:
    emulator, folder = group
    before = emulator.counts()
    result = run("sync", "--dry-run", "--now", TERM_DAY, cwd=folder)
    assert "would add member ana.garcia@example.org" in result.stdout, result.stderr
    assert "would create event Sesión 3" in result.stdout
    assert (emulator.counts() - before).writes == 0


def test_doctor_passes_and_names_a_wrong_spreadsheet(group: tuple[Emulator, Path]) -> None:
    _, folder = group
    healthy = run("doctor", cwd=folder)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "all checks passed" in healthy.stdout
    config = folder / "formsync.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        '"demo-master"', '"no-such-sheet"'), encoding="utf-8")
    broken = run("doctor", cwd=folder)
    assert broken.returncode == 1
    assert "FAIL master spreadsheet" in broken.stdout
    assert "no-such-sheet" in broken.stdout and "fix:" in broken.stdout
    token = (folder / "emulator-token.json").read_text(encoding="utf-8")
    assert "refresh_token" in token
    secret = token.split('"refresh_token": "')[1].split('"')[0]
    assert secret not in broken.stdout + broken.stderr
