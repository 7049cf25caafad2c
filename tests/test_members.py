from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

from tests.helpers import SPANISH_FORM, table

from formsync.config import Form
from formsync.members import plan_members, read_registrations
from formsync.model import MEMBER_HEADER, MEMBERS, RESPONSES, Table
from formsync.tables import apply_edit

TZ = zoneinfo.ZoneInfo("America/Mexico_City")

RESPONSES_CSV = """\
Marca temporal,Dirección de correo electrónico,Nombre completo,¿Te gustaría ser guía?,Idioma
1/10/2020 9:00:00,ana@example.org,Ana,Sí,Español
2/10/2020 9:00:00, ANA@Example.org ,Ana García,No,English
13/10/2020 9:00:00,luis@example.org,Luis,No,Español
14/10/2020 9:00:00,not-an-email,Nadie,No,Español
,,,,
15/10/2020 9:00:00,,Sin correo,No,Español
31/2/2020 9:00:00,fecha@example.org,Fecha,No,Español
"""


def test_latest_answer_wins_and_earliest_registers() -> None:
    found, _ = read_registrations(table(RESPONSES, RESPONSES_CSV), Form(), TZ)
    ana = found["ana@example.org"]
    assert ana.name == "Ana García"
    assert ana.first == dt.datetime(2020, 10, 1, 9, tzinfo=TZ)
    assert ana.last == dt.datetime(2020, 10, 2, 9, tzinfo=TZ)
    assert (ana.guide_volunteer, ana.language) == ("no", "en")
    assert sorted(found) == ["ana@example.org", "luis@example.org"]


def test_bad_rows_are_named_and_skipped() -> None:
    _, problems = read_registrations(table(RESPONSES, RESPONSES_CSV), Form(), TZ)
    assert [(p.sheet, p.row, p.severity) for p in problems] == [
        (RESPONSES, 5, "error"), (RESPONSES, 7, "error"), (RESPONSES, 8, "error")]
    assert "'not-an-email' is not a valid email" in problems[0].message
    assert "no email address" in problems[1].message
    assert "not a real date" in problems[2].message


def test_day_first_is_detected_from_a_day_above_twelve() -> None:
    found, _ = read_registrations(table(RESPONSES, RESPONSES_CSV), Form(), TZ)
    assert found["luis@example.org"].first.date() == dt.date(2020, 10, 13)


def test_month_first_when_configured() -> None:
    csv_text = "Timestamp,Email Address,Name\n10/2/2020 14:03:22,a@b.co,A\n"
    found, _ = read_registrations(table(RESPONSES, csv_text), Form(date_order="MDY"), TZ)
    assert found["a@b.co"].first.date() == dt.date(2020, 10, 2)


def test_missing_email_column_is_one_clear_error() -> None:
    _, problems = read_registrations(table(RESPONSES, "Timestamp,Pregunta\n1/1/2020 1:00,x\n"),
                                     Form(), TZ)
    assert len(problems) == 1
    assert "no email column" in problems[0].message
    assert "email_column" in problems[0].fix


def test_new_members_are_appended_active_with_iso_times() -> None:
    edit, _ = plan_members(table(RESPONSES, RESPONSES_CSV), None, Form(), TZ)
    assert edit.add_header and edit.header == MEMBER_HEADER
    rows = {row[0]: dict(zip(MEMBER_HEADER, row, strict=True)) for row in edit.appends}
    assert rows["ana@example.org"]["Registered"] == "2020-10-01T09:00:00-05:00"
    assert rows["ana@example.org"]["Status"] == "active"


def test_organizer_columns_are_never_overwritten() -> None:
    members = Table(MEMBERS, MEMBER_HEADER, (
        ("ana@example.org", "Ana", "2020-09-01T00:00:00-05:00", "old", "unsubscribed", "",
         "", "pidió baja"),))
    edit, _ = plan_members(table(RESPONSES, RESPONSES_CSV), members, Form(), TZ)
    touched = {(w.row, w.column) for w in edit.writes}
    assert (2, "Status") not in touched and (2, "Notes") not in touched
    assert (2, "Registered") not in touched  # an earlier registration is kept
    after = apply_edit(members, edit)
    assert after.rows[0][4:] == ("unsubscribed", "no", "en", "pidió baja")


