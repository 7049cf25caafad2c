"""Emails people are glad to get (issue 12 §4): what each message says, in es and en, in both
its text and HTML parts; the calendar feed link; one-click unsubscribe."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from tests.reminders.support import (
    ORGANIZERS,
    at,
    body,
    make_config,
    parse,
    seed_members,
    seed_sessions,
)

from formsync.config import Config
from formsync.errors import ConfigError
from formsync.model import REMINDER_HEADER, REMINDERS, Session, Table
from formsync.reminders.compose import Composer, cadence
from formsync.reminders.plan import Reminder, plan_reminders

ANA, BOB = "ana@example.org", "bob@example.org"
TONO = ORGANIZERS[0]
SETUP = Table(REMINDERS, REMINDER_HEADER,
              (("setup", "", "", "recorded", "", "2020-10-05T00:00:00-05:00", ""),))
NOTEBOOK = "https://colab.research.google.com/drive/1ybr2gkjePOIm4rNQDUL-jpGq4bplHr1N"
SLIDES = "https://github.com/dair-ai/d2l-study-group/blob/master/slides/Section%204.pdf"
EXERCISES_4 = "https://github.com/dair-ai/d2l-study-group/blob/master/exercises/section-04.md"


def compose(config: Config, reminder: Reminder, sessions: list[Session] | None = None,
            environ: dict[str, str] | None = None) -> EmailMessage:
    composer = Composer(config, sessions or seed_sessions(), seed_members(), reminder.due,
                        environ={} if environ is None else environ)
    return parse(bytes(composer.compose(reminder)))


def html_text(message: EmailMessage) -> str:
    """The HTML part as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", body(message, "html"))).split())


def hrefs(message: EmailMessage) -> set[str]:
    return set(re.findall(r'href="(https?://[^"]+)"', body(message, "html")))


def text_urls(message: EmailMessage) -> set[str]:
    return set(re.findall(r"https?://[^\s<>]+", body(message)))


def fourth_with_material() -> list[Session]:
    """Session 4 as the seed README has it: readings TBA, a notebook and slides."""
    sessions = seed_sessions()
    sessions[3] = dataclasses.replace(sessions[3], readings="TBA",
                                      slides=f"[Notebook]({NOTEBOOK}), [Slides]({SLIDES})")
    return sessions


def morning(config: Config, sessions: list[Session], day: str, person: str) -> Reminder:
    due, _ = plan_reminders(sessions, seed_members(), SETUP, config, at(day))
    [found] = [r for r in due if r.kind == "morning" and r.recipient == person]
    return found


# ---------------------------------------------------------------------------------------------
# Reading reminders


@pytest.mark.parametrize(("language", "facts"), [
    ("es", ["Lecturas: aún por confirmar", f"Slides y notebook: Notebook <{NOTEBOOK}>, "
            f"Slides <{SLIDES}>", f"Ejercicios: Assignment 4 <{EXERCISES_4}>",
            "La próxima sesión es la sesión 4: Multilayer Perceptrons."]),
    ("en", ["Readings: not confirmed yet", f"Slides and notebook: Notebook <{NOTEBOOK}>, "
            f"Slides <{SLIDES}>", f"Exercises: Assignment 4 <{EXERCISES_4}>",
            "The next session is session 4: Multilayer Perceptrons."]),
])
def test_reading_reminders_link_slides_notebook_and_exercises_and_say_tba_readings_wait(
        tmp_path: Path, language: str, facts: list[str]) -> None:
    reminder = Reminder("reading", "4", BOB, at("2020-11-29"), language, "Bob")
    message = compose(make_config(tmp_path), reminder, fourth_with_material())
    text = body(message)
    for fact in facts:
        assert fact in text
        assert re.sub(r" <[^>]+>", "", fact) in html_text(message)
    assert {NOTEBOOK, SLIDES, EXERCISES_4} <= hrefs(message)
    assert "Recuerda revisar" not in text and "Please go through" not in text


def test_confirmed_readings_are_linked_and_an_na_cell_says_nothing(tmp_path: Path) -> None:
    sessions = seed_sessions()
    sessions[1] = dataclasses.replace(sessions[1], slides="NA")
    message = compose(make_config(tmp_path), Reminder("reading", "2", ANA, at("2020-11-01"),
                                                      "es", "Ana"), sessions)
    text = body(message)
    assert "Lecturas: Find readings here <https://github.com/jadm-opi/d2l-study-group/blob/" \
           "master/readings/section-02.md>" in text
    assert "Slides" not in text and "Ejercicios" not in text and "por confirmar" not in text
    assert "Recuerda revisar el material antes de la sesión." in text


