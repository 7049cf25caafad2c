"""The calendar contract: what every calendar backend does, written once and run on each (as
vdirsyncer's storage tests are, and tests/contract/ for the sheets).

- `ics`: the `.ics` file in a temp folder. A write is a rewrite of the file (its bytes, or its
  mtime); a changed event is a VEVENT whose text changed.
- `google`: what formsync builds for a Google config (Google Calendar through the real
  googleapiclient against the emulator, with a service-account token, mirrored to the `.ics`
  file). Writes are the emulator's Calendar call counts plus the mirror's rewrite; a changed
  event is one whose etag changed.

Each run builds its backend afresh from the config, as the next cron run does.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import pytest
from icalendar import Calendar, Component, Event
from tests.calendar.builders import CALENDAR_ID, GROUP, NOW, fortnightly, make_config, sync
from tests.calendar.conftest import MakeConfig

from formsync.backends import build_calendar
from formsync.calendar.plan import CalendarAction
from formsync.config import Config
from formsync.emulator import CallCounts, Emulator
from formsync.emulator.calendar import CalendarApi
from formsync.model import Problem, Session
from formsync.ports import CalendarBackend

LATER = NOW + dt.timedelta(days=3)
OLD_MTIME = 1_000_000_000
ICS_STATUS = {"CONFIRMED": "confirmed", "TENTATIVE": "tentative", "CANCELLED": "cancelled"}
GOOGLE_WRITE = {"create": "calendar.events.insert", "update": "calendar.events.patch",
                "cancel": "calendar.events.delete", "revive": "calendar.events.update"}
GOOGLE_READ = "calendar.events.list"
PARTY = "End-of-year party"
PARTY_TIMES = {"start": dt.datetime(2020, 12, 18, 20, tzinfo=dt.UTC),
               "end": dt.datetime(2020, 12, 18, 23, tzinfo=dt.UTC)}


@dataclass(frozen=True)
class Stored:
    """A formsync event as its place stores it, reduced to what the contract compares."""

    status: str  # "confirmed", "tentative" or "cancelled"
    sequence: int
    summary: str
    start: str  # ISO 8601, with the offset
    version: str  # changes whenever the event is rewritten


class Inspector(Protocol):
    """Looks at a backend's place from outside formsync."""

    def stored(self) -> dict[str, Stored]:
        """formsync's events, by session number."""
        ...

    def total(self) -> int:
        """Every event in the place, formsync's (cancelled ones too) and others."""
        ...

    def add_foreign(self) -> None:
        """An event someone else made (a party), in the place formsync writes."""
        ...

    def foreign(self) -> list[Any]:
        """The events formsync did not make, exactly as stored."""
        ...

    def watch(self) -> None:
        """Start counting writes."""
        ...

    def writes(self) -> dict[str, int]:
        """The writes (and, on Google, the reads) since `watch`."""
        ...

    def cost(self, kinds: Sequence[str]) -> dict[str, int]:
        """What `writes` says after a run whose actions in this place were of `kinds`."""
        ...


@dataclass
class FileWatch:
    """Whether a file was rewritten since `watch`: new bytes, or at least a new mtime."""

    path: Path
    before: bytes | None = None

    def watch(self) -> None:
        self.before = self.path.read_bytes() if self.path.exists() else None
        if self.before is not None:
            os.utime(self.path, (OLD_MTIME, OLD_MTIME))

    def writes(self) -> dict[str, int]:
        if not self.path.exists():
            return {}
        rewritten = self.path.read_bytes() != self.before \
            or self.path.stat().st_mtime != OLD_MTIME
        return {f"write {self.path.name}": 1} if rewritten else {}

    def cost(self, kinds: Sequence[str]) -> dict[str, int]:
        """One rewrite per run that changed anything, whatever the number of events."""
        return {f"write {self.path.name}": 1} if kinds else {}


