"""The Problems sheet (issue 12 §2): problems listed with place, fix and first seen; a run exits 1
only for a failed action or a new error; organizers get each new problem once, in a digest."""

from __future__ import annotations

import csv
import datetime as dt
import email.policy
import os
import shutil
import subprocess
import sys
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from formsync.backends import build_places
from formsync.config import Config, parse_config
from formsync.model import PROBLEM_HEADER, PROBLEMS, Problem, Table
from formsync.problems import Listed, due_digests, list_problems, problem_key, read_listed
from formsync.reminders.plan import Person
from formsync.report import render_report
from formsync.sync import Report, enabled_steps, run_sync

UTC = dt.UTC
NOW = dt.datetime(2020, 10, 5, 12, 0, tzinfo=UTC)
LATER = NOW + dt.timedelta(hours=1)
FORMSYNC = shutil.which("formsync", path=str(Path(sys.executable).parent)) or "formsync"
HEADER = "Timestamp,Email Address,Name\n"
GOOD = "10/2/2020 14:03:22,ok@example.org,Ok\n"
BROKEN = "10/3/2020 14:03:22,broken,Bad\n"
ORGANIZER = "org@example.org"


def problem(message: str, *, row: int | None = 3, step: str = "members",
            severity: str = "error") -> Problem:
    return Problem(step, message, sheet="responses", row=row, fix="correct the cell",
                   severity=severity)


def listed_table(*problems: Problem, ignored: tuple[int, ...] = ()) -> Table:
    """The Problems sheet as a run listing `problems` (in order) leaves it."""
    listing = list_problems(problems, (), None, ran={"members"}, now=NOW, tz=UTC)
    assert listing.edit is not None
    rows: dict[int, dict[str, str]] = {}
    for write in listing.edit.writes:
        rows.setdefault(write.row, {})[write.column] = write.value
    lines = [tuple(rows[r].get(name, "") for name in PROBLEM_HEADER) for r in sorted(rows)]
    ticked = PROBLEM_HEADER.index("Ignore")
    lines = [(*line[:ticked], "TRUE", *line[ticked + 1:]) if i in ignored else line
             for i, line in enumerate(lines)]
    return Table(PROBLEMS, PROBLEM_HEADER, tuple(lines))


# ---------------------------------------------------------------------------------------------
# Pure: identity, the sheet edit, the digests


def test_identity_is_the_place_and_the_message_without_its_numbers() -> None:
    first = problem("3 reminders wait for a later run")
    assert problem_key(first) == problem_key(problem("12 reminders wait for a later run"))
    assert problem_key(first) != problem_key(problem("3 reminders wait for a later run", row=4))
    assert problem_key(first) != problem_key(problem("3 reminders were refused"))
    assert problem_key(first) != problem_key(problem("3 reminders wait for a later run",
                                                     step="sessions"))


def test_a_first_listing_writes_the_header_and_one_row_per_problem() -> None:
    broken = problem("response skipped: 'broken' is not a valid email address")
    listing = list_problems([broken, broken], [], None, ran={"members"}, now=NOW, tz=UTC)
    assert listing.new == (broken,) and listing.known == ()
    assert listing.edit is not None and listing.edit.add_header
    assert {w.row for w in listing.edit.writes} == {2}
    [entry] = read_listed(listed_table(broken))
    assert entry == Listed(2, problem_key(broken), broken, "2020-10-05 12:00:00", False)


def test_known_and_ignored_problems_write_nothing() -> None:
    known, quiet = problem("known"), problem("quiet", row=4)
    table = listed_table(known, quiet, ignored=(1,))
    listing = list_problems([known, quiet], [], table, ran={"members"}, now=LATER, tz=UTC)
    assert listing.new == () and listing.known == (known,) and listing.ignored == (quiet,)
    assert listing.edit is None


def test_a_solved_problem_is_cleared_and_a_new_one_takes_the_first_blank_row() -> None:
    first, second, third = problem("a", row=3), problem("b", row=4), problem("c", row=5)
    table = listed_table(first, second, third)
    listing = list_problems([second, third], [], table, ran={"members"}, now=LATER, tz=UTC)
    assert listing.solved == (first,) and listing.edit is not None
    cleared = {w.row for w in listing.edit.writes}
    assert cleared == {2} and all(w.value == "" for w in listing.edit.writes)
    fresh = problem("d", row=9)
    listing = list_problems([first, second, third, fresh], [], table, ran={"members"},
                            now=LATER, tz=UTC)
    assert listing.new == (fresh,) and listing.edit is not None
    assert {w.row for w in listing.edit.writes} == {5}  # after the last row read
    again = list_problems([third, fresh], [], table, ran={"members"}, now=LATER, tz=UTC)
    assert again.edit is not None  # rows 2 and 3 are solved; the new problem takes row 2
    values = {(w.row, w.column): w.value for w in again.edit.writes}
    assert values[(2, "Key")] == problem_key(fresh) and values[(3, "Key")] == ""
    assert values[(2, "Ignore")] == "" and values[(2, "First seen")] == "2020-10-05 13:00:00"


