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

from formsync.model import REMINDER_HEADER, REMINDERS, Session, Table
from formsync.reminders.plan import Reminder, plan_reminders

SETUP_ROW = ("setup", "", "", "recorded", "", "2020-10-05T00:00:00-05:00", "")
READING_1 = "1 @ 2020-10-20 17:00"  # a reading reminder's key records the start it announces


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
    """Ledger keys: (kind, Session cell, recipient)."""
    return [(r.key.kind, r.key.session, r.key.recipient) for r in reminders]


def test_due_at_send_time_on_its_day() -> None:
    assert plan(at("2020-10-18", "08:59"), ledger(GUIDE_1_SENT))[0] == []
    reminders, _ = plan(at("2020-10-18", "09:00"), ledger(GUIDE_1_SENT))
    assert keys(reminders) == [("reading", READING_1, a) for a in (
        "ana@example.org", "bob@example.org", *ORGANIZERS)]
    assert reminders[0].due == at("2020-10-18", "09:00")
    assert reminders[0].describe() == "send reading reminder for session 1 to ana@example.org"


def test_a_late_run_still_sends_until_the_session_starts() -> None:
    late = plan(at("2020-10-20", "16:59"))[0]
    assert [r.kind for r in late] == ["guide"] + ["reading"] * 4  # the guide's was due 10-13
    assert plan(at("2020-10-20", "17:00"))[0] == []


def test_settled_ledger_rows_are_not_planned_again_but_retry_and_deferred_are() -> None:
    now = at("2020-10-18")
    rows = [("reading", READING_1, "ana@example.org", "sent", "", "", ""),
            ("reading", READING_1, "bob@example.org", "failed", "", "", "SMTP 550"),
            ("reading", READING_1, ORGANIZERS[0], "retry", "", "", ""),
            ("reading", READING_1, ORGANIZERS[1], "deferred", "", "", "SMTP 451")]
    reminders, _ = plan(now, ledger(GUIDE_1_SENT, *rows))
    assert keys(reminders) == [("reading", READING_1, ORGANIZERS[0]),
                               ("reading", READING_1, ORGANIZERS[1])]


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
    reminders, problems = plan(now, daily_cap=3)  # the guide of session 2 and 4 morning emails
    assert len(reminders) == 3 and "2 reminders wait" in problems[0]
    sent_today = [(r.key.kind, r.key.session, r.recipient, "sent", "", now.isoformat(), "")
                  for r in reminders]
    assert plan(at("2020-11-01", "10:30"), ledger(*sent_today), daily_cap=3)[0] == []
    tomorrow, _ = plan(at("2020-11-02"), ledger(*sent_today), daily_cap=3)
    assert len(tomorrow) == 2


def test_order_is_stable_and_sorted() -> None:
    first, _ = plan(at("2020-11-01"))
    again, _ = plan(at("2020-11-01"))
    assert first == again
    assert [r.kind for r in first] == ["guide"] + ["morning"] * 4
    assert [r.recipient for r in first[1:5]] == sorted(r.recipient for r in first[1:5])


# ---------------------------------------------------------------------------------------------
# One email per person per morning

ANA, BOB = "ana@example.org", "bob@example.org"
ACTIVE = (ANA, BOB, *ORGANIZERS)
GUIDE_2_SENT = ("guide", "2", ORGANIZERS[1], "sent", "", "2020-10-27T09:30:00-06:00", "")
MORNING_2 = "homework 1 + reading 2 @ 2020-11-03 17:00"


def sent(reminders: list[Reminder], now: dt.datetime) -> list[tuple[str, ...]]:
    return [(*key, "sent", "", now.isoformat(), "") for key in keys(reminders)]


def test_reading_and_homework_due_the_same_morning_become_one_email() -> None:
    now = at("2020-11-01")
    reminders, _ = plan(now, ledger(GUIDE_2_SENT))
    assert keys(reminders) == [("morning", MORNING_2, person) for person in ACTIVE]
    first = reminders[0]
    assert [(p.kind, p.session) for p in first.parts] == [("homework", "1"), ("reading", "2")]
    assert first.deadline == at("2020-11-03", "17:00")
    assert first.describe() == ("send homework reminder for session 1 and reading reminder "
                                "for session 2 to ana@example.org")
    assert plan(at("2020-11-01", "10:30"), ledger(GUIDE_2_SENT, *sent(reminders, now)))[0] == []


def test_reminders_sent_under_the_old_keys_are_not_sent_again_after_an_upgrade() -> None:
    """An older formsync keyed each reminder by its session alone ("2"). Those rows still
    settle their reminders, so a morning email carries only what is left."""
    def old(kind: str, session: str, person: str) -> tuple[str, ...]:
        return (kind, session, person, "sent", "", "2020-11-01T09:05:00-06:00", "")

    rows = [old("reading", "2", ANA), old("homework", "1", BOB),
            old("reading", "2", ORGANIZERS[1]), old("homework", "1", ORGANIZERS[1])]
    reminders, _ = plan(at("2020-11-01", "10:30"), ledger(GUIDE_2_SENT, *rows))
    assert sorted(keys(reminders)) == [("homework", "1", ANA),
                                       ("morning", MORNING_2, ORGANIZERS[0]),
                                       ("reading", "2 @ 2020-11-03 17:00", BOB)]


