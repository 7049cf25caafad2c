"""The seed term, one run a day at 09:30, with a chat channel (a json:// webhook on loopback):
exactly the expected posts, each once, day by day; a second run the same day posts nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from tests.announce.support import Chat, Webhooks, make_config
from tests.reminders.support import at

from formsync.announce.plan import CHANGE, NEXT, NO_GUIDE, RECORDING

RECORDING_URL = "https://youtu.be/d2l-session-1"
# (day posted, kind, session): the default 2 days before for the next session, 10 days
# before for a session without a guide; session 1's recording filled on 10-22; session 4
# moved from 12-01 to 12-03 on 11-30 (after it was announced).
EXPECTED = [
    ("2020-10-18", NEXT, "1"),
    ("2020-10-22", RECORDING, "1"),
    ("2020-11-01", NEXT, "2"),
    ("2020-11-07", NO_GUIDE, "3"),
    ("2020-11-15", NEXT, "3"),
    ("2020-11-21", NO_GUIDE, "4"),
    ("2020-11-29", NEXT, "4"),
    ("2020-11-30", CHANGE, "4@2020-12-03T17:00-06:00|"),
]


def _edit_sessions(chat: Chat, day: dt.date) -> None:
    if day == dt.date(2020, 10, 22):
        chat.sessions[0] = replace(chat.sessions[0], recording=RECORDING_URL)
    if day == dt.date(2020, 11, 30):
        chat.sessions[3] = replace(chat.sessions[3], date=dt.date(2020, 12, 3))


def test_a_term_posts_each_expected_announcement_once(tmp_path: Path,
                                                      webhooks: Webhooks) -> None:
    chat = Chat(tmp_path, make_config(tmp_path, urls=[webhooks.url("json", "/hook")]))
    posted: list[tuple[str, str, str]] = []
    day = dt.date(2020, 10, 10)
    while day <= dt.date(2020, 12, 2):
        _edit_sessions(chat, day)
        before = len(webhooks.received)
        planned, problems = chat.run(at(day.isoformat()))
        assert problems == []
        posted += [(day.isoformat(), a.kind, a.session) for a in planned if a.text]
        assert len(webhooks.received) - before == len([a for a in planned if a.text])
        again, problems = chat.run(at(day.isoformat()))
        assert (again, problems) == ([], [])
        assert len(webhooks.received) == before + len([a for a in planned if a.text])
        day += dt.timedelta(days=1)
    assert posted == EXPECTED
    messages = [p["message"] for p in webhooks.payloads("/hook")]
    assert len(messages) == len(EXPECTED)
    assert messages[0].startswith("Próxima sesión 1: Introduction to Deep Learning\n"
                                  "Cuándo: martes 20 de octubre de 2020, 17:00 "
                                  "(America/Mexico_City)\nGuía: Toño\n")
    assert "Enlace: https://meet.example.org/d2l" in messages[0]
    assert "Find readings here (https://github.com/" in messages[0]  # plain text: no Markdown
    assert messages[1] == ("Ya está la grabación de la sesión 1: Introduction to Deep "
                           f"Learning\n{RECORDING_URL}")
    assert messages[3].startswith("La sesión 3 (Linear Neural Networks) aún no tiene guía\n")
    assert messages[-1] == ("Cambio en la sesión 4: Multilayer Perceptrons\nSe movió: ahora "
                            "jueves 3 de diciembre de 2020, 17:00 (America/Mexico_City) (antes "
                            "martes 1 de diciembre de 2020, 17:00 (America/Mexico_City)).")
    kinds = [row["Kind"] for row in chat.ledger() if row["Status"] == "sent"]
    assert len(kinds) == len(EXPECTED)


def test_recordings_known_before_the_channel_was_set_up_are_not_announced(
        tmp_path: Path, webhooks: Webhooks) -> None:
    chat = Chat(tmp_path, make_config(tmp_path, urls=[webhooks.url("json", "/hook")]))
    chat.sessions[0] = replace(chat.sessions[0], recording=RECORDING_URL)
    planned, _ = chat.run(at("2020-10-25"))
    assert [a.kind for a in planned] == ["announce_setup"]
    assert webhooks.received == []


def test_a_told_session_whose_row_is_deleted_is_announced_cancelled_once(
        tmp_path: Path, webhooks: Webhooks) -> None:
    chat = Chat(tmp_path, make_config(tmp_path, urls=[webhooks.url("json", "/hook")]))
    chat.run(at("2020-11-15"))  # session 3 announced
    del chat.sessions[2]
    planned, problems = chat.run(at("2020-11-16"))
    assert problems == []
    assert [(a.kind, a.session) for a in planned] == [(CHANGE, "3@cancelled")]
    assert webhooks.payloads("/hook")[-1]["message"] == (
        "Cambio en la sesión 3\nSe canceló (era martes 17 de noviembre de 2020, 17:00 "
        "(America/Mexico_City)).")
    assert chat.run(at("2020-11-16", "12:00")) == ([], [])


def test_chat_posts_do_not_count_toward_the_email_daily_cap(tmp_path: Path,
                                                             webhooks: Webhooks) -> None:
    from formsync.model import REMINDERS
    from formsync.reminders.ledger import read_ledger, sent_on

    chat = Chat(tmp_path, make_config(tmp_path, urls=[webhooks.url("json", "/hook")]))
    chat.run(at("2020-11-15"))
    entries = read_ledger(chat.sheets.read(REMINDERS))
    assert [e.status for e in entries.values()].count("sent") == 2
    assert sent_on(entries, dt.date(2020, 11, 15), chat.config.group.tz) == 0
