from __future__ import annotations

import datetime as dt

from tests.helpers import table

from formsync.config import Group
from formsync.model import SESSIONS, Member, Table
from formsync.sessions import check_rules, plan_sessions, read_sessions
from formsync.tables import apply_edit

SHEET = """\
Sesión,Capítulo,Guía,Lecturas,Ejercicios,Fecha,Inicio,Fin
1,Introduction,Toño,,,20-10-2020,17:00,19:30
2,Preliminaries,Gus,,NA,03/11/2020,17:00,19:30
3,Linear Neural Networks,,,,TBA,,
4,Multilayer Perceptrons,,,,,,
,Optional Session - Tools,,,,,,
5,Computation,Toño,,,,,
"""


def test_proposes_dates_on_the_cadence_with_the_same_time() -> None:
    sessions, edit, problems = plan_sessions(table(SESSIONS, SHEET), Group())
    assert not problems
    proposed = {s.key: s.proposed for s in sessions}
    assert proposed["3"] == dt.datetime(2020, 11, 17, 17, 0)
    assert proposed["4"] == dt.datetime(2020, 12, 1, 17, 0)
    assert proposed["5"] == dt.datetime(2020, 12, 15, 17, 0)
    assert proposed[""] is None  # an unnumbered (optional) session gets no proposal
    assert edit.add_header and edit.header[-1] == "Proposed date"


def test_only_the_proposed_column_is_written() -> None:
    _, edit, _ = plan_sessions(table(SESSIONS, SHEET), Group())
    assert {w.column for w in edit.writes} == {"Proposed date"}


def test_skip_dates_move_a_proposal_one_cadence_later() -> None:
    group = Group(skip_dates=(dt.date(2020, 12, 1),))
    sessions, _, _ = plan_sessions(table(SESSIONS, SHEET), group)
    proposed = {s.key: s.proposed for s in sessions}
    assert proposed["4"] == dt.datetime(2020, 12, 15, 17, 0)
    assert proposed["5"] == dt.datetime(2020, 12, 29, 17, 0)


def test_applying_then_planning_again_changes_nothing() -> None:
    sheet = table(SESSIONS, SHEET)
    _, edit, _ = plan_sessions(sheet, Group())
    _, again, _ = plan_sessions(apply_edit(sheet, edit), Group())
    assert again.is_empty()


def test_a_confirmed_date_clears_the_proposal() -> None:
    sheet = table(SESSIONS, SHEET)
    _, edit, _ = plan_sessions(sheet, Group())
    after = apply_edit(sheet, edit)
    rows = [list(r) for r in after.rows]
    rows[2][5] = "18-11-2020"  # session 3 now has a real date
    edited = Table(SESSIONS, after.header, tuple(tuple(r) for r in rows))
    sessions, edit2, _ = plan_sessions(edited, Group())
    cleared = [w for w in edit2.writes if w.row == 4]
    assert cleared and cleared[0].value == ""
    assert {s.key: s.proposed for s in sessions}["4"] == dt.datetime(2020, 12, 2, 17, 0)


def test_a_bad_date_is_reported_with_its_cell_and_the_rest_still_reads() -> None:
    sheet = table(SESSIONS, "Session,Chapter,Date,Start\n1,A,32-13-2020,17:00\n2,B,2020-10-20,"
                            "25:99\n3,C,2020-11-03,5:00 PM\n")
    sessions, _, problems = read_sessions(sheet)
    assert [(p.row, p.column) for p in problems] == [(1, ""), (2, "Date"), (3, "Start")]
    assert "no 'Guide' column (no session has a guide)" in problems[0].message
    assert sessions[2].start == dt.time(17, 0)
    assert len(sessions) == 3


def test_rules_repeated_guide_missing_guide_and_same_day() -> None:
    sessions, _, _ = plan_sessions(table(SESSIONS, SHEET), Group())
    members = [Member("eva@example.org", "Eva", "", "", "active", "yes", "", "")]
    problems = check_rules(sessions, members, dt.datetime(2020, 11, 5, 9, 0))
    messages = [p.message for p in problems]
    assert any("Toño guides sessions 1, 5" in m and "Eva" in m for m in messages)
    assert any("next session (3, 2020-11-17) has no guide" in m for m in messages)
    same_day = Table(SESSIONS, ("Session", "Chapter", "Date"),
                     (("1", "A", "2020-10-20"), ("2", "B", "2020-10-20")))
    sessions2, _, _ = plan_sessions(same_day, Group())
    assert any("on 2020-10-20" in p.message for p in check_rules(sessions2, [], dt.datetime(
        2020, 1, 1)))


def test_no_repeat_warning_once_every_volunteer_has_guided() -> None:
    sessions, _, _ = plan_sessions(table(SESSIONS, SHEET), Group())
    members = [Member("t@example.org", "Toño", "", "", "active", "yes", "", "")]
    problems = check_rules(sessions, members, dt.datetime(2020, 1, 1))
    assert not any("guides sessions" in p.message for p in problems)


def test_a_doubled_or_renamed_header_is_named_with_its_columns() -> None:
    sheet = table(SESSIONS, "Sesión,Capítulo,Guía,Fecha,Fecha\n1,A,Ana,20-10-2020,x\n")
    _, _, problems = read_sessions(sheet)
    assert [str(p) for p in problems] == [
        "Sessions, row 1: 2 columns are named 'Fecha' (D and E); formsync reads D "
        "(fix: rename or delete the other one)"]
    renamed = table(SESSIONS, "Session,Chapter,Guide,When\n1,A,Ana,20-10-2020\n")
    sessions, _, problems = read_sessions(renamed)
    assert sessions[0].date is None
    assert "no 'Date' column (every session reads as undated)" in problems[0].message
    assert "[columns] Date" in problems[0].fix


def test_the_count_of_waiting_volunteers_and_the_names_listed_agree() -> None:
    sessions, _, _ = plan_sessions(table(SESSIONS, SHEET), Group())
    names = ["Ana", "Bea", "Carla", "Dan", "Eva", "Fer", "Iris", "Hugo"]
    members = [Member(f"{n.lower()}@example.org", n, "", "", "active", "yes", "", "")
               for n in names]
    repeated = next(p.message for p in check_rules(sessions, members, dt.datetime(2020, 1, 1))
                    if "guides sessions" in p.message)
    assert "8 volunteer(s) have not guided yet (Ana, Bea, Carla, Dan, Eva and 3 more)" in repeated
