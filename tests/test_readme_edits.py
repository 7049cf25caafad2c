"""Hand edits of the README table reach Sessions, and are never silently lost (issue 12 §1).

Real local runs: a workspace made by `formsync init` and `import-readme` from the study group's
README, synced with `run_sync` on the local backend (and once with the installed command, for
--dry-run). The README is then edited as an organizer would on GitHub.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formsync.actions import CellWrite, ReadmeChange
from formsync.config import load_config, parse_config
from formsync.local.sheets import LocalSheets
from formsync.markdown import render_cell, split_row, unescape_cell
from formsync.model import SESSION_HEADER, SESSIONS, Snapshot, Table
from formsync.ports import Places
from formsync.readme import SYNC_STEP, RecordChange, block_text, migrate, recorded_digest
from formsync.readme_edits import RECORD
from formsync.step import PlanContext
from formsync.sync import Report, run_sync
from formsync.workspace import import_readme_into_sessions, init_workspace

SEED = Path(__file__).parent / "data" / "study-group-README.md"
NOW = dt.datetime(2020, 11, 5, 15, 0, tzinfo=dt.UTC)
STEPS = ["sessions", "readme"]
FORMSYNC = shutil.which("formsync", path=str(Path(sys.executable).parent)) or "formsync"
SESSION_5 = "Session 5 - Deep Learning Computation"


# ---- a workspace and an organizer's hands ------------------------------------------------------

def workspace(folder: Path) -> Path:
    """`formsync init`, the group's README, `import-readme`: an upgraded group's first state."""
    init_workspace(folder)
    shutil.copyfile(SEED, folder / "README.md")
    config = load_config(folder / "formsync.toml")
    import_readme_into_sessions(config, LocalSheets(folder), None)
    return folder


def sync(folder: Path) -> tuple[Report, LocalSheets]:
    sheets = LocalSheets(folder)
    report = run_sync(load_config(folder / "formsync.toml"), Places(sheets), NOW, steps=STEPS)
    return report, sheets


@pytest.fixture
def synced(tmp_path: Path) -> Path:
    """A workspace after its first sync: the README has its markers, digest and record."""
    folder = workspace(tmp_path)
    report, _ = sync(folder)
    assert not readme_problems(report)
    assert (folder / RECORD).exists()
    return folder


def readme_problems(report: Report) -> list[str]:
    return [str(problem) for problem in report.problems if problem.step == "readme"]


def readme_of(folder: Path) -> str:
    return (folder / "README.md").read_text(encoding="utf-8")


def cell(folder: Path, chapter: str, label: str) -> str:
    """The Markdown of one README cell: the row whose chapter starts with `chapter`."""
    header, row = _row(readme_of(folder).splitlines(), chapter)
    return split_row(row)[header.index(label)]


def type_into_readme(folder: Path, chapter: str, label: str, markdown: str) -> None:
    """Replace one cell, as the GitHub editor would (no padding kept)."""
    lines = readme_of(folder).split("\n")
    header, row = _row(lines, chapter)
    cells = split_row(row)
    cells[header.index(label)] = markdown
    lines[lines.index(row)] = "| " + " | ".join(cells) + " |"
    (folder / "README.md").write_text("\n".join(lines), encoding="utf-8")


def add_readme_row(folder: Path, row: str) -> None:
    text = readme_of(folder)
    end = "<!-- formsync:calendar:end -->"
    (folder / "README.md").write_text(text.replace(end, f"{row}\n{end}"), encoding="utf-8")


def _row(lines: list[str], chapter: str) -> tuple[list[str], str]:
    header = split_row(next(line for line in lines if line.startswith("| Chapter ")))
    return header, next(line for line in lines if line.startswith(f"| {chapter}"))


def sessions(folder: Path) -> dict[str, dict[str, str]]:
    """Sessions rows by session number (by chapter when there is none)."""
    table = LocalSheets(folder).read(SESSIONS)
    assert table is not None
    rows = [dict(zip(table.header, row, strict=False)) for row in table.rows]
    return {row["Session"] or row["Chapter"]: row for row in rows}


def set_in_sessions(folder: Path, session: str, column: str, value: str) -> None:
    """An organizer's edit in the Sessions sheet."""
    path = folder / "Sessions.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows[[row[0] for row in rows].index(session)][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def readme_and_sessions(folder: Path) -> list[bytes]:
    """What this feature may write (a new problem also goes to the Problems sheet)."""
    return [(folder / name).read_bytes() for name in ("README.md", "Sessions.csv", str(RECORD))]


def assert_next_run_does_nothing(folder: Path) -> None:
    before = files(folder)
    report, sheets = sync(folder)
    assert report.plan.is_empty(), report.plan.describe()
    assert sheets.writes == 0 and files(folder) == before


