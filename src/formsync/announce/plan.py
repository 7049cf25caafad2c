"""What is due in each chat channel, from the sessions, the `Reminders` ledger, the config and
`now`. Pure: no clock, no I/O, no apprise.

Each post is keyed in the ledger (kind, session, channel), so each goes out once per channel:
  - ``announce_next``      the next session, `announce_days_before` days before, at send_time;
  - ``announce_change``    a session members were told about moved, was cancelled or changed
                           guide (the Session cell carries what it now says, so each change
                           is posted once, and a change back is posted again);
  - ``announce_recording`` a session's Recording cell, once filled;
  - ``announce_no_guide``  a call for a guide, `no_guide_days_before` days before;
  - ``announce_setup``     when formsync started announcing in a channel: recordings of
                           sessions before it are not announced (they were long known).
Rows of posts record in `Message id` what they told ("<start>|<guide>", or "cancelled"), which
is what a change is measured against.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from formsync.announce import messages
from formsync.announce.channels import Channel
from formsync.announce.messages import Wording
from formsync.config import Config
from formsync.model import Problem, Session, Table
from formsync.names import session_ident
from formsync.reminders.ledger import (
    NOT_MAIL_PREFIX,
    SENT,
    UNKNOWN,
    Entry,
    LedgerKey,
    is_open,
    parse_time,
    read_ledger,
)

STEP = "announce"
NEXT, CHANGE, RECORDING, NO_GUIDE, SETUP = (
    "announce_next", "announce_change", "announce_recording", "announce_no_guide",
    "announce_setup")
POSTING = "posting"  # a post is being made; found on a later run it becomes `unknown`
CANCELLED = "cancelled"
_ORDER = {SETUP: 0, CHANGE: 1, NO_GUIDE: 2, NEXT: 3, RECORDING: 4}
_LABELS = {NEXT: "next-session announcement", CHANGE: "change announcement",
           RECORDING: "recording announcement", NO_GUIDE: "call for a guide"}


@dataclass(frozen=True)
class Announcement:
    """One post to one channel (or, for kind `announce_setup`, the channel's start row)."""

    kind: str
    session: str  # the ledger's Session cell
    channel: str  # the channel's label
    due: dt.datetime
    text: str = ""
    told: str = ""  # what the post tells, recorded in `Message id` (see above)
    deadline: dt.datetime | None = None  # never posted at or after it (the session's start)
    recovery: bool = False  # a post an interrupted run left `posting`

    @property
    def key(self) -> LedgerKey:
        return LedgerKey(self.kind, self.session, self.channel)

    def label(self) -> str:
        about = self.session.partition("@")[0]
        return f"{_LABELS.get(self.kind, self.kind)} of session {about} in {self.channel}"

    def describe(self) -> str:
        if self.kind == SETUP:
            return f"record {self.due.isoformat(timespec='minutes')} as the start of " \
                   f"announcements in {self.channel}"
        if self.recovery:
            return f"mark the interrupted {self.label()} as unknown and report it"
        shown = "\n".join(f"    | {line}" for line in self.text.splitlines())
        return f"post the {self.label()}:\n{shown}"

    def sort_key(self) -> tuple[object, ...]:
        number = int(self.session) if self.session.isdigit() else 10**9
        return (not self.recovery, self.due, _ORDER.get(self.kind, 9), number, self.session,
                self.channel)


def start_of(session: Session, config: Config) -> dt.datetime | None:
    """The confirmed start; None for an undated or merely proposed session."""
    if session.date is None:
        return None
    return dt.datetime.combine(session.date, session.start or config.group.default_start,
                               tzinfo=config.group.tz)


def told_text(session: Session, config: Config) -> str:
    start = start_of(session, config)
    return f"{start.isoformat(timespec='minutes')}|{session.guide.strip()}" if start else \
        CANCELLED


@dataclass(frozen=True)
class _Run:
    config: Config
    now: dt.datetime
    entries: Mapping[LedgerKey, Entry]
    wording: Wording

    def open(self, key: LedgerKey) -> bool:
        entry = self.entries.get(key)
        return entry is None or (is_open(entry) and entry.status != POSTING)

    def due_on(self, start: dt.datetime, days: int) -> dt.datetime:
        day = start.date() - dt.timedelta(days=days)
        return dt.datetime.combine(day, self.config.announce.send_time,
                                   tzinfo=self.config.group.tz)


def plan_announcements(sessions: Sequence[Session], ledger: Table | None, config: Config,
                       channels: Sequence[Channel], now: dt.datetime
                       ) -> tuple[list[Announcement], list[Problem]]:
    """The posts due now in each channel (stable order), with what organizers should know."""
    tz = config.group.tz
    now = now.astimezone(tz)
    entries = {k: e for k, e in read_ledger(ledger).items()
               if k.kind.startswith(NOT_MAIL_PREFIX)}
    wording = Wording(config.group.language, config.group.timezone,
                      config.calendar.meeting_link, config.announce.readme_url)
    run = _Run(config, now, entries, wording)
    found = [a for channel in channels for a in _channel(run, channel, sessions)]
    found += [Announcement(e.key.kind, e.key.session, e.key.recipient, now, told=e.message_id,
                           recovery=True)
              for e in entries.values() if e.status == POSTING]
    return sorted(found, key=Announcement.sort_key), _problems(channels)


def _problems(channels: Sequence[Channel]) -> list[Problem]:
    return [Problem(STEP, f"the channel {c.label} has no URL: the environment variable {c.env} "
                          "is not set", fix=f"set {c.env} to the channel's apprise URL, or "
                          "remove it from announce.urls_env")
            for c in channels if c.env and not c.scheme]


def _channel(run: _Run, channel: Channel, sessions: Sequence[Session]) -> list[Announcement]:
    if channel.env and not channel.scheme:
        return []  # reported once by _problems
    setup = run.entries.get(LedgerKey(SETUP, "", channel.label))
    since = parse_time(setup.time, run.config.group.tz) if setup else None
    found = [] if setup else [Announcement(SETUP, "", channel.label, run.now)]
    for session in sessions:
        found += _session(run, channel, session, since or run.now)
    for gone in _removed(run, channel, sessions):
        found += _changes(run, channel, gone, session_ident(gone))
    return [a for a in found if a.kind == SETUP or a.recovery or _due(run, a)]


def _due(run: _Run, announcement: Announcement) -> bool:
    return announcement.due <= run.now and (
        announcement.deadline is None or run.now < announcement.deadline) and \
        run.open(announcement.key)


def _session(run: _Run, channel: Channel, session: Session, since: dt.datetime
             ) -> list[Announcement]:
    ident = session_ident(session)
    start = start_of(session, run.config)
    found = _changes(run, channel, session, ident)
    if start is None:
        return found
    limit, markdown = channel.limit, channel.markdown
    settings = run.config.announce
    told = told_text(session, run.config)
    found.append(Announcement(
        NEXT, ident, channel.label, run.due_on(start, settings.announce_days_before),
        messages.next_session(run.wording, session, start, limit, markdown), told, start))
    if not session.guide.strip():
        found.append(Announcement(
            NO_GUIDE, ident, channel.label, run.due_on(start, settings.no_guide_days_before),
            messages.no_guide(run.wording, session, start, limit, markdown), told, start))
    if session.recording.strip() and start >= since and start <= run.now:
        found.append(Announcement(RECORDING, ident, channel.label, start,
                                  messages.recording(run.wording, session, limit, markdown)))
    return found


def _changes(run: _Run, channel: Channel, session: Session, ident: str) -> list[Announcement]:
    """A change since the last post that told members about this session."""
    told = _last_told(run.entries, channel.label, ident)
    now_told = told_text(session, run.config)
    if told is None or told == now_told:
        return []
    old_start = parse_time(told.partition("|")[0], run.config.group.tz)
    new_start = start_of(session, run.config)
    if not any(s is not None and s > run.now for s in (old_start, new_start)):
        return []  # all in the past: nobody needs telling
    what = _what_changed(run.wording, told, now_told, old_start, new_start)
    text = messages.change(run.wording, session, what, channel.limit, channel.markdown)
    return [Announcement(CHANGE, f"{ident}@{now_told}", channel.label, run.now, text, now_told)]


def _removed(run: _Run, channel: Channel, sessions: Sequence[Session]) -> list[Session]:
    """Sessions members were told about whose row is gone from Sessions: cancelled."""
    present = {session_ident(s) for s in sessions}
    told = {k.session.partition("@")[0] for k in run.entries
            if k.recipient == channel.label and k.kind in (NEXT, CHANGE)}
    return [Session(row=0, key=ident, chapter="") for ident in sorted(told - present)]


def _last_told(entries: Mapping[LedgerKey, Entry], channel: str, ident: str) -> str | None:
    posts = [e for k, e in entries.items() if k.recipient == channel
             and k.kind in (NEXT, CHANGE) and k.session.partition("@")[0] == ident
             and e.status in (SENT, UNKNOWN) and e.message_id]
    return max(posts, key=lambda e: e.row).message_id if posts else None


def _what_changed(wording: Wording, told: str, now_told: str, old_start: dt.datetime | None,
                  new_start: dt.datetime | None) -> list[str]:
    old_when = wording.when(old_start) if old_start else "?"
    if new_start is None:
        return [wording.word("cancelled", old=old_when)]
    lines = []
    if old_start != new_start:
        lines.append(wording.word("moved", new=wording.when(new_start), old=old_when))
    old_guide, new_guide = told.partition("|")[2], now_told.partition("|")[2]
    if old_guide != new_guide:
        nobody = wording.word("nobody")
        lines.append(wording.word("guide_changed", new=new_guide or nobody,
                                  old=old_guide or nobody))
    return lines