@dataclass
class IcsInspector:
    path: Path
    file: FileWatch = field(init=False)

    def __post_init__(self) -> None:
        self.file = FileWatch(self.path)

    def _events(self) -> list[Component]:
        if not self.path.exists():
            return []
        return list(Calendar.from_ical(self.path.read_bytes()).walk("VEVENT"))

    def stored(self) -> dict[str, Stored]:
        return {str(e["X-FORMSYNC-SESSION"]): Stored(
            ICS_STATUS[str(e["STATUS"])], int(str(e["SEQUENCE"])), str(e["SUMMARY"]),
            e.decoded("DTSTART").isoformat(), e.to_ical().decode())
            for e in self._events() if "X-FORMSYNC-HASH" in e}

    def total(self) -> int:
        return len(self._events())

    def add_foreign(self) -> None:
        calendar = Calendar.from_ical(self.path.read_bytes()) if self.path.exists() \
            else Calendar()
        party = Event()
        party.add("uid", "party@example.org")
        party.add("dtstamp", NOW)
        party.add("summary", PARTY)
        for name, moment in PARTY_TIMES.items():
            party.add(f"dt{name}", moment)
        calendar.add_component(party)
        self.path.write_bytes(calendar.to_ical())

    def foreign(self) -> list[Any]:
        return [e.to_ical() for e in self._events() if "X-FORMSYNC-HASH" not in e]

    def watch(self) -> None:
        self.file.watch()

    def writes(self) -> dict[str, int]:
        return self.file.writes()

    def cost(self, kinds: Sequence[str]) -> dict[str, int]:
        return self.file.cost(kinds)


@dataclass
class GoogleInspector:
    emulator: Emulator
    api: CalendarApi
    mirror: FileWatch
    before: CallCounts | None = None
    reads: int = 1

    def _ours(self, event: dict[str, Any]) -> bool:
        private = (event.get("extendedProperties") or {}).get("private") or {}
        return bool(private.get("formsync_group") == GROUP)

    def stored(self) -> dict[str, Stored]:
        return {e["extendedProperties"]["private"]["formsync_session"]: Stored(
            e["status"], e["sequence"], e["summary"], e["start"]["dateTime"], e["etag"])
            for e in self.api.events(CALENDAR_ID) if self._ours(e)}

    def total(self) -> int:
        return len(self.api.events(CALENDAR_ID))

    def add_foreign(self) -> None:
        self.api.put_event(CALENDAR_ID, {
            "summary": PARTY,
            **{name: {"dateTime": moment.isoformat()} for name, moment in PARTY_TIMES.items()}})

    def foreign(self) -> list[Any]:
        return [e for e in self.api.events(CALENDAR_ID) if not self._ours(e)]

    def watch(self) -> None:
        self.before = self.emulator.counts()
        self.mirror.watch()
        # formsync lists its events by the group's mark; while none carries it, it also lists
        # them by the group's name (events an older formsync wrote)
        marked = any((e.get("extendedProperties") or {}).get("private", {}).get(
            "formsync_group_id") for e in self.api.events(CALENDAR_ID))
        self.reads = 1 if marked else 2

    def writes(self) -> dict[str, int]:
        assert self.before is not None, "watch() first"
        calls = (self.emulator.counts() - self.before).of("calendar").by_name
        return {**calls, **self.mirror.writes()}

    def cost(self, kinds: Sequence[str]) -> dict[str, int]:
        calls = Counter({GOOGLE_READ: self.reads}) + Counter(GOOGLE_WRITE[kind] for kind in kinds)
        return {**calls, **self.mirror.cost(kinds)}


@dataclass(frozen=True)
class Run:
    actions: list[CalendarAction]
    problems: list[Problem]
    writes: dict[str, int]
    touched: set[str]  # sessions whose stored event changed

    @property
    def said(self) -> list[str]:
        return [action.describe() for action in self.actions]


