"""What is due: from sessions, members, the ledger, the config and `now`, the reminders to send.

Pure: no clock, no I/O. A reminder falls due at `send_time` (group-local) on its day; any run at
or after that instant sends it, unless the ledger settled it or its session has started.
A person's reading and homework reminders due the same day go out as one morning email. A
reading reminder's key records the start it announced (keys.py); when a session moves or is
cancelled after that, every active member gets one change notice per change.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from formsync.columns import fold
from formsync.config import Config
from formsync.dates import UNDATED
from formsync.model import REMINDERS, SESSIONS, Member, Problem, Session, Table
from formsync.names import guide_matches, session_ident
from formsync.reminders.keys import (
    Told,
    parse_start,
    parts_text,
    read_parts,
    read_told,
    start_text,
)
from formsync.reminders.ledger import (
    COUNTED,
    FAILED,
    INTERRUPTED,
    SETUP_KIND,
    Entry,
    LedgerKey,
    duplicates,
    is_open,
    orphan_suspects,
    read_rows,
    sent_on,
    setup_time,
    winner,
)

STEP = "reminders"
HOMEWORK, READING, GUIDE, NO_GUIDE, WELCOME, NOTICE = (
    "homework", "reading", "guide", "no_guide", "welcome", "notice")
PROBLEMS = "problems"  # the organizers' digest of new problems (formsync.problems)
REVIEW = "review"  # to the guide: the homework submissions due at their session
KIND_ORDER = {SETUP_KIND: 0, NOTICE: 1, PROBLEMS: 1, WELCOME: 2, NO_GUIDE: 3, GUIDE: 4,
              REVIEW: 4, READING: 5, HOMEWORK: 6}
_LABELS = {HOMEWORK: "homework reminder", READING: "reading reminder", GUIDE: "guide reminder",
           NO_GUIDE: "no-guide alert", WELCOME: "welcome email",
           NOTICE: "notice of unconfirmed reminders", PROBLEMS: "digest of new problems",
           REVIEW: "list of homework submissions"}
_NO_CONTENT = UNDATED | {"na", "n/a", "n.a.", "none", "ninguno", "ninguna"}
MORNING = "morning"  # one email carrying the reading and homework reminders due one morning
CHANGE = "change"  # a session members were told about moved or was cancelled
_MERGED = (READING, HOMEWORK)


@dataclass(frozen=True)
class Reminder:
    """One email to one person (or, for kind `setup`, the ledger's start-time row)."""

    kind: str
    session: str  # the session's key ("3"); for homework, the session that set it
    recipient: str  # email address, lower case
    due: dt.datetime  # aware
    language: str = "es"
    name: str = ""
    deadline: dt.datetime | None = None  # the session's start: never sent at or after it
    recovery: str = ""  # ledger status of an interrupted send ("pending", "drafted")
    message_id: str = ""  # the draft id of an interrupted Gmail send
    told: str = ""  # the key's Session cell when it says more than the session (keys.py)
    parts: tuple[Reminder, ...] = ()  # a morning email: the reminders it carries
    previous: str = ""  # a change notice: the start members were told before (keys.py)

    @property
    def key(self) -> LedgerKey:
        return LedgerKey(self.kind, self.told or self.session, self.recipient)

    def sort_key(self) -> tuple[object, ...]:
        number = int(self.session) if self.session.isdigit() else 10**9
        order = min(KIND_ORDER.get(r.kind, 99) for r in self.parts or (self,))
        return (self.recovery == "", self.due, order, number,
                self.session, self.recipient)

    def label(self) -> str:
        """'homework reminder for session 3 to ana@example.org'."""
        if self.parts:
            to = f" to {self.recipient}"
            return " and ".join(part.label().removesuffix(to) for part in self.parts) + to
        if self.kind == CHANGE:
            now = read_told(self.told).start
            change = f"{self.previous} → {now}" if self.previous else now
            return f"change notice for session {self.session} ({change}) to {self.recipient}"
        label = _LABELS.get(self.kind, f"{self.kind} reminder")
        about = {NOTICE: "", PROBLEMS: f" first seen {self.session}"}.get(
            self.kind, f" for session {self.session}" if self.session else "")
        return f"{label}{about} to {self.recipient}"

    def describe(self) -> str:
        if self.kind == SETUP_KIND:
            return (f"record {self.due.isoformat(timespec='minutes')} as the start of reminders "
                    f"in {REMINDERS} (members registered before it get no welcome email)")
        text = self.label()
        if self.recovery == "drafted":
            return f"finish the interrupted {text} (Gmail draft {self.message_id})"
        if self.recovery:
            return f"mark the interrupted {text} as unknown and tell the organizers"
        return f"send {text}"


@dataclass(frozen=True)
class DraftSweep:
    """Look for the Gmail drafts that interrupted sends may have left (Google can create a
    draft after the client gave up): adopt the one of a reminder sent now, delete the rest."""

    keys: tuple[LedgerKey, ...]

    def describe(self) -> str:
        return (f"look for Gmail drafts that {len(self.keys)} interrupted reminder send(s) may "
                "have left, and send or delete them")


# ---------------------------------------------------------------------------------------------
# Time


def local(moment: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def start_of(session: Session, config: Config) -> dt.datetime | None:
    """The confirmed start instant; None for an undated or merely proposed session."""
    if session.date is None:
        return None
    return dt.datetime.combine(session.date, session.start or config.group.default_start,
                               tzinfo=config.group.tz)


def due_before(start: dt.datetime, days: int, config: Config) -> dt.datetime:
    day = start.date() - dt.timedelta(days=days)
    return dt.datetime.combine(day, config.reminders.send_time, tzinfo=config.group.tz)


def session_id(session: Session) -> str:
    return session_ident(session)


def has_content(cell: str) -> bool:
    return fold(cell) not in _NO_CONTENT


def following_sessions(sessions: Sequence[Session]) -> dict[int, Session]:
    """Each dated session's row → the session after it in time (confirmed or proposed)."""
    dated = sorted((s for s in sessions if s.day() is not None),
                   key=lambda s: (s.day(), s.start or dt.time(), s.row))
    return {before.row: after for before, after in itertools.pairwise(dated)}


def next_session(sessions: Sequence[Session], session: Session) -> Session | None:
    """The session after `session` in time (confirmed or proposed), or None."""
    return following_sessions(sessions).get(session.row)


# ---------------------------------------------------------------------------------------------
# People


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    language: str


def language_of(member: Member | None, config: Config) -> str:
    if member is not None and member.language in ("es", "en"):
        return member.language
    return config.group.language


def reachable(members: Iterable[Member]) -> dict[str, Member]:
    """Active members by email: unsubscribed and removed members get nothing."""
    return {m.email: m for m in members if m.email and m.is_active()}


def organizers(config: Config, members: Mapping[str, Member]) -> list[Person]:
    people = []
    for name, address in email.utils.getaddresses(list(config.group.organizers)):
        address = address.strip().lower()
        if "@" in address:
            member = members.get(address)
            people.append(Person(address, name or (member.name if member else ""),
                                 language_of(member, config)))
    return sorted({p.email: p for p in people}.values(), key=lambda p: p.email)


def find_guide(cell: str, members: Sequence[Member]) -> list[Member]:
    """Members the Guide cell names: full name or email, else a unique start of the name
    ("Toño" finds "Toño Díaz"); case and accents ignored (see formsync.names)."""
    return guide_matches(cell, members)


# ---------------------------------------------------------------------------------------------
# Planning


@dataclass(frozen=True)
class _Context:
    config: Config
    now: dt.datetime
    members: Sequence[Member]
    active: Mapping[str, Member]
    organizers: Sequence[Person]
    problems: list[Problem]
    following: Mapping[int, Session]  # session row → the next session
    # (email, session) of the homework handed in; None: the homework Form was not read, so
    # homework reminders go to every active member and no guide gets a list.
    handed_in: Collection[tuple[str, str]] | None = None


def plan_reminders(sessions: Sequence[Session], members: Sequence[Member], ledger: Table | None,
                   config: Config, now: dt.datetime, *,
                   handed_in: Collection[tuple[str, str]] | None = None
                   ) -> tuple[list[Reminder | DraftSweep], list[Problem]]:
    """The reminders to send now (stable order) and what organizers should know."""
    tz = config.group.tz
    now = local(now, tz)
    rows = read_rows(ledger)
    entries = {key: winner(found) for key, found in rows.items()}
    problems: list[Problem] = duplicates(rows)
    active = reachable(members)
    context = _Context(config, now, members, active, organizers(config, active), problems,
                       following_sessions(sessions), handed_in)
    candidates: list[Reminder] = []
    for session in sessions:
        candidates += _session_reminders(session, context, problems)
    since = config.reminders.welcome_since
    setup: list[Reminder] = []
    if since is None:
        since = setup_time(entries, tz)
        if since is None:
            since = now
            setup = [Reminder(SETUP_KIND, "", "", now)]
    candidates += _welcomes(context, local(since, tz))
    candidates += _change_notices(sessions, entries, context)
    settled = _settled_parts(entries)
    due = _mornings(_once(r for r in candidates if _is_due(r, now, entries, settled)))
    due.sort(key=Reminder.sort_key)
    problems += _requeued(due, entries)
    room = max(0, config.reminders.daily_cap - sent_on(entries, now.date(), tz))
    if len(due) > room:
        problems.append(Problem(STEP, f"{len(due) - room} reminders wait for a later run: "
                                      f"the daily cap of {config.reminders.daily_cap} is reached",
                                fix="they go out on the next runs; raise reminders.daily_cap "
                                    "if your provider allows more"))
    recovering = _recoveries(entries, sessions, config)
    suspects = orphan_suspects(rows, now, tz) if config.reminders.transport == "gmail" else set()
    sweep = [DraftSweep(tuple(sorted(suspects)))] if suspects else []
    return [*setup, *sweep, *recovering, *due[:room]], problems


def _is_due(reminder: Reminder, now: dt.datetime, entries: Mapping[LedgerKey, Entry],
            settled: set[tuple[str, str, str]]) -> bool:
    """Due, its session not started, and settled neither by its own ledger row nor (a reading
    or homework reminder) by one that carried it under another key: a morning email, a reading
    reminder that announced another start, a row an older formsync wrote."""
    return (reminder.due <= now and (reminder.deadline is None or now < reminder.deadline)
            and is_open(entries.get(reminder.key))
            and (reminder.kind, reminder.session, reminder.recipient) not in settled)


def _settled_parts(entries: Mapping[LedgerKey, Entry]) -> set[tuple[str, str, str]]:
    """(kind, session, recipient) of every reading and homework reminder a settled row sent."""
    found: set[tuple[str, str, str]] = set()
    for key, entry in entries.items():
        if key.kind in (*_MERGED, MORNING) and not is_open(entry):
            parts = read_parts(key.session) if key.kind == MORNING else [(key.kind, key.session)]
            found.update((kind, read_told(text).session, key.recipient) for kind, text in parts)
    return found


def _once(reminders: Iterable[Reminder]) -> list[Reminder]:
    """The first of reminders that only differ by the start they announce (two rows of one
    session with different dates: a problem the calendar step reports)."""
    first: dict[tuple[str, str, str], Reminder] = {}
    for reminder in reminders:
        first.setdefault((reminder.kind, reminder.session, reminder.recipient), reminder)
    return list(first.values())


def _mornings(due: Sequence[Reminder]) -> list[Reminder]:
    """One email per person per morning: their reading and homework reminders due the same
    day become one morning email, under a key of its own that names them all."""
    mornings: dict[tuple[str, dt.date], list[Reminder]] = {}
    for reminder in due:
        if reminder.kind in _MERGED:
            mornings.setdefault((reminder.recipient, reminder.due.date()), []).append(reminder)
    alone = [r for r in due if r.kind not in _MERGED]
    return alone + [parts[0] if len(parts) == 1 else _morning(parts)
                    for parts in mornings.values()]


def _morning(parts: Sequence[Reminder]) -> Reminder:
    ordered = tuple(sorted(parts, key=_term_order))
    first = next((r for r in ordered if r.kind == READING), ordered[0])
    deadlines = [r.deadline for r in ordered if r.deadline is not None]
    return Reminder(MORNING, first.session, first.recipient, min(r.due for r in ordered),
                    first.language, first.name, min(deadlines, default=None),
                    told=parts_text([(r.kind, r.key.session) for r in ordered]), parts=ordered)


def _term_order(reminder: Reminder) -> tuple[int, str, int]:
    number = int(reminder.session) if reminder.session.isdigit() else 10**9
    return (number, reminder.session, KIND_ORDER.get(reminder.kind, 99))


def _requeued(due: Sequence[Reminder], entries: Mapping[LedgerKey, Entry]) -> list[Problem]:
    """Reminders an earlier version marked failed although the account, not the recipient,
    was refused: they go out again now, once (the new attempt supersedes the failed row, or,
    when the key changed since, a morning email or a reading reminder's new key settles it)."""
    failed = {(e.key.kind, read_told(e.key.session).session, e.key.recipient): e
              for e in entries.values() if e.status == FAILED}
    again = [failed[found] for r in due for part in r.parts or (r,)
             if (found := (part.kind, part.session, part.recipient)) in failed]
    if not again:
        return []
    return [Problem(STEP, f"{len(again)} reminders that an earlier run marked failed because "
                          "the account (not the recipient) was refused are sent again now",
                    sheet=REMINDERS, row=again[0].row)]


def _recoveries(entries: Mapping[LedgerKey, Entry], sessions: Sequence[Session],
                config: Config) -> list[Reminder]:
    starts = {session_id(s): start_of(s, config) for s in sessions}
    found = []
    for entry in entries.values():
        if entry.status in INTERRUPTED:
            key = entry.key
            moment = _entry_time(entry, config)
            if key.kind == MORNING:
                reminder = _morning([_recovered(kind, text, key.recipient, moment, starts,
                                                sessions, config)
                                     for kind, text in read_parts(key.session)])
            else:
                reminder = _recovered(key.kind, key.session, key.recipient, moment, starts,
                                      sessions, config)
            found.append(replace(reminder, told=key.session if reminder.told else "",
                                 recovery=entry.status, message_id=entry.message_id))
    return sorted(found, key=Reminder.sort_key)


def _recovered(kind: str, text: str, recipient: str, moment: dt.datetime,
               starts: Mapping[str, dt.datetime | None], sessions: Sequence[Session],
               config: Config) -> Reminder:
    """The reminder a ledger row's (kind, Session cell, recipient) stands for."""
    told = read_told(text)
    if kind == CHANGE:
        deadline = parse_start(told.start, config.group.tz)
    else:
        deadline = _deadline(LedgerKey(kind, told.session, recipient), starts, sessions, config)
    return Reminder(kind, told.session, recipient, moment, language=config.group.language,
                    deadline=deadline, told=text if text != told.session else "")


def _entry_time(entry: Entry, config: Config) -> dt.datetime:
    try:
        return local(dt.datetime.fromisoformat(entry.time), config.group.tz)
    except ValueError:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _deadline(key: LedgerKey, starts: Mapping[str, dt.datetime | None],
              sessions: Sequence[Session], config: Config) -> dt.datetime | None:
    if key.kind not in (HOMEWORK, REVIEW):
        return starts.get(key.session)
    for session in sessions:
        if session_id(session) == key.session:
            following = next_session(sessions, session)
            return start_of(following, config) if following else None
    return None


def _session_reminders(session: Session, context: _Context,
                       problems: list[Problem]) -> list[Reminder]:
    start = start_of(session, context.config)
    if start is None:
        return []
    found = [*_readings(session, start, context), *_guide(session, start, context, problems),
             *_no_guide(session, start, context)]
    following = context.following.get(session.row)
    if following is not None and has_content(session.exercises):
        found += _homework(session, following, context)
    return found


def _to_members(kind: str, session: Session, due: dt.datetime, deadline: dt.datetime,
                context: _Context, told: str = "") -> list[Reminder]:
    if not due <= context.now < deadline:
        return []  # not due now: no need to expand it to every member
    key = session_id(session)
    return [Reminder(kind, key, m.email, due, language_of(m, context.config), m.name, deadline,
                     told=told) for m in context.active.values()]


def _readings(session: Session, start: dt.datetime, context: _Context) -> list[Reminder]:
    """Its key records the start it announces, so a later move can be told (a change)."""
    due = due_before(start, context.config.reminders.reading_days_before, context.config)
    told = Told(session_id(session), start_text(start)).text()
    return _to_members(READING, session, due, start, context, told)


def _homework(session: Session, following: Session, context: _Context) -> list[Reminder]:
    handed_in = start_of(following, context.config)
    if handed_in is None:
        return []  # due at a session whose date is only proposed
    due = due_before(handed_in, context.config.reminders.homework_days_before, context.config)
    found = _to_members(HOMEWORK, session, due, handed_in, context)
    if context.handed_in is None:
        return found
    done = context.handed_in
    return [*(r for r in found if (r.recipient, r.session) not in done),
            *_review(session, following, handed_in, context)]


def _review(session: Session, following: Session, start: dt.datetime,
            context: _Context) -> list[Reminder]:
    """The guide of the session the homework is due at gets the submissions to review."""
    due = due_before(start, context.config.homework.guide_days_before, context.config)
    if not following.guide or not due <= context.now < start:
        return []
    matches = find_guide(following.guide, context.members)
    if len(matches) != 1 or matches[0].email not in context.active:
        return []  # the guide reminder reports a guide it cannot find
    guide = matches[0]
    return [Reminder(REVIEW, session_id(session), guide.email, due,
                     language_of(guide, context.config), guide.name, start)]


def _guide(session: Session, start: dt.datetime, context: _Context,
           problems: list[Problem]) -> list[Reminder]:
    if not session.guide:
        return []
    due = due_before(start, context.config.reminders.guide_days_before, context.config)
    if not due <= context.now < start:
        return []  # only worth a problem while the reminder is due
    matches = find_guide(session.guide, context.members)
    problem = _guide_problem(session, matches)
    if problem is not None:
        problems.append(problem)
        return []
    guide = matches[0]
    return [Reminder(GUIDE, session_id(session), guide.email, due,
                     language_of(guide, context.config), guide.name, start)]


def _guide_problem(session: Session, matches: Sequence[Member]) -> Problem | None:
    label = f"the guide {session.guide!r} of session {session_id(session)}"
    if not matches:
        return _guide_issue(session, f"{label} matches no member's name or email, so they get "
                            "no reminder", "write the guide's name as in Members")
    if len(matches) > 1:
        shown = ", ".join(f"{m.name or '?'} <{m.email}>" for m in matches[:5])
        more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
        return _guide_issue(session, f"{label} matches {len(matches)} members ({shown}{more}), "
                            "so none gets the reminder",
                            "write more of the name, as in Members (the README is public: "
                            "prefer a name to an email)")
    if not matches[0].is_active():
        return _guide_issue(session, f"{label} ({matches[0].email}) is {matches[0].status}: "
                            "no reminder sent", "remind them yourself, or find another guide")
    return None


def _guide_issue(session: Session, message: str, fix: str) -> Problem:
    return Problem(STEP, message, sheet=SESSIONS, row=session.row, column="Guide", fix=fix)


def _no_guide(session: Session, start: dt.datetime, context: _Context) -> list[Reminder]:
    if session.guide:
        return []
    due = due_before(start, context.config.reminders.no_guide_days_before, context.config)
    if not context.organizers and due <= context.now < start:
        context.problems.append(Problem(
            STEP, f"session {session_id(session)} has no guide and no organizer to tell",
            fix="list the organizers' emails in group.organizers"))
    return [Reminder(NO_GUIDE, session_id(session), p.email, due, p.language, p.name, start)
            for p in context.organizers]


def _welcomes(context: _Context, since: dt.datetime) -> list[Reminder]:
    found = []
    for member in context.active.values():
        try:
            registered = local(dt.datetime.fromisoformat(member.registered),
                               context.config.group.tz)
        except ValueError:
            continue
        if registered > since:
            found.append(Reminder(WELCOME, "", member.email, registered,
                                  language_of(member, context.config), member.name))
    return found


# ---------------------------------------------------------------------------------------------
# Change notices


@dataclass(frozen=True)
class _Announced:
    row: int  # of the ledger row that told it
    kind: str  # READING or CHANGE
    told: Told


def _change_notices(sessions: Sequence[Session], entries: Mapping[LedgerKey, Entry],
                    context: _Context) -> list[Reminder]:
    """One notice to every active member per change of a start members were told (by a reading
    reminder or an earlier notice): the session moved, was cancelled, or got a date again."""
    current: dict[str, dt.datetime | None] = {}
    for session in sessions:
        current.setdefault(session_id(session), start_of(session, context.config))
    dated = any(start is not None for start in current.values())
    found = []
    for ident, told in _announced(entries).items():
        found += _notices(ident, told, current.get(ident), dated, context)
    return found


def _notices(ident: str, told: Sequence[_Announced], start: dt.datetime | None, dated: bool,
             context: _Context) -> list[Reminder]:
    change = _change(told, start_text(start))
    if change is None:
        return []
    previous, ordinal = change
    deadline = start or parse_start(previous, context.config.group.tz)
    if deadline is None or context.now >= deadline:
        return []  # the session (or the one it replaced) has started: too late to tell
    if start is None and not dated:
        context.problems.append(Problem(
            STEP, f"session {ident} looks cancelled, but no session has a date: no change "
                  "notice is sent", sheet=SESSIONS, severity="warning",
            fix="check the Sessions sheet (an emptied or renamed Date column?); if every "
                "session is cancelled, tell the members yourself"))
        return []
    text = Told(ident, start_text(start), ordinal).text()
    return [Reminder(CHANGE, ident, m.email, context.now, language_of(m, context.config),
                     m.name, deadline, told=text, previous=previous)
            for m in context.active.values()]


def _announced(entries: Mapping[LedgerKey, Entry]) -> dict[str, list[_Announced]]:
    """The starts members were told, by session, oldest row first: what each reading reminder
    and change notice that went out (or may have) announced."""
    found: dict[str, list[_Announced]] = {}
    for key, entry in entries.items():
        if entry.status not in COUNTED:
            continue
        parts = read_parts(key.session) if key.kind == MORNING else [(key.kind, key.session)]
        for kind, text in parts:
            told = read_told(text)
            if kind in (READING, CHANGE) and told.start:
                found.setdefault(told.session, []).append(_Announced(entry.row, kind, told))
    return {ident: sorted(told, key=lambda a: a.row) for ident, told in found.items()}


def _change(told: Sequence[_Announced], current: str) -> tuple[str, int] | None:
    """When members were last told another start than `current` (or CANCELLED): that start,
    and which change to `current` this is (a notice partly sent keeps its number)."""
    others = [index for index, announced in enumerate(told) if announced.told.start != current]
    if not others:
        return None
    last = others[-1]
    ongoing = [a.told.ordinal for a in told[last + 1:] if a.kind == CHANGE]
    earlier = [a.told.ordinal for a in told if a.kind == CHANGE and a.told.start == current]
    return told[last].told.start, ongoing[0] if ongoing else max(earlier, default=0) + 1
