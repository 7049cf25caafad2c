"""The same term through every transport: outbox, a real SMTP server on loopback, and Gmail
through the real googleapiclient to the emulator. The same emails, once each."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from tests.reminders.support import (
    Group,
    SmtpServer,
    at,
    gmail_settings,
    make_config,
    parse,
)
from tests.reminders.test_term import EXPECTED, FIRST, LAST, sent_by_day, walk

from formsync.backends import build_transport
from formsync.reminders.transports import OutboxTransport, Transport

Delivered = Callable[[], list[EmailMessage]]


def fingerprint(messages: list[EmailMessage]) -> list[tuple[str, str, str]]:
    return sorted((str(m["Message-ID"]), str(m["To"].addresses[0].addr_spec), str(m["Subject"]))
                  for m in messages)


def outbox(group: Group, request: pytest.FixtureRequest) -> tuple[Transport, Delivered]:
    box = OutboxTransport(group.root / "outbox")
    return box, lambda: [parse(p.read_bytes()) for p in box.folder.glob("*.eml")]


def smtp(group: Group, request: pytest.FixtureRequest) -> tuple[Transport, Delivered]:
    server: SmtpServer = request.getfixturevalue("smtp_server")
    group.config = make_config(group.root, **server.settings())
    return build_transport(group.config), lambda: [r.message for r in server.mailbox.received]


def gmail(group: Group, request: pytest.FixtureRequest) -> tuple[Transport, Delivered]:
    emulator: Any = request.getfixturevalue("emulator")
    sender = "grupo@example.org"
    settings = gmail_settings(emulator, group.root / "key.json", subject=sender)
    group.config = make_config(group.root, google=settings, transport="gmail")
    return build_transport(group.config), lambda: list(emulator.apis["gmail"].sent(sender))


@pytest.fixture(scope="module")
def outbox_fingerprint(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, str]]:
    root = tmp_path_factory.mktemp("outbox-term")
    group = Group(root, make_config(root))
    box = OutboxTransport(root / "outbox")
    walk(group, box, FIRST, LAST)
    return fingerprint([parse(p.read_bytes()) for p in box.folder.glob("*.eml")])


@pytest.mark.parametrize("transport_of", [outbox, smtp, gmail], ids=["outbox", "smtp", "gmail"])
def test_the_term_yields_the_same_emails_once_each(
        group: Group, request: pytest.FixtureRequest,
        transport_of: Callable[[Group, pytest.FixtureRequest], tuple[Transport, Delivered]],
        outbox_fingerprint: list[tuple[str, str, str]]) -> None:
    transport, delivered = transport_of(group, request)
    walk(group, transport, FIRST, LAST, lambda: len(delivered()))
    messages = delivered()
    assert len(messages) == len(EXPECTED)
    assert len({str(m["Message-ID"]) for m in messages}) == len(messages)  # none twice
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == sorted(
        item[3] for item in EXPECTED)
    assert fingerprint(messages) == outbox_fingerprint
    assert sent_by_day(group.ledger()) == sorted(EXPECTED)


def test_fingerprints_tell_different_terms_apart(tmp_path: Path) -> None:
    """The comparison above can fail: a term that skips a day gives a different set."""
    group = Group(tmp_path, make_config(tmp_path))
    box = OutboxTransport(tmp_path / "outbox")
    group.run(at(FIRST.isoformat()), box)
    group.run(at("2020-10-18"), box)
    partial = fingerprint([parse(p.read_bytes()) for p in box.folder.glob("*.eml")])
    assert 0 < len(partial) < len(EXPECTED)
