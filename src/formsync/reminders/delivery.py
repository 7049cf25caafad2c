"""What every mail transport's exactly-once protocol shares: the run (ledger, composer,
problems) and the ledger moves common to all of them. Each transport (transports.py) carries
its own protocol, as `deliver` and `recover`; send.py runs them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol, TypeVar

import jinja2

from formsync.config import Config
from formsync.errors import BackendError, FormsyncError
from formsync.model import Member, Problem, Session
from formsync.reminders.compose import Composer
from formsync.reminders.ledger import DEFERRED, FAILED, UNKNOWN, LedgerKey, LedgerWriter
from formsync.reminders.plan import NOTICE, STEP, DraftSweep, Reminder

T = TypeVar("T")


class MailTransport(Protocol):
    """A way mail goes out, with its own exactly-once protocol."""

    name: str

    def deliver(self, run: SendRun, reminders: Sequence[Reminder],
                sweeps: Sequence[DraftSweep]) -> None:
        """Send `reminders` (already known to be due), recording each step in the ledger."""
        ...

    def recover(self, run: SendRun, reminder: Reminder) -> None:
        """Settle a reminder an interrupted run left `pending` or `drafted`."""
        ...


class DeliveryRefused(Exception):
    """The server refused this one message; other messages may still go out."""

    def __init__(self, reason: str, *, permanent: bool, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.permanent, self.code = reason, permanent, code


class SenderRefused(BackendError):
    """The server refused the From address: no message can go out over this connection."""


class AccountRefused(BackendError):
    """The account, its credentials, its quota or the server refused: nothing can go out this
    run, and nothing was sent. The reminders stay due; the error says what to fix."""


class DraftGone(Exception):
    """drafts.send answered 404: the draft no longer exists, i.e. it was sent already."""


@dataclass
class SendRun:
    config: Config
    sessions: Sequence[Session]
    members: Sequence[Member]
    transport: MailTransport
    ledger: LedgerWriter
    now: dt.datetime
    batch_size: int
    problems: list[Problem] = field(default_factory=list)
    unknown: list[Reminder] = field(default_factory=list)
    composer: Composer | None = None
    # What a message's template needs beyond the group (a digest's problems), by ledger key.
    extras: Mapping[LedgerKey, Mapping[str, object]] = field(default_factory=dict)

    def problem(self, message: str, *, fix: str = "", severity: str = "error") -> None:
        self.problems.append(Problem(STEP, message, fix=fix, severity=severity))

    def compose(self, reminder: Reminder) -> EmailMessage | None:
        try:
            if self.composer is None:
                self.composer = Composer(self.config, self.sessions, self.members, self.now)
            extra = {"entries": [r.label() for r in self.unknown]} \
                if reminder.kind == NOTICE else self.extras.get(reminder.key)
            return self.composer.compose(reminder, extra)
        except FormsyncError as error:
            self.problem(f"cannot write the {reminder.label()}: {error.message}", fix=error.fix)
        except (jinja2.TemplateError, ValueError, OSError) as error:
            self.problem(f"cannot write the {reminder.label()}: {error}",
                         fix="check the templates in reminders.templates_folder")
        return None


    def prepared(self, reminders: Sequence[Reminder]) -> list[tuple[Reminder, EmailMessage]]:
        """The reminders with their messages; one that cannot be written is a problem."""
        pairs = [(reminder, self.compose(reminder)) for reminder in reminders]
        return [(reminder, message) for reminder, message in pairs if message is not None]

    def mark_unknown(self, reminder: Reminder, why: str) -> None:
        self.ledger.record(reminder.key, UNKNOWN, self.now, message_id=reminder.message_id,
                           detail=f"{why}; it may or may not have been delivered")
        self.unknown.append(reminder)
        self.problem(f"the {reminder.label()} may or may not have been delivered ({why}); it "
                     "will not be sent again", fix="ask the recipient; to send it again set its "
                     "Status to 'retry' in the Reminders sheet", severity="warning")

    def refused(self, reminder: Reminder, refusal: DeliveryRefused) -> None:
        status = FAILED if refusal.permanent else DEFERRED
        self.ledger.record(reminder.key, status, self.now, detail=refusal.reason)
        retry = "it will not be retried" if refusal.permanent else "the next run tries again"
        self.problem(f"the {reminder.label()} was refused: {refusal.reason} ({retry})",
                     fix="check the address in Members" if refusal.permanent else "",
                     severity="error" if refusal.permanent else "warning")

    def defer(self, unsent: Sequence[Reminder], error: BackendError) -> None:
        for reminder in unsent:
            self.ledger.record(reminder.key, DEFERRED, self.now,
                               detail=f"not sent: {error.message}")
        self.ledger.flush()
        self.problem(f"{error.message}; {len(unsent)} reminders wait for the next run",
                     fix=error.fix)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
