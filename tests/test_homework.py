"""The homework step: submissions matched to members and sessions, the Homework matrix."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.helpers import config, table

from formsync.homework.matrix import SYNC_STEP, read_homework
from formsync.homework.submissions import link_problem, match_session
from formsync.model import HOMEWORK, MEMBERS, SESSIONS, SUBMISSIONS, Session, Snapshot, Table
from formsync.step import PlanContext
from formsync.tables import apply_edit

SESSIONS_CSV = """\
Session,Chapter,Guide,Readings,Exercises,Date,Start,End
1,Introduction to Deep Learning,Toño,,Assignment 1,2020-10-20,17:00,19:30
2,Preliminaries,Gus,,NA,2020-11-03,17:00,19:30
3,Linear Neural Networks,,,Assignment 3,2020-11-17,17:00,19:30
4,Multilayer Perceptrons,,,Assignment 4,2020-12-01,17:00,19:30
5,Deep Learning Computation,,,TBA,,,
"""
MEMBERS_CSV = """\
Email,Name,Registered,Updated,Status
ana@example.org,Ana,2020-10-01T10:00:00-05:00,2020-10-01T10:00:00-05:00,active
bob@example.org,Bob,2020-10-02T10:00:00-05:00,2020-10-02T10:00:00-05:00,active
eve@example.org,Eve,2020-10-03T10:00:00-05:00,2020-10-03T10:00:00-05:00,paused
"""
# Session 1 is due when session 2 starts (2020-11-03 17:00), session 3 at session 4.
SUBMISSIONS_CSV = """\
Marca temporal,Dirección de correo electrónico,Sesión,Enlace,Comentario
28/10/2020 21:10:04,ana@example.org,Sesión 1 – Introduction to Deep Learning,https://colab.example.org/a1,
3/11/2020 20:15:33,bob@example.org,1,https://github.com/bob/s1,tarde
5/11/2020 9:00:00,ana@example.org,Sesión 1,https://colab.example.org/a1-v2,corregido
10/11/2020 19:40:12,ana@example.org,Sesion 3,https://colab.example.org/a3,
12/11/2020 8:05:31,eve@example.org,Linear Neural Netwroks,https://drive.example.org/e3,
13/11/2020 9:00:00,nadie@example.com,3,https://colab.example.org/x,
14/11/2020 9:00:00,bob@example.org,Sesión 42,https://colab.example.org/b42,
15/11/2020 9:00:00,bob@example.org,3,mi colab,
"""
EXPECTED = [
    ("Email", "Name", "Sesión 1", "Sesión 3", "Sesión 4", "Total"),
    ("Total", "", "2", "2", "0", "4"),
    ("ana@example.org", "Ana", "✓ https://colab.example.org/a1-v2",
     "✓ https://colab.example.org/a3", "", "2"),
    ("bob@example.org", "Bob", "tarde https://github.com/bob/s1", "", "", "1"),
    ("eve@example.org", "Eve", "", "✓ https://drive.example.org/e3", "", "1"),
]
NOW = dt.datetime(2020, 11, 15, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=-6)))


def context(homework: Table | None = None, submissions: str = SUBMISSIONS_CSV) -> PlanContext:
    snapshot = Snapshot(members=table(MEMBERS, MEMBERS_CSV),
                        sessions=table(SESSIONS, SESSIONS_CSV),
                        others={SUBMISSIONS: table(SUBMISSIONS, submissions), HOMEWORK: homework})
    return PlanContext.start(snapshot, config(group={"timezone": "America/Mexico_City"}), NOW)


def matrix(result_table: Table) -> list[tuple[str, ...]]:
    return [result_table.header, *result_table.rows]


def test_the_matrix_is_the_expected_table() -> None:
    result = SYNC_STEP.plan(context())
    (edit,) = result.edits
    assert matrix(apply_edit(None, edit)) == EXPECTED


def test_a_second_sync_changes_nothing() -> None:
    (edit,) = SYNC_STEP.plan(context()).edits
    written = apply_edit(None, edit)
    assert SYNC_STEP.plan(context(written)).edits == ()


def test_a_new_submission_rewrites_only_its_cells() -> None:
    (edit,) = SYNC_STEP.plan(context()).edits
    written = apply_edit(None, edit)
    more = SUBMISSIONS_CSV + "15/11/2020 8:00:00,bob@example.org,3,https://github.com/bob/s3,\n"
    (again,) = SYNC_STEP.plan(context(written, more)).edits
    assert not again.add_header and not again.appends
    assert sorted((w.row, w.column, w.value) for w in again.writes) == [
        (2, "Sesión 3", "3"), (2, "Total", "5"),
        (4, "Sesión 3", "✓ https://github.com/bob/s3"), (4, "Total", "2")]


def test_a_row_stamped_after_now_is_not_handed_in_yet() -> None:
    (edit,) = SYNC_STEP.plan(context()).edits
    written = apply_edit(None, edit)
    later = SUBMISSIONS_CSV + "16/11/2020 9:00:00,bob@example.org,3,https://github.com/bob/s3,\n"
    assert SYNC_STEP.plan(context(written, later)).edits == ()


def test_rows_stay_where_they_are_and_foreign_rows_are_kept() -> None:
    current = Table(HOMEWORK, EXPECTED[0], (
        EXPECTED[1], ("old@example.org", "Old", "✓ x", "", "", "1"), *EXPECTED[2:3]))
    (edit,) = SYNC_STEP.plan(context(current)).edits
    after = matrix(apply_edit(current, edit))
    assert after[2] == ("old@example.org", "Old", "✓ x", "", "", "1")
    assert after[3] == EXPECTED[2]
    assert after[4:] == EXPECTED[3:]


def test_problems_name_their_place() -> None:
    problems = SYNC_STEP.plan(context()).problems
    found = sorted((p.sheet, p.row, p.column, p.message.split(",")[0]) for p in problems)
    assert found == [
        (SUBMISSIONS, 7, "Dirección de correo electrónico",
         "submission from nadie@example.com"),
        (SUBMISSIONS, 8, "Sesión", "submission for 'Sesión 42'"),
        (SUBMISSIONS, 9, "Enlace", "submission skipped: 'mi colab' is not a link (http:// or "
                                   "https://)"),
    ]


def test_resubmission_keeps_the_first_time_and_the_latest_link() -> None:
    homework, _ = read_homework(context())
    assert homework is not None
    ana = homework.submissions[("ana@example.org", "1")]
    assert ana.link == "https://colab.example.org/a1-v2"
    assert ana.first.day == 28 and ana.last.day == 5
    assert not homework.is_late(ana)


def test_no_submissions_sheet_plans_nothing() -> None:
    snapshot = Snapshot(members=table(MEMBERS, MEMBERS_CSV), sessions=table(SESSIONS,
                                                                            SESSIONS_CSV))
    result = SYNC_STEP.plan(PlanContext.start(snapshot, config(), NOW))
    assert result.edits == () and result.problems == ()


SESSIONS_FOR_MATCHING = [Session(2, "1", "Introduction to Deep Learning"),
                         Session(3, "3", "Session 3 - Linear Neural Networks"),
                         Session(4, "Optional", "Tools for Deep Learning")]


@pytest.mark.parametrize(("answer", "key"), [
    ("3", "3"), ("Sesión 3", "3"), ("Sesion 3", "3"), ("SESSION 3", "3"), ("s3", "3"),
    ("Sesión 3 – Linear Neural Networks", "3"), ("linear neural networks", "3"),
    ("Linear Neural Netwroks", "3"), ("Introduction to Deep Learning", "1"),
    ("Tools for deep learning", "Optional"), ("Optional", "Optional"),
    ("Sesión 42", None), ("Transformers", None), ("", None),
])
def test_a_session_is_named_many_ways(answer: str, key: str | None) -> None:
    found = match_session(answer, SESSIONS_FOR_MATCHING)
    assert (found.key if found else None) == key


@pytest.mark.parametrize(("link", "ok"), [
    ("https://colab.research.google.com/drive/1abc", True), ("http://github.com/x", True),
    ("colab.research.google.com/drive/1abc", False), ("mi colab", False), ("", False),
    ("javascript:alert(1)", False), ("https://localhost", False),
])
def test_broken_links(link: str, ok: bool) -> None:
    assert (link_problem(link) is None) == ok
