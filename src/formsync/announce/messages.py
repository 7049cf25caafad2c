"""The texts of announcements, in the group's language: Markdown (bold title, links) for chat
services, plain text for plain webhooks; each cut to its channel's limit. Pure."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from formsync.model import Session

_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
# Day and month names written out (not babel: planning loads no formatting library).
_DAYS = {"es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
         "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")}
_MONTHS = {"es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                  "septiembre", "octubre", "noviembre", "diciembre"),
           "en": ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")}
_DATE = {"es": "{day} {d} de {month} de {y}, {hm}", "en": "{day} {d} {month} {y}, {hm}"}

_WORDS = {
    "es": {"next": "Próxima sesión {n}: {chapter}", "guide": "Guía", "readings": "Lecturas",
           "exercises": "Ejercicios", "link": "Enlace", "when": "Cuándo",
           "change": "Cambio en la sesión {n}: {chapter}", "moved": "Se movió: ahora {new} "
           "(antes {old}).", "cancelled": "Se canceló (era {old}).",
           "guide_changed": "Nueva guía: {new} (antes {old}).", "nobody": "sin guía",
           "recording": "Ya está la grabación de la sesión {n}: {chapter}",
           "no_guide": "La sesión {n} ({chapter}) aún no tiene guía",
           "volunteer": "¿Quién se anima a guiarla? Avisa a los organizadores.",
           "more": "… (lista completa: {url})", "readme": "el README"},
    "en": {"next": "Next session {n}: {chapter}", "guide": "Guide", "readings": "Readings",
           "exercises": "Exercises", "link": "Link", "when": "When",
           "change": "Change to session {n}: {chapter}", "moved": "Moved: now {new} "
           "(was {old}).", "cancelled": "Cancelled (was {old}).",
           "guide_changed": "New guide: {new} (was {old}).", "nobody": "no guide",
           "recording": "The recording of session {n} is up: {chapter}",
           "no_guide": "Session {n} ({chapter}) has no guide yet",
           "volunteer": "Who would like to guide it? Tell the organizers.",
           "more": "… (full list: {url})", "readme": "the README"},
}


@dataclass(frozen=True)
class Wording:
    language: str
    zone: str
    meeting_link: str = ""
    readme_url: str = ""

    def word(self, key: str, **values: str) -> str:
        return _WORDS[self.language][key].format(**values)

    def when(self, moment: dt.datetime) -> str:
        shown = _DATE[self.language].format(
            day=_DAYS[self.language][moment.weekday()], d=moment.day, y=moment.year,
            month=_MONTHS[self.language][moment.month - 1], hm=moment.strftime("%H:%M"))
        return f"{shown} ({self.zone})"


def _title(wording: Wording, key: str, session: Session) -> str:
    text = wording.word(key, n=session.key or "?", chapter=session.chapter or "-")
    return "**" + text.removesuffix(": -") + "**"


def next_session(wording: Wording, session: Session, start: dt.datetime, limit: int,
                 markdown: bool) -> str:
    head = [_title(wording, "next", session), f"{wording.word('when')}: {wording.when(start)}"]
    if session.guide:
        head.append(f"{wording.word('guide')}: {session.guide}")
    tail = []
    if session.exercises:
        tail.append(f"{wording.word('exercises')}: {session.exercises}")
    if wording.meeting_link:
        tail.append(f"{wording.word('link')}: {wording.meeting_link}")
    return _fit(wording, head, session.readings, tail, limit, markdown)


def change(wording: Wording, session: Session, what: list[str], limit: int,
           markdown: bool) -> str:
    return _fit(wording, [_title(wording, "change", session), *what], "", [], limit, markdown)


def recording(wording: Wording, session: Session, limit: int, markdown: bool) -> str:
    return _fit(wording, [_title(wording, "recording", session), session.recording], "", [],
                limit, markdown)


def no_guide(wording: Wording, session: Session, start: dt.datetime, limit: int,
             markdown: bool) -> str:
    lines = [_title(wording, "no_guide", session),
             f"{wording.word('when')}: {wording.when(start)}", wording.word("volunteer")]
    return _fit(wording, lines, "", [], limit, markdown)


def _fit(wording: Wording, head: list[str], readings: str, tail: list[str], limit: int,
         markdown: bool) -> str:
    """The message within `limit` characters: a long readings list is cut, with a link to
    where it continues; anything else too long is cut last."""
    label = f"{wording.word('readings')}: "
    lines = [line.strip() for line in readings.splitlines() if line.strip()]
    text = _render([*head, *_readings(label, lines), *tail], markdown)
    more = wording.word("more", url=wording.readme_url or wording.word("readme"))
    while len(text) > limit and lines:
        lines.pop()
        text = _render([*head, *_readings(label, [*lines, more]), *tail], markdown)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _readings(label: str, lines: list[str]) -> list[str]:
    if not lines:
        return []
    if len(lines) == 1:
        return [label + lines[0]]
    return [label.rstrip(), *(f"- {line}" for line in lines)]


def _render(lines: list[str], markdown: bool) -> str:
    text = "\n".join(line for line in lines if line)
    if markdown:
        return text
    return _BOLD.sub(r"\1", _LINK.sub(r"\1 (\2)", text))