def test_english_names_a_session_in_words_never_by_its_key(tmp_path: Path) -> None:
    """'The next session is number optional' was the bug: the key is no word of a sentence."""
    optional = Session(row=17, key="", chapter="Optional Session - Tools for Deep Learning",
                       date=dt.date(2020, 12, 8), start=dt.time(17))
    reminder = Reminder("reading", optional.chapter, BOB, at("2020-12-06"), "en", "Bob")
    message = compose(make_config(tmp_path), reminder, [*seed_sessions(), optional])
    assert "The next session is the optional session: Tools for Deep Learning." in body(message)
    assert "number" not in body(message)
    assert message["Subject"] == "Optional session – Tools for Deep Learning"


# ---------------------------------------------------------------------------------------------
# Morning emails and homework


def test_one_morning_email_carries_the_reading_and_the_homework(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    message = compose(config, morning(config, fourth_with_material(), "2020-11-29", ANA))
    assert message["Subject"] == "Sesión 4 – Multilayer Perceptrons · tarea de la sesión 3"
    text = body(message)
    assert "La próxima sesión es la sesión 4: Multilayer Perceptrons." in text
    assert "Tarea de la sesión 3 (Linear Neural Networks): Assignment 3 <https://github.com/" \
           "dair-ai/d2l-study-group/blob/master/exercises/section-03.md>" in text
    assert "Se entrega en la sesión 4, el martes, 1 de diciembre de 2020, 17:00 (hora de " \
           "Ciudad de México), al guía de la sesión 3." in text
    assert text_urls(message) - {"https://meet.example.org/d2l"} == hrefs(message) - {
        "https://meet.example.org/d2l"}


def test_the_guide_is_not_asked_to_hand_homework_in_to_themselves(tmp_path: Path) -> None:
    """Toño guides session 1, whose homework is handed in at session 2."""
    config = make_config(tmp_path)
    ana = body(compose(config, morning(config, seed_sessions(), "2020-11-01", ANA)))
    assert "a Toño, guía de la sesión 1." in ana
    tono_message = compose(config, morning(config, seed_sessions(), "2020-11-01", TONO))
    tono = body(tono_message)
    assert "Como guía de la sesión 1 (Introduction to Deep Learning), recibirás su tarea en " \
           "la sesión 2, el martes, 3 de noviembre de 2020" in tono
    assert "a Toño, guía" not in tono and "Se entrega" not in tono
    assert "recibirás su tarea" in html_text(tono_message)
    english = Reminder("homework", "1", TONO, at("2020-11-01"), "en", "Toño")
    assert "As the guide of session 1 (Introduction to Deep Learning), you receive its " \
           "homework at session 2" in body(compose(config, english))


# ---------------------------------------------------------------------------------------------
# Welcome emails


def facts_of(message: EmailMessage) -> list[str]:
    """The "Label: value" lines of the text part, without the URLs after link texts."""
    text = body(message).split("\n--\n")[0]
    return [re.sub(r" <https?://[^>]+>", "", line) for line in text.splitlines()
            if re.match(r"^[A-ZÁÉÍÓÚ][\w ]{1,24}: \S", line)]


@pytest.mark.parametrize("language", ["es", "en"])
def test_welcome_text_and_html_carry_the_same_facts(tmp_path: Path, language: str) -> None:
    config = make_config(tmp_path, calendar_link="https://example.org/d2l/calendar.ics")
    welcome = Reminder("welcome", "", BOB, at("2020-11-20"), language, "Bob")
    message = compose(config, welcome, fourth_with_material())
    facts = facts_of(message)
    assert len(facts) >= 6, facts  # next session, when, readings, slides, exercises, link, …
    seen = html_text(message)
    for fact in facts:
        assert fact in seen
    assert text_urls(message) == hrefs(message)
    assert "https://example.org/d2l/calendar.ics" in hrefs(message)


@pytest.mark.parametrize(("days", "language", "said"), [
    (14, "es", "Nos reunimos cada dos semanas;"), (7, "es", "Nos reunimos cada semana;"),
    (10, "en", "We meet every 10 days:"), (21, "en", "We meet every three weeks:"),
])
def test_welcome_says_the_cadence_of_the_config(tmp_path: Path, days: int, language: str,
                                                said: str) -> None:
    config = make_config(tmp_path, group={"cadence_days": days})
    message = compose(config, Reminder("welcome", "", BOB, at("2020-11-20"), language, "Bob"))
    assert said in body(message) and said in html_text(message)


def test_cadence_in_words() -> None:
    assert [cadence(days, "es") for days in (1, 7, 14, 28, 35, 9)] == [
        "cada día", "cada semana", "cada dos semanas", "cada cuatro semanas", "cada 5 semanas",
        "cada 9 días"]
    assert [cadence(days, "en") for days in (1, 14, 35, 9)] == [
        "every day", "every two weeks", "every 5 weeks", "every 9 days"]


# ---------------------------------------------------------------------------------------------
# The calendar feed link

ACTIONS = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "dair-ai/d2l-study-group",
           "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch"}


