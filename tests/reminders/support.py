"""Builders, servers and fixtures shared by the reminder tests (see conftest.py)."""

from __future__ import annotations

import datetime as dt
import json
import socket
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from tests.helpers import ledger_rows, ledger_statuses

from formsync.config import Config, parse_config
from formsync.local.sheets import LocalSheets
from formsync.model import REMINDERS, Member, Problem, Session
from formsync.reminders.plan import Reminder, plan_reminders
from formsync.reminders.send import send_reminders
from formsync.reminders.transports import Transport

MEXICO = zoneinfo.ZoneInfo("America/Mexico_City")
ORGANIZERS = ("j.diaz@opianalytics.com", "o.lopez@opianalytics.com")


def seed_sessions() -> list[Session]:
    """Sessions 1-5 of the seed README: 1-4 dated 17:00-19:30, 5 only proposed."""
    def dated(row: int, key: str, chapter: str, guide: str, exercises: str,
              day: dt.date) -> Session:
        return Session(row=row, key=key, chapter=chapter, guide=guide,
                       readings=f"Find readings [here](https://github.com/jadm-opi/"
                                f"d2l-study-group/blob/master/readings/section-0{key}.md)",
                       exercises=exercises, date=day, start=dt.time(17), end=dt.time(19, 30))

    def assignment(n: int) -> str:
        return (f"[Assignment {n}](https://github.com/dair-ai/d2l-study-group/blob/master/"
                f"exercises/section-0{n}.md)")

    return [
        dated(2, "1", "Introduction to Deep Learning", "Toño", assignment(1),
              dt.date(2020, 10, 20)),
        dated(3, "2", "Preliminaries", "Gus", "NA", dt.date(2020, 11, 3)),
        dated(4, "3", "Linear Neural Networks", "", assignment(3), dt.date(2020, 11, 17)),
        dated(5, "4", "Multilayer Perceptrons", "", assignment(4), dt.date(2020, 12, 1)),
        Session(row=6, key="5", chapter="Deep Learning Computation", exercises="TBA",
                proposed=dt.datetime(2020, 12, 15, 17)),
    ]


class TestMember(Member):
    def registered_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.registered)


def member(email: str, name: str, *, registered: str = "2020-10-01T10:00:00-05:00",
           status: str = "active", language: str = "", volunteer: str = "") -> TestMember:
    return TestMember(email=email, name=name, registered=registered, updated=registered,
                  status=status, guide_volunteer=volunteer, language=language, notes="")


def seed_members() -> list[Member]:
    return [
        member("ana@example.org", "Ana López", language="es"),
        member("bob@example.org", "Bob Smith", language="en", volunteer="yes"),
        member("j.diaz@opianalytics.com", "Toño"),
        member("o.lopez@opianalytics.com", "Gus"),
        member("carla@example.org", "Carla", status="unsubscribed"),
        member("dan@example.org", "Dan", status="removed"),
    ]


def make_config(root: Path, *, google: dict[str, Any] | None = None,
                group: dict[str, Any] | None = None, **reminders: Any) -> Config:
    data: dict[str, Any] = {
        "group": {"name": "Deep Learning Study Group", "timezone": "America/Mexico_City",
                  "language": "es", "organizers": list(ORGANIZERS)},
        "calendar": {"meeting_link": "https://meet.example.org/d2l"},
        "reminders": {"from_address": "Grupo D2L <grupo@example.org>",
                      "outbox_folder": "outbox", **reminders},
    }
    data["group"].update(group or {})
    if google is not None:
        data["google"] = google
    return parse_config(data, root)


def at(day: str, time: str = "09:30", tz: dt.tzinfo = MEXICO) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=tz)


@dataclass
class Group:
    """A local workspace: the Reminders ledger as CSV, and the group's sessions and members."""

    root: Path
    config: Config
    sessions: list[Session] = field(default_factory=seed_sessions)
    members: list[Member] = field(default_factory=seed_members)

    @property
    def sheets(self) -> LocalSheets:
        return LocalSheets(self.root)

    def plan(self, now: dt.datetime) -> tuple[list[Reminder], list[Problem]]:
        return plan_reminders(self.sessions, self.members, self.sheets.read(REMINDERS),
                              self.config, now)

    def run(self, now: dt.datetime, transport: Transport, *, sheets: Any = None,
            batch_size: int = 20) -> tuple[list[Reminder], list[Problem]]:
        reminders, problems = self.plan(now)
        problems += send_reminders(reminders, self.sessions, self.members, self.config,
                                   sheets or self.sheets, transport, now,
                                   batch_size=batch_size)
        return reminders, problems

    def ledger(self) -> list[dict[str, str]]:
        return ledger_rows(self.sheets)

    def statuses(self) -> dict[tuple[str, str, str], str]:
        """The status that counts for each reminder (rows read as formsync reads them)."""
        return ledger_statuses(self.sheets)

@pytest.fixture
def group(tmp_path: Path) -> Group:
    return Group(tmp_path, make_config(tmp_path))


class Killed(BaseException):
    """Stands for the process dying: nothing after it runs, no handler catches it."""


def parse(data: bytes) -> EmailMessage:
    message: EmailMessage = BytesParser(policy=policy.default).parsebytes(data)
    return message


def body(message: EmailMessage, kind: str = "plain") -> str:
    part = message.get_body((kind,))
    assert part is not None, f"no text/{kind} part"
    return str(part.get_content())


# ---------------------------------------------------------------------------------------------
# A real SMTP server on loopback


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return parse(self.data)


@dataclass
class Mailbox:
    """aiosmtpd handler: keeps what it receives; refuses listed recipients."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> SMTP reply

    async def handle_RCPT(self, server: SMTP, session: SmtpSession, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession,
                          envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos),
                                      bytes(content)))
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return sorted(r for item in self.received for r in item.rcpt_tos)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int

    def settings(self) -> dict[str, Any]:
        return {"transport": "smtp",
                "smtp": {"host": "127.0.0.1", "port": self.port, "security": "none",
                         "timeout_seconds": 5}}


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(mailbox, controller.port)
    finally:
        controller.stop()


# ---------------------------------------------------------------------------------------------
# The Google emulator (same shapes as tests/google/conftest.py)


@pytest.fixture
def emulator() -> Iterator[Any]:
    from formsync.emulator import Emulator

    with Emulator() as running:
        yield running


def gmail_settings(emulator: Any, key_file: Path, subject: str) -> dict[str, Any]:
    from formsync.emulator.testing import google_settings, make_service_account

    key_file.write_text(json.dumps(make_service_account(emulator)), encoding="utf-8")
    return google_settings(emulator, credentials_file=str(key_file), subject=subject,
                           timeout_seconds=5, retry_deadline_seconds=5)


def sent_keys(rows: Sequence[dict[str, str]]) -> list[tuple[str, str, str]]:
    return sorted((r["Kind"], r["Session"], r["Recipient"]) for r in rows
                  if r["Status"] == "sent")
