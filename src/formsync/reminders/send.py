"""Sending planned reminders exactly once, whatever point a run is killed at, and whatever
write Google applies late (after the client gave up) while a rerun goes on.

This module runs the protocols; each transport carries its own (transports.py: `deliver` and
`recover`, sharing delivery.SendRun). The ledger (worksheet `Reminders`, see ledger.py) is
written in batches through the sheets backend's `apply`; each attempt adds its own rows, so a
late write never undoes a later one.
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

import datetime as dt
from collections.abc import Mapping, Sequence
from email.message import EmailMessage

from formsync.config import Config
from formsync.errors import FormsyncError
from formsync.model import Member, Problem, Session, Table
from formsync.ports import SheetsBackend
from formsync.reminders.compose import Composer
from formsync.reminders.delivery import MailTransport, SendRun
from formsync.reminders.ledger import RECORDED, SETUP_KIND, LedgerKey, LedgerWriter, is_open
from formsync.reminders.plan import NOTICE, DraftSweep, Reminder, local, organizers, reachable

BATCH_SIZE = 20


def send_reminders(reminders: Sequence[Reminder | DraftSweep], sessions: Sequence[Session],
                   members: Sequence[Member], config: Config, sheets_backend: SheetsBackend,
                   transport: MailTransport, now: dt.datetime, *,
                   batch_size: int = BATCH_SIZE, ledger: Table | None = None,
                   extras: Mapping[LedgerKey, Mapping[str, object]] | None = None
                   ) -> list[Problem]:
    """Send what `plan_reminders` planned, recording each step in the ledger. `ledger`: the
    Reminders worksheet as the plan read it (else it is read here). `extras`: template values
    of particular messages (a digest's problems), by ledger key."""
    now = local(now, config.group.tz)
    ledger_writer = LedgerWriter(sheets_backend, config.group.tz, ledger)
    run = SendRun(config, sessions, members, transport, ledger_writer, now, max(1, batch_size),
                  extras=dict(extras or {}))
    try:
        _run(run, reminders)
    except FormsyncError as error:  # the ledger could not be written: stop, say so
        run.problem(f"reminders stopped: could not write the Reminders ledger: "
                    f"{error.message}", fix=error.fix or "run again; nothing is sent twice")
    return run.problems


def _run(run: SendRun, actions: Sequence[Reminder | DraftSweep]) -> None:
    ledger = run.ledger
    reminders = [a for a in actions if isinstance(a, Reminder)]
    for reminder in reminders:
        if reminder.kind == SETUP_KIND:
            ledger.record(reminder.key, RECORDED, reminder.due,
                          detail="members registered before this time get no welcome email")
    ledger.flush()
    for reminder in reminders:
        if reminder.recovery:
            run.transport.recover(run, reminder)
    ledger.flush()
    fresh = [r for r in reminders if not r.recovery and r.kind != SETUP_KIND and _still_open(
        run, r)]
    fresh += _notices(run)
    sweeps = [a for a in actions if isinstance(a, DraftSweep)]
    if fresh or sweeps:
        run.transport.deliver(run, fresh, sweeps)
    ledger.flush()


def preview(reminders: Sequence[Reminder], sessions: Sequence[Session],
            members: Sequence[Member], config: Config, now: dt.datetime) -> list[EmailMessage]:
    """The messages a run would send (for --dry-run), in plan order."""
    composer = Composer(config, sessions, members, now)
    return [composer.compose(r) for r in reminders if r.kind != SETUP_KIND and not r.recovery]


def _still_open(run: SendRun, reminder: Reminder) -> bool:
    """Not settled by another run since planning, and its session has not started."""
    if not is_open(run.ledger.entries.get(reminder.key)):
        return False
    return reminder.deadline is None or run.now < reminder.deadline


def _notices(run: SendRun) -> list[Reminder]:
    """One notice per organizer listing the reminders that became `unknown`."""
    if not run.unknown:
        return []
    people = organizers(run.config, reachable(run.members))
    stamp = run.now.strftime("%Y-%m-%dT%H:%M")
    return [Reminder(NOTICE, stamp, p.email, run.now, p.language, p.name) for p in people]