def test_rows_of_steps_that_did_not_run_are_left_alone() -> None:
    table = listed_table(problem("a"))
    listing = list_problems([], [], table, ran={"sessions"}, now=LATER, tz=UTC)
    assert listing.solved == () and listing.edit is None


def test_failed_actions_are_listed_after_the_rows_problems() -> None:
    failed = Problem("calendar", "could not create event 1: HTTP 503", severity="error")
    bad = problem("z")
    listing = list_problems([bad], [failed], None, ran={"members", "calendar"}, now=NOW,
                            tz=UTC)
    assert listing.edit is not None
    keys = {w.row: w.value for w in listing.edit.writes if w.column == "Key"}
    assert keys == {2: problem_key(bad), 3: problem_key(failed)}


def test_digests_are_planned_per_first_seen_and_organizer_until_the_ledger_has_them() -> None:
    table = listed_table(problem("a"), problem("b", row=4), problem("c", row=5, severity="warning"),
                         ignored=(1,))
    people = [Person(ORGANIZER, "Org", "en")]
    [digest] = due_digests(table, None, people, LATER, UTC)
    assert digest.problems == (problem("a"),)  # not the ignored error, nor the warning
    assert digest.reminder.session == "2020-10-05 12:00:00"
    assert digest.reminder.recipient == ORGANIZER
    ledger = Table("Reminders", ("Kind", "Session", "Recipient", "Status"),
                   (("problems", "2020-10-05 12:00:00", ORGANIZER, "sent"),))
    assert due_digests(table, ledger, people, LATER, UTC) == []
    assert due_digests(table, None, people, NOW + dt.timedelta(days=2), UTC) == []
    failed = {problem_key(problem("a"))}
    assert due_digests(table, None, people, LATER, UTC, failed=failed) == []


def test_the_exit_code_counts_failed_actions_and_new_errors_only() -> None:
    from formsync.actions import Plan
    from formsync.problems import Listing

    error, warning = problem("bad"), problem("odd", severity="warning")
    assert Report(Plan(), True, listing=Listing(new=(error,))).exit_code == 1
    assert Report(Plan(), True, listing=Listing(new=(warning,), known=(error,))).exit_code == 0
    assert Report(Plan(), True, listing=Listing(ignored=(error,))).exit_code == 0
    assert Report(Plan(), True, failures=[error], listing=Listing(known=(error,))).exit_code == 1


# ---------------------------------------------------------------------------------------------
# Whole runs on a local workspace


def workspace(root: Path, responses: str) -> Config:
    (root / "responses.csv").write_text(HEADER + responses, encoding="utf-8")
    return parse_config({"group": {"organizers": [ORGANIZER], "timezone": "UTC"},
                         "readme": {"enabled": False}, "calendar": {"enabled": False}}, root)


def sync(config: Config, now: dt.datetime, *, dry_run: bool = False) -> Report:
    steps = enabled_steps(config, None)
    return run_sync(config, build_places(config, steps), now, steps=steps, dry_run=dry_run)


def problem_rows(root: Path) -> list[dict[str, str]]:
    with (root / "Problems.csv").open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if any(row.values())]


def digests(root: Path) -> list[EmailMessage]:
    parser = BytesParser(policy=email.policy.default)
    return [parser.parsebytes(path.read_bytes())
            for path in sorted((root / "outbox").glob("problems__*.eml"))]


def test_a_bad_row_fails_the_first_run_only_and_is_listed(tmp_path: Path) -> None:
    config = workspace(tmp_path, GOOD + BROKEN)
    first = sync(config, NOW)
    assert first.exit_code == 1
    [row] = problem_rows(tmp_path)
    assert (row["Sheet"], row["Row"], row["Column"]) == ("responses", "3", "")
    assert row["Problem"] == "response skipped: 'broken' is not a valid email address"
    assert row["Fix"] == "correct the cell in the responses sheet"
    assert row["First seen"] == "2020-10-05 12:00:00" and row["Severity"] == "error"
    assert "Problems sheet: list 1 new" in render_report(first, verbose=False)

    listed = (tmp_path / "Problems.csv").stat().st_mtime_ns
    second = sync(config, LATER)
    assert second.exit_code == 0 and second.listing.edit is None
    assert (tmp_path / "Problems.csv").stat().st_mtime_ns == listed  # not rewritten
    text = render_report(second, verbose=False)
    assert "1 known problem: see Problems" in text and "broken" not in text
    assert "Nothing to do" in text