def welcome_in(tmp_path: Path, environ: dict[str, str], **reminders: Any) -> EmailMessage:
    config = make_config(tmp_path, **reminders)
    config.path(config.calendar.ics_path).parent.mkdir(parents=True, exist_ok=True)
    config.path(config.calendar.ics_path).write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    welcome = Reminder("welcome", "", ANA, at("2020-11-20"), "es", "Ana")
    return compose(config, welcome, environ=environ)


def test_in_a_github_action_the_welcome_links_the_raw_calendar_feed(tmp_path: Path) -> None:
    message = welcome_in(tmp_path, {**ACTIONS, "GITHUB_WORKSPACE": str(tmp_path)})
    link = "https://raw.githubusercontent.com/dair-ai/d2l-study-group/main/calendar.ics"
    assert f"Calendario de sesiones (suscríbete y verás cada cambio): {link}" in body(message)
    assert link in hrefs(message)
    assert list(message.iter_attachments()) == []
    # The group's files in a folder of the repository, on a branch with a slash in its name.
    nested = welcome_in(tmp_path / "repo", {**ACTIONS, "GITHUB_REF_NAME": "grupo/2020",
                                            "GITHUB_WORKSPACE": str(tmp_path)})
    assert "https://raw.githubusercontent.com/dair-ai/d2l-study-group/grupo/2020/repo/" \
           "calendar.ics" in body(nested)


@pytest.mark.parametrize(("environ", "settings"), [
    ({}, {}),  # not in an Action: the file is attached
    ({**ACTIONS, "GITHUB_REF_TYPE": "tag"}, {}),  # a tag's file never changes
    (ACTIONS, {"calendar_link": "none"}),  # a private repository: its raw URL needs a token
])
def test_without_a_feed_to_link_the_welcome_attaches_the_calendar(
        tmp_path: Path, environ: dict[str, str], settings: dict[str, str]) -> None:
    message = welcome_in(tmp_path, {**environ, "GITHUB_WORKSPACE": str(tmp_path)}, **settings)
    assert "raw.githubusercontent.com" not in body(message)
    assert [a.get_filename() for a in message.iter_attachments()] == ["calendar.ics"]


def test_a_configured_calendar_link_wins(tmp_path: Path) -> None:
    link = "https://calendar.google.com/calendar/ical/d2l/public/basic.ics"
    message = welcome_in(tmp_path, {**ACTIONS, "GITHUB_WORKSPACE": str(tmp_path)},
                         calendar_link=link)
    assert link in body(message) and link in hrefs(message)
    assert list(message.iter_attachments()) == []


# ---------------------------------------------------------------------------------------------
# Unsubscribe

UNSUBSCRIBE = "https://grupo.example.org/baja?email={email}"


def test_one_click_unsubscribe_beside_the_mailto(tmp_path: Path) -> None:
    config = make_config(tmp_path, unsubscribe_url=UNSUBSCRIBE)
    message = Composer(config, seed_sessions(), seed_members(), at("2020-11-01"),
                       environ={}).compose(Reminder("reading", "2", ANA, at("2020-11-01"),
                                                    "es", "Ana"))
    raw = bytes(message)
    assert b"List-Unsubscribe: <https://grupo.example.org/baja?email=ana%40example.org>,\r\n" \
           b" <mailto:grupo@example.org?subject=unsubscribe>\r\n" in raw
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    parsed = parse(raw)
    assert parsed["List-Unsubscribe"] == ("<https://grupo.example.org/baja?email=ana%40example"
                                          ".org>, <mailto:grupo@example.org?subject=unsubscribe>")
    assert "date de baja en https://grupo.example.org/baja?email=ana%40example.org" in \
        body(parsed)
    assert "https://grupo.example.org/baja?email=ana%40example.org" in hrefs(parsed)


def test_without_an_unsubscribe_url_only_the_mailto_and_no_one_click(tmp_path: Path) -> None:
    message = compose(make_config(tmp_path), Reminder("reading", "2", ANA, at("2020-11-01"),
                                                      "es", "Ana"))
    assert message["List-Unsubscribe"] == "<mailto:grupo@example.org?subject=unsubscribe>"
    assert message.get_all("List-Unsubscribe-Post") is None


