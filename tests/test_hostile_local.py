"""The hostile corpus through the local backend and the README: clear messages naming the place,
nothing valid lost, nothing executable written. (Its worksheet-title cases, TAB_CASES, apply to
Google only: local CSV file names are exact; the contract suite runs them.)"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from tests.corpus.hostile import (
    BAD_EMAILS,
    FORM_CASES,
    HOSTILE_NAMES,
    SESSION_CELLS,
    TAB_CASES,
    FormCase,
)

from formsync.config import load_config
from formsync.local.sheets import LocalSheets
from formsync.markdown import split_row
from formsync.model import MEMBERS
from formsync.ports import Places
from formsync.readme import END_MARKER, START_MARKER
from formsync.sync import Report, run_sync

NOW = dt.datetime(2020, 11, 5, 15, 0, tzinfo=dt.UTC)
SESSION_HEADER = ["Session", "Chapter", "Guide", "Readings", "Date", "Start", "End"]
GOOD_SESSION = ["1", "Introduction", "Toño", "[here](https://d2l.ai)", "20-10-2020", "17:00",
                "19:30"]


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _workspace(tmp_path: Path, responses: list[list[str]], sessions: list[list[str]]) -> Path:
    (tmp_path / "formsync.toml").write_text(
        '[calendar]\nenabled = false\n[reminders]\nenabled = false\n', encoding="utf-8")
    (tmp_path / "responses.csv").write_text(_csv(
        [["Timestamp", "Email Address", "Name"], *responses]), encoding="utf-8")
    (tmp_path / "Sessions.csv").write_text(_csv([SESSION_HEADER, *sessions]), encoding="utf-8")
    (tmp_path / "README.md").write_text(
        f"# Group\n\n{START_MARKER}\n{END_MARKER}\n\nAfter.\n", encoding="utf-8")
    return tmp_path


def _sync(folder: Path) -> tuple[list[str], LocalSheets]:
    config = load_config(folder / "formsync.toml")
    sheets = LocalSheets(folder)
    report = run_sync(config, Places(sheets), NOW, steps=["members", "sessions", "readme"])
    return [str(p) for p in report.problems], sheets


def test_hostile_names_are_kept_as_inert_data(tmp_path: Path) -> None:
    responses = [[f"10/{i + 1}/2020 10:00:00", f"p{i}@example.org", name]
                 for i, name in enumerate(HOSTILE_NAMES)]
    _sync(_workspace(tmp_path, responses, [GOOD_SESSION]))
    members = LocalSheets(tmp_path).read(MEMBERS)
    assert members is not None
    names = {row[0]: row[1] for row in members.rows}
    assert len(names) == len(HOSTILE_NAMES)
    assert names["p0@example.org"] == HOSTILE_NAMES[0]  # read back exactly...
    raw = (tmp_path / "Members.csv").read_text(encoding="utf-8")
    for line in csv.reader(io.StringIO(raw)):  # ...but no cell on disk starts a formula
        assert not any(cell and cell[0] in "=+-@" for cell in line), line
    assert "\r\nBcc:" not in names["p7@example.org"]  # CR/LF folded out of a name


@pytest.mark.parametrize(("email", "why"), BAD_EMAILS)
def test_a_bad_email_names_its_row_and_the_rest_syncs(tmp_path: Path, email: str,
                                                      why: str) -> None:
    responses = [["10/1/2020 10:00:00", "ok@example.org", "Ok"],
                 ["10/2/2020 10:00:00", email, "Bad"],
                 ["10/3/2020 10:00:00", "also.ok@example.org", "Also"]]
    problems, sheets = _sync(_workspace(tmp_path, responses, [GOOD_SESSION]))
    assert any(p.startswith("responses, row 3: response skipped:") and why in p
               for p in problems), problems
    members = sheets.read(MEMBERS)
    assert members is not None
    assert sorted(row[0] for row in members.rows) == ["also.ok@example.org", "ok@example.org"]


@pytest.mark.parametrize(("column", "value", "words"), SESSION_CELLS)
def test_session_cells_are_reported_by_place_and_the_table_holds(
        tmp_path: Path, column: str, value: str, words: str) -> None:
    broken = list(GOOD_SESSION)
    broken[0] = "2"
    broken[SESSION_HEADER.index(column)] = value
    problems, _ = _sync(_workspace(tmp_path, [], [GOOD_SESSION, broken]))
    if words:
        assert any(p.startswith(f"Sessions, row 3, column '{column}':") and words in p
                   for p in problems), problems
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Group\n\n") and readme.endswith("\n\nAfter.\n")
    table = [line for line in readme.splitlines() if line.startswith("|")]
    assert len(table) == 4  # header, rule, two sessions: a cell never breaks a row
    assert {len(split_row(line)) for line in table} == {7}
    assert "<script" not in readme and "<img" not in readme
    assert not re.search(r"(?<!\\)\]\(javascript:", readme)  # only an escaped, inert form


def test_ragged_blank_rows_and_missing_columns(tmp_path: Path) -> None:
    folder = _workspace(tmp_path, [["10/1/2020 10:00:00", "ok@example.org"], [], [""] * 9], [])
    (folder / "Sessions.csv").write_text("Chapter\nOnly a chapter\n\n,,,\n", encoding="utf-8")
    problems, sheets = _sync(folder)
    members = sheets.read(MEMBERS)
    assert members is not None and [r[0] for r in members.rows] == ["ok@example.org"]
    assert not [p for p in problems if "Traceback" in p]


def test_a_responses_sheet_without_an_email_column_is_one_clear_error(tmp_path: Path) -> None:
    folder = _workspace(tmp_path, [], [GOOD_SESSION])
    (folder / "responses.csv").write_text("Marca temporal,Pregunta\n1/10/2020 9:00:00,x\n",
                                          encoding="utf-8")
    problems, _ = _sync(folder)
    assert any("no email column" in p and "email_column" in p for p in problems)


def test_the_corpus_holds_at_least_40_distinct_inputs() -> None:
    corpus = [*HOSTILE_NAMES, *BAD_EMAILS, *SESSION_CELLS, *FORM_CASES, *TAB_CASES]
    assert len(corpus) >= 40
    ids = [case.id for case in (*FORM_CASES, *TAB_CASES)]
    assert len(set(ids)) == len(ids)


def _settings(case: FormCase) -> str:
    """The case's [form] and [columns] as formsync.toml writes them (quoted keys, any text)."""
    lines = []
    for section, values in case.config().items():
        lines.append(f"[{section}]")
        lines += [f"{json.dumps(key)} = {json.dumps(value, ensure_ascii=False)}"
                  for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _sync_all(folder: Path) -> Report:
    return run_sync(load_config(folder / "formsync.toml"), Places(LocalSheets(folder)), NOW,
                    steps=["members", "sessions", "readme"])


@pytest.mark.parametrize("case", FORM_CASES, ids=lambda case: case.id)
def test_a_real_world_forms_csv_syncs_exactly_as_expected(tmp_path: Path, case: FormCase) -> None:
    folder = _workspace(tmp_path, [], [GOOD_SESSION])
    with (folder / "formsync.toml").open("a", encoding="utf-8") as config:
        config.write(_settings(case))
    out = io.StringIO()  # as the Form's "Download responses (.csv)" writes it: every field quoted
    csv.writer(out, quoting=csv.QUOTE_ALL).writerows([case.header, *case.rows])
    (folder / "responses.csv").write_text(out.getvalue(), encoding="utf-8")
    report = _sync_all(folder)
    assert report.failures == []
    assert case.mismatches(report.problems, LocalSheets(folder).read(MEMBERS)) == []
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "Introduction" in readme.partition(START_MARKER)[2]  # the other steps ran too
    assert _sync_all(folder).plan.is_empty()
