"""The seed term as organizers live it, through whole syncs of the demo workspace: one run a day
at 09:30, and a second run that must plan nothing. An organizer moves session 4 by editing the
README table (as the group did on GitHub): the edit reaches Sessions, members who were told
about the 1st get one change notice, and nothing is sent again for the new date. Homework and
reading reminders due the same morning arrive as one email; the three members who handed in
session 3's exercises (the demo's submissions.csv) get the reading reminder alone.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from pathlib import Path

from formsync.backends import run_places
from formsync.demo import build_demo
from formsync.local.sheets import LocalSheets
from formsync.model import REMINDERS, SESSIONS
from formsync.sync import enabled_steps, run_sync

MEXICO = zoneinfo.ZoneInfo("America/Mexico_City")
FIRST, LAST = dt.date(2020, 11, 20), dt.date(2020, 12, 4)
EDITED_ON = dt.date(2020, 11, 30)
OLD_CELL, NEW_CELL = "01-12-2020 17:00 - 19:30", "03-12-2020 17:00 - 19:30"
MEMBERS = 30  # the demo's active members
HANDED_IN_3 = 3  # Ana, José and Carmen handed in session 3's exercises before 11-29

# (day, ledger kind, ledger Session cell): how many rows went out as sent that day.
EXPECTED = {
    ("2020-11-20", "problems", "2020-11-20 09:30:00"): 1,  # the digest of the sample's errors
    ("2020-11-21", "no_guide", "4"): 1,
    ("2020-11-21", "announce_no_guide", "4"): 1,
    ("2020-11-29", "morning", "homework 3 + reading 4 @ 2020-12-01 17:00"): MEMBERS - HANDED_IN_3,
    ("2020-11-29", "reading", "4 @ 2020-12-01 17:00"): HANDED_IN_3,
    ("2020-11-29", "announce_next", "4"): 1,
    ("2020-11-30", "change", "4 @ 2020-12-03 17:00"): MEMBERS,  # the README hand edit
    ("2020-11-30", "announce_change", "4@2020-12-03T17:00-06:00|"): 1,
    ("2020-12-04", "announce_recording", "4"): 1,
    # 12-01: no reading reminder for the new date: members were told, then told of the move.
}


def sent_by_day(root: Path) -> Counter[tuple[str, str, str]]:
    table = LocalSheets(root).read(REMINDERS)
    assert table is not None
    at = {name: table.header.index(name) for name in ("Kind", "Session", "Status", "Time")}
    return Counter((row[at["Time"]][:10], row[at["Kind"]], row[at["Session"]])
                   for row in table.rows if row[at["Status"]] == "sent")


def test_a_readme_hand_edit_moves_a_session_and_members_get_one_change_notice(
        tmp_path: Path) -> None:
    root = tmp_path / "group"
    config = build_demo(root)
    steps = enabled_steps(config, None)
    day = FIRST
    while day <= LAST:
        if day == EDITED_ON:
            readme = root / "README.md"
            text = readme.read_text(encoding="utf-8")
            assert OLD_CELL in text
            readme.write_text(text.replace(OLD_CELL, NEW_CELL), encoding="utf-8")
        now = dt.datetime.combine(day, dt.time(9, 30), tzinfo=MEXICO)
        run_sync(config, run_places(config, steps), now, steps=steps)
        again = run_sync(config, run_places(config, steps), now, steps=steps)
        assert again.plan.is_empty(), again.plan.describe()
        today = {key: n for key, n in sent_by_day(root).items() if key[0] == day.isoformat()}
        assert today == {key: n for key, n in EXPECTED.items() if key[0] == day.isoformat()}
        day += dt.timedelta(days=1)
    sessions = LocalSheets(root).read(SESSIONS)
    assert sessions is not None
    fourth = next(row for row in sessions.rows if row[0].strip() == "4")
    assert "2020-12-03" in fourth  # the README edit is in Sessions, the source of truth
    assert NEW_CELL in (root / "README.md").read_text(encoding="utf-8")
    morning = [p for p in (root / "outbox").glob("*.eml") if p.name.startswith("morning")]
    assert len(morning) == MEMBERS - HANDED_IN_3  # one email per member that morning, not two
