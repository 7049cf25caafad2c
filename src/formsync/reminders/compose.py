"""Reminder emails: Jinja2 templates (es/en, text and autoescaped HTML) → EmailMessage.

Sheet text never reaches a header unfolded: every header is built with `email.headerregistry`
under `policy.SMTP` from single-line values, and links keep only http(s) URLs.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import os
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import Policy
from pathlib import Path

import jinja2
from babel.dates import format_date, format_time, get_timezone_location

from formsync.columns import fold
from formsync.config import EMAIL_PLACEHOLDER, Config
from formsync.dates import UNDATED
from formsync.errors import ConfigError
from formsync.model import Member, Session
from formsync.names import (
    designation,
    guide_identity,
    public_guide,
    session_label,
    session_name,
    topic,
)
from formsync.reminders.keys import parse_start, read_told
from formsync.reminders.ledger import LedgerKey
from formsync.reminders.plan import (
    CHANGE,
    GUIDE,
    HOMEWORK,
    READING,
    WELCOME,
    Reminder,
    find_guide,
    following_sessions,
    has_content,
    local,
    session_id,
    start_of,
)

_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)|(https?://[^\s<>()\[\]]+)")
_ZONE = {"es": "hora de {city}", "en": "{city} time"}
_SPACES = str.maketrans({"\u202f": " ", "\xa0": " "})
_WEEKS = {"es": ("cada semana", "cada dos semanas", "cada tres semanas", "cada cuatro semanas"),
          "en": ("every week", "every two weeks", "every three weeks", "every four weeks")}
# A List-Unsubscribe item as formsync writes it: printable ASCII, no <>, short of a line's limit.
_URI_ITEM = re.compile(r"<(?:https://|mailto:)[\x21-\x3b\x3d\x3f-\x7e]{1,900}>")


@dataclass(frozen=True)
class Segment:
    """A piece of a sheet cell: text, and the http(s) URL it links to (or "")."""

    text: str
    url: str = ""


def safe_url(url: str) -> str:
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


def segments(cell: str) -> tuple[Segment, ...]:
    """Markdown links and bare URLs of a cell, in order, with the text around them."""
    if not has_content(cell):
        return ()
    found: list[Segment] = []
    position = 0
    for match in _LINK.finditer(cell):
        if match.start() > position:
            found.append(Segment(cell[position:match.start()]))
        label, target, bare = match.group(1), match.group(2), match.group(3)
        found.append(Segment(bare, safe_url(bare)) if bare else
                     Segment(label or target, safe_url(target)))
        position = match.end()
    if position < len(cell):
        found.append(Segment(cell[position:]))
    return tuple(found)


def plain(parts: Sequence[Segment]) -> str:
    """Segments as plain text: 'Assignment 1 <https://…>'."""
    return "".join(f"{p.text} <{p.url}>" if p.url and p.url != p.text else p.text
                   for p in parts)


def one_line(text: str) -> str:
    """Text fit for a header: CR, LF and every other run of whitespace become one space."""
    return " ".join(text.split())


def natural(moment: dt.datetime, language: str, zone: str) -> str:
    """'martes, 20 de octubre de 2020, 17:00 (hora de Ciudad de México)'."""
    city = get_timezone_location(zone, locale=language, return_city=True)
    day = format_date(moment.date(), "full", locale=language)
    time = format_time(moment, "short", tzinfo=moment.tzinfo, locale=language)
    text = f"{day}, {time} ({_ZONE.get(language, _ZONE['en']).format(city=city)})"
    return text.translate(_SPACES)


def cadence(days: int, language: str) -> str:
    """How often the group meets, in words: 'cada dos semanas' (14 days), 'every 10 days'."""
    spanish = language == "es"
    weeks, rest = divmod(days, 7)
    if not rest and weeks <= len(_WEEKS["es"]):
        return _WEEKS["es" if spanish else "en"][weeks - 1]
    if not rest:
        return f"cada {weeks} semanas" if spanish else f"every {weeks} weeks"
    if days == 1:
        return "cada día" if spanish else "every day"
    return f"cada {days} días" if spanish else f"every {days} days"


def short_date(start: dt.datetime | None, *, with_time: bool) -> str:
    """'15-12-2020' as the README's table writes dates ("" for none)."""
    if start is None:
        return ""
    return start.strftime("%d-%m-%Y %H:%M" if with_time else "%d-%m-%Y")