# ---- edits land in Sessions --------------------------------------------------------------------

def test_a_recording_a_guide_a_date_and_a_new_row_typed_into_the_readme_land_in_sessions(
        synced: Path) -> None:
    type_into_readme(synced, SESSION_5, "Recording", "[YouTube](https://youtu.be/xyz_5)")
    type_into_readme(synced, "Session 6 ", "Guía", "Lucía")
    type_into_readme(synced, "Session 4 ", "Date/Time", "08/12/2020 18:00-20:00")
    add_readme_row(synced, "| Session 16 - Transformers | Diego | [Ch. 11](https://d2l.ai/a) "
                           "| TBA | 02-06-2021 17:00 - 19:30 | | |")

    report, _ = sync(synced)

    assert not readme_problems(report)
    rows = sessions(synced)
    assert rows["5"]["Recording"] == "[YouTube](https://youtu.be/xyz_5)"
    assert rows["6"]["Guide"] == "Lucía"
    assert (rows["4"]["Date"], rows["4"]["Start"], rows["4"]["End"]) == (
        "2020-12-08", "18:00", "20:00")
    new = rows["16"]
    assert (new["Chapter"], new["Guide"], new["Readings"], new["Date"], new["Start"]) == (
        "Transformers", "Diego", "[Ch. 11](https://d2l.ai/a)", "2021-06-02", "17:00")
    assert len(rows) == 17  # nothing else added
    # The README is rendered from the updated sheet: the date in its own format.
    assert cell(synced, "Session 4 ", "Date/Time") == "08-12-2020 18:00 - 20:00"
    assert cell(synced, "Session 16 ", "Guía") == "Diego"
    assert "Total de sesiones: 16" in readme_of(synced)
    assert_next_run_does_nothing(synced)


