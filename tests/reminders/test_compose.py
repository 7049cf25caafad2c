"""Messages: natural dates in es/en (DST included), safe headers and markup, overrides."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from pathlib import Path

from tests.reminders.support import (
    MEXICO,
    at,
    body,
    make_config,
    member,
    parse,
    seed_members,
    seed_sessions,
)

from formsync.model import REMINDER_HEADER, REMINDERS, Table
from formsync.reminders.compose import Composer, natural, segments
from formsync.reminders.plan import Reminder, plan_reminders
from formsync.reminders.send import preview

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
UTC = dt.UTC


def test_natural_dates_in_spanish_and_english() -> None:
    moment = dt.datetime(2020, 10, 20, 17, tzinfo=MEXICO)
    assert natural(moment, "es", "America/Mexico_City") == \
        "martes, 20 de octubre de 2020, 17:00 (hora de Ciudad de México)"
    assert natural(moment, "en", "America/Mexico_City") == \
        "Tuesday, October 20, 2020, 5:00 PM (Mexico City time)"



def test_dates_and_due_times_across_the_end_of_summer_time_in_madrid(tmp_path: Path) -> None:
    config = make_config(tmp_path, group={"timezone": "Europe/Madrid"})
    sessions = seed_sessions()  # 17:00 local on 2020-10-20 (CEST) and 2020-11-03 (CET)
    members = [member("ana@example.org", "Ana", language="es",
                      registered="2020-10-01T10:00:00+02:00"),
               member("bob@example.org", "Bob", language="en",
                      registered="2020-10-01T10:00:00+02:00")]
    setup = Table(REMINDERS, REMINDER_HEADER,
                  (("setup", "", "", "recorded", "", "2020-10-02T00:00:00+02:00", ""),))
    # Reading reminders for session 2 fall due 2020-11-01 09:00 CET = 08:00 UTC.
    before = dt.datetime(2020, 11, 1, 7, 59, tzinfo=UTC)
    assert [r for r in plan_reminders(sessions, members, setup, config, before)[0]
            if r.session == "2"] == []
    now = dt.datetime(2020, 11, 1, 8, 0, tzinfo=UTC)
    due = [r for r in plan_reminders(sessions, members, setup, config, now)[0]
           if (r.kind, r.session) == ("morning", "2")]  # with the homework of session 1
    assert [r.due for r in due] == [dt.datetime(2020, 11, 1, 9, tzinfo=MADRID)] * 2
    composer = Composer(config, sessions, members, now)
    spanish, english = (composer.compose(r) for r in due)
    assert "martes, 3 de noviembre de 2020, 17:00 (hora de Madrid)" in text_of(spanish)
    assert "Tuesday, November 3, 2020, 5:00 PM (Madrid time)" in text_of(english)
    first = Reminder("reading", "1", "ana@example.org", now, "es", "Ana")
    assert "martes, 20 de octubre de 2020, 17:00 (hora de Madrid)" in text_of(
        composer.compose(first))
    assert spanish["Date"] == "Sun, 01 Nov 2020 09:00:00 +0100"


def text_of(message: object) -> str:
    parsed = parse(bytes(message))  # type: ignore[call-overload]
    return body(parsed)


def html_of(message: object) -> str:
    parsed = parse(bytes(message))  # type: ignore[call-overload]
    return body(parsed, "html")


def test_sheet_text_cannot_add_headers_or_markup(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    sessions = seed_sessions()
    sessions[0] = dataclasses.replace(
        sessions[0], chapter="Intro\r\nBcc: victim@evil.example\r\nX-Injected: yes",
        readings="<script>alert(1)</script> [click](javascript:alert(1)) "
                 "[ok](https://d2l.ai/)")
    evil = member("eve@example.org", "Eve\r\nBcc: victim@evil.example", language="en")
    reminder = Reminder("reading", "1", "eve@example.org", at("2020-10-18"), "en", evil.name)
    message = parse(bytes(Composer(config, sessions, [evil], at("2020-10-18"))
                          .compose(reminder)))
    assert message.get_all("Bcc") is None and message.get_all("X-Injected") is None
    assert [a.addr_spec for a in message["To"].addresses] == ["eve@example.org"]
    assert message["To"].addresses[0].display_name == "Eve Bcc: victim@evil.example"
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
    html = html_of(message)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "javascript:" not in html.split("click")[0][-40:]
    assert 'href="javascript' not in html and '<a href="https://d2l.ai/">ok</a>' in html


def test_links_keep_only_http_urls() -> None:
    parts = segments("See [notes](https://x.org/a) and [bad](javascript:x) or ftp://y, "
                     "https://z.org/b")
    assert [(p.text, p.url) for p in parts if p.url] == [("notes", "https://x.org/a"),
                                                        ("https://z.org/b", "https://z.org/b")]
    assert segments("NA") == () and segments(" tba ") == ()


def test_one_recipient_two_parts_and_unsubscribe(tmp_path: Path) -> None:
    config = make_config(tmp_path, unsubscribe_address="baja@example.org")
    members = seed_members()
    reminders = [Reminder("reading", "2", m.email, at("2020-11-01"), "es", m.name)
                 for m in members[:3]]
    messages = preview(reminders, seed_sessions(), members, config, at("2020-11-01"))
    for reminder, message in zip(reminders, messages, strict=True):
        parsed = parse(bytes(message))
        assert [a.addr_spec for a in parsed["To"].addresses] == [reminder.recipient]
        assert parsed.get_all("Cc") is None
        assert parsed.get_content_type() == "multipart/alternative"
        assert parsed["List-Unsubscribe"].strip().startswith("<mailto:baja@example.org?")
        assert "baja@example.org" in text_of(message)
        assert "https://meet.example.org/d2l" in text_of(message)
    assert len({m["Message-ID"] for m in messages}) == 3


def test_welcome_attaches_the_calendar_and_names_the_next_session(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    (tmp_path / "calendar.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    welcome = Reminder("welcome", "", "bob@example.org", at("2020-10-26"), "en", "Bob")
    message = parse(bytes(Composer(config, seed_sessions(), seed_members(), at("2020-10-26"),
                                   environ={}).compose(welcome)))
    assert message.get_content_type() == "multipart/mixed"
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["calendar.ics"]
    text = body(message)
    assert "Next session: Session 2 – Preliminaries" in text
    assert "Tuesday, November 3, 2020, 5:00 PM (Mexico City time)" in text


def test_templates_folder_overrides_the_built_in_ones(tmp_path: Path) -> None:
    folder = tmp_path / "mail" / "en"
    folder.mkdir(parents=True)
    (folder / "reading.txt").write_text(
        '{% extends "en/base.txt" %}{% block subject %}Read {{ session.chapter }}'
        '{% endblock %}{% block body %}Custom for {{ name }}{% endblock %}')
    config = make_config(tmp_path, templates_folder="mail")
    reminder = Reminder("reading", "1", "bob@example.org", at("2020-10-18"), "en", "Bob")
    message = Composer(config, seed_sessions(), seed_members(), at("2020-10-18")).compose(
        reminder)
    assert message["Subject"] == "Read Introduction to Deep Learning"
    assert text_of(message).startswith("Custom for Bob")
    assert "Thank" not in text_of(message) and "Bob" in html_of(message)