def unsubscribe_link(template: str, recipient: str) -> str:
    """reminders.unsubscribe_url for one recipient: {email} becomes their address, encoded."""
    url = template.replace(EMAIL_PLACEHOLDER, urllib.parse.quote(recipient, safe=""))
    return url if len(url) <= 900 else ""  # kept within a header line's limit


def calendar_link(config: Config, environ: Mapping[str, str]) -> str:
    """The calendar feed welcome emails link to: reminders.calendar_link; if blank, in a GitHub
    Action, calendar.ics as committed on the workflow's branch (its raw URL); "none": none."""
    link = config.reminders.calendar_link.strip()
    if link:
        return "" if link.lower() == "none" else safe_url(link)
    repository, branch = environ.get("GITHUB_REPOSITORY", ""), environ.get("GITHUB_REF_NAME", "")
    if (environ.get("GITHUB_ACTIONS") != "true" or not repository or not branch
            or environ.get("GITHUB_REF_TYPE", "branch") != "branch"
            or not config.calendar.enabled):
        return ""
    ics = config.path(config.calendar.ics_path).resolve()
    workspace = Path(environ.get("GITHUB_WORKSPACE") or config.root).resolve()
    if not ics.is_relative_to(workspace):
        return ""
    path = ics.relative_to(workspace).as_posix()
    return "https://raw.githubusercontent.com/" + "/".join(
        urllib.parse.quote(part, safe="/") for part in (repository, branch, path))


class _UriListHeader(UnstructuredHeader, BaseHeader):
    """List-Unsubscribe (RFC 2369): one <URI> per line, as written. The default folding would
    RFC 2047-encode a URI longer than a line, and mail clients do not decode it there."""

    def fold(self, *, policy: Policy) -> str:
        items = str(self).split(", ")
        if not all(_URI_ITEM.fullmatch(item) for item in items):
            return super().fold(policy=policy)
        return f"{self.name}: " + f",{policy.linesep} ".join(items) + policy.linesep


def _mail_policy() -> Policy:
    headers = HeaderRegistry()
    headers.map_to_type("list-unsubscribe", _UriListHeader)
    return policy.SMTP.clone(header_factory=headers)


MAIL_POLICY = _mail_policy()


@dataclass(frozen=True)
class SessionView:
    key: str  # what follows "sesión": "3", "opcional"
    chapter: str  # the topic: "Tools for Deep Learning"
    label: str  # "Sesión opcional – Tools for Deep Learning", as on the calendar
    name: str  # inside a sentence: "sesión 3", "sesión opcional", "the optional session"
    guide: str
    readings: tuple[Segment, ...]
    exercises: tuple[Segment, ...]
    when: str
    readings_text: str
    exercises_text: str
    slides: tuple[Segment, ...] = ()  # the Slides/Notebook cell's links
    slides_text: str = ""
    readings_pending: bool = False  # the Readings cell is TBA (or blank): not confirmed yet


@dataclass(frozen=True)
class HomeworkView:
    session: SessionView  # the session that set it
    due: SessionView  # the session it is handed in at
    to: str  # the guide it is handed to, by name ("" when the session had none)
    to_you: bool  # the recipient is that guide: they receive it, not hand it in


@dataclass(frozen=True)
class ChangeView:
    before: str  # '15-12-2020' as members were told ("" when it had been cancelled)
    after: str  # '22-12-2020' ("" when it is cancelled)
    before_when: str  # the start members were told, in words


