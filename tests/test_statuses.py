"""Issue 12 §3: Members → Status as people write it (Spanish or English, any case)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.helpers import table
from tests.reminders.support import at, make_config, member

from formsync.calendar.event import attendee_emails
from formsync.members import accepted_statuses, status_problems
from formsync.model import (
    ACTIVE,
    MEMBERS,
    PAUSED,
    REMINDER_HEADER,
    REMINDERS,
    REMOVED,
    UNSUBSCRIBED,
    Session,
    Table,
    canonical_status,
)
from formsync.reminders.plan import GUIDE, READING, plan_reminders


@pytest.mark.parametrize(("written", "status"), [
    ("", ACTIVE), ("active", ACTIVE), ("Activo", ACTIVE), (" ACTIVA ", ACTIVE),
    ("paused", PAUSED), ("Pausa", PAUSED), ("en pausa", PAUSED), ("Pausada", PAUSED),
    ("unsubscribed", UNSUBSCRIBED), ("Baja", UNSUBSCRIBED), ("dada de  baja", UNSUBSCRIBED),
    ("removed", REMOVED), ("Eliminado", REMOVED),
    ("VIP", None), ("activo?", None), ("sí", None),
])
def test_status_words_in_spanish_and_english(written: str, status: str | None) -> None:
    assert canonical_status(written) == status
    assert member("a@example.org", "A", status=written).is_active() == (status == ACTIVE)


def test_an_unknown_status_is_one_warning_per_word_listing_the_accepted_ones() -> None:
    sheet = table(MEMBERS, "Correo,Nombre,Estado\na@x.org,A,Activo\nb@x.org,B,VIP\n"
                           "c@x.org,C,pausa\nd@x.org,D,vip\ne@x.org,E,Actve\n")
    problems = status_problems(sheet)
    assert [(p.row, p.column, p.severity) for p in problems] == [
        (3, "Estado", "warning"), (6, "Estado", "warning")]
    assert problems[0].message == ("Status 'VIP' is not a value formsync knows (rows 3, 5); "
                                   "these 2 members get no email until it is fixed")
    assert problems[1].message.endswith("(rows 6); e@x.org gets no email until it is fixed")
    assert problems[0].fix == f"write one of: {accepted_statuses()}"
    for word in ("active (activo", "paused (pause, pausa", "unsubscribed (unsubscribe, baja",
                 "removed (eliminado", "blank is active"):
        assert word in problems[0].fix


def test_known_statuses_raise_nothing() -> None:
    sheet = table(MEMBERS, "Email,Name,Status\na@x.org,A,\nb@x.org,B,Active\nc@x.org,C,Baja\n")
    assert status_problems(sheet) == []


SESSION = Session(row=2, key="1", chapter="Intro", guide="Pau", date=dt.date(2020, 10, 20),
                  start=dt.time(17))
SETUP = Table(REMINDERS, REMINDER_HEADER,
              (("setup", "", "", "recorded", "", "2020-10-01T00:00:00-05:00", ""),))


def test_activo_gets_email_and_paused_unsubscribed_and_unknown_do_not(tmp_path: Path) -> None:
    members = [member("ana@example.org", "Ana", status="Activo"),
               member("pau@example.org", "Pau", status="pausa"),
               member("bo@example.org", "Bo", status="baja"),
               member("vi@example.org", "Vi", status="VIP")]
    due, _ = plan_reminders([SESSION], members, SETUP, make_config(tmp_path), at("2020-10-18"))
    assert [r.recipient for r in due if r.kind == READING] == ["ana@example.org"]
    assert attendee_emails(members) == ("ana@example.org",)


def test_a_paused_guide_is_still_a_member_but_gets_no_reminder(tmp_path: Path) -> None:
    members = [member("pau@example.org", "Pau", status="Pausa")]
    due, problems = plan_reminders([SESSION], members, SETUP, make_config(tmp_path),
                                   at("2020-10-14"))
    assert [r for r in due if r.kind == GUIDE] == []
    assert [p.message for p in problems] == [
        "the guide 'Pau' of session 1 (pau@example.org) is Pausa: no reminder sent"]


def test_the_members_step_reports_unknown_statuses_even_without_new_responses(
        tmp_path: Path) -> None:
    from formsync.config import parse_config
    from formsync.model import MEMBER_HEADER, Snapshot
    from formsync.plan import plan

    members = Table(MEMBERS, MEMBER_HEADER, (
        ("vi@example.org", "Vi", "2020-10-01T10:00:00+00:00", "", "VIP", "", "es", ""),))
    config = parse_config({"readme": {"enabled": False}}, tmp_path)
    result = plan(Snapshot(members=members), config, dt.datetime(2020, 10, 1, tzinfo=dt.UTC))
    assert [(p.step, p.row) for p in result.problems if "Status 'VIP'" in p.message] == [
        ("members", 2)]
