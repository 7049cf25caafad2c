"""calendar.ics read by a second, independent iCalendar implementation (vobject, as used by the
Radicale CalDAV server), the way a calendar application would import it."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import vobject
from tests.calendar.builders import make_config, sync
from tests.calendar.test_calendar_ics import seed_sessions

from formsync.backends import build_calendar

MEXICO = zoneinfo.ZoneInfo("America/Mexico_City")


def test_an_independent_parser_imports_the_seed_calendar(tmp_path: Path) -> None:
    config = make_config(tmp_path, timezone="America/Mexico_City")
    sync(build_calendar(config), seed_sessions(), config)
    text = config.path(config.calendar.ics_path).read_text(encoding="utf-8")
    calendar = vobject.readOne(text, validate=True)
    events = sorted(calendar.vevent_list, key=lambda e: e.dtstart.value)
    assert len(events) == 4
    assert len({e.uid.value for e in events}) == 4
    starts = [e.dtstart.value.astimezone(dt.UTC) for e in events]
    assert starts == [dt.datetime(2020, 10, 20, 22, tzinfo=dt.UTC),  # 17:00 CDT (UTC-5)
                      dt.datetime(2020, 11, 3, 23, tzinfo=dt.UTC),   # 17:00 CST (UTC-6)
                      dt.datetime(2020, 11, 17, 23, tzinfo=dt.UTC),
                      dt.datetime(2020, 12, 1, 23, tzinfo=dt.UTC)]
    for event in events:
        assert event.dtend.value - event.dtstart.value == dt.timedelta(hours=2, minutes=30)
        assert event.dtstart.value.astimezone(MEXICO).time() == dt.time(17)
    assert events[2].summary.value.startswith("Sesión 3 – Linear Neural Networks")