def test_an_interrupted_morning_email_is_recovered_under_its_own_key() -> None:
    pending = ("morning", MORNING_2, ANA, "pending", "", "2020-11-01T09:30:00-06:00", "")
    reminders, _ = plan(at("2020-11-01", "10:00"), ledger(GUIDE_2_SENT, pending))
    recovering = reminders[0]
    assert keys([recovering]) == [("morning", MORNING_2, ANA)]
    assert recovering.describe() == (
        "mark the interrupted homework reminder for session 1 and reading reminder for "
        "session 2 to ana@example.org as unknown and tell the organizers")
    assert recovering.deadline == at("2020-11-03", "17:00")
    assert ANA not in {r.recipient for r in reminders[1:]}  # maybe delivered: never twice


# ---------------------------------------------------------------------------------------------
# Change notices

FIFTH = "5 @ 2020-12-15 17:00"
TOLD_15 = ("morning", f"homework 4 + reading {FIFTH}", ANA, "sent", "",
           "2020-12-13T09:30:00-06:00", "")


def fifth_on(day: dt.date | None) -> list[Session]:
    """The seed sessions with session 5 confirmed on `day` (None: its date cleared)."""
    sessions = seed_sessions()
    sessions[4] = dataclasses.replace(sessions[4], date=day, start=dt.time(17) if day else None)
    return sessions


def changes(sessions: list[Session], now: dt.datetime, *rows: tuple[str, ...]
            ) -> tuple[list[Reminder], list[str]]:
    reminders, problems = plan_reminders(sessions, seed_members(), ledger(*rows),
                                         make_config(Path()), now)
    return [r for r in reminders if r.kind == "change"], [str(p) for p in problems]


def test_a_session_members_were_told_about_moves_one_notice_each_per_change() -> None:
    now = at("2020-12-14", "10:00")
    notices, _ = changes(fifth_on(dt.date(2020, 12, 22)), now, TOLD_15)
    assert keys(notices) == [("change", "5 @ 2020-12-22 17:00", person) for person in ACTIVE]
    assert (notices[0].previous, notices[0].due) == ("2020-12-15 17:00", now)
    assert notices[0].describe() == ("send change notice for session 5 (2020-12-15 17:00 → "
                                     "2020-12-22 17:00) to ana@example.org")
    told = [TOLD_15, *sent(notices, now)]
    assert changes(fifth_on(dt.date(2020, 12, 22)), at("2020-12-14", "11:00"), *told)[0] == []
    # The reading and homework reminders it announced are not sent again for the new date.
    later, _ = plan_reminders(fifth_on(dt.date(2020, 12, 22)), seed_members(), ledger(*told),
                              make_config(Path()), at("2020-12-20"))
    assert ANA not in {r.recipient for r in later}
    moved_again, _ = changes(fifth_on(dt.date(2020, 12, 29)), at("2020-12-15"), *told)
    assert keys(moved_again) == [("change", "5 @ 2020-12-29 17:00", p) for p in ACTIVE]
    assert moved_again[0].previous == "2020-12-22 17:00"


def test_a_cancelled_session_gets_a_notice_unless_no_session_has_a_date() -> None:
    now = at("2020-12-14")
    for sessions in (fifth_on(None), seed_sessions()[:4]):  # date cleared, row removed
        notices, _ = changes(sessions, now, TOLD_15)
        assert keys(notices) == [("change", "5 @ cancelled", person) for person in ACTIVE]
        assert notices[0].deadline == at("2020-12-15", "17:00")
    assert changes(fifth_on(None), at("2020-12-15", "17:00"), TOLD_15)[0] == []  # too late
    emptied = [dataclasses.replace(s, date=None) for s in seed_sessions()]
    notices, problems = changes(emptied, now, TOLD_15)
    assert notices == [] and "session 5 looks cancelled, but no session has a date" in \
        problems[0]


def test_moving_back_and_forth_tells_every_change_once() -> None:
    """15 → 22 → 15 → 22: the second change to the 22nd is a change of its own (#2); one sent
    to some members only is finished under the same key."""
    rows = [TOLD_15]
    steps = [(dt.date(2020, 12, 22), "5 @ 2020-12-22 17:00"), (dt.date(2020, 12, 15), FIFTH),
             (dt.date(2020, 12, 22), "5 @ 2020-12-22 17:00 #2")]
    for hour, (day, told) in enumerate(steps, start=10):
        now = at("2020-12-14", f"{hour}:00")
        notices, _ = changes(fifth_on(day), now, *rows)
        assert {r.key.session for r in notices} == {told} and len(notices) == 4
        rows += sent(notices[:1], now)
        rest, _ = changes(fifth_on(day), now, *rows)
        assert keys(rest) == keys(notices[1:])
        rows += sent(rest, now)
        assert changes(fifth_on(day), now, *rows)[0] == []


def test_no_notice_when_nobody_was_told_the_old_start() -> None:
    moved = fifth_on(dt.date(2020, 12, 22))
    assert changes(moved, at("2020-12-14"))[0] == []
    # Rows an older formsync wrote record no start: nothing to compare with.
    old = ("reading", "5", ANA, "sent", "", "2020-12-13T09:30:00-06:00", "")
    assert changes(moved, at("2020-12-14"), old)[0] == []


def test_an_interrupted_change_notice_is_finished_until_the_new_start() -> None:
    drafted = ("change", "5 @ 2020-12-22 17:00", ANA, "drafted", "r-9",
               "2020-12-14T09:30:00-06:00", "")
    reminders, _ = changes(fifth_on(dt.date(2020, 12, 22)), at("2020-12-14", "10:00"),
                           TOLD_15, drafted)
    assert reminders[0].recovery == "drafted"
    assert reminders[0].deadline == at("2020-12-22", "17:00")
    assert ANA not in {r.recipient for r in reminders[1:]}
