"""The pure planner: data in, reminders out."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from tests.reminders.support import (
    ORGANIZERS,
    at,
    make_config,
    member,
    seed_members,
    seed_sessions,
)

from formsync.model import REMINDER_HEADER, REMINDERS, Table
from formsync.reminders.plan import Reminder, plan_reminders

SETUP_ROW = ("setup", "", "", "recorded", "", "2020-10-05T00:00:00-05:00", "")


GUIDE_1_SENT = ("guide", "1", ORGANIZERS[0], "sent", "", "2020-10-13T09:30:00-05:00", "")


def ledger(*rows: tuple[str, ...]) -> Table:
    return Table(REMINDERS, REMINDER_HEADER, (SETUP_ROW, *rows))


def plan(now: dt.datetime, table: Table | None = None, **config: Any
         ) -> tuple[list[Reminder], list[str]]:
    reminders, problems = plan_reminders(seed_sessions(), seed_members(),
                                         table if table is not None else ledger(),
                                         make_config(Path(), **config), now)
    return reminders, [str(p) for p in problems]


def keys(reminders: list[Reminder]) -> list[tuple[str, str, str]]:
    return [(r.kind, r.session, r.recipient) for r in reminders]


def test_due_at_send_time_on_its_day() -> None:
    assert plan(at("2020-10-18", "08:59"), ledger(GUIDE_1_SENT))[0] == []
    reminders, _ = plan(at("2020-10-18", "09:00"), ledger(GUIDE_1_SENT))
    assert keys(reminders) == [("reading", "1", a) for a in (
        "ana@example.org", "bob@example.org", *ORGANIZERS)]
    assert reminders[0].due == at("2020-10-18", "09:00")
    assert reminders[0].describe() == "send reading reminder for session 1 to ana@example.org"


def test_a_late_run_still_sends_until_the_session_starts() -> None:
    late = plan(at("2020-10-20", "16:59"))[0]
    assert [r.kind for r in late] == ["guide"] + ["reading"] * 4  # the guide's was due 10-13
    assert plan(at("2020-10-20", "17:00"))[0] == []


def test_settled_ledger_rows_are_not_planned_again_but_retry_and_deferred_are() -> None:
    now = at("2020-10-18")
    rows = [("reading", "1", "ana@example.org", "sent", "", "", ""),
            ("reading", "1", "bob@example.org", "failed", "", "", "SMTP 550"),
            ("reading", "1", ORGANIZERS[0], "retry", "", "", ""),
            ("reading", "1", ORGANIZERS[1], "deferred", "", "", "SMTP 451")]
    reminders, _ = plan(now, ledger(GUIDE_1_SENT, *rows))
    assert keys(reminders) == [("reading", "1", ORGANIZERS[0]), ("reading", "1", ORGANIZERS[1])]


def test_interrupted_rows_are_planned_for_recovery_first() -> None:
    rows = [("homework", "1", "bob@example.org", "drafted", "r-17", "", ""),
            ("reading", "1", "ana@example.org", "pending", "", "", "")]
    reminders, _ = plan(at("2020-10-05"), ledger(*rows))
    assert [r.describe() for r in reminders] == [
        "mark the interrupted reading reminder for session 1 to ana@example.org as unknown "
        "and tell the organizers",
        "finish the interrupted homework reminder for session 1 to bob@example.org "
        "(Gmail draft r-17)"]
    assert reminders[1].deadline == at("2020-11-03", "17:00")  # session 2 starts


def test_only_confirmed_dates_count() -> None:
    # Session 5 only has a proposed date: no reading reminder for it, no homework for 4.
    reminders, _ = plan(at("2020-12-13"))
    assert reminders == []


def test_first_sync_welcomes_nobody_and_records_the_setup_time() -> None:
    members = [*seed_members(), member("new@example.org", "New",
                                       registered="2020-10-09T23:00:00-05:00")]
    config = make_config(Path())
    now = at("2020-10-10")
    reminders, _ = plan_reminders(seed_sessions(), members, None, config, now)
    assert [r.kind for r in reminders] == ["setup"]
    assert reminders[0].describe().startswith("record 2020-10-10T09:30-05:00 as the start")
    # Once recorded, only later registrations are welcomed.
    table = Table(REMINDERS, REMINDER_HEADER,
                  (("setup", "", "", "recorded", "", now.isoformat(), ""),))
    later = [*members, member("later@example.org", "Later",
                              registered="2020-10-10T10:00:00-05:00", language="en")]
    reminders, _ = plan_reminders(seed_sessions(), later, table, config, at("2020-10-11"))
    assert keys(reminders) == [("welcome", "", "later@example.org")]
    assert reminders[0].language == "en"


def test_welcome_since_from_the_config() -> None:
    members = [*seed_members(), member("new@example.org", "New",
                                       registered="2020-10-09T23:00:00-05:00")]
    config = make_config(Path(), welcome_since="2020-10-09T00:00:00")
    reminders, _ = plan_reminders(seed_sessions(), members, None, config, at("2020-10-10"))
    assert keys(reminders) == [("welcome", "", "new@example.org")]


def test_guide_found_by_folded_name_or_email() -> None:
    sessions = seed_sessions()
    sessions[0] = dataclasses.replace(sessions[0], guide="  TONO ")
    sessions[1] = dataclasses.replace(sessions[1], guide="O.Lopez@opianalytics.com")
    config = make_config(Path())
    for session, day in (("1", "2020-10-13"), ("2", "2020-10-27")):
        reminders, problems = plan_reminders(sessions, seed_members(), ledger(), config,
                                             at(day))
        assert [(r.kind, r.session) for r in reminders] == [("guide", session)]
        assert problems == []


def test_unknown_guide_is_a_problem_for_organizers() -> None:
    sessions = seed_sessions()
    sessions[0] = dataclasses.replace(sessions[0], guide="Zoe")
    reminders, problems = plan_reminders(sessions, seed_members(), ledger(),
                                         make_config(Path()), at("2020-10-13"))
    assert reminders == []
    assert problems[0].row == 2 and problems[0].column == "Guide"
    assert "'Zoe' of session 1 matches no member" in problems[0].message


def test_daily_cap_spreads_a_large_send() -> None:
    now = at("2020-11-01")
    reminders, problems = plan(now, daily_cap=3)
    assert len(reminders) == 3 and "6 reminders wait" in problems[0]
    sent_today = [(r.kind, r.session, r.recipient, "sent", "", now.isoformat(), "")
                  for r in reminders]
    assert plan(at("2020-11-01", "10:30"), ledger(*sent_today), daily_cap=3)[0] == []
    tomorrow, _ = plan(at("2020-11-02"), ledger(*sent_today), daily_cap=3)
    assert len(tomorrow) == 3


def test_order_is_stable_and_sorted() -> None:
    first, _ = plan(at("2020-11-01"))
    again, _ = plan(at("2020-11-01"))
    assert first == again
    assert [r.kind for r in first] == ["guide"] + ["reading"] * 4 + ["homework"] * 4
    assert [r.recipient for r in first[1:5]] == sorted(r.recipient for r in first[1:5])