def test_dry_run_says_what_it_would_bring_into_sessions(synced: Path) -> None:
    type_into_readme(synced, SESSION_5, "Recording", "https://youtu.be/xyz_5")
    before = files(synced)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSYNC_")}
    result = subprocess.run([FORMSYNC, "sync", "--dry-run", "--only", "sessions,readme",
                             "--now", "2020-11-05T09:00-06:00"], cwd=synced, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ("would bring the README edit of session 5 Recording into Sessions: "
            "'https://youtu.be/xyz_5'") in result.stdout
    assert files(synced) == before


def test_an_unreadable_date_typed_into_the_readme_changes_nothing(synced: Path) -> None:
    type_into_readme(synced, SESSION_5, "Recording", "https://youtu.be/xyz_5")
    type_into_readme(synced, "Session 6 ", "Date/Time", "next tuesday")
    before = readme_and_sessions(synced)
    report, _ = sync(synced)
    [problem] = readme_problems(report)
    assert "'next tuesday' is not a date" in problem and "left as it is" in problem
    assert readme_and_sessions(synced) == before  # the recording is not lost either


# ---- conflicts ---------------------------------------------------------------------------------

def test_a_cell_edited_in_the_readme_and_in_sessions_is_a_conflict_and_nothing_is_lost(
        synced: Path) -> None:
    type_into_readme(synced, SESSION_5, "Recording", "https://youtu.be/from_readme")
    set_in_sessions(synced, "5", "Recording", "https://youtu.be/from_sheet")
    type_into_readme(synced, "Session 6 ", "Guía", "Lucía")  # edited on one side only

    report, _ = sync(synced)

    [conflict] = [p for p in report.problems if p.step == "readme"]
    assert conflict.severity == "error" and (conflict.row, conflict.column) == (6, "Recording")
    assert "session 5 Recording was changed in the README ('https://youtu.be/from_readme') and " \
           "in Sessions ('https://youtu.be/from_sheet')" in conflict.message
    assert sessions(synced)["5"]["Recording"] == "https://youtu.be/from_sheet"
    assert sessions(synced)["6"]["Guide"] == "Lucía"
    assert "youtu.be/from_readme" in cell(synced, SESSION_5, "Recording")

    # Reported again, and still nothing overwritten, until an organizer decides.
    before = readme_and_sessions(synced)
    report, _ = sync(synced)
    assert len(readme_problems(report)) == 1 and readme_and_sessions(synced) == before
    assert "youtu.be/from_readme" in cell(synced, SESSION_5, "Recording")

    set_in_sessions(synced, "5", "Recording", "https://youtu.be/from_readme")
    report, _ = sync(synced)
    assert not readme_problems(report)
    assert_next_run_does_nothing(synced)


def test_a_readme_cell_put_back_as_it_was_lets_sessions_win(synced: Path) -> None:
    written = cell(synced, SESSION_5, "Recording")
    type_into_readme(synced, SESSION_5, "Recording", "https://youtu.be/from_readme")
    set_in_sessions(synced, "5", "Recording", "https://youtu.be/from_sheet")
    sync(synced)
    type_into_readme(synced, SESSION_5, "Recording", written)
    report, _ = sync(synced)
    assert not readme_problems(report)
    assert cell(synced, SESSION_5, "Recording") == "<https://youtu.be/from_sheet>"


# ---- rows removed, tentative dates -------------------------------------------------------------

def test_a_row_removed_from_the_readme_comes_back_with_a_warning(synced: Path) -> None:
    text = readme_of(synced)
    row = next(line for line in text.splitlines() if line.startswith("| Session 9 "))
    (synced / "README.md").write_text(text.replace(row + "\n", ""), encoding="utf-8")
    report, _ = sync(synced)
    assert [p.severity for p in report.problems if p.step == "readme"] == ["warning"]
    assert "README row of session 9 was removed" in readme_problems(report)[0]
    assert row in readme_of(synced) and "9" in sessions(synced)


def test_a_tentative_date_typed_into_the_readme_is_not_a_date(synced: Path) -> None:
    proposed = cell(synced, "Session 6 ", "Date/Time")
    assert proposed.startswith("~")
    type_into_readme(synced, "Session 6 ", "Date/Time", "~02-02-2021 17:00 (tentativa)")
    report, _ = sync(synced)
    [warning] = readme_problems(report)
    assert "tentative date 2021-02-02 17:00" in warning and "without '~'" in warning
    assert sessions(synced)["6"]["Date"] == ""
    assert cell(synced, "Session 6 ", "Date/Time") == proposed


# ---- no record of the last render --------------------------------------------------------------

def test_a_readme_without_a_record_is_compared_with_blank_cells(tmp_path: Path) -> None:
    """The first run after upgrading: the README was written by an older formsync (markers, no
    digest) and there is no record, so nobody knows what was rendered last. Every cell is
    compared with a blank one: a cell filled in the README where Sessions has none is brought
    in, a blank README cell shows the sheet's value, and two different values are a conflict
    that keeps both. So nothing typed in either place is lost; from then on the record is kept.
    (A README without markers was never formsync's: Sessions wins, see the next test.)"""
    folder = workspace(tmp_path)
    (folder / "README.md").write_text(migrate(readme_of(folder)) or "", encoding="utf-8")
    set_in_sessions(folder, "6", "Guide", "Lucía")  # changed in the sheet since
    type_into_readme(folder, SESSION_5, "Recording", "https://youtu.be/xyz_5")
    type_into_readme(folder, "Session 2 ", "Guía", "Ana")  # the sheet says Gus

    report, _ = sync(folder)

    [conflict] = readme_problems(report)
    assert "session 2 Guía was changed in the README ('Ana') and in Sessions ('Gus')" in conflict
    rows = sessions(folder)
    assert rows["5"]["Recording"] == "https://youtu.be/xyz_5"
    assert (rows["6"]["Guide"], rows["2"]["Guide"]) == ("Lucía", "Gus")
    assert cell(folder, "Session 6 ", "Guía") == "Lucía"
    assert cell(folder, "Session 2 ", "Guía") == "Ana"
    assert (folder / RECORD).exists()


def test_a_readme_without_markers_is_taken_over_from_sessions(tmp_path: Path) -> None:
    folder = workspace(tmp_path)
    type_into_readme(folder, SESSION_5, "Recording", "https://youtu.be/xyz_5")
    set_in_sessions(folder, "2", "Guide", "Ana")
    report, _ = sync(folder)
    assert not readme_problems(report)
    assert sessions(folder)["5"]["Recording"] == ""
    assert cell(folder, SESSION_5, "Recording") == "TBA"
    assert cell(folder, "Session 2 ", "Guía") == "Ana"


def test_an_untouched_readme_without_its_record_lets_sessions_win(synced: Path) -> None:
    """A record that was not kept (a workflow that does not commit it): the README is as
    formsync wrote it (its digest says so), so it is its own record, and a warning says why."""
    (synced / RECORD).unlink()
    set_in_sessions(synced, "5", "Recording", "https://youtu.be/from_sheet")
    report, _ = sync(synced)
    [warning] = readme_problems(report)
    assert str(RECORD) in warning and "FORMSYNC_COMMIT_PATHS" in warning
    assert cell(synced, SESSION_5, "Recording") == "<https://youtu.be/from_sheet>"


def test_an_edited_readme_without_its_record_keeps_what_differs(synced: Path) -> None:
    (synced / RECORD).unlink()
    type_into_readme(synced, SESSION_5, "Recording", "https://youtu.be/from_readme")
    type_into_readme(synced, "Session 1 ", "Guía", "Ana")  # the sheet says Toño
    report, _ = sync(synced)
    problems = readme_problems(report)
    assert len(problems) == 2 and "session 1 Guía was changed" in problems[1]
    assert sessions(synced)["5"]["Recording"] == "https://youtu.be/from_readme"
    assert cell(synced, "Session 1 ", "Guía") == "Ana"


# ---- properties --------------------------------------------------------------------------------

TRICKY = ["|", "\\", "[", "]", "(", ")", "<", "&amp;", "!", "`", "TBA", "NA", "<br>",
          "https://a.example/x_(y)", "[x](https://c.example/d)", "Toño", "😀", " "]
texts = st.lists(st.one_of(st.sampled_from(TRICKY), st.text("abc -~:/", max_size=4)),
                 max_size=5).map("".join)
days = st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat)
chapters = st.tuples(st.sampled_from(["Intro", "Session 5 - X", "Toño | más"]), texts).map(
    "".join)
