"""Homework reminders through whole syncs of the demo, day by day: only members who have not
handed in that session's exercises are reminded, and the guide of the session they are due at
gets, one day before, one email listing the submissions (names and links)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from email import policy
from email.parser import BytesParser
from pathlib import Path

from formsync.backends import run_places
from formsync.demo import build_demo
from formsync.local.sheets import LocalSheets
from formsync.model import REMINDERS, SESSIONS
from formsync.reminders.keys import read_parts
from formsync.sync import enabled_steps, run_sync

MEXICO = zoneinfo.ZoneInfo("America/Mexico_City")
ACTIVE = 30  # the demo's active members
# Handed in before the homework reminder's morning (session 1: 11-01, session 3: 11-29).
HANDED_IN = {"1": {"ana.garcia@example.org"},
             "3": {"ana.garcia@example.org", "jose.martinez@example.org",
                   "carmen.perez@example.org"}}


def homework_sent(root: Path) -> dict[str, Counter[str]]:
    """Per day, the homework reminders sent (alone or in a morning email) by session."""
    table = LocalSheets(root).read(REMINDERS)
    assert table is not None
    at = {name: table.header.index(name) for name in ("Kind", "Session", "Status", "Time",
                                                      "Recipient")}
    found: dict[str, Counter[str]] = {}
    for row in table.rows:
        if row[at["Status"]] != "sent":
            continue
        kind, cell = row[at["Kind"]], row[at["Session"]]
        parts = read_parts(cell) if kind == "morning" else [(kind, cell)]
        for part, session in parts:
            if part in ("homework", "review"):
                key = f"{part} {session.split(' ')[0]}"
                found.setdefault(row[at["Time"]][:10], Counter())[key] += 1
    return found


def reminded(root: Path, session: str) -> set[str]:
    """Who got the homework reminder of `session`."""
    table = LocalSheets(root).read(REMINDERS)
    assert table is not None
    k, s, r = (table.header.index(n) for n in ("Kind", "Session", "Recipient"))
    return {row[r] for row in table.rows
            if ("homework", session) in [(part, cell.split(" ")[0]) for part, cell in (
                read_parts(row[s]) if row[k] == "morning" else [(row[k], row[s])])]}


def test_only_those_missing_are_reminded_and_the_guide_gets_the_list(tmp_path: Path) -> None:
    root = tmp_path / "group"
    config = build_demo(root)
    sessions = root / "Sessions.csv"
    table = LocalSheets(root).read(SESSIONS)
    assert table is not None
    guide = table.header.index("Guide")
    rows = [list(row) for row in table.rows]
    rows[3][guide] = "Ana García"  # session 4, where session 3's exercises are due
    from formsync.local.sheets import render_csv
    from formsync.model import Table

    sessions.write_text(render_csv(Table(SESSIONS, table.header,
                                         tuple(map(tuple, rows)))), encoding="utf-8")
    steps = enabled_steps(config, None)
    day = dt.date(2020, 10, 30)
    while day <= dt.date(2020, 12, 1):
        now = dt.datetime.combine(day, dt.time(9, 30), tzinfo=MEXICO)
        run_sync(config, run_places(config, steps), now, steps=steps)
        again = run_sync(config, run_places(config, steps), now, steps=steps)
        assert again.plan.is_empty(), again.plan.describe()
        day += dt.timedelta(days=1)
    assert homework_sent(root) == {
        "2020-11-01": Counter({"homework 1": ACTIVE - 1}),
        "2020-11-29": Counter({"homework 3": ACTIVE - 3}),
        "2020-11-30": Counter({"review 3": 1}),
    }
    for session, done in HANDED_IN.items():
        told = reminded(root, session)
        assert len(told) == ACTIVE - len(done) and not told & done
    assert "luis.hernandez@example.org" in reminded(root, "1")  # handed in late, after it
    (review,) = (root / "outbox").glob("review*.eml")
    message = BytesParser(policy=policy.default).parsebytes(review.read_bytes())
    assert message["To"].addresses[0].addr_spec == "ana.garcia@example.org"
    assert message["Subject"] == "3 entregas de la sesión 3 para revisar"
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "- Ana García Ruiz: https://colab.research.google.com/drive/1anaS3" in text
    assert "- José Martínez: https://github.com/jose-m/d2l/blob/main/s03.ipynb" in text
    assert "Carmen Pérez" in text and "María" not in text  # her link was not a link