def test_ignore_keeps_a_problem_quiet_and_fixing_the_row_removes_it(tmp_path: Path) -> None:
    config = workspace(tmp_path, GOOD + BROKEN)
    sync(config, NOW)
    path = tmp_path / "Problems.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",error,2020-10-05 12:00:00,,",
                                                             ",error,2020-10-05 12:00:00,x,"),
                    encoding="utf-8")
    quiet = sync(config, LATER)
    assert quiet.exit_code == 0 and len(quiet.listing.ignored) == 1
    assert "1 known problem: see Problems (1 ignored)" in render_report(quiet, verbose=False)

    (tmp_path / "responses.csv").write_text(HEADER + GOOD + BROKEN.replace("broken",
                                                                           "bad@example.org"),
                                            encoding="utf-8")
    fixed = sync(config, LATER)
    assert fixed.exit_code == 0 and len(fixed.listing.solved) == 1
    assert problem_rows(tmp_path) == []


def test_a_new_problem_fails_the_run_again_and_each_is_mailed_once(tmp_path: Path) -> None:
    config = workspace(tmp_path, GOOD + BROKEN)
    sync(config, NOW)
    [first] = digests(tmp_path)
    assert first["To"] == ORGANIZER and "1 problema nuevo" in first["Subject"]
    body = first.get_body(("plain",))
    assert body is not None and "responses, row 3: response skipped" in body.get_content()
    sync(config, LATER)
    assert len(digests(tmp_path)) == 1  # known: not mailed again

    (tmp_path / "responses.csv").write_text(HEADER + GOOD + BROKEN + "10/4/2020 9:00:00,,X\n",
                                            encoding="utf-8")
    later = LATER + dt.timedelta(hours=1)
    worse = sync(config, later)
    assert worse.exit_code == 1 and [p.row for p in worse.listing.new] == [4]
    assert len(problem_rows(tmp_path)) == 2
    second = digests(tmp_path)[1]
    body = second.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    assert "row 4" in text and "row 3" not in text
    assert sync(config, later + dt.timedelta(hours=1)).exit_code == 0
    assert len(digests(tmp_path)) == 2


def test_a_dry_run_compares_but_writes_and_sends_nothing(tmp_path: Path) -> None:
    config = workspace(tmp_path, GOOD + BROKEN)
    report = sync(config, NOW, dry_run=True)
    assert report.exit_code == 1 and len(report.listing.new) == 1
    assert not (tmp_path / "Problems.csv").exists() and not (tmp_path / "outbox").exists()
    text = render_report(report, verbose=False)
    assert "Problems sheet: would list 1 new" in text
    assert "would send digest of new problems first seen 2020-10-05 12:00:00" in text


# ---------------------------------------------------------------------------------------------
# The command, as cron or a GitHub Action runs it


def run(*args: str, cwd: Path, summary: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FORMSYNC_", "GITHUB_"))}
    if summary is not None:
        env["GITHUB_STEP_SUMMARY"] = str(summary)
    return subprocess.run([FORMSYNC, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env, check=False)


def test_the_command_exits_1_then_0_and_writes_the_job_summary(tmp_path: Path) -> None:
    assert run("init", str(tmp_path), cwd=tmp_path).returncode == 0
    (tmp_path / "responses.csv").write_text(HEADER + GOOD + BROKEN, encoding="utf-8")
    summary = tmp_path / "summary.md"
    first = run("sync", "--only", "members", cwd=tmp_path, summary=summary)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "ERROR [members] responses, row 3: response skipped" in first.stdout
    markdown = summary.read_text(encoding="utf-8")
    assert markdown.startswith("## formsync sync\n")
    assert "| | Place | What is wrong | Fix |" in markdown
    assert ("| new error | responses, row 3 | response skipped: 'broken' is not a valid email "
            "address | correct the cell in the responses sheet |") in markdown

    second = run("sync", "--only", "members", cwd=tmp_path, summary=summary)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "1 known problem: see Problems" in second.stdout
    assert "ERROR" not in second.stdout
    assert summary.read_text(encoding="utf-8").count("## formsync sync") == 2  # appended
    assert "| known error | responses, row 3 |" in summary.read_text(encoding="utf-8")


@pytest.mark.parametrize("ticked", ["TRUE", "x", "sí"])
def test_any_mark_in_ignore_counts_but_false_does_not(ticked: str) -> None:
    bad = problem("a")
    table = listed_table(bad)
    at = PROBLEM_HEADER.index("Ignore")
    marked = Table(PROBLEMS, table.header, tuple((*line[:at], ticked, *line[at + 1:])
                                                 for line in table.rows))
    assert read_listed(marked)[0].ignored
    unmarked = Table(PROBLEMS, table.header, tuple((*line[:at], "FALSE", *line[at + 1:])
                                                   for line in table.rows))
    assert not read_listed(unmarked)[0].ignored
