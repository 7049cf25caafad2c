"""A whole term, one run a day at 09:30: exactly the expected emails, each once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from tests.reminders.support import ORGANIZERS, Group, at, body, member, parse, seed_members

from formsync.reminders.transports import OutboxTransport, Transport

ANA, BOB, EVE = "ana@example.org", "bob@example.org", "eve@example.org"
TONO, GUS = ORGANIZERS
EVE_REGISTERED = "2020-10-25T12:00:00-05:00"


def everyone(kind: str, session: str, day: str, eve: bool = True
             ) -> list[tuple[str, str, str, str]]:
    people = [ANA, BOB, TONO, GUS] + ([EVE] if eve else [])
    return [(kind, session, person, day) for person in people]


EXPECTED = sorted([
    ("guide", "1", TONO, "2020-10-13"),
    *everyone("reading", "1", "2020-10-18", eve=False),
    ("welcome", "", EVE, "2020-10-26"),
    ("guide", "2", GUS, "2020-10-27"),
    *everyone("homework", "1", "2020-11-01"),
    *everyone("reading", "2", "2020-11-01"),
    ("no_guide", "3", TONO, "2020-11-07"),
    ("no_guide", "3", GUS, "2020-11-07"),
    *everyone("reading", "3", "2020-11-15"),
    ("no_guide", "4", TONO, "2020-11-21"),
    ("no_guide", "4", GUS, "2020-11-21"),
    *everyone("homework", "3", "2020-11-29"),
    *everyone("reading", "4", "2020-11-29"),
])


def walk(group: Group, transport: Transport, first: dt.date, last: dt.date,
         delivered: Callable[[], int] | None = None) -> None:
    """One run a day at 09:30 (Eve registers on 10-25), then a second run the same day that
    must plan nothing and deliver nothing (`delivered` counts what the transport delivered)."""
    if delivered is None and isinstance(transport, OutboxTransport):
        folder = transport.folder
        delivered = lambda: len(list(folder.glob("*.eml")))  # noqa: E731
    assert delivered is not None
    eve = member(EVE, "Eve", registered=EVE_REGISTERED, language="en")
    day = first
    while day <= last:
        now = at(day.isoformat())
        group.members = seed_members() + ([eve] if now >= eve.registered_at() else [])
        _, problems = group.run(now, transport)
        assert not [p for p in problems if p.severity == "error"], problems
        count = delivered()
        again, _ = group.run(now, transport)
        assert again == []
        assert delivered() == count
        day += dt.timedelta(days=1)


def test_a_whole_term_sends_each_expected_email_once(group: Group) -> None:
    outbox = OutboxTransport(group.root / "outbox")
    walk(group, outbox, dt.date(2020, 10, 10), dt.date(2020, 12, 2))
    rows = group.ledger()
    sent = sorted((r["Kind"], r["Session"], r["Recipient"], r["Time"][:10]) for r in rows
                  if r["Status"] == "sent")
    assert sent == EXPECTED
    assert [r["Time"] for r in rows if r["Kind"] == "setup"] == ["2020-10-10T09:30:00-05:00"]
    files = list(outbox.folder.glob("*.eml"))
    assert len(files) == len(EXPECTED)
    recipients = sorted(str(parse(f.read_bytes())["To"].addresses[0].addr_spec) for f in files)
    assert recipients == sorted(item[2] for item in EXPECTED)


def test_unsubscribed_and_removed_members_get_nothing(group: Group) -> None:
    outbox = OutboxTransport(group.root / "outbox")
    walk(group, outbox, dt.date(2020, 10, 10), dt.date(2020, 11, 2))
    everybody = {r["Recipient"] for r in group.ledger()}
    assert "carla@example.org" not in everybody and "dan@example.org" not in everybody
    group.members = [m if m.email != BOB else member(BOB, "Bob", status="unsubscribed")
                     for m in seed_members()]
    reminders, _ = group.plan(at("2020-11-15"))
    assert {r.recipient for r in reminders} == {ANA, TONO, GUS}


def test_outbox_messages_are_complete_emails(group: Group) -> None:
    outbox = OutboxTransport(group.root / "outbox")
    group.run(at("2020-10-01"), outbox)  # setup
    group.run(at("2020-11-01"), outbox)
    path = next(Path(outbox.folder).glob("homework__1__ana*.eml"))
    message = parse(path.read_bytes())
    assert message["Subject"] == "Tarea de la sesión 1: se entrega en la sesión 2"
    assert message["List-Unsubscribe"].strip() == "<mailto:grupo@example.org?subject=unsubscribe>"
    # Literal in the raw bytes: clients do not decode RFC 2047 words in this header.
    assert b"List-Unsubscribe: <mailto:grupo@example.org?subject=unsubscribe>" in \
        path.read_bytes()
    text = body(message)
    assert "Assignment 1 <https://github.com/dair-ai/d2l-study-group/blob/master/exercises/" \
           "section-01.md>" in text
    assert "martes, 3 de noviembre de 2020, 17:00 (hora de Ciudad de México)" in text
    assert "a Toño, guía de la sesión 1" in text
    assert "Para dejar de recibir estos recordatorios" in text
