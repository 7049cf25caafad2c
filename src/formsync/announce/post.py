"""Posting planned announcements exactly once per channel, recorded in the `Reminders` ledger.

Webhooks have no idempotency key and cannot be asked afterwards what they received, so the
protocol is SMTP's: record `posting` just before each post (one ledger write, carrying the
previous post's `sent`), post, record `sent`. A row found `posting` on a later run may have
been posted: it becomes `unknown`, is reported, and is never posted again (set its Status to
`retry` to post it again). What the service answers is certain: 401/403/404 mean the channel
refuses (a revoked or mistyped webhook): that post is `deferred`, nothing else is posted to
the channel this run, and one error names it; other refusals (429, 5xx) are `deferred` too;
a post sent without an answer (a read timeout, a dropped connection) is `unknown`.

A `folder://` channel writes one Markdown file per post, named by its ledger key and written
atomically: the file is the post, so it is never written twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from formsync.announce.channels import FOLDER, Channel, resolve
from formsync.announce.plan import POSTING, SETUP, STEP, Announcement
from formsync.config import Config
from formsync.errors import ConfigError, FormsyncError
from formsync.local.files import write_atomically
from formsync.model import Problem, Table
from formsync.ports import SheetsBackend
from formsync.reminders.ledger import (
    DEFERRED,
    RECORDED,
    SENT,
    UNKNOWN,
    LedgerWriter,
    is_open,
)

if TYPE_CHECKING:
    from apprise import NotifyBase

REFUSING = frozenset({401, 403, 404})
_CODE = re.compile(r"error=(\d{3})")
# requests' words for failures before anything was sent: the service got nothing.
_NOT_SENT = re.compile(r"NewConnectionError|Connection refused|ConnectTimeout|Failed to "
                       r"resolve|Name or service not known|nodename nor servname",
                       re.IGNORECASE)


@dataclass(frozen=True)
class Outcome:
    status: str  # sent, deferred, unknown
    code: int | None = None
    reason: str = ""

    @property
    def refused(self) -> bool:
        return self.code in REFUSING


class Poster(Protocol):
    def post(self, announcement: Announcement) -> Outcome: ...


class ApprisePoster:
    """One apprise URL. apprise answers only True/False, so what happened is read from the
    warnings and debug lines it logs (its plugins log `error=<HTTP status>` or the socket
    exception); the log text itself is never shown (it may hold the URL)."""

    def __init__(self, url: str, markdown: bool) -> None:
        import apprise

        plugin = instantiate(url)
        if plugin is None:
            raise ConfigError("announce", "apprise does not accept this channel's URL",
                              fix="check it against apprise's documentation for the service")
        self._plugin = plugin
        self._format = apprise.NotifyFormat.MARKDOWN if markdown else apprise.NotifyFormat.TEXT

    def __repr__(self) -> str:  # never show the URL
        return f"ApprisePoster({type(self._plugin).__name__})"

    def post(self, announcement: Announcement) -> Outcome:
        import apprise

        with apprise.LogCapture(level=logging.DEBUG) as logs:  # type: ignore[no-untyped-call]
            ok = self._plugin.notify(body=announcement.text, body_format=self._format)
        return Outcome(SENT) if ok else classify(logs.getvalue())


def instantiate(url: str) -> NotifyBase | None:
    """apprise's plugin for `url`, or None; what apprise logs (it may quote the URL) is
    kept from the terminal."""
    import apprise

    with apprise.LogCapture(level=logging.ERROR):  # type: ignore[no-untyped-call]
        return apprise.Apprise.instantiate(url)


def classify(log: str) -> Outcome:
    """What a failed apprise notify means for the ledger, from what apprise logged."""
    found = _CODE.findall(log)
    if found:
        code = int(found[-1])
        return Outcome(DEFERRED, code, f"HTTP {code}")
    if _NOT_SENT.search(log):
        return Outcome(DEFERRED, None, "the service could not be reached")
    return Outcome(UNKNOWN, None, "no answer from the service (timed out or cut off)")


class FolderPoster:
    """`folder://<path>`: one `<ledger key>.md` file per post."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def post(self, announcement: Announcement) -> Outcome:
        path = self.folder / f"{announcement.key.slug()}.md"
        if not path.exists():
            write_atomically(path, (announcement.text + "\n").encode("utf-8"), fsync=True)
        return Outcome(SENT)


def poster_for(channel: Channel, config: Config, environ: Mapping[str, str]) -> Poster:
    url = resolve(channel, environ)
    if channel.scheme == FOLDER:
        return FolderPoster(config.path(Path(url.partition("://")[2])))
    return ApprisePoster(url, channel.markdown)