@dataclass
class Kit:
    """A backend's config, its inspector, and its places: (target, label) in plan order."""

    config: Config
    inspector: Inspector
    places: tuple[tuple[str, str], ...]

    @property
    def targets(self) -> list[str]:
        return [target for target, _ in self.places]

    @property
    def wheres(self) -> list[str]:
        return [where for _, where in self.places]

    def backend(self) -> CalendarBackend:
        return build_calendar(self.config)

    def run(self, sessions: Sequence[Session], *, now: dt.datetime = NOW,
            force: bool = False) -> Run:
        before = self.inspector.stored()
        self.inspector.watch()
        actions, problems = sync(self.backend(), sessions, self.config, now=now, force=force)
        writes = self.inspector.writes()
        after = self.inspector.stored()
        touched = {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)}
        return Run(actions, problems, writes, touched)

    def read_back(self) -> Counter[str]:
        """How many of formsync's events each place reads back."""
        return Counter(event.target for event in self.backend().read())

    def stored(self, session: str) -> Stored:
        return self.inspector.stored()[session]


def ics_kit(tmp_path: Path) -> Kit:
    config = make_config(tmp_path)
    return Kit(config, IcsInspector(config.path(config.calendar.ics_path)),
               (("ics", "calendar.ics"),))


def google_kit(request: pytest.FixtureRequest) -> Kit:
    make: MakeConfig = request.getfixturevalue("google_config")
    config = make()
    mirror = FileWatch(config.path(config.calendar.ics_path))
    inspector = GoogleInspector(request.getfixturevalue("emulator"),
                                request.getfixturevalue("calendar_api"), mirror)
    return Kit(config, inspector, (("google", "Google Calendar"), ("ics", "calendar.ics")))


@pytest.fixture(params=["ics", "google"])
def kit(request: pytest.FixtureRequest, tmp_path: Path) -> Kit:
    """The emulator starts only for the Google backend."""
    return ics_kit(tmp_path) if request.param == "ics" else google_kit(request)


# -- a second run does nothing ---------------------------------------------------------------


def test_a_second_run_does_nothing(kit: Kit) -> None:
    sessions = fortnightly(16)
    first = kit.run(sessions)
    assert first.problems == []
    assert first.writes == kit.inspector.cost(["create"] * 16)
    assert first.touched == {str(n) for n in range(1, 17)}
    assert {kit.stored(str(n)).status for n in range(1, 17)} == {"confirmed"}
    assert kit.read_back() == {target: 16 for target in kit.targets}
    assert kit.inspector.total() == 16
    second = kit.run(sessions, now=LATER)
    assert (second.actions, second.problems) == ([], [])
    assert (second.writes, second.touched) == (kit.inspector.cost([]), set())
    kit.inspector.watch()
    assert kit.backend().apply([], LATER) == []
    assert kit.inspector.writes() == {}


# -- an edit touches one event ---------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """Cell changes by session number; what the plan says (before " in <place>"); and each
    edited event's summary and start afterwards."""

    cells: dict[int, dict[str, Any]]
    said: tuple[str, ...]
    after: dict[str, tuple[str, str]]

    def apply(self, sessions: list[Session]) -> list[Session]:
        return [replace(s, **self.cells.get(n, {})) for n, s in enumerate(sessions, start=1)]