def test_a_long_unsubscribe_url_is_folded_between_links_never_encoded(tmp_path: Path) -> None:
    """Mail clients do not decode RFC 2047 words in List-Unsubscribe (RFC 2369)."""
    url = "https://grupo.example.org/" + "baja/" * 30 + "?token=" + "a1" * 40 + "&email={email}"
    config = make_config(tmp_path, unsubscribe_url=url)
    raw = bytes(Composer(config, seed_sessions(), seed_members(), at("2020-11-01"), environ={})
                .compose(Reminder("reading", "2", ANA, at("2020-11-01"), "es", "Ana")))
    header = raw.split(b"List-Unsubscribe: ", 1)[1].split(b"\r\nList-Unsubscribe-Post")[0]
    assert b"=?" not in header
    assert header == (f"<{url.replace('{email}', 'ana%40example.org')}>,\r\n"
                      " <mailto:grupo@example.org?subject=unsubscribe>").encode()


def test_the_recipient_cannot_change_the_unsubscribe_link_but_its_own_value(
        tmp_path: Path) -> None:
    """Members' addresses are checked on the way in (tests/corpus/hostile.py BAD_EMAILS); a
    valid one may still hold URL syntax, which is encoded: it cannot add a query parameter."""
    config = make_config(tmp_path, unsubscribe_url=UNSUBSCRIBE)
    odd = "eve+d2l&email=ana@example.org"
    message = compose(config, Reminder("reading", "2", odd, at("2020-11-01"), "en", "Eve"))
    assert message["List-Unsubscribe"].startswith(
        "<https://grupo.example.org/baja?email=eve%2Bd2l%26email%3Dana%40example.org>, <mailto:")


@pytest.mark.parametrize("url", [
    "http://grupo.example.org/baja", "https://grupo.example.org/baja ya",
    "https://grupo.example.org/baja\r\nBcc: victim@evil.example", "javascript:alert(1)",
    "https://grupo.example.org/<baja>", "mailto:baja@example.org",
    "https://grupo.example.org/" + "a" * 500,
])
def test_the_config_refuses_an_unsubscribe_url_unfit_for_a_header(tmp_path: Path,
                                                                  url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_config(tmp_path, unsubscribe_url=url)
    assert caught.value.key == "reminders.unsubscribe_url"


# ---------------------------------------------------------------------------------------------
# Change notices


def change(previous: str, now: str, language: str = "es") -> Reminder:
    return Reminder("change", "5", ANA, at("2020-12-14"), language, "Ana", told=f"5 @ {now}",
                    previous=previous)


def fifth_on(day: dt.date | None, start: dt.time = dt.time(17)) -> list[Session]:
    sessions = seed_sessions()
    sessions[4] = dataclasses.replace(sessions[4], date=day, start=start if day else None)
    return sessions


def test_a_change_notice_says_what_changed(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    moved = compose(config, change("2020-12-15 17:00", "2020-12-22 17:00"),
                    fifth_on(dt.date(2020, 12, 22)))
    assert moved["Subject"] == "La sesión 5 cambia: 15-12-2020 → 22-12-2020"
    text = body(moved)
    assert "Ya no es el martes, 15 de diciembre de 2020, 17:00" in text
    assert "Cuándo: martes, 22 de diciembre de 2020, 17:00 (hora de Ciudad de México)" in text
    assert "Cuándo: martes, 22 de diciembre de 2020" in html_text(moved)
    english = compose(config, change("2020-12-15 17:00", "2020-12-22 17:00", "en"),
                      fifth_on(dt.date(2020, 12, 22)))
    assert english["Subject"] == ("Session 5 – Deep Learning Computation moves: 15-12-2020 → "
                                  "22-12-2020")
    later = compose(config, change("2020-12-15 17:00", "2020-12-15 18:00"),
                    fifth_on(dt.date(2020, 12, 15), dt.time(18)))
    assert later["Subject"] == "La sesión 5 cambia: 15-12-2020 17:00 → 15-12-2020 18:00"


def test_a_cancellation_notice_and_a_session_dated_again(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    for sessions in (fifth_on(None), seed_sessions()[:4]):  # date cleared, row removed
        cancelled = compose(config, change("2020-12-15 17:00", "cancelled"), sessions)
        assert cancelled["Subject"] == "La sesión 5 del 15-12-2020 se cancela"
        assert "anunciada para el martes, 15 de diciembre de 2020, 17:00 (hora de Ciudad de " \
               "México), se cancela" in body(cancelled)
    again = compose(config, change("cancelled", "2020-12-22 17:00"),
                    fifth_on(dt.date(2020, 12, 22)))
    assert again["Subject"] == "La sesión 5 vuelve a tener fecha: 22-12-2020"