@dataclass
class _PostRun:
    ledger: LedgerWriter
    now: dt.datetime
    problems: list[Problem] = field(default_factory=list)

    def problem(self, message: str, fix: str = "", severity: str = "error") -> None:
        self.problems.append(Problem(STEP, message, fix=fix, severity=severity))


def post_announcements(actions: Sequence[Announcement], channels: Sequence[Channel],
                       config: Config, sheets: SheetsBackend, now: dt.datetime, *,
                       ledger: Table | None, environ: Mapping[str, str],
                       posters: Mapping[str, Poster] | None = None) -> list[Problem]:
    """Post what `plan_announcements` planned, recording each step in the ledger. `posters`:
    a channel label's poster, instead of the one its URL makes (tests)."""
    run = _PostRun(LedgerWriter(sheets, config.group.tz, ledger), now)
    try:
        _settle(run, actions)
        for channel in channels:
            mine = [a for a in actions if a.channel == channel.label and a.kind != SETUP
                    and not a.recovery]
            if mine:
                _post_channel(run, channel, mine, config, environ, posters or {})
        run.ledger.flush()
    except FormsyncError as error:  # the ledger could not be written: stop, say so
        run.problem(f"announcements stopped: could not write the Reminders ledger: "
                    f"{error.message}", fix=error.fix or "run again; nothing is posted twice")
    return run.problems


def _settle(run: _PostRun, actions: Sequence[Announcement]) -> None:
    """Record new channels' start and mark interrupted posts unknown."""
    for action in actions:
        if action.kind == SETUP:
            run.ledger.record(action.key, RECORDED, action.due,
                              detail="recordings of sessions before this are not announced")
        elif action.recovery:
            run.ledger.record(action.key, UNKNOWN, run.now, message_id=action.told,
                              detail="an earlier run was interrupted while posting it; it may "
                                     "or may not have been posted")
            run.problem(f"the {action.label()} may or may not have been posted (an earlier run "
                        "was interrupted); it will not be posted again",
                        fix="look in the channel; to post it again set its Status to 'retry' "
                            "in the Reminders sheet", severity="warning")
    run.ledger.flush()


def _post_channel(run: _PostRun, channel: Channel, actions: Sequence[Announcement],
                  config: Config, environ: Mapping[str, str],
                  posters: Mapping[str, Poster]) -> None:
    try:
        poster = posters.get(channel.label) or poster_for(channel, config, environ)
    except ConfigError as error:
        run.problem(f"cannot post to {channel.label}: {error.message}; "
                    f"{len(actions)} post(s) wait", fix=error.fix)
        return
    for action in actions:
        if not _still_open(run, action):
            continue
        if not _post_one(run, channel, poster, action):
            return


def _still_open(run: _PostRun, action: Announcement) -> bool:
    entry = run.ledger.entries.get(action.key)
    if entry is not None and (not is_open(entry) or entry.status == POSTING):
        return False
    return action.deadline is None or run.now < action.deadline


def _post_one(run: _PostRun, channel: Channel, poster: Poster, action: Announcement) -> bool:
    """Post and record; False when the channel refuses (nothing more goes to it this run)."""
    if not isinstance(poster, FolderPoster):
        run.ledger.record(action.key, POSTING, run.now, message_id=action.told)
        run.ledger.flush()
    try:
        outcome = poster.post(action)
    except OSError as error:
        outcome = Outcome(DEFERRED, None, f"cannot write the post: {error.strerror or error}")
    run.ledger.record(action.key, outcome.status, run.now, message_id=action.told,
                      detail=outcome.reason)
    if outcome.refused:
        run.ledger.flush()
        run.problem(f"the channel {channel.label} refused the {action.label()} "
                    f"({outcome.reason}); nothing more is posted there this run, and "
                    "nothing was consumed", fix=_refusal_fix(channel))
        return False
    if outcome.status == UNKNOWN:
        run.problem(f"the {action.label()} may or may not have been posted "
                    f"({outcome.reason}); it will not be posted again",
                    fix="look in the channel; to post it again set its Status to 'retry' in "
                        "the Reminders sheet", severity="warning")
    elif outcome.status == DEFERRED:
        run.problem(f"the {action.label()} was not posted ({outcome.reason}); the next run "
                    "tries again", severity="warning")
    return True


def _refusal_fix(channel: Channel) -> str:
    where = f"the environment variable {channel.env}" if channel.env else "announce.urls"
    return f"the webhook was revoked or its URL is wrong: make a new one in the service and " \
           f"put its URL in {where}"
