"""Sending planned reminders exactly once, whatever point a run is killed at, and whatever
write Google applies late (after the client gave up) while a rerun goes on.

The ledger (worksheet `Reminders`, see ledger.py) is written in batches through the sheets
backend's `apply`; each attempt adds its own rows, so a late write never undoes a later one.
Refusals are of two kinds: of one recipient (SMTP 550/553, Gmail "Invalid To header": that row
`failed`, the others go on) or of the account, credentials, quota or server (`AccountRefused`
and other BackendErrors: sending stops for the run, nothing is consumed, one error says the fix).
Per transport:

Outbox (`.eml` files): the file *is* the delivery. It is named by the ledger key and written
atomically (temp file, fsync, rename), so it either exists whole or not at all, and it is never
written twice. Protocol: write the file, then record `sent`. Killed in between, the next run
plans the reminder again, finds the file and only records `sent`: exact.

SMTP: a server cannot be asked afterwards whether it accepted a message, so the protocol avoids
duplicates at the price of, rarely, an unconfirmed message. Record the batch `queued`, then for
each message `pending` just before its own send (one ledger write per message, carrying the
previous message's `sent`). A row still `pending` on a later run was perhaps delivered: it is
marked `unknown`, never sent again, and reported (a Problem, and a notice email to the
organizers) so a person can decide (set the status to `retry` to resend); `queued` rows were
not sent and are planned again. A refusal the server states is certain: 5xx → `failed`, 4xx →
`deferred` (retried next run), an account reply → the rest `deferred`. A connection lost
mid-message → that message `unknown`, the rest `deferred`.

Gmail API: exact, because drafts give a message a server-side identity before it is sent.
Record `drafting` (batched), create the drafts, record `drafted` with each draft id (batched),
then drafts.send each and record `sent` (batched). Gmail's guide ("Working with drafts") says:
"When the draft is sent, the draft is automatically deleted and a new message with an updated
ID is created with the SENT system label"; the discovery document (gmail.v1.json) describes
drafts.send as sending "the specified, existing draft", and drafts.get/delete answer 404 for a
draft that does not exist. So on recovery a `drafted` row is resolved by drafts.get: 404 means
the draft was sent (→ `sent`); 200 means it was not (→ drafts.send now, or drafts.delete and
`expired` if its session has started). A `drafting` row means a drafts.create may have been cut
off, and Google may create that draft even later: the plan then holds a DraftSweep, and the run
looks for drafts with those reminders' Message-IDs (derived from the ledger key): a reminder
sent in this run adopts its draft, every other found draft is deleted, so no orphan stays in
the sender's Drafts folder (ledger.SETTLE says for how long runs keep looking). The one
assumption: nobody deletes formsync's drafts by hand meanwhile (that would read as sent).
drafts.create, get, list, send and delete all accept the narrow scope gmail.compose (per the
discovery doc).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar

import jinja2

from formsync.config import Config
from formsync.errors import BackendError, FormsyncError
from formsync.model import Member, Problem, Session, Table
from formsync.ports import SheetsBackend
from formsync.reminders.compose import Composer, message_id, sender_of
from formsync.reminders.ledger import (
    DEFERRED,
    DRAFTED,
    DRAFTING,
    EXPIRED,
    FAILED,
    PENDING,
    QUEUED,
    RECORDED,
    SENT,
    SETUP_KIND,
    UNKNOWN,
    LedgerKey,
    LedgerWriter,
    is_open,
)
from formsync.reminders.plan import (
    NOTICE,
    STEP,
    DraftSweep,
    Reminder,
    local,
    organizers,
    reachable,
)
from formsync.reminders.transports import (
    AccountRefused,
    DeliveryRefused,
    DraftGone,
    GmailTransport,
    OutboxTransport,
    SenderRefused,
    SmtpConnection,
    SmtpTransport,
    Transport,
)

BATCH_SIZE = 20
T = TypeVar("T")


@dataclass
class _Run:
    config: Config
    sessions: Sequence[Session]
    members: Sequence[Member]
    transport: Transport
    ledger: LedgerWriter
    now: dt.datetime
    batch_size: int
    problems: list[Problem] = field(default_factory=list)
    unknown: list[Reminder] = field(default_factory=list)
    composer: Composer | None = None

    def problem(self, message: str, *, fix: str = "", severity: str = "error") -> None:
        self.problems.append(Problem(STEP, message, fix=fix, severity=severity))

    def compose(self, reminder: Reminder) -> EmailMessage | None:
        try:
            if self.composer is None:
                self.composer = Composer(self.config, self.sessions, self.members, self.now)
            extra = {"entries": [r.label() for r in self.unknown]} \
                if reminder.kind == NOTICE else None
            return self.composer.compose(reminder, extra)
        except FormsyncError as error:
            self.problem(f"cannot write the {reminder.label()}: {error.message}", fix=error.fix)
        except (jinja2.TemplateError, ValueError, OSError) as error:
            self.problem(f"cannot write the {reminder.label()}: {error}",
                         fix="check the templates in reminders.templates_folder")
        return None


def send_reminders(reminders: Sequence[Reminder | DraftSweep], sessions: Sequence[Session],
                   members: Sequence[Member], config: Config, sheets_backend: SheetsBackend,
                   transport: Transport, now: dt.datetime, *, batch_size: int = BATCH_SIZE,
                   ledger: Table | None = None) -> list[Problem]:
    """Send what `plan_reminders` planned, recording each step in the ledger. `ledger`: the
    Reminders worksheet as the plan read it (else it is read here)."""
    now = local(now, config.group.tz)
    ledger_writer = LedgerWriter(sheets_backend, config.group.tz, ledger)
    run = _Run(config, sessions, members, transport, ledger_writer, now, max(1, batch_size))
    try:
        _run(run, reminders)
    except FormsyncError as error:  # the ledger could not be written: stop, say so
        run.problem(f"reminders stopped: could not write the Reminders ledger: "
                    f"{error.message}", fix=error.fix or "run again; nothing is sent twice")
    return run.problems


def _run(run: _Run, actions: Sequence[Reminder | DraftSweep]) -> None:
    ledger = run.ledger
    reminders = [a for a in actions if isinstance(a, Reminder)]
    for reminder in reminders:
        if reminder.kind == SETUP_KIND:
            ledger.record(reminder.key, RECORDED, reminder.due,
                          detail="members registered before this time get no welcome email")
    ledger.flush()
    _recover(run, [r for r in reminders if r.recovery])
    fresh = [r for r in reminders if not r.recovery and r.kind != SETUP_KIND and _still_open(
        run, r)]
    fresh += _notices(run)
    sweeps = [a for a in actions if isinstance(a, DraftSweep)]
    if isinstance(run.transport, GmailTransport):
        _deliver_gmail(run, run.transport, fresh, sweeps)
    elif fresh:
        _deliver(run, fresh)
    ledger.flush()


def preview(reminders: Sequence[Reminder], sessions: Sequence[Session],
            members: Sequence[Member], config: Config, now: dt.datetime) -> list[EmailMessage]:
    """The messages a run would send (for --dry-run), in plan order."""
    composer = Composer(config, sessions, members, now)
    return [composer.compose(r) for r in reminders if r.kind != SETUP_KIND and not r.recovery]


def write_preview(reminders: Sequence[Reminder], sessions: Sequence[Session],
                  members: Sequence[Member], config: Config, now: dt.datetime,
                  folder: Path) -> list[Path]:
    """Write the would-be messages as .eml files in `folder` (a preview outbox)."""
    outbox = OutboxTransport(folder)
    wanted = [r for r in reminders if r.kind != SETUP_KIND and not r.recovery]
    for reminder, message in zip(wanted, preview(wanted, sessions, members, config, now),
                                 strict=True):
        outbox.deliver(reminder.key, message)
    return [outbox.path(r.key) for r in wanted]


def _still_open(run: _Run, reminder: Reminder) -> bool:
    """Not settled by another run since planning, and its session has not started."""
    if not is_open(run.ledger.entries.get(reminder.key)):
        return False
    return reminder.deadline is None or run.now < reminder.deadline


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ---------------------------------------------------------------------------------------------
# Recovery of interrupted runs


def _recover(run: _Run, interrupted: Sequence[Reminder]) -> None:
    for reminder in interrupted:
        if (reminder.recovery == DRAFTED and reminder.message_id
                and isinstance(run.transport, GmailTransport)):
            _finish_draft(run, run.transport, reminder)
        elif isinstance(run.transport, OutboxTransport) and run.transport.delivered(
                reminder.key):
            run.ledger.record(reminder.key, SENT, run.now, detail="found in the outbox")
        else:
            _mark_unknown(run, reminder, "an earlier run was interrupted while sending it")
    run.ledger.flush()


def _mark_unknown(run: _Run, reminder: Reminder, why: str) -> None:
    run.ledger.record(reminder.key, UNKNOWN, run.now, message_id=reminder.message_id,
                      detail=f"{why}; it may or may not have been delivered")
    run.unknown.append(reminder)
    run.problem(f"the {reminder.label()} may or may not have been delivered ({why}); it will "
                "not be sent again", fix="ask the recipient; to send it again set its Status "
                "to 'retry' in the Reminders sheet", severity="warning")


def _finish_draft(run: _Run, gmail: GmailTransport, reminder: Reminder) -> None:
    draft = reminder.message_id
    try:
        if not gmail.draft_exists(draft):
            run.ledger.record(reminder.key, SENT, run.now,
                              detail=f"draft {draft} was sent by an interrupted run")
        elif reminder.deadline is not None and run.now >= reminder.deadline:
            gmail.delete_draft(draft)
            run.ledger.record(reminder.key, EXPIRED, run.now,
                              detail="its session started before it could be sent")
        else:
            _send_draft(run, gmail, reminder, draft)
    except BackendError as error:
        run.problem(f"could not finish the {reminder.label()}: {error.message}",
                    fix="it stays 'drafted'; the next run finishes it")


def _send_draft(run: _Run, gmail: GmailTransport, reminder: Reminder, draft: str) -> None:
    """drafts.send, recorded; BackendError propagates (the row stays `drafted`)."""
    try:
        message_id = gmail.send_draft(draft)
    except DraftGone:
        run.ledger.record(reminder.key, SENT, run.now, detail=f"draft {draft} already sent")
    except DeliveryRefused as refused:
        gmail.delete_draft(draft)
        _refusal(run, reminder, refused)
    else:
        run.ledger.record(reminder.key, SENT, run.now, message_id=message_id)


def _notices(run: _Run) -> list[Reminder]:
    """One notice per organizer listing the reminders that became `unknown`."""
    if not run.unknown:
        return []
    people = organizers(run.config, reachable(run.members))
    stamp = run.now.strftime("%Y-%m-%dT%H:%M")
    return [Reminder(NOTICE, stamp, p.email, run.now, p.language, p.name) for p in people]


# ---------------------------------------------------------------------------------------------
# Delivery


def _deliver(run: _Run, reminders: Sequence[Reminder]) -> None:
    if isinstance(run.transport, OutboxTransport):
        _deliver_outbox(run, run.transport, reminders)
    elif isinstance(run.transport, SmtpTransport):
        _deliver_smtp(run, run.transport, reminders)
    run.ledger.flush()


def _refusal(run: _Run, reminder: Reminder, refused: DeliveryRefused) -> None:
    status = FAILED if refused.permanent else DEFERRED
    run.ledger.record(reminder.key, status, run.now, detail=refused.reason)
    retry = "it will not be retried" if refused.permanent else "the next run tries again"
    run.problem(f"the {reminder.label()} was refused: {refused.reason} ({retry})",
                fix="check the address in Members" if refused.permanent else "",
                severity="error" if refused.permanent else "warning")


def _deliver_outbox(run: _Run, outbox: OutboxTransport, reminders: Sequence[Reminder]) -> None:
    with contextlib.suppress(OSError):
        outbox.remove_temp_files()  # left by a run killed mid-write
    for chunk in _chunks(reminders, run.batch_size):
        for reminder in chunk:
            message = run.compose(reminder)
            if message is None:
                continue
            try:
                message_id = outbox.deliver(reminder.key, message)
            except OSError as error:
                run.problem(f"cannot write to the outbox {outbox.folder}: {error}",
                            fix="check the folder reminders.outbox_folder")
                return
            run.ledger.record(reminder.key, SENT, run.now, message_id=message_id)
        run.ledger.flush()


def _prepared(run: _Run, reminders: Sequence[Reminder]) -> list[tuple[Reminder, EmailMessage]]:
    pairs = [(reminder, run.compose(reminder)) for reminder in reminders]
    return [(reminder, message) for reminder, message in pairs if message is not None]


def _deliver_smtp(run: _Run, smtp: SmtpTransport, reminders: Sequence[Reminder]) -> None:
    prepared = _prepared(run, reminders)
    if not prepared:
        return
    with contextlib.ExitStack() as stack:
        try:
            client = stack.enter_context(smtp.connect())
        except BackendError as error:
            run.problem(f"no reminders sent: {error.message}", fix=error.fix)
            return
        for chunk in _chunks(prepared, run.batch_size):
            if not _smtp_batch(run, client, chunk):
                return


def _smtp_batch(run: _Run, client: SmtpConnection,
                chunk: Sequence[tuple[Reminder, EmailMessage]]) -> bool:
    """queued (the batch) → pending (each message just before its own send) → sent, so that
    a kill leaves at most the message in flight `pending` (later: `unknown`) and the rest
    `queued`, still due. Each `pending` is written with the previous message's outcome: one
    ledger write per message. False when sending must stop for this run."""
    for reminder, _ in chunk:
        run.ledger.record(reminder.key, QUEUED, run.now)
    run.ledger.flush()
    for index, (reminder, message) in enumerate(chunk):
        run.ledger.record(reminder.key, PENDING, run.now)
        run.ledger.flush()
        try:
            message_id = client.send(message)
        except DeliveryRefused as refused:
            _refusal(run, reminder, refused)
        except (SenderRefused, AccountRefused) as error:  # certain: nothing went out
            _defer(run, [r for r, _ in chunk[index:]], error)
            return False
        except BackendError as error:
            _mark_unknown(run, reminder, f"the SMTP connection failed while sending it "
                                         f"({error.message})")
            _defer(run, [r for r, _ in chunk[index + 1:]], error)
            return False
        else:
            run.ledger.record(reminder.key, SENT, run.now, message_id=message_id)
    run.ledger.flush()
    return True


def _defer(run: _Run, unsent: Sequence[Reminder], error: BackendError) -> None:
    for reminder in unsent:
        run.ledger.record(reminder.key, DEFERRED, run.now, detail=f"not sent: {error.message}")
    run.ledger.flush()
    run.problem(f"{error.message}; {len(unsent)} reminders wait for the next run",
                fix=error.fix)


def _deliver_gmail(run: _Run, gmail: GmailTransport, reminders: Sequence[Reminder],
                   sweeps: Sequence[DraftSweep]) -> None:
    prepared = _prepared(run, reminders)
    try:
        adopted = _sweep_drafts(run, gmail, sweeps, {r.key for r, _ in prepared})
    except BackendError as error:
        run.problem(f"Gmail: {error.message}", fix=error.fix)
        return
    for chunk in _chunks(prepared, run.batch_size):
        for reminder, _ in chunk:
            draft = adopted.get(reminder.key)
            if draft:
                run.ledger.record(reminder.key, DRAFTED, run.now, message_id=draft,
                                  detail="a draft an interrupted run left, sent now")
            else:
                run.ledger.record(reminder.key, DRAFTING, run.now)
        run.ledger.flush()
        drafted = [(r, adopted[r.key]) for r, _ in chunk if r.key in adopted]
        try:
            for reminder, message in chunk:
                if reminder.key not in adopted:
                    draft = _create_draft(run, gmail, reminder, message)
                    if draft:
                        drafted.append((reminder, draft))
        except BackendError as error:
            run.problem(f"Gmail refused to create a draft: {error.message}", fix=error.fix)
            return  # the drafts created so far are recorded by this flush
        finally:
            run.ledger.flush()
        if not _send_drafts(run, gmail, drafted):
            return


def _sweep_drafts(run: _Run, gmail: GmailTransport, sweeps: Sequence[DraftSweep],
                  sending: set[LedgerKey]) -> dict[LedgerKey, str]:
    """Find the drafts interrupted sends may have left, by Message-ID (the same for the same
    ledger key). A reminder sent in this run adopts its first draft (deleting one instead
    could lose it: a late `drafted` row may point at it); every other one is deleted, except
    a draft a `drafted` row will still send. The adopted draft of each key."""
    keys = {key for sweep in sweeps for key in sweep.keys}
    if not keys:
        return {}
    domain = sender_of(run.config).domain
    wanted = {message_id(key, domain): key for key in keys}
    recorded = {e.message_id for e in run.ledger.entries.values() if e.status == DRAFTED}
    adopted: dict[LedgerKey, str] = {}
    for found, drafts in gmail.find_drafts(set(wanted)).items():
        key = wanted[found]
        for draft in drafts:
            if draft in recorded:
                continue
            if key in sending and key not in adopted:
                adopted[key] = draft
            else:
                gmail.delete_draft(draft)
    run.ledger.mark_swept(keys, run.now)
    return adopted


def _send_drafts(run: _Run, gmail: GmailTransport, drafted: Sequence[tuple[Reminder, str]]
                 ) -> bool:
    for index, (reminder, draft) in enumerate(drafted):
        try:
            _send_draft(run, gmail, reminder, draft)
        except BackendError as error:
            left = len(drafted) - index
            run.problem(f"Gmail did not send {left} drafted reminders: {error.message}",
                        fix="they stay 'drafted'; the next run checks and sends them")
            run.ledger.flush()
            return False
    run.ledger.flush()
    return True


def _create_draft(run: _Run, gmail: GmailTransport, reminder: Reminder,
                  message: EmailMessage) -> str:
    try:
        draft = gmail.create_draft(message)
    except DeliveryRefused as refused:
        _refusal(run, reminder, refused)
        return ""
    run.ledger.record(reminder.key, DRAFTED, run.now, message_id=draft)
    return draft
