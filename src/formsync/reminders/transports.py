"""Where reminders go: an outbox folder of .eml files, an SMTP server, or the Gmail API.

Each transport only moves one message; `formsync.reminders.send` runs the ledger protocol that
makes each reminder go out exactly once. Google code is imported lazily, inside GmailTransport.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import os
import re
import smtplib
import ssl
from collections.abc import Iterator, Mapping, Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

from formsync.config import Config, Smtp
from formsync.errors import BackendError, ConfigError
from formsync.local.files import write_atomically
from formsync.reminders.compose import message_id, sender_of
from formsync.reminders.delivery import (
    AccountRefused,
    DeliveryRefused,
    DraftGone,
    MailTransport,
    SenderRefused,
    SendRun,
    chunks,
)
from formsync.reminders.ledger import DRAFTED, DRAFTING, EXPIRED, PENDING, QUEUED, SENT, LedgerKey
from formsync.reminders.plan import DraftSweep, Reminder

__all__ = ["AccountRefused", "DeliveryRefused", "DraftGone", "GmailTransport", "OutboxTransport",
           "SenderRefused", "SmtpConnection", "SmtpTransport", "Transport"]

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

    from formsync.google.transport import RetryPolicy



# ---------------------------------------------------------------------------------------------
# Outbox


class OutboxTransport:
    """Writes each message to `<folder>/<ledger key>.eml`, atomically.

    Sending is idempotent: a file that exists was sent, and is never written again.
    """

    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: LedgerKey) -> Path:
        return self.folder / f"{key.slug()}.eml"

    def delivered(self, key: LedgerKey) -> bool:
        return self.path(key).exists()

    def remove_temp_files(self) -> int:
        """Delete the temp files a killed run left (`.<name>.eml.<random>.tmp`); how many.
        Only one run writes at a time (the cron script holds a lock), so none is in use."""
        removed = 0
        for temp in self.folder.glob(".*.eml.*.tmp"):
            temp.unlink(missing_ok=True)
            removed += 1
        return removed

    def write(self, key: LedgerKey, message: EmailMessage) -> str:
        """Write the message unless its file exists; its Message-ID either way."""
        path = self.path(key)
        if not path.exists():
            write_atomically(path, message.as_bytes(), fsync=True)
        return str(message["Message-ID"] or "")

    # -- the protocol: write the file, then record `sent` (the file is the proof) -----------

    def deliver(self, run: SendRun, reminders: Sequence[Reminder],
                sweeps: Sequence[DraftSweep]) -> None:
        with contextlib.suppress(OSError):
            self.remove_temp_files()  # left by a run killed mid-write
        for chunk in chunks(reminders, run.batch_size):
            for reminder in chunk:
                message = run.compose(reminder)
                if message is None:
                    continue
                try:
                    sent_id = self.write(reminder.key, message)
                except OSError as error:
                    run.problem(f"cannot write to the outbox {self.folder}: {error}",
                                fix="check the folder reminders.outbox_folder")
                    return
                run.ledger.record(reminder.key, SENT, run.now, message_id=sent_id)
            run.ledger.flush()

    def recover(self, run: SendRun, reminder: Reminder) -> None:
        if self.delivered(reminder.key):
            run.ledger.record(reminder.key, SENT, run.now, detail="found in the outbox")
        else:
            run.mark_unknown(reminder, "an earlier run was interrupted while sending it")


# ---------------------------------------------------------------------------------------------
# SMTP


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SmtpTransport:
    """An SMTP submission server (STARTTLS, SSL, or plain on loopback)."""

    name = "smtp"

    def __init__(self, settings: Smtp, *, password: str = "") -> None:
        if settings.username and settings.security == "none" and not _is_loopback(settings.host):
            raise ConfigError("reminders.smtp.security", "'none' would send the password "
                              f"unencrypted to {settings.host}",
                              fix="use 'starttls' (port 587) or 'ssl' (port 465)")
        self.settings = settings
        self._password = password

    def __repr__(self) -> str:  # never show the password
        return f"SmtpTransport({self.settings.host}:{self.settings.port}, " \
               f"{self.settings.security})"

    @classmethod
    def from_config(cls, settings: Smtp, environ: Mapping[str, str] | None = None
                    ) -> SmtpTransport:
        env = os.environ if environ is None else environ
        password = env.get(settings.password_env, "") if settings.password_env else ""
        if settings.username and not password:
            raise ConfigError("reminders.smtp.password_env", f"the environment variable "
                              f"{settings.password_env!r} holding the SMTP password is not set",
                              fix=f"export {settings.password_env}=... before running formsync")
        return cls(settings, password=password)

    @contextlib.contextmanager
    def connect(self) -> Iterator[SmtpConnection]:
        """An open, authenticated connection; BackendError when it cannot be had."""
        try:
            client = self._open()
        except smtplib.SMTPAuthenticationError as error:
            raise BackendError(f"the SMTP server {self.settings.host} refused the login of "
                               f"{self.settings.username} ({error.smtp_code})",
                               fix=f"check reminders.smtp.username and the password in "
                                   f"${self.settings.password_env}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise BackendError(f"cannot reach the SMTP server {self.settings.host}:"
                               f"{self.settings.port} ({type(error).__name__}: {error})",
                               fix="check reminders.smtp host, port and security") from None
        try:
            yield SmtpConnection(client, self.settings.host)
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                client.quit()

    # -- the protocol: queued → pending (each message just before its own send) → sent ------

    def deliver(self, run: SendRun, reminders: Sequence[Reminder],
                sweeps: Sequence[DraftSweep]) -> None:
        prepared = run.prepared(reminders)
        if not prepared:
            return
        with contextlib.ExitStack() as stack:
            try:
                client = stack.enter_context(self.connect())
            except BackendError as error:
                run.problem(f"no reminders sent: {error.message}", fix=error.fix)
                return
            for chunk in chunks(prepared, run.batch_size):
                if not _smtp_batch(run, client, chunk):
                    return

    def recover(self, run: SendRun, reminder: Reminder) -> None:
        """A server cannot be asked whether it took a message: a `pending` row is unknown."""
        run.mark_unknown(reminder, "an earlier run was interrupted while sending it")

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if s.security == "ssl":
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds,
                                      context=context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        try:
            client.ehlo()
            if s.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if s.username:
                client.login(s.username, self._password)
        except BaseException:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                client.close()
            raise
        return client

    def handshake(self) -> str:
        """For `formsync doctor`: connect, EHLO, TLS and AUTH as a send does, then QUIT;
        sends nothing. The TLS version in use ("" when plain). smtplib's and ssl's errors
        come out as raised, so the caller can tell a refused login from a missing STARTTLS."""
        client = self._open()
        try:
            sock = client.sock
            return (sock.version() or "") if isinstance(sock, ssl.SSLSocket) else ""
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                client.quit()


def _smtp_batch(run: SendRun, client: SmtpConnection,
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
            sent_id = client.send(message)
        except DeliveryRefused as refused:
            run.refused(reminder, refused)
        except (SenderRefused, AccountRefused) as error:  # certain: nothing went out
            run.defer([r for r, _ in chunk[index:]], error)
            return False
        except BackendError as error:
            run.mark_unknown(reminder, f"the SMTP connection failed while sending it "
                                       f"({error.message})")
            run.defer([r for r, _ in chunk[index + 1:]], error)
            return False
        else:
            run.ledger.record(reminder.key, SENT, run.now, message_id=sent_id)
    run.ledger.flush()
    return True


class SmtpConnection:
    def __init__(self, client: smtplib.SMTP, host: str) -> None:
        self.client, self.host = client, host

    def send(self, message: EmailMessage) -> str:
        """Hand one message over. DeliveryRefused for a refusal the server stated;
        BackendError when the connection failed and the outcome is unknown."""
        try:
            self.client.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            code, reason = next(iter(error.recipients.values()), (0, b""))
            raise self._refused(code, reason) from None
        except smtplib.SMTPSenderRefused as error:
            refusal = self._refused(error.smtp_code, error.smtp_error).reason
            raise SenderRefused(f"{self.host} refused the sender: {refusal}",
                                fix="check reminders.from_address: the SMTP account must be "
                                    "allowed to send as it") from None
        except smtplib.SMTPDataError as error:
            raise self._refused(error.smtp_code, error.smtp_error) from None
        except (smtplib.SMTPException, OSError) as error:
            raise BackendError(f"the connection to {self.host} failed while sending "
                               f"({type(error).__name__})",
                               fix="run again later; the message's ledger row says what "
                                   "happened") from None
        return str(message["Message-ID"] or "")


    def _refused(self, code: int, reason: bytes | str) -> DeliveryRefused:
        """A stated refusal of this message, or AccountRefused (raised) when the reply is
        about the account or the server: 421/454 (service or TLS not available), 530/534/535
        (authentication), 4.4.5/5.4.5 or a quota (sending limits, e.g. Gmail's "550 5.4.5
        Daily user sending limit exceeded")."""
        text = " ".join((reason.decode("utf-8", "replace") if isinstance(reason, bytes)
                         else reason).split())
        summary = f"SMTP {code} {text}"
        if code in _ACCOUNT_CODES or _SENDING_LIMIT.search(text):
            raise AccountRefused(f"{self.host} refused to send for this account: {summary}",
                                 fix="check reminders.smtp (username, password, security) and "
                                     "the account's sending limits; the reminders stay due and "
                                     "go out on a run after the fix")
        return DeliveryRefused(summary, permanent=code >= 500, code=code)


_ACCOUNT_CODES = frozenset({421, 454, 530, 534, 535})
_SENDING_LIMIT = re.compile(r"\b[45]\.4\.5\b|quota|limit exceeded", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Gmail


class GmailTransport:
    """The Gmail API through googleapiclient: drafts.create / drafts.send / drafts.get."""

    name = "gmail"

    def __init__(self, service: Any, user_id: str = "me") -> None:
        self.service = service
        self.user_id = user_id

    @classmethod
    def from_config(cls, config: Config, *, policy: RetryPolicy | None = None,
                    credentials: Credentials | None = None) -> GmailTransport:
        """`policy` and `credentials`: the run's, so Gmail shares the retry budget and the
        token of Sheets and Calendar."""
        from formsync.google.auth import GMAIL_COMPOSE, load_credentials
        from formsync.google.transport import build_service

        if credentials is None:
            credentials = load_credentials(config.google, [GMAIL_COMPOSE],
                                           base_dir=config.root)
        return cls(build_service("gmail", "v1", config.google, credentials, policy=policy))

    def _drafts(self) -> Any:
        return self.service.users().drafts()

    def create_draft(self, message: EmailMessage) -> str:
        raw = base64.urlsafe_b64encode(message.as_bytes()).decode("ascii")
        body = {"message": {"raw": raw}}
        reply = self._call(self._drafts().create(userId=self.user_id, body=body))
        return str(reply["id"])

    def send_draft(self, draft_id: str) -> str:
        """The sent message's id; DraftGone if the draft no longer exists (already sent)."""
        request = self._drafts().send(userId=self.user_id, body={"id": draft_id})
        try:
            reply = self._call(request)
        except _NotFound:
            raise DraftGone(draft_id) from None
        return str(reply.get("id", ""))

    def draft_exists(self, draft_id: str) -> bool:
        request = self._drafts().get(userId=self.user_id, id=draft_id, format="minimal")
        try:
            self._call(request)
        except _NotFound:
            return False
        return True

    def find_drafts(self, message_ids: set[str]) -> dict[str, list[str]]:
        """The drafts whose Message-ID header is in `message_ids`, by Message-ID, oldest
        first. Costs drafts.list plus one drafts.get per draft in the mailbox (drafts.list
        gives ids only)."""
        found: dict[str, list[str]] = {}
        for draft_id in self._draft_ids():
            # format=metadata: ids, labels and all headers, no body (drafts.get has no
            # metadataHeaders parameter, unlike messages.get).
            request = self._drafts().get(userId=self.user_id, id=draft_id, format="metadata")
            try:
                headers = self._call(request)["message"].get("payload", {}).get("headers", [])
            except _NotFound:
                continue
            for header in headers:
                if header.get("name", "").lower() == "message-id" and \
                        header.get("value") in message_ids:
                    found.setdefault(str(header["value"]), []).append(draft_id)
        return found

    def _draft_ids(self) -> list[str]:
        ids: list[str] = []
        token: str | None = None
        while True:
            reply = self._call(self._drafts().list(userId=self.user_id, pageToken=token,
                                                   maxResults=500))
            ids += [str(d["id"]) for d in reply.get("drafts", [])]
            token = reply.get("nextPageToken")
            if not token:
                return ids

    def delete_draft(self, draft_id: str) -> None:
        with contextlib.suppress(_NotFound):
            self._call(self._drafts().delete(userId=self.user_id, id=draft_id))

    # -- the protocol: drafting → drafts.create → drafted (id) → drafts.send → sent --------

    def deliver(self, run: SendRun, reminders: Sequence[Reminder],
                sweeps: Sequence[DraftSweep]) -> None:
        prepared = run.prepared(reminders)
        try:
            adopted = self._sweep(run, sweeps, {r.key for r, _ in prepared})
        except BackendError as error:
            run.problem(f"Gmail: {error.message}", fix=error.fix)
            return
        for chunk in chunks(prepared, run.batch_size):
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
                        draft = self._create(run, reminder, message)
                        if draft:
                            drafted.append((reminder, draft))
            except BackendError as error:
                run.problem(f"Gmail refused to create a draft: {error.message}", fix=error.fix)
                return  # the drafts created so far are recorded by this flush
            finally:
                run.ledger.flush()
            if not self._send_all(run, drafted):
                return

    def recover(self, run: SendRun, reminder: Reminder) -> None:
        """A `drafted` row: drafts.get tells whether the draft was sent (404) or not."""
        draft = reminder.message_id
        if reminder.recovery != DRAFTED or not draft:
            run.mark_unknown(reminder, "an earlier run was interrupted while sending it")
            return
        try:
            if not self.draft_exists(draft):
                run.ledger.record(reminder.key, SENT, run.now,
                                  detail=f"draft {draft} was sent by an interrupted run")
            elif reminder.deadline is not None and run.now >= reminder.deadline:
                self.delete_draft(draft)
                run.ledger.record(reminder.key, EXPIRED, run.now,
                                  detail="its session started before it could be sent")
            else:
                self._send(run, reminder, draft)
        except BackendError as error:
            run.problem(f"could not finish the {reminder.label()}: {error.message}",
                        fix="it stays 'drafted'; the next run finishes it")

    def _sweep(self, run: SendRun, sweeps: Sequence[DraftSweep],
               sending: set[LedgerKey]) -> dict[LedgerKey, str]:
        """Find the drafts interrupted sends may have left, by Message-ID (the same for the
        same ledger key). A reminder sent in this run adopts its first draft (deleting one
        instead could lose it: a late `drafted` row may point at it); every other one is
        deleted, except a draft a `drafted` row will still send. The adopted draft of each
        key."""
        keys = {key for sweep in sweeps for key in sweep.keys}
        if not keys:
            return {}
        domain = sender_of(run.config).domain
        wanted = {message_id(key, domain): key for key in keys}
        recorded = {e.message_id for e in run.ledger.entries.values() if e.status == DRAFTED}
        adopted: dict[LedgerKey, str] = {}
        for found, drafts in self.find_drafts(set(wanted)).items():
            key = wanted[found]
            for draft in drafts:
                if draft in recorded:
                    continue
                if key in sending and key not in adopted:
                    adopted[key] = draft
                else:
                    self.delete_draft(draft)
        run.ledger.mark_swept(keys, run.now)
        return adopted

    def _create(self, run: SendRun, reminder: Reminder, message: EmailMessage) -> str:
        try:
            draft = self.create_draft(message)
        except DeliveryRefused as refused:
            run.refused(reminder, refused)
            return ""
        run.ledger.record(reminder.key, DRAFTED, run.now, message_id=draft)
        return draft

    def _send_all(self, run: SendRun, drafted: Sequence[tuple[Reminder, str]]) -> bool:
        for index, (reminder, draft) in enumerate(drafted):
            try:
                self._send(run, reminder, draft)
            except BackendError as error:
                left = len(drafted) - index
                run.problem(f"Gmail did not send {left} drafted reminders: {error.message}",
                            fix="they stay 'drafted'; the next run checks and sends them")
                run.ledger.flush()
                return False
        run.ledger.flush()
        return True

    def _send(self, run: SendRun, reminder: Reminder, draft: str) -> None:
        """drafts.send, recorded; BackendError propagates (the row stays `drafted`)."""
        try:
            sent_id = self.send_draft(draft)
        except DraftGone:
            run.ledger.record(reminder.key, SENT, run.now, detail=f"draft {draft} already sent")
        except DeliveryRefused as refused:
            self.delete_draft(draft)
            run.refused(reminder, refused)
        else:
            run.ledger.record(reminder.key, SENT, run.now, message_id=sent_id)

    def _call(self, request: Any) -> Any:
        from googleapiclient.errors import HttpError

        from formsync.google.transport import api_error

        try:
            return request.execute()
        except HttpError as error:
            status = int(error.resp.status)
            if status == 404:
                raise _NotFound() from None
            refused = api_error(status, error.content, url=str(error.uri or ""))
            if status == 400 and _BAD_RECIPIENT.search(refused.message):
                raise DeliveryRefused(refused.message, permanent=True, code=status) from None
            raise AccountRefused(refused.message, fix=_gmail_fix(status, refused)) from None


# What Gmail answers for a message whose recipients it cannot use (the only refusal about one
# reminder); any other 400, and 401, 403, 429 and 5xx, are about the account, its delegation,
# its quota or Google (https://developers.google.com/workspace/gmail/api/guides/handle-errors).
_BAD_RECIPIENT = re.compile(r"Invalid (?:To|Cc|Bcc) header|Recipient address required", re.I)


def _gmail_fix(status: int, refused: BackendError) -> str:
    if "Precondition check failed" in refused.message:
        return ("Gmail has no mailbox for a service account acting as itself: set google.subject "
                "to the Workspace address to send from (domain-wide delegation for the "
                "gmail.compose scope), or use 'formsync auth login'; the reminders stay due")
    if status in (403, 429):
        return ("Gmail refused the account or its quota (including the daily sending limit: "
                "500 a day for Gmail, 2,000 for Workspace); the reminders stay due and go out "
                "on a later run")
    return f"{refused.fix}; the reminders stay due"


class _NotFound(Exception):
    pass


Transport = MailTransport  # what send.py needs of a transport