RETITLE_3 = {"chapter": "Linear Neural Networks"}
MOVE_5 = {"start": dt.time(18), "end": dt.time(20)}
SAID_3 = "update event Sesión 3 – Linear Neural Networks on 2020-11-17 17:00"
SAID_5 = "move event Sesión 5 – Chapter 5 from 2020-12-15 17:00 to 2020-12-15 18:00"
AFTER_3 = ("Sesión 3 – Linear Neural Networks", "2020-11-17T17:00:00+01:00")
AFTER_5 = ("Sesión 5 – Chapter 5", "2020-12-15T18:00:00+01:00")
EDITS = {
    "retitle": Edit({3: RETITLE_3}, (SAID_3,), {"3": AFTER_3}),
    "move": Edit({5: MOVE_5}, (SAID_5,), {"5": AFTER_5}),
    "retitle and move": Edit(
        {3: {**RETITLE_3, "start": dt.time(18)}},
        ("move event Sesión 3 – Linear Neural Networks from 2020-11-17 17:00 to "
         "2020-11-17 18:00",),
        {"3": ("Sesión 3 – Linear Neural Networks", "2020-11-17T18:00:00+01:00")}),
    "two sessions": Edit({3: RETITLE_3, 5: MOVE_5}, (SAID_3, SAID_5),
                         {"3": AFTER_3, "5": AFTER_5}),
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_an_edit_touches_only_that_event(kit: Kit, edit: Edit) -> None:
    sessions = fortnightly(5)
    kit.run(sessions)
    run = kit.run(edit.apply(sessions), now=LATER)
    assert run.problems == []
    assert run.said == [f"{line} in {where}" for where in kit.wheres for line in edit.said]
    assert run.writes == kit.inspector.cost(["update"] * len(edit.after))
    assert run.touched == set(edit.after)
    for number, (label, start) in edit.after.items():
        event = kit.stored(number)
        assert (event.summary, event.start) == (f"{label} · {GROUP}", start)
        assert (event.status, event.sequence) == ("confirmed", 1)


# -- cancel, then revive ---------------------------------------------------------------------


WITHDRAWALS: dict[str, Callable[[list[Session]], list[Session]]] = {
    "row removed": lambda sessions: sessions[:3],
    "date removed": lambda sessions: [*sessions[:3], replace(sessions[3], date=None)],
}


@pytest.mark.parametrize("withdraw", WITHDRAWALS.values(), ids=WITHDRAWALS.keys())
def test_a_withdrawn_session_is_cancelled_and_kept_then_revived(
        kit: Kit, withdraw: Callable[[list[Session]], list[Session]]) -> None:
    sessions = fortnightly(4)
    kit.run(sessions)
    cancel = kit.run(withdraw(sessions), now=LATER)
    assert cancel.problems == []
    assert cancel.said == [f"cancel event Sesión 4 – Chapter 4 on 2020-12-01 17:00 in {where}"
                           for where in kit.wheres]
    assert (cancel.writes, cancel.touched) == (kit.inspector.cost(["cancel"]), {"4"})
    assert (kit.stored("4").status, kit.stored("4").sequence) == ("cancelled", 1)
    assert kit.inspector.total() == 4  # kept, so subscribers see the cancellation
    revive = kit.run(sessions, now=LATER + dt.timedelta(days=1))
    assert revive.problems == []
    assert [(a.target, type(a).__name__) for a in revive.actions] == [
        (target, "ReviveEvent") for target in kit.targets]
    assert (revive.writes, revive.touched) == (kit.inspector.cost(["revive"]), {"4"})
    assert (kit.stored("4").status, kit.stored("4").sequence) == ("confirmed", 2)
    again = kit.run(sessions, now=LATER + dt.timedelta(days=2))
    assert (again.actions, again.problems, again.writes) == ([], [], kit.inspector.cost([]))


# -- foreign events untouched ----------------------------------------------------------------


@pytest.mark.parametrize("synced", [0, 1], ids=["before the first run", "between runs"])
def test_events_formsync_did_not_make_are_never_touched(kit: Kit, synced: int) -> None:
    kit.run(fortnightly(synced))
    kit.inspector.add_foreign()
    foreign = kit.inspector.foreign()
    assert len(foreign) == 1
    grown = kit.run(fortnightly(2), now=LATER)
    assert grown.problems == []
    assert grown.writes == kit.inspector.cost(["create"] * (2 - synced))
    assert kit.inspector.foreign() == foreign
    assert kit.inspector.total() == 3
    assert kit.read_back() == {target: 2 for target in kit.targets}
    wiped = kit.run([], now=LATER + dt.timedelta(days=1), force=True)
    assert wiped.problems == []
    assert (wiped.writes, wiped.touched) == (kit.inspector.cost(["cancel"] * 2), {"1", "2"})
    assert kit.inspector.foreign() == foreign
    assert kit.inspector.total() == 3