def environment(folder: Path | None) -> jinja2.Environment:
    """Templates from `folder` first (the group's overrides), then the built-in ones."""
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(folder)] if folder else []
    loaders.append(jinja2.PackageLoader("formsync.reminders", "templates"))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False, default=False),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def sender_of(config: Config) -> Address:
    pairs = email.utils.getaddresses([config.reminders.from_address, *config.group.organizers])
    for name, address in pairs:
        if "@" in address:
            return Address(display_name=one_line(name or config.group.name),
                           addr_spec=address.strip())
    raise ConfigError("reminders.from_address", "no address to send reminders from",
                      fix="set reminders.from_address (or group.organizers) in formsync.toml")


class Composer:
    """Turns reminders into messages for one group, one run."""

    def __init__(self, config: Config, sessions: Sequence[Session], members: Sequence[Member],
                 now: dt.datetime, environ: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.sessions = list(sessions)
        self.members = list(members)
        self.now = local(now, config.group.tz)
        self.sender = sender_of(config)
        folder = config.reminders.templates_folder
        self.env = environment(config.path(folder) if folder else None)
        self.unsubscribe = one_line(config.reminders.unsubscribe_address
                                    or self.sender.addr_spec)
        self.calendar_link = calendar_link(config, os.environ if environ is None else environ)
        # Looked up once per run, not once per message: a run may compose thousands.
        self.by_id = {session_id(s): s for s in reversed(self.sessions)}
        self.following = following_sessions(self.sessions)
        self.upcoming = self._upcoming()

    def compose(self, reminder: Reminder, extra: Mapping[str, object] | None = None
                ) -> EmailMessage:
        language = reminder.language if reminder.language in _ZONE else "es"
        context = {**self._context(reminder, language), **(extra or {})}
        text_template = self.env.get_template(f"{language}/{reminder.kind}.txt")
        subject = "".join(text_template.blocks["subject"](text_template.new_context(context)))
        text = text_template.render(context)
        html = self.env.get_template(f"{language}/{reminder.kind}.html").render(context)
        message = self._headers(reminder, subject)
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        if context.get("calendar_attached"):
            self._attach_calendar(message)
        return message

    def _headers(self, reminder: Reminder, subject: str) -> EmailMessage:
        message = EmailMessage(policy=MAIL_POLICY)
        message["From"] = self.sender
        message["To"] = Address(display_name=one_line(reminder.name),
                                addr_spec=one_line(reminder.recipient))
        message["Subject"] = one_line(subject)
        message["Date"] = email.utils.format_datetime(self.now)
        message["Message-ID"] = message_id(reminder.key, self.sender.domain)
        # The unsubscribe mail's From says who; the https link names them itself (RFC 8058).
        mailto = f"<mailto:{self.unsubscribe}?subject=unsubscribe>"
        url = unsubscribe_link(self.config.reminders.unsubscribe_url, reminder.recipient)
        message["List-Unsubscribe"] = f"<{url}>, {mailto}" if url else mailto
        if url:
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Auto-Submitted"] = "auto-generated"
        return message

    def _attach_calendar(self, message: EmailMessage) -> None:
        path = self.config.path(self.config.calendar.ics_path)
        message.add_attachment(path.read_bytes(), maintype="text", subtype="calendar",
                               filename="calendar.ics")

    # -- the template context ---------------------------------------------------------------

    def _context(self, reminder: Reminder, language: str) -> dict[str, object]:
        session = self._session(reminder)
        following = self.following.get(session.row) if session else None
        upcoming = self.upcoming
        return {
            "kind": reminder.kind, "group": self.config.group.name,
            "name": one_line(reminder.name) or reminder.recipient, "recipient": reminder.recipient,
            "session": self._view(session, language) if session else None,
            "due_session": (self._view(following, language)
                            if following and reminder.kind == HOMEWORK else None),
            "due_to": self._guide_name(session) if session else "",
            **self._parts(reminder, language),
            "change": self._change(reminder, language) if reminder.kind == CHANGE else None,
            "meeting_link": safe_url(self.config.calendar.meeting_link),
            "next_session": self._view(upcoming, language) if upcoming else None,
            "cadence": cadence(self.config.group.cadence_days, language),
            "calendar_link": self.calendar_link,
            "calendar_attached": reminder.kind == WELCOME and self._attaches_calendar(),
            "volunteers": self._volunteers() if reminder.kind != GUIDE else [],
            "entries": [], "unsubscribe_address": self.unsubscribe,
            "unsubscribe_url": unsubscribe_link(self.config.reminders.unsubscribe_url,
                                                reminder.recipient),
            "organizers": ", ".join(self.config.group.organizers),
        }

    def _session(self, reminder: Reminder) -> Session | None:
        found = self.by_id.get(reminder.session) if reminder.session else None
        if found is None and reminder.kind == CHANGE:  # a cancelled session's row may be gone
            number = reminder.session.isdigit()
            return Session(row=0, key=reminder.session if number else "",
                           chapter="" if number else reminder.session)
        return found

    def _parts(self, reminder: Reminder, language: str) -> dict[str, object]:
        """The reading and homework reminders the email carries (a morning email: several)."""
        parts = reminder.parts or (reminder,)
        readings = [self._view(session, language) for part in parts
                    if part.kind == READING and (session := self.by_id.get(part.session))]
        homeworks = [view for part in parts
                     if part.kind == HOMEWORK and (view := self._homework(part, language))]
        return {"readings": readings, "homeworks": homeworks}

    def _homework(self, part: Reminder, language: str) -> HomeworkView | None:
        session = self.by_id.get(part.session)
        following = self.following.get(session.row) if session else None
        if session is None or following is None:
            return None
        guides = find_guide(session.guide, self.members)
        to_you = len(guides) == 1 and guides[0].email == part.recipient
        return HomeworkView(self._view(session, language), self._view(following, language),
                            self._guide_name(session), to_you)

    def _change(self, reminder: Reminder, language: str) -> ChangeView:
        tz = self.config.group.tz
        before = parse_start(reminder.previous, tz)
        after = parse_start(read_told(reminder.told).start, tz)
        with_time = before is not None and after is not None and before.time() != after.time()
        return ChangeView(short_date(before, with_time=with_time),
                          short_date(after, with_time=with_time),
                          natural(before, language, self.config.group.timezone) if before else "")

    def _attaches_calendar(self) -> bool:
        """Without a feed to link to, the welcome email attaches calendar.ics."""
        ics = self.config.path(self.config.calendar.ics_path)
        return not self.calendar_link and self.config.calendar.enabled and ics.is_file()

    def _upcoming(self) -> Session | None:
        dated = [(start, s) for s in self.sessions
                 if (start := start_of(s, self.config)) is not None and start > self.now]
        return min(dated, key=lambda pair: pair[0])[1] if dated else None

    def _view(self, session: Session, language: str) -> SessionView:
        start = start_of(session, self.config)
        readings, exercises = segments(session.readings), segments(session.exercises)
        slides = segments(session.slides)
        return SessionView(
            key=one_line(designation(session, language) or topic(session) or session_id(session)),
            chapter=one_line(topic(session)), label=one_line(session_label(session, language)),
            name=one_line(session_name(session, language)),
            guide=one_line(public_guide(session.guide, self.members)),
            readings=readings, exercises=exercises,
            when=natural(start, language, self.config.group.timezone) if start else "",
            readings_text=plain(readings), exercises_text=plain(exercises),
            slides=slides, slides_text=plain(slides),
            readings_pending=fold(session.readings) in UNDATED)

    def _guide_name(self, session: Session) -> str:
        matches = find_guide(session.guide, self.members)
        return one_line(matches[0].name or session.guide) if len(matches) == 1 else one_line(
            session.guide)

    def _volunteers(self) -> list[str]:
        guided = {guide_identity(s.guide, self.members) for s in self.sessions if s.guide}
        return sorted(one_line(m.name or m.email) for m in self.members
                      if m.is_active() and m.guide_volunteer == "yes" and m.email not in guided)


def message_id(key: LedgerKey, domain: str) -> str:
    """The same Message-ID for the same ledger key: it is how a draft or a duplicate is
    recognised as this reminder's."""
    digest = hashlib.sha256(str(key).encode("utf-8")).hexdigest()[:24]
    return f"<formsync.{key.kind}.{digest}@{domain or 'formsync.invalid'}>"
