"""A whole term, one run a day at 09:30: exactly the expected emails, each once, day by day.

The organizers confirm session 5 for 15-12 after session 4, then move it to 22-12 once its
reading reminder went out: members get one change notice, and nothing more for the new date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.reminders.support import (
    ORGANIZERS,
    Group,
    at,
    body,
    member,
    parse,
    seed_members,
    seed_sessions,
)

from formsync.model import Session
from formsync.reminders.transports import OutboxTransport, Transport

ANA, BOB, EVE = "ana@example.org", "bob@example.org", "eve@example.org"
TONO, GUS = ORGANIZERS
EVE_REGISTERED = "2020-10-25T12:00:00-05:00"
FIFTH_CONFIRMED, FIFTH_MOVED = dt.date(2020, 12, 2), dt.date(2020, 12, 14)
FIRST, LAST = dt.date(2020, 10, 10), dt.date(2020, 12, 23)
Sent = tuple[str, str, str, str]  # (day, kind, ledger Session cell, recipient)


def everyone(day: str, kind: str, session: str, eve: bool = True) -> list[Sent]:
    people = [ANA, BOB, TONO, GUS] + ([EVE] if eve else [])
    return [(day, kind, session, person) for person in people]


EXPECTED: list[Sent] = [
    ("2020-10-13", "guide", "1", TONO),
    *everyone("2020-10-18", "reading", "1 @ 2020-10-20 17:00", eve=False),
    ("2020-10-26", "welcome", "", EVE),
    ("2020-10-27", "guide", "2", GUS),
    *everyone("2020-11-01", "morning", "homework 1 + reading 2 @ 2020-11-03 17:00"),
    ("2020-11-07", "no_guide", "3", TONO),
    ("2020-11-07", "no_guide", "3", GUS),
    *everyone("2020-11-15", "reading", "3 @ 2020-11-17 17:00"),  # session 2 set no homework
    ("2020-11-21", "no_guide", "4", TONO),
    ("2020-11-21", "no_guide", "4", GUS),
    *everyone("2020-11-29", "morning", "homework 3 + reading 4 @ 2020-12-01 17:00"),
    ("2020-12-05", "no_guide", "5", TONO),
    ("2020-12-05", "no_guide", "5", GUS),
    *everyone("2020-12-13", "morning", "homework 4 + reading 5 @ 2020-12-15 17:00"),
    *everyone("2020-12-14", "change", "5 @ 2020-12-22 17:00"),
    # 12-20: the reading and homework reminders of the 22nd were sent, for the 15th: none.
]


def sessions_on(day: dt.date) -> list[Session]:
    """The Sessions sheet on `day`: the seed's, with session 5 confirmed, then moved."""
    sessions = seed_sessions()
    if day >= FIFTH_CONFIRMED:
        fifth = dt.date(2020, 12, 22) if day >= FIFTH_MOVED else dt.date(2020, 12, 15)
        sessions[4] = dataclasses.replace(sessions[4], date=fifth, start=dt.time(17),
                                          end=dt.time(19, 30))
    return sessions


def sent_by_day(rows: Sequence[dict[str, str]]) -> list[Sent]:
    return sorted((r["Time"][:10], r["Kind"], r["Session"], r["Recipient"]) for r in rows
                  if r["Status"] == "sent")


def walk(group: Group, transport: Transport, first: dt.date, last: dt.date,
         delivered: Callable[[], int] | None = None) -> None:
    """One run a day at 09:30 (Eve registers on 10-25), then a second run the same day that
    must plan nothing and deliver nothing (`delivered` counts what the transport delivered).
    Each day sends exactly that day's expected emails."""
    if delivered is None and isinstance(transport, OutboxTransport):
        folder = transport.folder
        delivered = lambda: len(list(folder.glob("*.eml")))  # noqa: E731
    assert delivered is not None
    eve = member(EVE, "Eve", registered=EVE_REGISTERED, language="en")
    day = first
    while day <= last:
        now = at(day.isoformat())
        group.members = seed_members() + ([eve] if now >= eve.registered_at() else [])
        group.sessions = sessions_on(day)
        _, problems = group.run(now, transport)
        assert not [p for p in problems if p.severity == "error"], problems
        today = [item for item in sent_by_day(group.ledger()) if item[0] == day.isoformat()]
        assert today == sorted(item for item in EXPECTED if item[0] == day.isoformat())
        count = delivered()
        again, _ = group.run(now, transport)
        assert again == []
        assert delivered() == count
        day += dt.timedelta(days=1)


def test_a_whole_term_sends_each_expected_email_once(group: Group) -> None:
    outbox = OutboxTransport(group.root / "outbox")
    walk(group, outbox, FIRST, LAST)
    rows = group.ledger()
    assert sent_by_day(rows) == sorted(EXPECTED)
    assert [r["Time"] for r in rows if r["Kind"] == "setup"] == ["2020-10-10T09:30:00-05:00"]
    files = list(outbox.folder.glob("*.eml"))
    assert len(files) == len(EXPECTED)
    recipients = sorted(str(parse(f.read_bytes())["To"].addresses[0].addr_spec) for f in files)
    assert recipients == sorted(item[3] for item in EXPECTED)
    # One email per person per morning.
    mornings = [(day, person) for day, kind, _, person in EXPECTED if kind != "change"]
    assert len(mornings) == len(set(mornings))


def test_the_move_and_the_morning_emails_read_as_people_expect(group: Group) -> None:
    outbox = OutboxTransport(group.root / "outbox")
    walk(group, outbox, FIRST, LAST)

    def text(person: str, subject: str) -> str:
        """The text of the one email `person` got with `subject`."""
        found = [parse(p.read_bytes()) for p in outbox.folder.glob(f"*__{person}__*.eml")]
        [email] = [m for m in found if m["Subject"] == subject]
        return body(email)

    assert "Cuándo: martes, 22 de diciembre de 2020, 17:00 (hora de Ciudad de México)" in text(
        ANA, "La sesión 5 cambia: 15-12-2020 → 22-12-2020")
    assert "It is no longer on Tuesday, December 15, 2020, 5:00 PM" in text(
        EVE, "Session 5 – Deep Learning Computation moves: 15-12-2020 → 22-12-2020")
    assert "Como guía de la sesión 1 (Introduction to Deep Learning), recibirás su tarea" in text(
        TONO, "Sesión 2 – Preliminaries · tarea de la sesión 1")
    assert "The next session is session 4: Multilayer Perceptrons." in text(
        EVE, "Session 4 – Multilayer Perceptrons · homework of session 3")


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
    path = next(Path(outbox.folder).glob("morning__homework_1_reading_2*__ana@*.eml"))
    message = parse(path.read_bytes())
    assert message["Subject"] == "Sesión 2 – Preliminaries · tarea de la sesión 1"
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