session_rows = st.lists(st.tuples(
    st.sampled_from(["1", "2", "3", "", "Optional"]), chapters, texts, texts, texts,
    st.one_of(st.just(""), days), st.sampled_from(["", "17:00"]), st.sampled_from(["", "19:30"]),
    texts, texts), min_size=1, max_size=4)
TEXT_COLUMNS = {"Guide": "Guide", "Readings": "Suggested Readings", "Slides": "Slides/Notebook",
                "Recording": "Recording", "Exercises": "Exercises"}


def _plan(tmp: Path, rows: list[tuple[str, ...]], readme: str, record: str | None
          ) -> tuple[str, str | None, tuple[CellWrite, ...], list[str]]:
    config = parse_config({"group": {"language": "en"}}, tmp)
    table = Table(SESSIONS, SESSION_HEADER, tuple((*row, "", "") for row in rows))
    snapshot = Snapshot(sessions=table, readme_text=readme, readme_record=record)
    result = SYNC_STEP.plan(PlanContext.start(snapshot, config, NOW))
    text = next((a.new_text for a in result.actions if isinstance(a, ReadmeChange)), readme)
    new_record = next((a.new_text for a in result.actions if isinstance(a, RecordChange)),
                      record)
    writes = tuple(w for edit in result.edits for w in edit.writes)
    return text, new_record, writes, [str(p) for p in result.problems]


@given(session_rows)
def test_a_rendered_readme_with_its_record_has_no_edits(rows: list[tuple[str, ...]]) -> None:
    """Render, then plan again: the table imports back as exactly what was rendered, so an
    untouched README is never mistaken for an organizer's edit."""
    readme = "# G\n\n## Calendar\n<!-- formsync:calendar:start -->\n" \
             "<!-- formsync:calendar:end -->\n"
    tmp = Path("/nonexistent")
    text, record, writes, problems = _plan(tmp, rows, readme, None)
    assert not writes and not problems
    block = block_text(text)
    assert block is not None and recorded_digest(block)[1]
    again = _plan(tmp, rows, text, record)
    assert again == (text, record, (), [])


@given(session_rows, st.data())
def test_one_cell_typed_into_the_readme_is_what_sessions_gets(
        rows: list[tuple[str, ...]], data: st.DataObject) -> None:
    """Whatever an organizer types in a text cell arrives in Sessions as the import reads it,
    and nothing else is written."""
    readme = "# G\n\n## Calendar\n<!-- formsync:calendar:start -->\n" \
             "<!-- formsync:calendar:end -->\n"
    tmp = Path("/nonexistent")
    text, record, _, _ = _plan(tmp, rows, readme, None)
    lines = text.split("\n")
    header = split_row(next(line for line in lines if line.startswith("| Chapter")))
    table_rows = [i for i, line in enumerate(lines) if line.startswith("|")][2:]
    index = data.draw(st.sampled_from(table_rows))
    column = data.draw(st.sampled_from(sorted(TEXT_COLUMNS)))
    typed = render_cell(data.draw(texts))
    cells = split_row(lines[index])
    old = unescape_cell(cells[header.index(TEXT_COLUMNS[column])])
    cells[header.index(TEXT_COLUMNS[column])] = typed
    lines[index] = "| " + " | ".join(cells) + " |"
    _, _, writes, _ = _plan(tmp, rows, "\n".join(lines), record)
    wanted = unescape_cell(typed)
    wanted = "" if wanted.casefold() in ("tba", "tbd") else wanted
    if wanted == ("" if old.casefold() == "tba" else old):
        assert not writes
    else:
        assert [(w.column, w.value) for w in writes if w.column != "Proposed date"] == [
            (column, wanted)]