def test_second_plan_after_apply_is_empty() -> None:
    responses = table(RESPONSES, RESPONSES_CSV)
    edit, _ = plan_members(responses, None, Form(), TZ)
    again, _ = plan_members(responses, apply_edit(None, edit), Form(), TZ)
    assert again.is_empty()


def test_form_text_is_kept_as_data() -> None:
    hostile = '=HYPERLINK("http://x","y")'
    quoted = hostile.replace('"', '""')
    csv_text = ",".join(SPANISH_FORM) + f'\n1/10/2020 9:00:00,h@example.org,"{quoted}",No,Sí\n'
    edit, problems = plan_members(table(RESPONSES, csv_text), None, Form(), TZ)
    assert not problems
    assert edit.appends[0][1] == hostile


def test_a_few_unreadable_timestamps_among_good_ones_are_named_row_by_row() -> None:
    csv_text = ",".join(SPANISH_FORM[:3]) + (
        "\n2020/10/05 5:03:12 p. m. GMT-5,ana@example.org,Ana"
        "\nayer,luis@example.org,Luis"
        "\n2020/10/06 9:00:00 a. m. GMT-5,maria@example.org,María\n")
    found, problems = read_registrations(table(RESPONSES, csv_text), Form(), TZ)
    assert sorted(found) == ["ana@example.org", "maria@example.org"]
    assert [(p.row, p.column) for p in problems] == [(3, "")]
    assert "'ayer' is not a timestamp" in problems[0].message


def test_a_timestamp_column_nothing_in_can_be_read_is_one_column_problem() -> None:
    rows = "".join(f"\n{when},p{i}@example.org,P" for i, when in enumerate(
        ["ayer", "hoy", "ayer", "5 oct", "6 oct"]))
    found, problems = read_registrations(
        table(RESPONSES, ",".join(SPANISH_FORM[:3]) + rows + "\n"), Form(), TZ)
    assert found == {}
    assert [(p.sheet, p.row, p.column, p.severity) for p in problems] == [
        (RESPONSES, None, "Marca temporal", "error")]
    assert "'ayer', 'hoy', '5 oct' and 1 more" in problems[0].message


def test_new_rows_follow_registration_order_so_a_late_write_lands_on_the_same_people() -> None:
    """A run that read fewer responses plans a prefix of what a later run plans: if its
    write of the new rows lands late, it writes the same people to the same rows."""
    header = ",".join(SPANISH_FORM)
    early = f"{header}\n1/10/2020 9:00:00,zoe@example.org,Zoe,No,Español\n"
    later = early + "2/10/2020 9:00:00,abel@example.org,Abel,No,Español\n"
    first, _ = plan_members(table(RESPONSES, early), None, Form(), TZ)
    second, _ = plan_members(table(RESPONSES, later), None, Form(), TZ)
    assert [row[0] for row in second.appends] == ["zoe@example.org", "abel@example.org"]
    assert second.appends[:len(first.appends)] == first.appends


def test_an_email_in_two_member_rows_is_reported_and_only_the_first_is_written() -> None:
    members = Table(MEMBERS, MEMBER_HEADER, (
        ("ana@example.org", "Ana", "2020-10-01T09:00:00-05:00", "x", "active", "", "", ""),
        ("luis@example.org", "Luis", "2020-10-13T09:00:00-05:00", "x", "active", "", "", ""),
        ("ANA@example.org", "Ana dup", "2020-10-01T09:00:00-05:00", "x", "", "", "", "")))
    edit, problems = plan_members(table(RESPONSES, RESPONSES_CSV), members, Form(), TZ)
    doubled = [p for p in problems if p.sheet == MEMBERS]
    assert [(p.row, p.severity) for p in doubled] == [(4, "warning")]
    assert "rows (2 and 4)" in doubled[0].message
    assert {w.row for w in edit.writes} <= {2, 3} and edit.appends == ()


def test_blank_rows_of_the_responses_sheet_are_not_counted_as_responses() -> None:
    from formsync.config import parse_config
    from formsync.members import SYNC_STEP
    from formsync.model import Snapshot
    from formsync.step import PlanContext

    responses = table(RESPONSES, RESPONSES_CSV + ",,,,\n,,,,\n")
    context = PlanContext.start(Snapshot(responses=responses), parse_config({}, Path()),
                                dt.datetime(2020, 11, 1, tzinfo=dt.UTC))
    assert SYNC_STEP.plan(context).notes == ("6 form responses read",)
